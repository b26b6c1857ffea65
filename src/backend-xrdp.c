/* SPDX-License-Identifier: MIT */
/* xrdp sessions, found through xrdp-sesman's own processes.  sesman forks
 * one root child per session (its pid is xrdp's session ID); that child
 * runs PAM and starts the X server (Xvnc :N or Xorg :N), xrdp-chansrv and
 * the desktop.  Where PAM gave the session an audit session or a logind
 * session, that session is this one and only learns its display, type,
 * client and state here.  Without either (Debian's default PAM file for
 * xrdp-sesman has no pam_loginuid), the session is known by its process
 * tree alone, which is weaker: membership.h says how far it reaches. */
#include "backend.h"
#include "backend-xrdp.h"

#include <inttypes.h>

#include "procscan.h"
#include "util.h"
#include "xrdp-net.h"

static const char SESMAN_COMM[] = "xrdp-sesman";

struct proc_table {
        const struct proc_info *procs; /* sorted by pid */
        size_t n;
};

static const struct proc_info *proc_table_find(const struct proc_table *t, pid_t pid) {
        return proc_find(t->procs, t->n, pid);
}

/* sesman's per-session child: a root xrdp-sesman whose parent is the
 * sesman daemon (an xrdp-sesman whose own parent is not one). */
static bool is_session_child(const struct proc_table *t, const struct proc_info *p) {
        if (!streq(p->comm, SESMAN_COMM))
                return false;
        const struct proc_info *parent = proc_table_find(t, p->ppid);
        if (!parent || !streq(parent->comm, SESMAN_COMM))
                return false;
        const struct proc_info *grandparent = proc_table_find(t, parent->ppid);
        if (grandparent && streq(grandparent->comm, SESMAN_COMM))
                return false;
        struct proc_info owner = *p;
        return proc_read_uids(&owner) == 0 && owner.ruid == 0;
}

int xrdp_parse_x_display(const char *cmdline, size_t len, unsigned *ret) {
        for (size_t off = 0; off < len; off += strnlen(cmdline + off, len - off) + 1) {
                const char *arg = cmdline + off;
                uint32_t n;
                if (arg[0] == ':' && parse_u32(arg + 1, &n) == 0 && n < 65536 - 5900) {
                        *ret = n;
                        return 0;
                }
        }
        return -ENOENT;
}

static int x_display_of(pid_t pid, unsigned *ret) {
        _cleanup_free_ char *cmdline = NULL;
        size_t len;
        int r = proc_read_cmdline(pid, &cmdline, &len);
        return r < 0 ? r : xrdp_parse_x_display(cmdline, len, ret);
}

struct xrdp_session {
        struct proc_info child; /* sesman's per-session child */
        struct proc_info x;     /* its X server */
        bool xorg;
        unsigned display;
};

/* The X server sesman's child started: Xvnc or Xorg, run as the user. */
static int find_x_server(const struct proc_table *t, const struct proc_info *child, struct xrdp_session *ret) {
        for (size_t i = 0; i < t->n; i++) {
                const struct proc_info *p = &t->procs[i];
                bool xorg = streq(p->comm, "Xorg");
                if (p->ppid != child->pid || !(xorg || streq(p->comm, "Xvnc")) || !proc_is_alive(p))
                        continue;
                unsigned display;
                int r = x_display_of(p->pid, &display);
                if (r == -ESRCH || r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                *ret = (struct xrdp_session) { .child = *child, .x = *p, .xorg = xorg, .display = display };
                r = proc_read_uids(&ret->x);
                if (r == -ESRCH || r == -ENOENT)
                        continue;
                return r < 0 ? r : 1;
        }
        return 0;
}

static int describe(struct session *s, const struct xrdp_session *x, const pid_t *xrdp_pids, size_t n_xrdp) {
        bool connected;
        _cleanup_free_ char *client = NULL;
        int r = xrdp_connection(x->x.pid, x->xorg, x->display, xrdp_pids, n_xrdp, &connected, &client);
        if (r == -ESRCH)
                connected = false;
        else if (r < 0)
                return r;
        if ((r = session_show_display(s, x->display, SESSION_TYPE_RDP, connected)) < 0)
                return r;
        if (client) {
                free(s->remote_host);
                s->remote_host = TAKE_PTR(client);
        }
        if (!s->service && (r = strdup_to(&s->service, SESMAN_COMM)) < 0)
                return r;
        return 0;
}

static int new_session(struct session_list *l, const struct xrdp_session *x, const pid_t *xrdp_pids,
                       size_t n_xrdp) {
        struct session *s = session_list_append(l);
        if (!s)
                return -ENOMEM;
        s->host = NULL;
        s->server = &server_xrdp;
        s->uid = x->x.ruid;
        s->leader = x->child.pid;
        s->login_usec = proc_start_realtime_usec(x->child.start_ticks);
        s->member.tree = (struct process_tree) {
                .root = x->child.pid, .root_start = x->child.start_ticks, .owner = x->x.ruid,
                .display = x->display,
        };
        int r;
        if (asprintf(&s->id, "rdp%d", (int) x->child.pid) < 0) {
                s->id = NULL;
                r = -ENOMEM;
        } else if ((r = strdup_to(&s->member.tree.env_marker, server_xrdp.env_marker)) >= 0 &&
                   (r = user_name(s->uid, &s->user)) >= 0)
                r = describe(s, x, xrdp_pids, n_xrdp);
        if (r < 0)
                session_list_drop_last(l);
        return r;
}

/* Counted once every session is known: the owner's unclaimed processes
 * belong to this one only when the owner has no other session (and never
 * root's: on a host where root's other processes are daemons, nothing but
 * an audit session could tell them apart). */
static int finish_tree_session(struct session_list *l, struct session *s, int self_fd, uint32_t self_audit) {
        bool others = false;
        int r;
        for (size_t i = 0; i < l->n; i++) {
                const struct session *o = &l->sessions[i];
                if (o == s || o->uid != s->uid)
                        continue;
                others = true;
                if (membership_is_tree_only(&o->member) &&
                    (r = process_tree_add_other_display(&s->member.tree, o->member.tree.display)) < 0)
                        return r;
        }
        s->member.tree.orphans = others || s->uid == 0 ? TREE_ORPHANS_NONE : TREE_ORPHANS_TAKEN;

        struct proc_info *procs = NULL;
        size_t n = 0;
        r = membership_scan(&s->member, 0, &procs, &n);
        if (r < 0)
                return r;
        s->processes = 0;
        for (size_t i = 0; i < n; i++)
                if (proc_is_alive(&procs[i]))
                        s->processes++;
        free(procs);

        /* Typed inside the desktop: a descendant of the session, or a
         * process carrying its environment; never a mere orphan. */
        enum tree_relation rel;
        r = membership_tree_relation_at(&s->member.tree, self_fd, self_audit, &rel);
        if (r < 0)
                return r;
        s->current = rel == TREE_ROOT_OR_DESCENDANT || rel == TREE_ENVIRONMENT;
        return 0;
}

/* An audit session whose first process descends from sesman's session
 * child was made inside the desktop (a process whose loginuid was unset
 * wrote one): it is no login but part of that session, which takes its
 * audit ID.  Returns the number of sessions before the tree sessions, which
 * this may lower. */
static int absorb_made_inside(struct session_list *l, size_t *first_new) {
        for (size_t j = *first_new; j-- > 0;) {
                const struct session *k = &l->sessions[j];
                if (k->member.audit_id == AUDIT_SESSION_UNSET || k->member.cgroup || k->leader <= 0)
                        continue;
                _cleanup_close_ int fd = proc_open_dir(k->leader);
                if (fd < 0)
                        continue;
                for (size_t i = *first_new; i < l->n; i++) {
                        struct process_tree *t = &l->sessions[i].member.tree;
                        enum tree_relation rel;
                        int r = membership_tree_relation_at(t, fd, k->member.audit_id, &rel);
                        if (vanished(r))
                                break;
                        if (r < 0)
                                return r;
                        if (rel != TREE_ROOT_OR_DESCENDANT)
                                continue;
                        r = process_tree_absorb(t, k->member.audit_id);
                        if (r < 0)
                                return r;
                        session_list_remove(l, j);
                        (*first_new)--;
                        break;
                }
        }
        return 0;
}

static int xrdp_enrich(struct session_list *l, const struct proc_info *all, size_t n_all) {
        const struct proc_table t = { .procs = all, .n = n_all };
        size_t n_xrdp = 0, first_new = l->n;
        int r;
        pid_t *xrdp_pids = calloc(t.n ? t.n : 1, sizeof(*xrdp_pids));
        if (!xrdp_pids) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < t.n; i++)
                if (streq(t.procs[i].comm, "xrdp"))
                        xrdp_pids[n_xrdp++] = t.procs[i].pid;

        for (size_t i = 0; i < t.n; i++) {
                if (!is_session_child(&t, &t.procs[i]))
                        continue;
                struct xrdp_session x;
                r = find_x_server(&t, &t.procs[i], &x);
                if (r < 0)
                        goto out;
                if (r == 0)
                        continue; /* starting, or its X server is gone: not a session yet or any more */
                /* The session another backend found for the child (its audit
                 * session, its logind cgroup) is this one. */
                size_t known;
                r = session_list_find_member(l, x.child.pid, &known);
                if (r == -ESRCH)
                        continue;
                if (r < 0 && r != -ENOENT)
                        goto out;
                r = r == 0 ? describe(&l->sessions[known], &x, xrdp_pids, n_xrdp) : new_session(l, &x, xrdp_pids, n_xrdp);
                if (r < 0)
                        goto out;
        }

        if (l->n > first_new) {
                r = absorb_made_inside(l, &first_new);
                if (r < 0)
                        goto out;
                uint32_t self_audit;
                _cleanup_close_ int self_fd = proc_open_dir(getpid());
                r = self_fd < 0 ? self_fd : proc_session_id_at(self_fd, &self_audit);
                for (size_t i = first_new; r >= 0 && i < l->n; i++)
                        r = finish_tree_session(l, &l->sessions[i], self_fd, self_audit);
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        free(xrdp_pids);
        return r;
}

static bool is_sesman(const struct proc_info *a, void *userdata) {
        (void) userdata;
        return streq(a->comm, SESMAN_COMM);
}

/* Whether a process without an audit session is another xrdp session's by
 * what it carries: that session's display in its environment, or an
 * ancestor that is sesman's (a descendant of some session child). */
static bool claimed_by_another_xrdp_session(const struct process_tree *t, const struct proc_info *p) {
        _cleanup_free_ char *marker = NULL, *display = NULL;
        if (proc_getenv(p->pid, server_xrdp.env_marker, &marker) == 0 && proc_getenv(p->pid, "DISPLAY", &display) == 0) {
                _cleanup_free_ char *d = display_name(display);
                uint32_t n;
                for (size_t i = 0; d && d[0] == ':' && parse_u32(d + 1, &n) == 0 && i < t->n_other_displays; i++)
                        if (t->other_displays[i] == n)
                                return true;
        }
        return proc_find_ancestor(p->ppid, is_sesman, NULL, NULL) > 0;
}

/* The owner's processes in no session that the orphans rule could have
 * meant but did not take (the owner has other sessions; root's; another
 * PID namespace's; a service's child): /v names them. */
static int collect_unclaimed(const struct session *s, struct end_report *rep) {
        struct membership any = { .audit_id = AUDIT_SESSION_UNSET, .tree = s->member.tree };
        any.tree.orphans = TREE_ORPHANS_ANY;
        struct proc_info *procs = NULL;
        size_t n = 0, k = 0;
        int r = membership_scan(&any, PROC_SCAN_UIDS, &procs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!proc_is_alive(&procs[i]) || procs[i].pid == getpid() ||
                    claimed_by_another_xrdp_session(&s->member.tree, &procs[i]))
                        continue;
                _cleanup_close_ int fd = proc_open_dir(procs[i].pid);
                if (fd < 0 || membership_contains_at(&s->member, fd) != 0)
                        continue; /* gone, or ended with the session after all */
                procs[k++] = procs[i];
        }
        rep->server.unclaimed = procs;
        rep->server.n_unclaimed = k;
        return 0;
}

static int xrdp_end(const struct session *s, const struct terminate_options *o, struct end_report *rep) {
        int r = session_terminate(&s->member, o, &rep->procs);
        if (r >= 0 || r == -EBUSY) {
                int k = collect_unclaimed(s, rep);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

const struct desktop_server server_xrdp = {
        .name = "xrdp",
        .type = SESSION_TYPE_RDP,
        .env_marker = "XRDP_SESSION",
        .tree_only_note = N_("%s: note: session %s has no audit session, so it is known only by xrdp's processes; "
                             "\"session required pam_loginuid.so\" in /etc/pam.d/xrdp-sesman gives new sessions one "
                             "that no process can leave\n"),
        .enrich = xrdp_enrich,
        .end = xrdp_end,
        .record = record_session_logout,
};
