/* SPDX-License-Identifier: MIT */
/* Sessions as the kernel knows them: audit sessions (/proc/PID/sessionid,
 * set by pam_loginuid at login and kept by every child), joined with utmp.
 * For hosts without logind. */
#include "backend.h"
#include "cgroup.h"

#include <inttypes.h>
#include <limits.h>
#include <sys/sysmacros.h>

#include "procscan.h"
#include "records.h"
#include "userfile.h"
#include "util.h"

static int cmp_proc_by_session_then_start(const void *a, const void *b) {
        const struct proc_info *x = a, *y = b;
        if (x->session_id != y->session_id)
                return x->session_id < y->session_id ? -1 : 1;
        if (x->start_ticks != y->start_ticks)
                return x->start_ticks < y->start_ticks ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* An X server writes its pid to /tmp/.XN-lock while it serves :N.  1: one
 * of procs (the session's) serves display; 0: another process does;
 * -ENOENT: no live server; or a negative errno.  The file is anyone's
 * (/tmp): it is read without trusting the path or waiting on it, and only
 * a pid that is one of the session's own processes makes it the owner. */
#define X_LOCK_READ_USEC (1000000u)
static int serves_display(const char *display, const struct session *s, const struct proc_info *procs, size_t n) {
        uint32_t number;
        _cleanup_free_ char *num = strndup(display + 1, strcspn(display + 1, "."));
        if (!num)
                return -ENOMEM;
        if (parse_u32(num, &number) < 0)
                return -ENOENT;
        char path[64], text[32];
        snprintf(path, sizeof(path), "/tmp/.X%" PRIu32 "-lock", number);
        /* The user's X server (xrdp, X2Go, startx), or root's (a display manager's). */
        int r = user_file_read(path, s->uid, NULL, X_LOCK_READ_USEC, text, sizeof(text));
        if (r == -EPERM && s->uid != 0)
                r = user_file_read(path, 0, NULL, X_LOCK_READ_USEC, text, sizeof(text));
        if (r < 0)
                return -ENOENT; /* no lock, or one nobody may trust: no server known */
        char *end;
        errno = 0;
        long pid = strtol(text, &end, 10);
        if (errno || end == text || pid <= 0 || pid > INT_MAX)
                return -ENOENT;
        for (size_t i = 0; i < n; i++)
                if (procs[i].pid == (pid_t) pid && proc_is_alive(&procs[i]))
                        return 1;
        _cleanup_close_ int fd = proc_open_dir((pid_t) pid);
        return fd >= 0 ? 0 : -ENOENT;
}

/* Sessions without utmp (xrdp writes none, nohup remnants) still say in
 * their environment where they came from.  A remote desktop's processes
 * carry its server's marker (XRDP_SESSION, X2GO_SESSION) and its DISPLAY: that session is
 * its display, even where a terminal in it (an xterm's pty) was met first. */
static int fill_from_environment(struct session *s, const struct proc_info *procs, size_t n) {
        const size_t max_tries = 64;
        _cleanup_free_ char *display = NULL;
        enum session_type remote_desktop = SESSION_TYPE_UNSPECIFIED;
        size_t n_servers;
        const struct desktop_server *const *servers = desktop_servers(&n_servers);
        for (size_t i = 0; i < n && i < max_tries && !(remote_desktop && display && s->remote_host); i++) {
                if (!proc_is_alive(&procs[i]))
                        continue;
                _cleanup_free_ char *d = NULL, *ssh = NULL, *marker = NULL;
                if (!display && proc_getenv(procs[i].pid, "DISPLAY", &d) == 0 && d[0] == ':') {
                        display = display_name(d);
                        if (!display)
                                return -ENOMEM;
                }
                for (size_t k = 0; !remote_desktop && k < n_servers; k++)
                        if (proc_getenv(procs[i].pid, servers[k]->env_marker, &marker) == 0)
                                remote_desktop = servers[k]->type;
                if (!s->remote_host && proc_getenv(procs[i].pid, "SSH_CONNECTION", &ssh) == 0) {
                        ssh[strcspn(ssh, " ")] = '\0';
                        if (*ssh)
                                s->remote_host = TAKE_PTR(ssh);
                }
        }
        if (!display || (s->name && !remote_desktop))
                return 0;
        /* DISPLAY makes a process a client of that display, not its owner:
         * the name is this session's only when its own X server serves it,
         * or, for what is left of a finished remote desktop, when no server
         * does any more. */
        int r = serves_display(display, s, procs, n);
        if (r < 0 && r != -ENOENT)
                return r;
        bool named = r == 1 || (r == -ENOENT && remote_desktop);
        if (!named && !remote_desktop)
                return 0;
        if (named) {
                free(s->name);
                s->name = TAKE_PTR(display);
        }
        s->type = SESSION_TYPE_X11;
        /* Only its server can say a remote desktop is still there (the xrdp
         * and X2Go backends do, for the live ones): what carries its
         * environment otherwise is what is left of a finished one. */
        if (remote_desktop) {
                s->type = remote_desktop;
                s->state = SESSION_DISCONNECTED;
        }
        return 0;
}

/* A user manager (user@UID.service: systemd --user, (sd-pam), its dbus)
 * gets an audit session of its own from Debian's PAM file systemd-user, and
 * so does a lingering user's: neither is a login. */
static bool is_user_manager(pid_t pid) {
        _cleanup_free_ char *path = NULL;
        if (cgroup_path_of_pid(pid, "", &path) < 0)
                return false;
        for (const char *c = strstr(path, "/user@"); c; c = strstr(c + 1, "/user@")) {
                size_t len = strcspn(c + 1, "/");
                if (len > 8 && strncmp(c + 1 + len - 8, ".service", 8) == 0)
                        return true;
        }
        return false;
}

/* Fills s from its processes (sorted by start time) and utmp.  Returns 1
 * when it is a session of this host, 0 when it is none (zombies only, a
 * container's login, a user manager), or a negative errno. */
static int build_session(struct session *s, const struct proc_info *procs, size_t n,
                         const struct utmp_login *logins, size_t n_logins) {
        int r;
        if (asprintf(&s->id, "%" PRIu32, procs[0].session_id) < 0) {
                s->id = NULL;
                return -ENOMEM;
        }
        s->audit_session = s->member.audit_id = procs[0].session_id;
        s->uid = procs[0].loginuid;
        s->type = SESSION_TYPE_UNSPECIFIED;
        s->state = SESSION_DISCONNECTED;

        /* A login made inside a container has all its processes in a PID
         * namespace below ours, and the host's passwd names the wrong user.
         * It is told by where it began, not by where its processes are now:
         * a login of ours whose processes all went into a namespace of their
         * own (unshare -pf, its parent gone) made that namespace itself, so
         * the init of the outermost one is its own process.  A container's
         * login runs under an init that is not. */
        bool ours = false;
        unsigned outermost = UINT_MAX;
        for (size_t i = 0; i < n && !ours; i++) {
                if (!proc_is_alive(&procs[i]))
                        continue;
                ours = !procs[i].child_pidns;
                if (procs[i].pidns_depth < outermost)
                        outermost = procs[i].pidns_depth;
        }
        for (size_t i = 0; i < n && !ours; i++)
                ours = proc_is_alive(&procs[i]) && procs[i].pidns_init && procs[i].pidns_depth == outermost;
        if (!ours)
                return 0;

        /* procs is sorted by start time: the first live one started the
         * session unless utmp names another. */
        const struct proc_info *leader = NULL;
        for (size_t i = 0; i < n; i++) {
                if (proc_is_alive(&procs[i])) {
                        s->processes++;
                        if (!leader)
                                leader = &procs[i];
                }
        }
        if (!leader)
                return 0; /* zombies waiting to be reaped are not a session */
        if (is_user_manager(leader->pid))
                return 0;
        s->leader = leader->pid;
        s->login_usec = proc_start_realtime_usec(leader->start_ticks);

        r = user_name(s->uid, &s->user);
        if (r < 0)
                return r;

        const struct utmp_login *login = utmp_find_login(logins, n_logins, procs, n);
        if (login) {
                s->leader = s->utmp_pid = login->pid;
                s->login_usec = login->login_usec;
                s->state = SESSION_ACTIVE;
                if ((r = strdup_to(&s->utmp_id, login->id)) < 0 ||
                    (r = strdup_to(&s->utmp_line, login->line)) < 0 ||
                    (r = strdup_to(&s->name, login->line)) < 0)
                        return r;
                if (login->host[0] == ':' && !s->name)
                        r = (s->name = display_name(login->host)) ? 0 : -ENOMEM;
                else if (login->host[0] != ':')
                        r = strdup_to(&s->remote_host, login->host);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n && !s->tty; i++)
                if (procs[i].tty && proc_is_alive(&procs[i]))
                        s->tty = procs[i].tty;
        if (!s->name && s->tty) {
                r = tty_name_from_dev(s->tty, &s->name);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (s->name)
                        s->state = SESSION_ACTIVE;
        }
        if (!login) {
                r = fill_from_environment(s, procs, n);
                if (r < 0)
                        return r;
        }

        if (s->name && s->name[0] == ':') {
                /* A utmp line may carry the screen too (":10.0"). */
                char *d = display_name(s->name);
                if (!d)
                        return -ENOMEM;
                free(s->name);
                s->name = d;
                if (!desktop_server_of_type(s->type)) {
                        s->type = SESSION_TYPE_X11;
                        s->state = SESSION_ACTIVE;
                }
        } else if (s->name)
                s->type = SESSION_TYPE_TTY;

        session_idle_from_line(s);
        s->console = (s->tty == makedev(5, 1)) || tty_line_is_console(s->name);
        return 1;
}

static int kernel_discover(struct session_list *l) {
        struct proc_info *procs = NULL;
        size_t n_procs = 0;
        struct utmp_login *logins = NULL;
        size_t n_logins = 0;
        uint32_t current = AUDIT_SESSION_UNSET;
        int r;

        r = proc_session_id(getpid(), &current);
        if (r < 0)
                return r;
        r = proc_scan(NULL, PROC_SCAN_LOGINUID | PROC_SCAN_NS, &procs, &n_procs);
        if (r < 0)
                return r;
        r = utmp_read_logins(&logins, &n_logins);
        if (r < 0)
                goto out;

        if (n_procs > 0)
                qsort(procs, n_procs, sizeof(*procs), cmp_proc_by_session_then_start);

        for (size_t i = 0; i < n_procs;) {
                size_t j = i;
                while (j < n_procs && procs[j].session_id == procs[i].session_id)
                        j++;
                struct session *s = session_list_append(l);
                if (!s) {
                        r = -ENOMEM;
                        goto out;
                }
                r = build_session(s, procs + i, j - i, logins, n_logins);
                if (r <= 0) {
                        session_list_drop_last(l);
                        if (r < 0)
                                goto out;
                } else
                        s->current = s->audit_session == current;
                i = j;
        }
        r = 0;
out:
        free(procs);
        utmp_logins_free(logins, n_logins);
        return r;
}

static int kernel_end(const struct session *s, const struct terminate_options *o, struct end_report *rep) {
        return session_terminate(&s->member, o, &rep->procs);
}

const struct session_host host_kernel = {
        .name = "kernel",
        .discover = kernel_discover,
        .end = kernel_end,
        .record = record_session_logout,
};
