/* SPDX-License-Identifier: MIT */
/* X2Go sessions.  X2Go runs a desktop under the ssh login that started it:
 * x2goagent (the session's X server: "-name X2GO-<session>" and ":N"),
 * x2goruncommand and the desktop.  That login is an audit session (or a
 * logind session) which another backend found; here it learns its display,
 * its type, X2Go's own state of it (the agent's state file: RUNNING,
 * SUSPENDED ...), the client's address, and the ssh login that resumed it,
 * which carries the client's connection and is part of it.  Ending it asks
 * X2Go first: x2goterminate-session, run as the user as X2Go's client does,
 * ends the desktop and marks the session finished in X2Go's database. */
#include "backend.h"

#include <sys/stat.h>

#include "interrupt.h"
#include "procscan.h"
#include "sockets.h"
#include "spawn.h"
#include "util.h"

#define X2GO_TERMINATE "/usr/bin/x2goterminate-session"
#define X2GO_TERMINATE_TIMEOUT_USEC (30u * 1000000u)

struct x2go_agent {
        struct proc_info proc;
        unsigned display;
        char *id;         /* X2Go's session ID */
        char *state_path; /* the agent's state file */
};

static void x2go_agent_done(struct x2go_agent *a) {
        free(a->id);
        free(a->state_path);
        *a = (struct x2go_agent) { 0 };
}

/* X2Go's session IDs are "user-50-1796153372_stDxterm_dp24": a user name and
 * what X2Go adds.  Anything else is not passed on to its tools. */
static bool x2go_id_is_valid(const char *id) {
        size_t len = strlen(id);
        return len > 0 && len < 256 && id[0] != '-' &&
               strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == len;
}

/* "-name X2GO-<id>" and ":N" from the agent's command line. */
static int parse_agent_cmdline(pid_t pid, struct x2go_agent *a) {
        _cleanup_free_ char *cmdline = NULL;
        size_t len;
        int r = proc_read_cmdline(pid, &cmdline, &len);
        if (r < 0)
                return r;
        bool have_display = false;
        const char *prev = "";
        for (size_t off = 0; off < len; off += strnlen(cmdline + off, len - off) + 1) {
                const char *arg = cmdline + off;
                uint32_t n;
                if (arg[0] == ':' && parse_u32(arg + 1, &n) == 0) {
                        a->display = n;
                        have_display = true;
                } else if (streq(prev, "-name") && strncmp(arg, "X2GO-", 5) == 0 && !a->id &&
                           x2go_id_is_valid(arg + 5)) {
                        a->id = strdup(arg + 5);
                        if (!a->id)
                                return -ENOMEM;
                }
                prev = arg;
        }
        return have_display && a->id ? 0 : -ENOENT;
}

/* The agent's DISPLAY is "nx/nx,options=<dir>/C-<id>/options:N": its state
 * file is <dir>/C-<id>/state. */
static int state_path_of(const struct x2go_agent *a, char **ret) {
        _cleanup_free_ char *display = NULL;
        int r = proc_getenv(a->proc.pid, "DISPLAY", &display);
        if (r < 0)
                return r;
        const char *opt = strstr(display, "options=");
        if (!opt)
                return -ENOENT;
        opt += strlen("options=");
        size_t len = strcspn(opt, ",:");
        _cleanup_free_ char *suffix = NULL;
        if (asprintf(&suffix, "/C-%s/options", a->id) < 0)
                return -ENOMEM;
        size_t slen = strlen(suffix);
        if (opt[0] != '/' || len < slen || strncmp(opt + len - slen, suffix, slen) != 0)
                return -ENOENT;
        if (asprintf(ret, "%.*sstate", (int) (len - strlen("options")), opt) < 0)
                return -ENOMEM;
        return 0;
}

/* X2Go's own word for the session's state.  The file is the user's: it is
 * read only if it is a regular file of theirs, without blocking. */
static int read_state(const char *path, uid_t owner, char *buf, size_t size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != owner)
                return -EPERM;
        ssize_t n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        buf[strcspn(buf, " \t\r\n")] = '\0';
        return 0;
}

/* The client's connection: the ssh login of the client forwards a port to
 * x2goagent on 127.0.0.1; that sshd's own accepted connection is the
 * client's.  Returns the audit session of that login (UNSET: no
 * client connected) and the client's address. */
static int find_connection(const struct x2go_agent *a, const struct proc_info *procs, size_t n, uint32_t *ret_audit,
                           char **ret_client) {
        *ret_audit = AUDIT_SESSION_UNSET;
        *ret_client = NULL;
        struct tcp_table tcp;
        int r = tcp_table_read(a->proc.pid, &tcp);
        if (r < 0)
                return r;
        _cleanup_free_ uint64_t *agent_inodes = NULL;
        size_t n_agent = 0;
        r = socket_inodes(a->proc.pid, &agent_inodes, &n_agent);
        if (r == -EACCES) {
                /* Another user's session, for a caller that is not root. */
                tcp_table_done(&tcp);
                return -EACCES;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!streq(procs[i].comm, "sshd"))
                        continue;
                _cleanup_free_ uint64_t *inodes = NULL;
                size_t n_inodes = 0;
                int k = socket_inodes(procs[i].pid, &inodes, &n_inodes);
                if (k == -ESRCH || k == -EACCES)
                        continue;
                if (k < 0) {
                        r = k;
                        break;
                }
                bool tunnel = false;
                const char *client = NULL;
                for (size_t j = 0; j < tcp.n; j++) {
                        const struct tcp_entry *e = &tcp.entries[j];
                        if (e->state != TCP_ESTABLISHED_STATE || !socket_inodes_hold(inodes, n_inodes, e->inode))
                                continue;
                        /* sshd's end of its forward to the agent (which stops
                         * listening once the client is connected) */
                        for (size_t m = 0; m < tcp.n && !tunnel; m++)
                                tunnel = tcp.entries[m].state == TCP_ESTABLISHED_STATE &&
                                         tcp.entries[m].local_port == e->remote_port &&
                                         tcp.entries[m].remote_port == e->local_port &&
                                         socket_inodes_hold(agent_inodes, n_agent, tcp.entries[m].inode);
                        if (tcp_is_listening_port(&tcp, e->local_port))
                                client = e->remote;
                }
                if (!tunnel)
                        continue;
                *ret_audit = procs[i].session_id;
                if (client && !(*ret_client = strdup(client)))
                        r = -ENOMEM;
                break;
        }
        tcp_table_done(&tcp);
        return r;
}

static int take_over(struct session_list *l, const struct x2go_agent *a, const struct proc_info *procs, size_t n) {
        size_t i = 0;
        int r = session_list_find_member(l, a->proc.pid, &i);
        if (r == -ESRCH || r == -ENOENT)
                return 0; /* gone, or in no login session (sshd without pam_loginuid) */
        if (r < 0)
                return r;
        if (l->sessions[i].backend == &backend_x2go)
                return 0; /* two agents in one login: the first one names it */

        uint32_t resumed_by;
        _cleanup_free_ char *client = NULL;
        r = find_connection(a, procs, n, &resumed_by, &client);
        bool connection_known = r >= 0;
        if (r < 0 && r != -ESRCH && r != -EACCES)
                return r;

        /* The ssh login of a resume is part of this session, not one more. */
        if (resumed_by != AUDIT_SESSION_UNSET && resumed_by != l->sessions[i].member.audit_id) {
                for (size_t j = 0; j < l->n; j++) {
                        struct session *o = &l->sessions[j];
                        if (j == i || o->audit_session != resumed_by || o->uid != l->sessions[i].uid)
                                continue;
                        l->sessions[i].member.audit_id_also = resumed_by;
                        l->sessions[i].processes += o->processes;
                        l->sessions[i].current |= o->current;
                        session_list_remove(l, j);
                        if (j < i)
                                i--;
                        break;
                }
        }

        struct session *s = &l->sessions[i];
        char state[32] = "";
        if (a->state_path)
                (void) read_state(a->state_path, a->proc.ruid, state, sizeof(state));
        /* Neither readable (another user's session, for a caller that is
         * not root): the login's own state stands. */
        bool connected = connection_known ? resumed_by != AUDIT_SESSION_UNSET : s->state == SESSION_ACTIVE;
        if (streq(state, "SUSPENDED") || streq(state, "SUSPENDING") || streq(state, "TERMINATING") ||
            streq(state, "TERMINATED"))
                connected = false;
        else if (streq(state, "RUNNING") || streq(state, "RESUMING") || streq(state, "STARTING"))
                connected = true;

        if ((r = session_show_display(s, a->display, SESSION_TYPE_X2GO, connected)) < 0)
                return r;
        if (connection_known || !connected) {
                free(s->remote_host);
                s->remote_host = connected ? TAKE_PTR(client) : NULL;
        }
        if ((r = strdup_to(&s->desktop_id, a->id)) < 0)
                return r;
        s->underlying = s->backend;
        s->backend = &backend_x2go;
        return 0;
}

static int x2go_enrich(struct session_list *l, const struct proc_info *procs, size_t n) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!streq(procs[i].comm, "x2goagent") || !proc_is_alive(&procs[i]))
                        continue;
                struct x2go_agent a = { .proc = procs[i] };
                r = proc_read_uids(&a.proc);
                if (r >= 0)
                        r = parse_agent_cmdline(a.proc.pid, &a);
                if (r >= 0 && state_path_of(&a, &a.state_path) < 0)
                        a.state_path = NULL; /* its state is then told by its connection */
                if (r >= 0)
                        r = take_over(l, &a, procs, n);
                else if (r == -ESRCH || r == -ENOENT)
                        r = 0; /* gone, or not an X2Go agent after all */
                x2go_agent_done(&a);
        }
        return r;
}

static int x2go_probe(void) { return 0; }

/* X2Go first, as its client's "terminate" does; then every process that is
 * left, the way the login's own backend ends it. */
static int x2go_end(const struct session *s, const struct terminate_options *o, struct end_report *rep) {
        int status = 0;
        char *argv[] = { (char *) X2GO_TERMINATE, s->desktop_id, NULL };
        int asked = spawn_as_user(s->uid, argv, X2GO_TERMINATE_TIMEOUT_USEC, &status);
        int r;
        if (interrupt_pending()) {
                /* The admin stopped it while X2Go was at work: no signal yet. */
                *rep = (struct end_report) { .forgotten = -1 };
                r = proc_scan(&s->member, PROC_SCAN_UIDS, &rep->procs.left, &rep->procs.n_left);
                if (r >= 0)
                        r = -ECANCELED;
        } else
                r = s->underlying->end(s, o, rep);
        rep->server_tool = X2GO_TERMINATE;
        rep->server_error = asked;
        rep->server_status = status;
        return r;
}

static int x2go_record(const struct session *s, struct record_report *rep) { return s->underlying->record(s, rep); }

const struct backend backend_x2go = {
        .name = "x2go",
        .probe = x2go_probe,
        .enrich = x2go_enrich,
        .end = x2go_end,
        .record = x2go_record,
};
