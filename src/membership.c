/* SPDX-License-Identifier: MIT */
#include "membership.h"

#include <sys/stat.h>

#include "cgroup.h"
#include "procscan.h"
#include "util.h"
#include "walkshare.h"

void membership_done(struct membership *m) {
        free(m->cgroup);
        free(m->cgroup_hierarchy);
        free(m->tree.env_marker);
        free(m->tree.other_displays);
        free(m->tree.absorbed);
        *m = (struct membership) { .audit_id = AUDIT_SESSION_UNSET };
}

bool membership_is_tree_only(const struct membership *m) {
        return m->tree.root > 0 && m->audit_id == AUDIT_SESSION_UNSET && !m->cgroup;
}

int membership_contains_at(const struct membership *m, int procdir_fd) {
        uint32_t audit_id = AUDIT_SESSION_UNSET;
        /* A process tree takes only processes outside every audit session. */
        if (m->audit_id != AUDIT_SESSION_UNSET || m->tree.root > 0) {
                int r = proc_session_id_at(procdir_fd, &audit_id);
                if (r < 0)
                        return r;
        }
        return membership_contains_known_at(m, procdir_fd, audit_id);
}

int process_tree_absorb(struct process_tree *t, uint32_t audit_id) {
        for (size_t i = 0; i < t->n_absorbed; i++)
                if (t->absorbed[i] == audit_id)
                        return 0;
        if (ARRAY_RESERVE(t->absorbed, t->alloc_absorbed, t->n_absorbed, 4) < 0)
                return -ENOMEM;
        t->absorbed[t->n_absorbed++] = audit_id;
        return 0;
}

int process_tree_add_other_display(struct process_tree *t, unsigned display) {
        if (ARRAY_RESERVE(t->other_displays, t->alloc_other_displays, t->n_other_displays, 4) < 0)
                return -ENOMEM;
        t->other_displays[t->n_other_displays++] = display;
        return 0;
}

/* Every ancestor of a descendant started after the root: the walk stops at
 * the first one older than it. */
static bool is_tree_root_or_older(const struct proc_info *a, void *userdata) {
        const struct process_tree *t = userdata;
        return a->pid == t->root || a->start_ticks < t->root_start;
}

static bool tree_descends_from_root(const struct process_tree *t, const struct proc_info *p) {
        if (p->pid == t->root)
                return p->start_ticks == t->root_start;
        if (p->start_ticks < t->root_start)
                return false;
        struct proc_info a;
        return proc_find_ancestor(p->ppid, is_tree_root_or_older, (void *) t, &a) > 0 && a.pid == t->root &&
               a.start_ticks == t->root_start;
}

/* DISPLAY=:N or :N.S */
static int display_number(const char *v, unsigned *ret) {
        uint32_t got;
        if (!v || v[0] != ':')
                return -EINVAL;
        const char *dot = strchr(v + 1, '.');
        _cleanup_free_ char *num = strndup(v + 1, dot ? (size_t) (dot - v - 1) : strlen(v + 1));
        if (!num)
                return -ENOMEM;
        if (parse_u32(num, &got) < 0)
                return -EINVAL;
        *ret = got;
        return 0;
}

/* The process's own PID namespace is ours: a process of another one (a
 * container's, a user's unshare) is never taken by the orphans rule. */
static int in_our_pidns(int procdir_fd) {
        static struct stat ours;
        static bool known;
        struct stat st;
        if (!known) {
                if (stat("/proc/self/ns/pid", &ours) < 0)
                        return -errno;
                known = true;
        }
        if (fstatat(procdir_fd, "ns/pid", &st, 0) < 0) {
                /* Another user's, to a caller who is not root: not known to
                 * be ours, so not taken. */
                if (errno == EACCES || errno == EPERM)
                        return 0;
                return errno == ENOENT ? -ESRCH : -errno;
        }
        return st.st_dev == ours.st_dev && st.st_ino == ours.st_ino;
}

/* Whether every parent up to init is the owner's: a parent of anyone else
 * (cron, a daemon, sshd) means the process is that service's child. */
static int parents_are_owners(pid_t ppid, uid_t owner) {
        for (unsigned depth = 0; depth < PROC_MAX_ANCESTORS; depth++) {
                if (ppid <= 1)
                        return 1;
                _cleanup_close_ int fd = proc_open_dir(ppid);
                struct proc_info a = { .pid = ppid };
                if (fd < 0 || proc_read_stat_at(fd, &a) < 0 || proc_read_uids_at(fd, &a) < 0)
                        return 1; /* gone: its children go to init */
                if (a.ruid != owner)
                        return 0;
                ppid = a.ppid;
        }
        return 0; /* deeper than anything real: not taken */
}

static bool tree_has_other_display(const struct process_tree *t, unsigned display) {
        for (size_t i = 0; i < t->n_other_displays; i++)
                if (t->other_displays[i] == display)
                        return true;
        return false;
}

static bool tree_absorbed(const struct process_tree *t, uint32_t audit_id) {
        for (size_t i = 0; i < t->n_absorbed; i++)
                if (t->absorbed[i] == audit_id)
                        return true;
        return false;
}

int membership_tree_relation_at(const struct process_tree *t, int procdir_fd, uint32_t audit_id,
                                enum tree_relation *ret) {
        *ret = TREE_NONE;
        if (t->root <= 0)
                return 0;
        struct proc_info p = { 0 };
        int r = proc_read_stat_at(procdir_fd, &p);
        if (r < 0)
                return r;
        /* A descendant is a member whatever its loginuid says. */
        if ((audit_id != AUDIT_SESSION_UNSET && tree_absorbed(t, audit_id)) || tree_descends_from_root(t, &p)) {
                *ret = TREE_ROOT_OR_DESCENDANT;
                return 0;
        }
        if (audit_id != AUDIT_SESSION_UNSET)
                return 0;
        r = proc_read_uids_at(procdir_fd, &p);
        if (r < 0)
                return r;
        if (p.ruid != t->owner || p.start_ticks < t->root_start)
                return 0;
        if (t->env_marker) {
                _cleanup_free_ char *marker = NULL, *display = NULL;
                r = proc_getenv_at(procdir_fd, t->env_marker, &marker);
                if (r < 0 && r != -ENOENT && r != -EACCES)
                        return r;
                if (r == 0) {
                        r = proc_getenv_at(procdir_fd, "DISPLAY", &display);
                        if (r < 0 && r != -ENOENT && r != -EACCES)
                                return r;
                        unsigned n;
                        bool has = r == 0 && display_number(display, &n) == 0;
                        if (has && n == t->display) {
                                *ret = TREE_ENVIRONMENT;
                                return 0;
                        }
                        if (has && tree_has_other_display(t, n))
                                return 0; /* that session's */
                        /* A DISPLAY of no session of the owner's: ours when
                         * there is no other it could belong to.  Else it
                         * could be any one's, as an orphan. */
                        if (t->n_other_displays == 0) {
                                *ret = TREE_ENVIRONMENT;
                                return 0;
                        }
                }
        }
        if (t->orphans == TREE_ORPHANS_NONE)
                return 0;
        if (t->orphans == TREE_ORPHANS_ANY) {
                *ret = TREE_ORPHAN;
                return 0;
        }
        if (p.ruid == 0)
                return 0;
        r = in_our_pidns(procdir_fd);
        if (r <= 0)
                return r;
        r = parents_are_owners(p.ppid, t->owner);
        if (r > 0)
                *ret = TREE_ORPHAN;
        return r < 0 ? r : 0;
}

int membership_contains_known_at(const struct membership *m, int procdir_fd, uint32_t audit_id) {
        int r;
        if (m->audit_id != AUDIT_SESSION_UNSET && audit_id == m->audit_id)
                return 1;
        if (m->audit_id_also && m->audit_id_also != AUDIT_SESSION_UNSET && audit_id == m->audit_id_also)
                return 1;
        if (m->tree.root > 0) {
                enum tree_relation rel;
                r = membership_tree_relation_at(&m->tree, procdir_fd, audit_id, &rel);
                if (r < 0)
                        return r;
                if (rel != TREE_NONE)
                        return 1;
        }
        /* The root holds every process: never a session's own. */
        if (!m->cgroup || streq(m->cgroup, "/") || !m->cgroup[0])
                return 0;

        _cleanup_free_ char *text = NULL, *path = NULL;
        r = read_small_file_at(procdir_fd, "cgroup", &text, NULL);
        if (r < 0)
                return r;
        r = cgroup_path_in(text, m->cgroup_hierarchy ? m->cgroup_hierarchy : "", &path);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return cgroup_path_under(path, m->cgroup);
}

static int filter_contains(int procdir_fd, uint32_t audit_id, const void *data) {
        return membership_contains_known_at(data, procdir_fd, audit_id);
}

struct proc_filter membership_filter(const struct membership *m) {
        return (struct proc_filter) { .contains = filter_contains, .data = m };
}

int membership_scan(const struct membership *m, unsigned flags, struct proc_info **ret, size_t *ret_n) {
        struct proc_filter f = membership_filter(m);
        return proc_scan(&f, flags, ret, ret_n);
}

static int shared_walk_fd = -1;

void membership_share_walks(int fd) {
        shared_walk_fd = fd;
}

int membership_walk_except(const struct membership *m, const pid_t *skip, size_t n_skip, proc_walk_fn fn,
                           void *userdata) {
        struct proc_filter f = membership_filter(m);
        if (shared_walk_fd >= 0 && m->tree.root == 0) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                int r = walk_share_ask(shared_walk_fd, m->audit_id, m->audit_id_also ? m->audit_id_also
                                                                                     : AUDIT_SESSION_UNSET,
                                       m->cgroup_hierarchy, m->cgroup, &pids, &n);
                if (r >= 0)
                        return proc_walk_pids(&f, pids, n, skip, n_skip, fn, userdata);
                /* The one that walked for every session is gone, or could
                 * not: from now on this one walks by itself. */
                close(shared_walk_fd);
                shared_walk_fd = -1;
        }
        return proc_walk_except(&f, skip, n_skip, fn, userdata);
}

int membership_walk(const struct membership *m, proc_walk_fn fn, void *userdata) {
        return membership_walk_except(m, NULL, 0, fn, userdata);
}
