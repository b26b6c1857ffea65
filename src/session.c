/* SPDX-License-Identifier: MIT */
#include "session.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "procscan.h"
#include "records.h"
#include "util.h"

const char *session_state_to_string(enum session_state s) {
        return s == SESSION_ACTIVE ? "Active" : "Disc";
}

const char *session_type_to_string(enum session_type t) {
        switch (t) {
        case SESSION_TYPE_TTY:
                return "tty";
        case SESSION_TYPE_X11:
                return "x11";
        default:
                return "unspecified";
        }
}

int tty_name_from_dev(dev_t dev, char **ret) {
        unsigned maj = major(dev), min = minor(dev);
        char *s = NULL;
        int k;

        if (maj >= 136 && maj <= 143)
                k = asprintf(&s, "pts/%u", (maj - 136) * 256 + min);
        else if (maj == 4 && min < 64)
                k = asprintf(&s, "tty%u", min);
        else if (maj == 4)
                k = asprintf(&s, "ttyS%u", min - 64);
        else if (maj == 5 && min == 1)
                k = asprintf(&s, "console");
        else {
                char path[64];
                snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent", maj, min);
                _cleanup_free_ char *uevent = NULL;
                int r = read_small_file_at(AT_FDCWD, path, &uevent, NULL);
                if (r < 0)
                        return r;
                const char *p = strstr(uevent, "DEVNAME=");
                if (!p)
                        return -ENOENT;
                p += strlen("DEVNAME=");
                s = strndup(p, strcspn(p, "\n"));
                k = s ? 0 : -1;
        }
        if (k < 0 || !s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* /sys/class/tty/console/active lists the kernel's console devices;
 * "tty0" stands for whichever VT is in the foreground. */
bool tty_line_is_console(const char *line) {
        if (!line)
                return false;
        if (strncmp(line, "/dev/", 5) == 0)
                line += 5;
        if (streq(line, "console"))
                return true;

        _cleanup_free_ char *active = NULL;
        if (read_small_file_at(AT_FDCWD, "/sys/class/tty/console/active", &active, NULL) < 0)
                return false;
        char *save = NULL;
        for (char *dev = strtok_r(active, " \n", &save); dev; dev = strtok_r(NULL, " \n", &save)) {
                if (streq(dev, line))
                        return true;
                if (streq(dev, "tty0")) {
                        _cleanup_free_ char *fg = NULL;
                        if (read_small_file_at(AT_FDCWD, "/sys/class/tty/tty0/active", &fg, NULL) == 0) {
                                fg[strcspn(fg, "\n")] = '\0';
                                if (streq(fg, line))
                                        return true;
                        }
                }
        }
        return false;
}

static void session_done(struct session *s) {
        free(s->name);
        free(s->user);
        free(s->remote_host);
        free(s->utmp_id);
        free(s->utmp_line);
}

void session_list_done(struct session_list *l) {
        for (size_t i = 0; i < l->n; i++)
                session_done(&l->sessions[i]);
        free(l->sessions);
        *l = (struct session_list) { .current_id = AUDIT_SESSION_UNSET };
}

static int cmp_proc_by_session_then_start(const void *a, const void *b) {
        const struct proc_info *x = a, *y = b;
        if (x->session_id != y->session_id)
                return x->session_id < y->session_id ? -1 : 1;
        if (x->start_ticks != y->start_ticks)
                return x->start_ticks < y->start_ticks ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int user_name(uid_t uid, char **ret) {
        long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = bufsize > 0 ? (size_t) bufsize : 4096;
        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                struct passwd pw, *res = NULL;
                int r = getpwuid_r(uid, &pw, buf, size, &res);
                if (r == ERANGE && size < 1024 * 1024) {
                        size *= 2;
                        continue;
                }
                char *s;
                if (r == 0 && res)
                        s = strdup(pw.pw_name);
                else if (asprintf(&s, "%u", (unsigned) uid) < 0)
                        s = NULL;
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
}

static int strdup_to(char **dst, const char *src) {
        if (!src || !*src)
                return 0;
        char *s = strdup(src);
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

/* The utmp entry that belongs to this session: its ut_pid is a process of
 * the session.  A stale entry whose pid was reused is ruled out by time: no
 * process logs in before it was started. */
static const struct utmp_login *find_login(const struct utmp_login *logins, size_t n_logins,
                                           const struct proc_info *procs, size_t n_procs) {
        const struct utmp_login *best = NULL;
        uint64_t best_start = UINT64_MAX;
        for (size_t i = 0; i < n_logins; i++)
                for (size_t j = 0; j < n_procs; j++) {
                        if (procs[j].pid != logins[i].pid || !proc_is_alive(&procs[j]))
                                continue;
                        uint64_t started = proc_start_realtime_usec(procs[j].start_ticks);
                        if (logins[i].login_usec + 2000000u < started)
                                continue;
                        /* Nested logins (screen, xterm) write entries too;
                         * the earliest process is the real login. */
                        if (procs[j].start_ticks < best_start) {
                                best = &logins[i];
                                best_start = procs[j].start_ticks;
                        }
                }
        return best;
}

/* Sessions without utmp (xrdp without pam_loginuid's utmp, nohup remnants)
 * still say in their environment where they came from. */
static int fill_from_environment(struct session *s, const struct proc_info *procs, size_t n) {
        const size_t max_tries = 64;
        for (size_t i = 0; i < n && i < max_tries && (!s->name || !s->remote_host); i++) {
                if (!proc_is_alive(&procs[i]))
                        continue;
                _cleanup_free_ char *display = NULL, *ssh = NULL;
                if (!s->name && proc_getenv(procs[i].pid, "DISPLAY", &display) == 0 && display[0] == ':') {
                        s->name = TAKE_PTR(display);
                        s->type = SESSION_TYPE_X11;
                }
                if (!s->remote_host && proc_getenv(procs[i].pid, "SSH_CONNECTION", &ssh) == 0) {
                        ssh[strcspn(ssh, " ")] = '\0';
                        if (*ssh)
                                s->remote_host = TAKE_PTR(ssh);
                }
        }
        return 0;
}

static int64_t idle_of_line(const char *line) {
        if (!line || line[0] == ':')
                return -1;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/dev/%s", line) < 0)
                return -1;
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
                return -1;
        uint64_t atime = (uint64_t) st.st_atim.tv_sec * 1000000u + (uint64_t) st.st_atim.tv_nsec / 1000u;
        uint64_t now = now_realtime_usec();
        return now > atime ? (int64_t) (now - atime) : 0;
}

static int build_session(struct session *s, const struct proc_info *procs, size_t n,
                         const struct utmp_login *logins, size_t n_logins) {
        int r;
        *s = (struct session) {
                .id = procs[0].session_id,
                .uid = procs[0].loginuid,
                .type = SESSION_TYPE_UNSPECIFIED,
                .state = SESSION_DISCONNECTED,
                .idle_usec = -1,
        };

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
                leader = &procs[0];
        s->leader = leader->pid;
        s->login_usec = proc_start_realtime_usec(leader->start_ticks);

        r = user_name(s->uid, &s->user);
        if (r < 0)
                return r;

        const struct utmp_login *login = find_login(logins, n_logins, procs, n);
        if (login) {
                s->leader = login->pid;
                s->login_usec = login->login_usec;
                s->state = SESSION_ACTIVE;
                if ((r = strdup_to(&s->utmp_id, login->id)) < 0 ||
                    (r = strdup_to(&s->utmp_line, login->line)) < 0 ||
                    (r = strdup_to(&s->name, login->line)) < 0)
                        return r;
                if (login->host[0] == ':' && !s->name)
                        r = strdup_to(&s->name, login->host);
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
                s->type = SESSION_TYPE_X11;
                s->state = SESSION_ACTIVE;
        } else if (s->name)
                s->type = SESSION_TYPE_TTY;

        s->idle_usec = idle_of_line(s->name);
        s->console = (s->tty == makedev(5, 1)) || tty_line_is_console(s->name);
        return 0;
}

int sessions_discover(struct session_list *ret) {
        struct session_list l = { .current_id = AUDIT_SESSION_UNSET };
        struct proc_info *procs = NULL;
        size_t n_procs = 0;
        struct utmp_login *logins = NULL;
        size_t n_logins = 0;
        int r;

        r = proc_session_id(getpid(), &l.current_id);
        if (r < 0)
                return r;

        r = proc_scan(AUDIT_SESSION_UNSET, PROC_SCAN_LOGINUID, &procs, &n_procs);
        if (r < 0)
                return r;
        r = utmp_read_logins(&logins, &n_logins);
        if (r < 0)
                goto out;

        if (n_procs > 0)
                qsort(procs, n_procs, sizeof(*procs), cmp_proc_by_session_then_start);

        size_t n_sessions = 0;
        for (size_t i = 0; i < n_procs; i++)
                if (i == 0 || procs[i].session_id != procs[i - 1].session_id)
                        n_sessions++;
        l.sessions = calloc(n_sessions ? n_sessions : 1, sizeof(*l.sessions));
        if (!l.sessions) {
                r = -ENOMEM;
                goto out;
        }

        for (size_t i = 0; i < n_procs;) {
                size_t j = i;
                while (j < n_procs && procs[j].session_id == procs[i].session_id)
                        j++;
                struct session *s = &l.sessions[l.n];
                r = build_session(s, procs + i, j - i, logins, n_logins);
                l.n++;
                if (r < 0)
                        goto out;
                s->current = s->id == l.current_id;
                /* Zombies waiting to be reaped are not a session. */
                if (s->processes == 0) {
                        session_done(s);
                        l.n--;
                }
                i = j;
        }
        *ret = l;
        l = (struct session_list) { 0 };
        r = 0;
out:
        session_list_done(&l);
        free(procs);
        utmp_logins_free(logins, n_logins);
        return r;
}
