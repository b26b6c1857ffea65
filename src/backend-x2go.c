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
#include "backend-x2go.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "interrupt.h"
#include "procscan.h"
#include "sockets.h"
#include "spawn.h"
#include "userfile.h"
#include "util.h"

#define X2GO_TERMINATE "/usr/bin/x2goterminate-session"
#define X2GO_TERMINATE_TIMEOUT_USEC (30u * 1000000u)
/* The state file is a few bytes; a file system that takes longer than
 * this to give them is not waited for. */
#define X2GO_STATE_TIMEOUT_USEC (1u * 1000000u)

/* A process's name (comm) is whatever its owner chose (prctl, exec -a), so
 * it only says where to look: what makes a process X2Go's agent or the
 * system's sshd is the very file it runs, as this host has it at these
 * paths.  Debian's /usr/bin/x2goagent is a link to nxagent (one file, as
 * stat() follows links); elsewhere X2Go installs its own; OpenSSH 9.8 and
 * later run each connection as sshd-session. */
static const char *const agent_exes[] = { "/usr/bin/x2goagent", "/usr/bin/nxagent", "/usr/lib/x2go/x2goagent" };
static const char *const sshd_exes[] = { "/usr/sbin/sshd", "/usr/lib/openssh/sshd-session" };

struct known_exe {
        bool present;
        dev_t dev;
        ino_t ino;
        char *real_path; /* the path with links resolved, as /proc/PID/exe shows it */
};

struct x2go_agent {
        struct proc_info proc;
        int procdir_fd;   /* stays bound to the agent */
        bool verified;    /* its executable is X2Go's (not only its name) */
        unsigned display;
        char *id;         /* X2Go's session ID */
        char *state_path; /* the agent's state file */
};

static void x2go_agent_done(struct x2go_agent *a) {
        free(a->id);
        free(a->state_path);
        closep(&a->procdir_fd);
        *a = (struct x2go_agent) { .procdir_fd = -1 };
}

/* A process that runs the real sshd: one that holds sockets of logins. */
struct sshd_proc {
        pid_t pid;
        uid_t uid;
        uint32_t session_id;
        int checked;      /* 0: not yet; 1: the system's sshd, as uid; -1: not */
        uint64_t *inodes; /* its sockets, sorted; read when first needed */
        size_t n_inodes;
        bool inodes_read;
};

/* What one listing learns once and every agent's lookup shares: the
 * executables, the candidate sshd processes, and the TCP table of the
 * network namespace last asked about.  Each agent then costs a binary
 * search per socket, not a walk of the whole table. */
struct x2go_scan {
        struct known_exe agent[ARRAY_SIZE(agent_exes)];
        struct known_exe sshd[ARRAY_SIZE(sshd_exes)];
        ino_t mnt_ns;     /* our mount namespace; 0: unknown */
        struct sshd_proc *sshds;
        size_t n_sshds;
        struct tcp_table tcp;
        ino_t tcp_netns;  /* the namespace tcp is of; 0: none read */
        bool tcp_read;
};

static void known_exes_init(struct known_exe *k, const char *const *paths, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (stat(paths[i], &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                k[i] = (struct known_exe) { .present = true, .dev = st.st_dev, .ino = st.st_ino,
                                            .real_path = realpath(paths[i], NULL) };
        }
}

static void x2go_scan_done(struct x2go_scan *sc) {
        for (size_t i = 0; i < ARRAY_SIZE(sc->agent); i++)
                free(sc->agent[i].real_path);
        for (size_t i = 0; i < ARRAY_SIZE(sc->sshd); i++)
                free(sc->sshd[i].real_path);
        for (size_t i = 0; i < sc->n_sshds; i++)
                free(sc->sshds[i].inodes);
        free(sc->sshds);
        tcp_table_done(&sc->tcp);
}

/* The inode of a namespace of the process behind procdir_fd ("ns/net"). */
static int ns_inode_at(int procdir_fd, const char *ns, ino_t *ret) {
        struct stat st;
        if (fstatat(procdir_fd, ns, &st, 0) < 0)
                return -errno;
        *ret = st.st_ino;
        return 0;
}

/* Whether the process behind procdir_fd runs one of the known files: 1, 0
 * (it runs something else), or -EACCES (a caller that is not root may not
 * look at another user's process), -ESRCH (gone, or a zombie).
 *
 * The file is looked at through /proc/PID/exe with cached attributes only
 * (AT_STATX_DONT_SYNC): a process may run a program from its owner's FUSE
 * mount, whose server need never answer a stat().  Its device and inode
 * are the file's own wherever it was run from (another mount namespace, a
 * copy at the same path: neither is the file).  One exception: a binary
 * the package manager replaced while the process ran (an upgrade) is no
 * longer at its path; /proc/PID/exe then names the old path with
 * " (deleted)", its link count is 0, and that holds only in our own mount
 * namespace, where only root can have put a file at that path. */
static int runs_one_of(const struct x2go_scan *sc, int procdir_fd, const struct known_exe *k, size_t n) {
        struct statx stx;
        if (statx(procdir_fd, "exe", AT_STATX_DONT_SYNC, STATX_INO | STATX_NLINK, &stx) < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        dev_t dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
        for (size_t i = 0; i < n; i++)
                if (k[i].present && k[i].dev == dev && k[i].ino == stx.stx_ino)
                        return 1;
        if (stx.stx_nlink != 0 || sc->mnt_ns == 0)
                return 0;
        ino_t mnt_ns = 0;
        if (ns_inode_at(procdir_fd, "ns/mnt", &mnt_ns) < 0 || mnt_ns != sc->mnt_ns)
                return 0;
        /* The paths are short: a longer target is none of them. */
        char target[256];
        static const char deleted[] = " (deleted)";
        ssize_t len = readlinkat(procdir_fd, "exe", target, sizeof(target));
        if (len <= (ssize_t) strlen(deleted) || (size_t) len >= sizeof(target))
                return 0;
        target[len] = '\0';
        if (!streq(target + len - strlen(deleted), deleted))
                return 0;
        target[len - strlen(deleted)] = '\0';
        for (size_t i = 0; i < n; i++)
                if (k[i].present && k[i].real_path && streq(k[i].real_path, target))
                        return 1;
        return 0;
}

bool x2go_id_is_valid(const char *id) {
        size_t len = strlen(id);
        return len > 0 && len < 256 && id[0] != '-' &&
               strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == len;
}

int x2go_parse_agent_cmdline(const char *cmdline, size_t len, char **ret_id, unsigned *ret_display) {
        _cleanup_free_ char *id = NULL;
        bool have_display = false;
        unsigned display = 0;
        const char *prev = "";
        for (size_t off = 0; off < len; off += strnlen(cmdline + off, len - off) + 1) {
                const char *arg = cmdline + off;
                uint32_t n;
                if (arg[0] == ':' && parse_u32(arg + 1, &n) == 0) {
                        display = n;
                        have_display = true;
                } else if (streq(prev, "-name") && strncmp(arg, "X2GO-", 5) == 0 && !id && x2go_id_is_valid(arg + 5)) {
                        id = strdup(arg + 5);
                        if (!id)
                                return -ENOMEM;
                }
                prev = arg;
        }
        if (!have_display || !id)
                return -ENOENT;
        *ret_id = TAKE_PTR(id);
        *ret_display = display;
        return 0;
}

static int parse_agent_cmdline(struct x2go_agent *a) {
        _cleanup_free_ char *cmdline = NULL;
        size_t len;
        int r = read_small_file_at(a->procdir_fd, "cmdline", &cmdline, &len);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        return x2go_parse_agent_cmdline(cmdline, len, &a->id, &a->display);
}

int x2go_state_path(const char *display, const char *id, char **ret) {
        const char *opt = strstr(display, "options=");
        if (!opt)
                return -ENOENT;
        opt += strlen("options=");
        size_t len = strcspn(opt, ",:");
        _cleanup_free_ char *suffix = NULL;
        if (asprintf(&suffix, "/C-%s/options", id) < 0)
                return -ENOMEM;
        size_t slen = strlen(suffix);
        if (opt[0] != '/' || len < slen || strncmp(opt + len - slen, suffix, slen) != 0)
                return -ENOENT;
        if (asprintf(ret, "%.*sstate", (int) (len - strlen("options")), opt) < 0)
                return -ENOMEM;
        return 0;
}

static int state_path_of(const struct x2go_agent *a, char **ret) {
        _cleanup_free_ char *display = NULL;
        int r = proc_getenv_at(a->procdir_fd, "DISPLAY", &display);
        return r < 0 ? r : x2go_state_path(display, a->id, ret);
}

/* X2Go's own word for the session's state.  The file is the user's, at a
 * path the user chose (the agent's environment), and logoff is root: it
 * is read only if it is a regular file of theirs, reached through no
 * symbolic link and no file system but those of /, /tmp and their home
 * (none of them FUSE), and in a child that is not waited for if it does
 * not answer in time (spawn.h). */
static int read_state(const char *path, uid_t owner, char *buf, size_t size) {
        _cleanup_free_ char *home = NULL;
        int r = user_home(owner, &home);
        if (r < 0)
                return r;
        r = user_file_read(path, owner, home, X2GO_STATE_TIMEOUT_USEC, buf, size);
        if (r < 0)
                return r;
        buf[strcspn(buf, " \t\r\n")] = '\0';
        return 0;
}

/* Every process that may run the system's sshd (by its name, checked when
 * it matters, see check_sshd), once per listing. */
static int collect_sshds(struct x2go_scan *sc, const struct proc_info *procs, size_t n) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
                count += streq(procs[i].comm, "sshd") || streq(procs[i].comm, "sshd-session");
        if (count == 0)
                return 0;
        sc->sshds = calloc(count, sizeof(*sc->sshds));
        if (!sc->sshds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (proc_is_alive(&procs[i]) && (streq(procs[i].comm, "sshd") || streq(procs[i].comm, "sshd-session")))
                        sc->sshds[sc->n_sshds++] = (struct sshd_proc) { .pid = procs[i].pid,
                                                                        .session_id = procs[i].session_id };
        return 0;
}

static int read_uids_at(int procdir_fd, struct proc_info *p) {
        int r = proc_read_uids_at(procdir_fd, p);
        return r == -ENOENT ? -ESRCH : r;
}

/* Whether the process is the system's sshd serving a login, the one that
 * holds its connections: the X2Go client's port forward to the agent is
 * made by the login's own sshd process, which runs as the user (OpenSSH
 * separates privileges: the root "sshd: user [priv]" monitor forks it and
 * it becomes "sshd: user@notty").  So: it runs sshd's file as one user
 * (real, effective and saved uid), and its parent runs sshd's file as
 * root.  An sshd that a user started is not the system's (its parent is
 * not root's), and a process that renamed itself "sshd" runs another file.
 * Sets s->checked, and s->uid: the user whose login it serves. */
static int check_sshd(const struct x2go_scan *sc, struct sshd_proc *s) {
        s->checked = -1;
        _cleanup_close_ int fd = proc_open_dir(s->pid);
        if (fd < 0)
                return fd;
        struct proc_info p = { .pid = s->pid };
        int r = read_uids_at(fd, &p);
        if (r < 0)
                return r;
        if (p.ruid != p.euid || p.ruid != p.suid)
                return 0;
        r = runs_one_of(sc, fd, sc->sshd, ARRAY_SIZE(sc->sshd));
        if (r <= 0)
                return r;
        if ((r = proc_read_stat_at(fd, &p)) < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (p.ppid <= 1)
                return 0;
        _cleanup_close_ int parent_fd = proc_open_dir(p.ppid);
        if (parent_fd < 0)
                return parent_fd;
        struct proc_info parent = { .pid = p.ppid };
        if ((r = read_uids_at(parent_fd, &parent)) < 0)
                return r;
        if (parent.ruid != 0 || parent.euid != 0)
                return 0;
        if ((r = runs_one_of(sc, parent_fd, sc->sshd, ARRAY_SIZE(sc->sshd))) <= 0)
                return r;
        /* Still its child: had that parent exited, it would have been
         * reparented, and the pid we opened could be another process. */
        struct proc_info again = { 0 };
        if ((r = proc_read_stat_at(fd, &again)) < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (again.ppid != p.ppid)
                return 0;
        s->checked = 1;
        s->uid = p.ruid;
        return 1;
}

/* The TCP table of the agent's network namespace, read once per
 * namespace. */
static int tcp_of(struct x2go_scan *sc, const struct x2go_agent *a, const struct tcp_table **ret) {
        ino_t netns = 0;
        (void) ns_inode_at(a->procdir_fd, "ns/net", &netns);
        if (!sc->tcp_read || netns == 0 || netns != sc->tcp_netns) {
                tcp_table_done(&sc->tcp);
                sc->tcp_read = false;
                int r = tcp_table_read(a->proc.pid, &sc->tcp);
                if (r < 0)
                        return r;
                sc->tcp_read = true;
                sc->tcp_netns = netns;
        }
        *ret = &sc->tcp;
        return 0;
}

/* A connection as a pair of ports, local and remote: the key the agent's
 * ends are looked up by. */
static uint32_t port_pair(unsigned local, unsigned remote) { return (uint32_t) local << 16 | (remote & 0xffffu); }

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

/* The client's connection: the ssh login of the client forwards a port to
 * x2goagent on 127.0.0.1; that sshd's own accepted connection is the
 * client's.  Returns the audit session of that login (UNSET: no client
 * connected) and the client's address.  Linear in the sockets of the
 * agent and of the user's sshd processes, each looked up in the table's
 * index; other users' sshd processes are not even read. */
static int find_connection(struct x2go_scan *sc, const struct x2go_agent *a, uint32_t *ret_audit, char **ret_client) {
        *ret_audit = AUDIT_SESSION_UNSET;
        *ret_client = NULL;
        _cleanup_free_ uint64_t *agent_inodes = NULL;
        size_t n_agent = 0;
        int r = socket_inodes(a->proc.pid, &agent_inodes, &n_agent);
        if (r < 0)
                return r; /* -EACCES: another user's session, for a caller that is not root */

        /* The system's sshd processes that serve the agent's user: without
         * one, no client is connected, and the table need not be read. */
        bool any = false;
        for (size_t i = 0; i < sc->n_sshds; i++) {
                struct sshd_proc *s = &sc->sshds[i];
                if (s->checked == 0) {
                        int k = check_sshd(sc, s);
                        /* Gone, or not ours to look at: not a login we can tell. */
                        if (k < 0 && k != -ESRCH && k != -ENOENT && k != -EACCES)
                                return k;
                }
                any |= s->checked == 1 && s->uid == a->proc.ruid;
        }
        if (!any || n_agent == 0)
                return 0;

        const struct tcp_table *tcp;
        if ((r = tcp_of(sc, a, &tcp)) < 0)
                return r;

        /* The agent's established connections, by their ports. */
        _cleanup_free_ uint32_t *ends = calloc(n_agent ? n_agent : 1, sizeof(*ends));
        if (!ends)
                return -ENOMEM;
        size_t n_ends = 0;
        for (size_t i = 0; i < n_agent; i++) {
                const struct tcp_entry *e = tcp_table_find_inode(tcp, agent_inodes[i]);
                if (e && e->state == TCP_ESTABLISHED_STATE)
                        ends[n_ends++] = port_pair(e->local_port, e->remote_port);
        }
        if (n_ends == 0)
                return 0; /* no client: it listens until one comes */
        qsort(ends, n_ends, sizeof(*ends), cmp_u32);

        for (size_t i = 0; i < sc->n_sshds; i++) {
                struct sshd_proc *s = &sc->sshds[i];
                if (s->checked != 1 || s->uid != a->proc.ruid)
                        continue;
                if (!s->inodes_read) {
                        int k = socket_inodes(s->pid, &s->inodes, &s->n_inodes);
                        if (k < 0 && k != -ESRCH && k != -EACCES)
                                return k;
                        s->inodes_read = true;
                }
                bool tunnel = false;
                const char *client = NULL;
                for (size_t j = 0; j < s->n_inodes; j++) {
                        const struct tcp_entry *e = tcp_table_find_inode(tcp, s->inodes[j]);
                        if (!e || e->state != TCP_ESTABLISHED_STATE)
                                continue;
                        /* sshd's end of its forward to the agent (which stops
                         * listening once the client is connected) */
                        uint32_t other = port_pair(e->remote_port, e->local_port);
                        if (!tunnel && bsearch(&other, ends, n_ends, sizeof(*ends), cmp_u32))
                                tunnel = true;
                        if (tcp_is_listening_port(tcp, e->local_port))
                                client = e->remote;
                }
                if (!tunnel)
                        continue;
                *ret_audit = s->session_id;
                if (client && !(*ret_client = strdup(client)))
                        return -ENOMEM;
                return 0;
        }
        return 0;
}

static int take_over(struct session_list *l, struct x2go_scan *sc, const struct x2go_agent *a) {
        size_t i = 0;
        int r = session_list_find_member(l, a->proc.pid, &i);
        if (r == -ESRCH || r == -ENOENT)
                return 0; /* gone, or in no login session (sshd without pam_loginuid) */
        if (r < 0)
                return r;
        if (l->sessions[i].server == &server_x2go)
                return 0; /* two agents in one login: the first one names it */
        if (l->sessions[i].server || !l->sessions[i].host)
                return 0; /* another server's session, known by its tree only: X2Go ends logins */
        /* X2Go starts the agent as the user of the login, with nothing
         * setuid about it. */
        if (a->proc.ruid != l->sessions[i].uid || a->proc.euid != a->proc.ruid || a->proc.suid != a->proc.ruid)
                return 0;

        /* An agent whose file could not be looked at (another user's, for
         * a caller that is not root, or root without CAP_SYS_PTRACE) is
         * known by its name and command line alone, as the caller could
         * read nothing more of it anyway (its sockets, its environment):
         * the session shows as X2Go's, with the login's own state, and
         * nothing of it is read. */
        uint32_t resumed_by = AUDIT_SESSION_UNSET;
        _cleanup_free_ char *client = NULL;
        r = a->verified ? find_connection(sc, a, &resumed_by, &client) : -EACCES;
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
        s->server = &server_x2go;
        return 0;
}

/* One process named x2goagent: whether it is X2Go's agent, and what it
 * says of its session.  0 with a->id NULL: it is not one. */
static int read_agent(struct x2go_scan *sc, struct x2go_agent *a) {
        int r = a->procdir_fd = proc_open_dir(a->proc.pid);
        if (r < 0)
                return r;
        r = runs_one_of(sc, a->procdir_fd, sc->agent, ARRAY_SIZE(sc->agent));
        if (r == 0)
                return 0; /* another program that took the name */
        if (r < 0 && r != -EACCES)
                return r;
        a->verified = r == 1;
        if ((r = read_uids_at(a->procdir_fd, &a->proc)) < 0)
                return r;
        if ((r = parse_agent_cmdline(a)) < 0) {
                free(a->id);
                a->id = NULL;
                return r == -ENOENT ? 0 : r; /* not started as X2Go starts it */
        }
        /* Without it, its state is told by its connection. */
        if (a->verified && state_path_of(a, &a->state_path) < 0)
                a->state_path = NULL;
        return 0;
}

static int x2go_enrich(struct session_list *l, const struct proc_info *procs, size_t n) {
        struct x2go_scan sc = { 0 };
        bool ready = false;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!streq(procs[i].comm, "x2goagent") || !proc_is_alive(&procs[i]))
                        continue;
                if (!ready) {
                        /* Only on a host that runs something by that name. */
                        known_exes_init(sc.agent, agent_exes, ARRAY_SIZE(agent_exes));
                        known_exes_init(sc.sshd, sshd_exes, ARRAY_SIZE(sshd_exes));
                        (void) ns_inode_at(AT_FDCWD, "/proc/self/ns/mnt", &sc.mnt_ns);
                        r = collect_sshds(&sc, procs, n);
                        ready = true;
                        if (r < 0)
                                break;
                }
                struct x2go_agent a = { .proc = procs[i], .procdir_fd = -1 };
                r = read_agent(&sc, &a);
                if (r >= 0 && a.id)
                        r = take_over(l, &sc, &a);
                else if (r == -ESRCH || r == -ENOENT)
                        r = 0; /* gone */
                x2go_agent_done(&a);
        }
        x2go_scan_done(&sc);
        return r;
}

/* The user's slice, "/user.slice/user-UID.slice", where logind put the
 * session in one (its scope in the unified hierarchy lies below it); NULL
 * where it did not. */
static char *user_slice_of(const struct session *s) {
        const struct membership *m = &s->member;
        if (!m->cgroup || (m->cgroup_hierarchy && m->cgroup_hierarchy[0]))
                return NULL;
        char *slice = NULL;
        if (asprintf(&slice, "/user.slice/user-%u.slice", (unsigned) s->uid) < 0)
                return NULL;
        size_t len = strlen(slice);
        if (strncmp(m->cgroup, slice, len) != 0 || m->cgroup[len] != '/') {
                free(slice);
                return NULL;
        }
        return slice;
}

/* X2Go first, as its client's "terminate" does; then every process that is
 * left, the way the login's own backend ends it.  The tool is the user's
 * process, not the admin's: no member of the admin's login, nor of its
 * cgroup (spawn.h). */
static int x2go_end(const struct session *s, const struct terminate_options *o, struct end_report *rep) {
        int status = 0;
        char *argv[] = { (char *) X2GO_TERMINATE, s->desktop_id, NULL };
        _cleanup_free_ char *slice = user_slice_of(s);
        int asked = spawn_as_user(s->uid, slice, argv, X2GO_TERMINATE_TIMEOUT_USEC, &status);
        int r;
        if (interrupt_pending()) {
                /* The admin stopped it while X2Go was at work: no signal yet. */
                r = membership_scan(&s->member, PROC_SCAN_UIDS, &rep->procs.left, &rep->procs.n_left);
                if (r >= 0)
                        r = -ECANCELED;
        } else
                r = s->host->end(s, o, rep);
        rep->server.tool = X2GO_TERMINATE;
        rep->server.error = asked;
        rep->server.status = status;
        return r;
}

static int x2go_record(const struct session *s, struct record_report *rep) { return s->host->record(s, rep); }

const struct desktop_server server_x2go = {
        .name = "x2go",
        .type = SESSION_TYPE_X2GO,
        .env_marker = "X2GO_SESSION",
        .enrich = x2go_enrich,
        .end = x2go_end,
        .record = x2go_record,
};
