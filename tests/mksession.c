/* SPDX-License-Identifier: MIT */
/*
 * mksession: test helper that starts a command inside a real login session.
 *
 * logoff has to find and end sessions that login(1) or sshd created, so the
 * tests need sessions with the same kernel and utmp state, not imitations:
 * a fresh kernel audit session id (what pam_loginuid gives a login), a root
 * "leader" process that stays outside the user's processes (like sshd's
 * "[priv]" monitor) and is the ut_pid of the utmp entry, a command that
 * runs as the user in its own session on its own controlling terminal, and
 * the utmp/wtmp records those programs write at login and at logout.
 *
 *   original process ──fork──> monitor (root, new audit session, utmp owner)
 *                                 └──fork──> command (setsid, ctty, user)
 *
 * The original process exits as soon as the session is up and prints how to
 * find it, so a test can run it with $(...) and carry on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <paths.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

/* What /proc/PID/sessionid reads when no login ever set a loginuid. */
#define AUDIT_SID_UNSET 4294967295UL

#define CHILD_PATH "/usr/local/bin:/usr/bin:/bin"
#define HANGUP_GRACE_MS 5000

/* How many reads the final drain may take, so that a process that survives
 * the command and keeps writing cannot keep the monitor alive. */
#define FINAL_DRAIN_READS 64

struct user {
        char *name;
        char *dir;
        char *shell;
        uid_t uid;
        gid_t gid;
};

struct config {
        const char *user;
        const char *host;
        const char *ttydev;
        const char *display;
        const char *logfile;
        bool notty;
        bool norecords;  /* -R: no logout records */
        bool noutmp;     /* -U: no records at all */
        char **env;      /* -e NAME=VALUE, in command line order */
        size_t nenv;
        char **argv;     /* COMMAND [ARG...] */
};

struct session {
        const struct config *cfg;
        struct user pw;
        const char *line;       /* tty as named in utmp; NULL when there is none */
        bool records;           /* write utmp/wtmp for this session */
        char *tty_path;         /* what the command opens; NULL with -N */
        int master;             /* pty master, -1 unless we made a pty */
        int logfd;              /* -L file, or -1 */
        unsigned long sid;
        pid_t child;
};

/* Sent from the monitor to the original process once the session is up;
 * fits in one pipe write, so it arrives whole or not at all. */
struct ready_msg {
        uint32_t sid;
        int32_t child;
};

static noreturn void usage(int status) {
        FILE *f = status ? stderr : stdout;
        fprintf(f,
                "usage: %s [-u USER] [-H HOST] [-t TTYDEV | -N] [-D DISPLAY] [-R] [-U]\n"
                "       [-L LOGFILE] [-e NAME=VALUE]... -- COMMAND [ARG...]\n"
                "\n"
                "Starts COMMAND as USER (default root) in a new login session: new audit\n"
                "session id, own process session with the terminal as controlling tty,\n"
                "utmp/wtmp records. Prints 'sid=N leader=PID pid=PID tty=LINE' and exits\n"
                "while a root monitor process (the leader) keeps the session.\n"
                "\n"
                "  -u USER        user of the session\n"
                "  -H HOST        remote host for ut_host\n"
                "  -t TTYDEV      use this terminal instead of a new pty (steals it)\n"
                "  -N             no terminal: /dev/null; utmp line is DISPLAY, if any\n"
                "  -D DISPLAY     set DISPLAY for the command\n"
                "  -R             no logout records when the session ends\n"
                "  -U             no utmp/wtmp records at all\n"
                "  -L LOGFILE     append the terminal's output to LOGFILE\n"
                "  -e NAME=VALUE  extra environment variable (repeatable)\n"
                "\n"
                "SIGHUP or SIGTERM to the leader hangs the session up.\n",
                program_invocation_short_name);
        exit(status);
}

static char *xstrdup(const char *s) {
        char *p = strdup(s);
        if (!p)
                err(1, "strdup");
        return p;
}

/* The *_r lookups want a caller buffer whose needed size only the call
 * itself knows, so start from the libc hint and double on ERANGE. */
static size_t lookup_buf_start(int name) {
        long hint = sysconf(name);
        return hint > 0 ? (size_t) hint : 1024;
}

static char *grow_lookup_buf(char *buf, size_t *size, const char *what) {
        if (buf) {
                if (*size > SIZE_MAX / 2)
                        errx(1, "%s entry too large", what);
                *size *= 2;
        }
        char *n = realloc(buf, *size);
        if (!n)
                err(1, "realloc");
        return n;
}

static void lookup_user(const char *name, struct user *u) {
        size_t size = lookup_buf_start(_SC_GETPW_R_SIZE_MAX);
        char *buf = NULL;
        struct passwd pwd, *res;
        int e;

        do {
                buf = grow_lookup_buf(buf, &size, "passwd");
                e = getpwnam_r(name, &pwd, buf, size, &res);
        } while (e == ERANGE);
        if (e) {
                errno = e;
                err(1, "getpwnam_r %s", name);
        }
        if (!res)
                errx(1, "no such user: %s", name);

        u->name = xstrdup(pwd.pw_name);
        u->dir = xstrdup(pwd.pw_dir && *pwd.pw_dir ? pwd.pw_dir : "/");
        /* An empty shell field means /bin/sh to login(1). */
        u->shell = xstrdup(pwd.pw_shell && *pwd.pw_shell ? pwd.pw_shell : "/bin/sh");
        u->uid = pwd.pw_uid;
        u->gid = pwd.pw_gid;
        free(buf);
}

static bool lookup_group(const char *name, gid_t *ret) {
        size_t size = lookup_buf_start(_SC_GETGR_R_SIZE_MAX);
        char *buf = NULL;
        struct group grp, *res;
        int e;

        do {
                buf = grow_lookup_buf(buf, &size, "group");
                e = getgrnam_r(name, &grp, buf, size, &res);
        } while (e == ERANGE);
        if (e) {
                errno = e;
                err(1, "getgrnam_r %s", name);
        }
        if (res)
                *ret = grp.gr_gid;
        free(buf);
        return res != NULL;
}

/*
 * glibc's pututxline() and updwtmpx() silently do nothing when the file is
 * missing, and without an init system nothing creates /run/utmp at boot.
 * Create it the way systemd-tmpfiles would, so our records really land.
 */
static void ensure_record_file(const char *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0664);
        if (fd < 0) {
                if (errno == EEXIST)
                        return;
                err(1, "create %s", path);
        }
        /* The umask may have dropped group write, which utmp-group helpers
         * such as utempter need. */
        if (fchmod(fd, 0664) < 0)
                err(1, "chmod %s", path);
        gid_t gid;
        if (lookup_group("utmp", &gid) && fchown(fd, (uid_t) -1, gid) < 0)
                err(1, "chown %s", path);
        if (close(fd) < 0)
                err(1, "close %s", path);
}

/* A pipe or pty landing on 0-2 would be overwritten when the command's
 * standard streams are set up, so make sure those slots are taken. */
static void ensure_std_fds(void) {
        for (;;) {
                int fd = open("/dev/null", O_RDWR);
                if (fd < 0)
                        err(1, "open /dev/null");
                if (fd > STDERR_FILENO) {
                        if (close(fd) < 0)
                                err(1, "close");
                        return;
                }
        }
}

static int open_pty(char **slave_path) {
        int fd = posix_openpt(O_RDWR | O_NOCTTY);
        if (fd < 0)
                err(1, "posix_openpt");
        if (grantpt(fd) < 0)
                err(1, "grantpt");
        if (unlockpt(fd) < 0)
                err(1, "unlockpt");
        const char *name = ptsname(fd);
        if (!name)
                err(1, "ptsname");
        *slave_path = xstrdup(name);

        /* The monitor drains the master in its event loop and once more at
         * the end; a read that blocks there would keep the session from
         * ever getting its logout records. */
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                err(1, "make pty master non-blocking");

        /* A new pty reports 0x0, which makes full-screen programs misbehave;
         * sshd likewise passes the client's size on. */
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
                err(1, "set window size of %s", name);
        return fd;
}

static void check_tty(const char *path) {
        /* O_NONBLOCK: a serial line without carrier would block the open. */
        int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                err(1, "open %s", path);
        if (!isatty(fd))
                err(1, "%s", path);
        if (close(fd) < 0)
                err(1, "close %s", path);
}

static const char *line_of(const char *path) {
        return strncmp(path, "/dev/", 5) == 0 ? path + 5 : path;
}

static void check_field(const char *what, const char *value, size_t size) {
        if (strlen(value) > size)
                errx(1, "%s '%s' does not fit in utmp (at most %zu bytes)", what, value, size);
}

static void write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        err(1, "write");
                }
                buf += n;
                len -= (size_t) n;
        }
}

static int fill_record(struct utmpx *ut, const struct session *s, short type) {
        size_t len = strlen(s->line);
        struct timespec now;

        memset(ut, 0, sizeof(*ut));
        ut->ut_type = type;
        /* Like sshd, the entry belongs to the root leader, not the command:
         * tools that check whether a session is alive look at this pid. */
        ut->ut_pid = getpid();
        memcpy(ut->ut_line, s->line, len);
        /* login and sshd key the utmp slot by the line's last bytes; using the
         * same rule makes our logout update land on the slot a real login on
         * this line would reuse. */
        size_t idlen = len < sizeof(ut->ut_id) ? len : sizeof(ut->ut_id);
        memcpy(ut->ut_id, s->line + len - idlen, idlen);
        if (type == USER_PROCESS) {
                memcpy(ut->ut_user, s->pw.name, strlen(s->pw.name));
                memcpy(ut->ut_host, s->cfg->host, strlen(s->cfg->host));
        }
        ut->ut_session = (__typeof__(ut->ut_session)) s->sid;

        if (clock_gettime(CLOCK_REALTIME, &now) < 0) {
                warn("clock_gettime");
                return -1;
        }
        ut->ut_tv.tv_sec = (__typeof__(ut->ut_tv.tv_sec)) now.tv_sec;
        ut->ut_tv.tv_usec = (__typeof__(ut->ut_tv.tv_usec)) (now.tv_nsec / 1000);
        return 0;
}

/* updwtmpx() returns nothing, even when it could not write; the file
 * growing by one record is the only evidence that it did. */
static int append_wtmp(const struct utmpx *ut) {
        struct stat before, after;

        if (stat(_PATH_WTMP, &before) < 0) {
                warn("stat %s", _PATH_WTMP);
                return -1;
        }
        updwtmpx(_PATH_WTMP, ut);
        if (stat(_PATH_WTMP, &after) < 0) {
                warn("stat %s", _PATH_WTMP);
                return -1;
        }
        if (after.st_size < before.st_size + (off_t) sizeof(*ut)) {
                warnx("updwtmpx could not append to %s", _PATH_WTMP);
                return -1;
        }
        return 0;
}

/* Returns 0 or -1 after a warning, so the caller can still clean up. */
static int write_records(const struct session *s, short type) {
        struct utmpx ut;

        if (fill_record(&ut, s, type) < 0)
                return -1;
        setutxent();
        errno = 0;
        if (!pututxline(&ut)) {
                int e = errno;
                endutxent();
                errno = e;
                warn("pututxline %s", _PATH_UTMP);
                return -1;
        }
        endutxent();
        return append_wtmp(&ut);
}

static noreturn void child_fail(int fd, const char *fmt, ...) {
        int e = errno;
        va_list ap;

        /* Our stderr is already the session's terminal by now, so the message
         * goes back through the pipe for the monitor to print. If that write
         * fails too, there is nobody left to tell. */
        va_start(ap, fmt);
        (void) vdprintf(fd, fmt, ap);
        va_end(ap);
        (void) dprintf(fd, ": %s", strerror(e));
        _exit(127);
}

/* Closes every fd above stderr except those in keep[] (-1 entries are
 * ignored). Returns 0, or -1 with errno set. */
static int close_all_but(int *keep, size_t n) {
        /* Sorted, so the gaps between kept fds are ranges to close. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }

        unsigned int first = STDERR_FILENO + 1;
        for (size_t i = 0; i <= n; i++) {
                unsigned int last = ~0U;
                if (i < n) {
                        if (keep[i] < (int) first)
                                continue;
                        last = (unsigned int) keep[i] - 1;
                }
                if (first <= last && close_range(first, last, 0) < 0) {
                        if (errno != ENOSYS)
                                return -1;
                        /* Kernels before 5.9: close one by one. */
                        long max = sysconf(_SC_OPEN_MAX);
                        if (max < 0)
                                max = 65536;
                        for (unsigned long fd = first; fd <= last && fd < (unsigned long) max; fd++)
                                if (close((int) fd) < 0 && errno != EBADF)
                                        return -1;
                }
                if (i < n)
                        first = (unsigned int) keep[i] + 1;
        }
        return 0;
}

static noreturn void run_child(const struct session *s, int errfd) {
        const struct config *c = s->cfg;
        int fd;

        /* The command must see a fresh process, as after login: whatever the
         * caller ignored (nohup ignores SIGHUP) would otherwise survive the
         * exec and make the session impossible to hang up. */
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa = { .sa_handler = SIG_DFL };
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                /* glibc reserves a few real-time signals for itself. */
                if (sigaction(sig, &sa, NULL) < 0 && errno != EINVAL)
                        child_fail(errfd, "reset signal %d", sig);
        }

        if (setsid() < 0)
                child_fail(errfd, "setsid");

        if (s->tty_path) {
                /* O_NONBLOCK so a serial line without carrier cannot hang us. */
                fd = open(s->tty_path, O_RDWR | O_NOCTTY | O_NONBLOCK);
                if (fd < 0)
                        child_fail(errfd, "open %s", s->tty_path);
                /* An existing terminal may still be another session's; as root
                 * we may take it over, as getty/login do on a console. */
                if (ioctl(fd, TIOCSCTTY, c->ttydev ? 1 : 0) < 0)
                        child_fail(errfd, "make %s the controlling terminal", s->tty_path);
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                        child_fail(errfd, "make %s blocking", s->tty_path);
        } else {
                fd = open("/dev/null", O_RDWR);
                if (fd < 0)
                        child_fail(errfd, "open /dev/null");
        }
        for (int i = STDIN_FILENO; i <= STDERR_FILENO; i++)
                if (dup2(fd, i) < 0)
                        child_fail(errfd, "dup2");
        if (fd > STDERR_FILENO && close(fd) < 0)
                child_fail(errfd, "close");

        /* Nothing of the monitor's (pty master, pipes, log) may leak into the
         * session: a stray pty master would keep the terminal from ever being
         * hung up, a stray pipe end would keep a caller waiting for EOF. */
        int keep[] = { errfd };
        if (close_all_but(keep, 1) < 0)
                child_fail(errfd, "close inherited fds");

        /* Even for root: a login's groups come from the group database, not
         * from whoever happened to start the test. */
        if (initgroups(s->pw.name, s->pw.gid) < 0)
                child_fail(errfd, "initgroups %s", s->pw.name);
        if (setgid(s->pw.gid) < 0)
                child_fail(errfd, "setgid %lu", (unsigned long) s->pw.gid);
        if (setuid(s->pw.uid) < 0)
                child_fail(errfd, "setuid %lu", (unsigned long) s->pw.uid);

        /* After setuid, so a home the user cannot enter falls back like login. */
        if (chdir(s->pw.dir) < 0 && chdir("/") < 0)
                child_fail(errfd, "chdir /");

        if (clearenv() != 0)
                child_fail(errfd, "clearenv");
        if (setenv("HOME", s->pw.dir, 1) < 0 || setenv("USER", s->pw.name, 1) < 0 ||
            setenv("LOGNAME", s->pw.name, 1) < 0 || setenv("SHELL", s->pw.shell, 1) < 0 ||
            setenv("PATH", CHILD_PATH, 1) < 0 || setenv("TERM", "xterm", 1) < 0 ||
            (c->display && setenv("DISPLAY", c->display, 1) < 0))
                child_fail(errfd, "setenv");
        /* Last, so a test can override any of the defaults. */
        for (size_t i = 0; i < c->nenv; i++)
                if (putenv(c->env[i]) != 0)
                        child_fail(errfd, "putenv %s", c->env[i]);

        /* Unblocked only now: a hangup that arrives during setup stays pending
         * and reaches the command, instead of killing us half set up. */
        sigset_t none;
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                child_fail(errfd, "sigprocmask");

        execvp(c->argv[0], c->argv);
        child_fail(errfd, "cannot run %s", c->argv[0]);
}

static pid_t waitpid_eintr(pid_t pid, int *status, int flags) {
        pid_t r;
        do
                r = waitpid(pid, status, flags);
        while (r < 0 && errno == EINTR);
        return r;
}

/* Returns only once COMMAND has been exec'd, so that "ready" means the
 * command is running, and an exec failure is an error of mksession itself. */
static void start_child(struct session *s) {
        int ep[2];

        if (pipe2(ep, O_CLOEXEC) < 0)
                err(1, "pipe2");
        pid_t pid = fork();
        if (pid < 0)
                err(1, "fork");
        if (pid == 0)
                run_child(s, ep[1]);
        s->child = pid;
        if (close(ep[1]) < 0)
                err(1, "close");

        char buf[256];
        size_t total = 0;
        for (;;) {
                ssize_t n = read(ep[0], buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        err(1, "read from command");
                }
                if (n == 0)
                        break;
                if (total == 0)
                        fprintf(stderr, "%s: ", program_invocation_short_name);
                fwrite(buf, 1, (size_t) n, stderr);
                total += (size_t) n;
        }
        if (close(ep[0]) < 0)
                err(1, "close");
        if (total > 0) {
                fputc('\n', stderr);
                if (waitpid_eintr(pid, NULL, 0) < 0)
                        err(1, "waitpid");
                exit(1);
        }
}

/* For failures after the command started but before anyone was told about
 * the session: nobody can clean it up but us. */
static noreturn void abort_session(const struct session *s) {
        if (kill(-s->child, SIGKILL) < 0 && errno != ESRCH)
                warn("kill");
        if (waitpid_eintr(s->child, NULL, 0) < 0)
                warn("waitpid");
        exit(1);
}

static unsigned long new_audit_session(uid_t uid) {
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%lu", (unsigned long) uid);
        if (len < 0 || (size_t) len >= sizeof(buf))
                errx(1, "cannot format uid");

        /* This is all pam_loginuid does; the kernel hands out a new audit
         * session id whenever a privileged process sets its loginuid. */
        int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                err(1, "open /proc/self/loginuid");
        ssize_t n = write(fd, buf, (size_t) len);
        if (n < 0)
                err(1, "write /proc/self/loginuid");
        if (n != len)
                errx(1, "short write to /proc/self/loginuid");
        if (close(fd) < 0)
                err(1, "close /proc/self/loginuid");

        fd = open("/proc/self/sessionid", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                err(1, "open /proc/self/sessionid");
        do
                n = read(fd, buf, sizeof(buf) - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                err(1, "read /proc/self/sessionid");
        if (close(fd) < 0)
                err(1, "close /proc/self/sessionid");
        buf[n] = '\0';

        char *end;
        errno = 0;
        unsigned long sid = strtoul(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n') || sid > UINT32_MAX)
                errx(1, "cannot parse /proc/self/sessionid: '%s'", buf);
        if (sid == AUDIT_SID_UNSET)
                errx(1, "kernel gave no audit session id after setting loginuid");
        return sid;
}

static void log_output(struct session *s, const char *buf, size_t len) {
        while (s->logfd >= 0 && len > 0) {
                ssize_t n = write(s->logfd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        /* Losing the log must not leave the session without
                         * its logout records, so carry on without it. */
                        warn("write %s", s->cfg->logfile);
                        (void) close(s->logfd);
                        s->logfd = -1;
                        return;
                }
                buf += n;
                len -= (size_t) n;
        }
}

/* One read per call, so a command that never stops writing cannot starve
 * signal handling. Returns false once the master is no use any more. */
static bool drain_master(struct session *s, bool *got_data) {
        char buf[4096];

        *got_data = false;
        for (;;) {
                ssize_t n = read(s->master, buf, sizeof(buf));
                if (n > 0) {
                        *got_data = true;
                        log_output(s, buf, (size_t) n);
                        return true;
                }
                if (n == 0)
                        return false;
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN)
                        return true;
                /* EIO: no slave is open any more; poll would report
                 * POLLHUP forever. */
                if (errno != EIO)
                        warn("read pty master");
                return false;
        }
}

static void hang_up(pid_t child) {
        /* The command leads its own session and process group: that group
         * is what a terminal hangup would reach. */
        if (kill(-child, SIGHUP) < 0 && errno != ESRCH)
                warn("kill SIGHUP");
        /* A stopped job only acts on the SIGHUP once continued. */
        if (kill(-child, SIGCONT) < 0 && errno != ESRCH)
                warn("kill SIGCONT");
}

static int ms_until(const struct timespec *deadline) {
        struct timespec now;
        if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
                err(1, "clock_gettime");
        long long ms = (long long) (deadline->tv_sec - now.tv_sec) * 1000 +
                       (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
        return ms <= 0 ? 0 : (int) ms;
}

static void set_deadline(struct timespec *deadline, int ms) {
        if (clock_gettime(CLOCK_MONOTONIC, deadline) < 0)
                err(1, "clock_gettime");
        deadline->tv_sec += ms / 1000;
        deadline->tv_nsec += (long) (ms % 1000) * 1000000;
        if (deadline->tv_nsec >= 1000000000) {
                deadline->tv_sec++;
                deadline->tv_nsec -= 1000000000;
        }
}

static int setup_signals(void) {
        sigset_t mask;
        struct sigaction dfl = { .sa_handler = SIG_DFL }, ign = { .sa_handler = SIG_IGN };

        /* signalfd never sees a signal whose disposition is "ignore", and
         * an ignored SIGCHLD would even make the kernel reap the command
         * behind our back; the caller may have left either set. */
        if (sigaction(SIGHUP, &dfl, NULL) < 0 || sigaction(SIGTERM, &dfl, NULL) < 0 ||
            sigaction(SIGCHLD, &dfl, NULL) < 0)
                err(1, "sigaction");
        /* A caller that went away must show up as EPIPE, not kill us before
         * the logout records are written. */
        if (sigaction(SIGPIPE, &ign, NULL) < 0)
                err(1, "sigaction");

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        /* SETMASK rather than BLOCK: glibc's utmp locking relies on SIGALRM,
         * which the caller might have blocked. */
        if (sigprocmask(SIG_SETMASK, &mask, NULL) < 0)
                err(1, "sigprocmask");
        int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0)
                err(1, "signalfd");
        return fd;
}

static noreturn void monitor(struct session *s, int readyfd) {
        /* Out of the caller's session and process group, so its job control
         * and terminal signals do not reach the login we create. */
        if (setsid() < 0)
                err(1, "setsid");
        /* Do not pin the caller's working directory (often a temporary
         * directory the test wants to remove). */
        if (chdir("/") < 0)
                err(1, "chdir /");

        /* A caller collecting our original's stdout with $(...) waits for
         * every copy of it to close; we live much longer than that. */
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                err(1, "open /dev/null");
        if (dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0)
                err(1, "dup2");

        /* Whatever the caller let us inherit (a test runner's pipes, say)
         * must not stay open for the lifetime of the session. */
        int keep[] = { readyfd, s->master, s->logfd, devnull };
        if (close_all_but(keep, sizeof(keep) / sizeof(keep[0])) < 0)
                err(1, "close inherited fds");

        int sigfd = setup_signals();
        s->sid = new_audit_session(s->pw.uid);

        /* Hold the slave open until the command has it, so the master never
         * sees "no slave" (EIO) in between. */
        int slave = -1;
        if (s->master >= 0) {
                slave = open(s->tty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0)
                        err(1, "open %s", s->tty_path);
                /* sshd hands the pty to the user, group tty, mode 0620, as
                 * mesg(1) and write(1) expect of a login terminal; grantpt()
                 * leaves that to devpts mount options, which may not do it. */
                gid_t ttygid;
                bool have_tty = lookup_group("tty", &ttygid);
                if (fchown(slave, s->pw.uid, have_tty ? ttygid : (gid_t) -1) < 0)
                        err(1, "chown %s", s->tty_path);
                if (fchmod(slave, have_tty ? 0620 : 0600) < 0)
                        err(1, "chmod %s", s->tty_path);
        }

        start_child(s);
        if (slave >= 0 && close(slave) < 0)
                err(1, "close %s", s->tty_path);

        if (s->records && write_records(s, USER_PROCESS) < 0)
                abort_session(s);

        /* From here on nobody reads our stderr; keeping the caller's would
         * hold its pipes open as long as the session lives. */
        if (dup2(s->logfd >= 0 ? s->logfd : devnull, STDERR_FILENO) < 0) {
                warn("dup2");
                abort_session(s);
        }
        if (close(devnull) < 0)
                warn("close /dev/null");

        struct ready_msg msg = { .sid = (uint32_t) s->sid, .child = s->child };
        ssize_t n;
        do
                n = write(readyfd, &msg, sizeof(msg));
        while (n < 0 && errno == EINTR);
        bool caller_gone = n != (ssize_t) sizeof(msg);
        if (caller_gone)
                warn("report to caller");
        if (close(readyfd) < 0)
                warn("close");

        bool master_open = s->master >= 0;
        bool hung_up = false, child_gone = false;
        struct timespec deadline;
        /* A caller that never learnt about the session cannot end it. */
        if (caller_gone) {
                hang_up(s->child);
                hung_up = true;
                set_deadline(&deadline, HANGUP_GRACE_MS);
        }

        while (!child_gone) {
                int timeout = -1;
                if (hung_up) {
                        timeout = ms_until(&deadline);
                        if (timeout == 0) {
                                warnx("command %d ignored the hangup", (int) s->child);
                                break;
                        }
                }
                struct pollfd pfd[2] = {
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = master_open ? s->master : -1, .events = POLLIN },
                };
                if (poll(pfd, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        warn("poll");
                        break;
                }
                if (pfd[1].revents) {
                        bool got;
                        master_open = drain_master(s, &got);
                }
                if (!(pfd[0].revents & POLLIN))
                        continue;

                struct signalfd_siginfo si;
                n = read(sigfd, &si, sizeof(si));
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        warn("read signalfd");
                        break;
                }
                if (n != (ssize_t) sizeof(si)) {
                        warnx("short read from signalfd");
                        break;
                }
                switch (si.ssi_signo) {
                case SIGCHLD: {
                        /* Only our own command: anything else the session
                         * leaves behind is not ours to reap. */
                        pid_t r = waitpid_eintr(s->child, NULL, WNOHANG);
                        if (r < 0)
                                warn("waitpid");
                        child_gone = r != 0;
                        break;
                }
                case SIGHUP:
                case SIGTERM:
                        if (!hung_up) {
                                hang_up(s->child);
                                hung_up = true;
                                set_deadline(&deadline, HANGUP_GRACE_MS);
                        }
                        break;
                }
        }

        /* Keep what the command wrote last for the log. */
        for (int i = 0; master_open && i < FINAL_DRAIN_READS; i++) {
                bool got;
                master_open = drain_master(s, &got);
                if (!got)
                        break;
        }

        int status = 0;
        if (s->records && !s->cfg->norecords && write_records(s, DEAD_PROCESS) < 0)
                status = 1;
        exit(status);
}

int main(int argc, char **argv) {
        struct config cfg = { .user = "root", .host = "" };
        int opt;

        cfg.env = calloc((size_t) argc, sizeof(*cfg.env));
        if (!cfg.env)
                err(1, "calloc");

        /* '+': everything after COMMAND belongs to COMMAND. */
        while ((opt = getopt(argc, argv, "+u:H:t:ND:RUL:e:h")) != -1) {
                switch (opt) {
                case 'u':
                        cfg.user = optarg;
                        break;
                case 'H':
                        cfg.host = optarg;
                        break;
                case 't':
                        cfg.ttydev = optarg;
                        break;
                case 'N':
                        cfg.notty = true;
                        break;
                case 'D':
                        cfg.display = optarg;
                        break;
                case 'R':
                        cfg.norecords = true;
                        break;
                case 'U':
                        cfg.noutmp = true;
                        break;
                case 'L':
                        cfg.logfile = optarg;
                        break;
                case 'e': {
                        const char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg)
                                errx(2, "-e wants NAME=VALUE, not '%s'", optarg);
                        cfg.env[cfg.nenv++] = optarg;
                        break;
                }
                case 'h':
                        usage(0);
                default:
                        usage(2);
                }
        }
        if (optind >= argc)
                usage(2);
        cfg.argv = argv + optind;
        if (cfg.ttydev && cfg.notty)
                errx(2, "-t and -N exclude each other");
        if (cfg.display && !*cfg.display)
                errx(2, "-D wants a display name");

        if (geteuid() != 0)
                errx(1, "must be run as root (it sets loginuid and writes utmp)");
        ensure_std_fds();

        struct session s = { .cfg = &cfg, .master = -1, .logfd = -1 };
        lookup_user(cfg.user, &s.pw);

        if (cfg.notty) {
                /* An X session without a terminal is known by its display. */
                s.line = cfg.display;
        } else if (cfg.ttydev) {
                check_tty(cfg.ttydev);
                s.tty_path = xstrdup(cfg.ttydev);
                s.line = line_of(s.tty_path);
        } else {
                s.master = open_pty(&s.tty_path);
                s.line = line_of(s.tty_path);
        }

        s.records = !cfg.noutmp && s.line;
        if (s.records) {
                struct utmpx ut;
                check_field("line", s.line, sizeof(ut.ut_line));
                check_field("user", s.pw.name, sizeof(ut.ut_user));
                check_field("host", cfg.host, sizeof(ut.ut_host));
                ensure_record_file(_PATH_UTMP);
                ensure_record_file(_PATH_WTMP);
        }

        if (cfg.logfile) {
                s.logfd = open(cfg.logfile, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY | O_CLOEXEC,
                               0644);
                if (s.logfd < 0)
                        err(1, "open %s", cfg.logfile);
        }

        /* A caller that ignores SIGCHLD would have the failed monitor reaped
         * behind our back, losing its exit status. */
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        if (sigaction(SIGCHLD, &dfl, NULL) < 0)
                err(1, "sigaction");

        int ready[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                err(1, "pipe2");
        /* Nothing buffered may be written twice, once per process. */
        if (fflush(NULL) != 0)
                err(1, "fflush");
        pid_t leader = fork();
        if (leader < 0)
                err(1, "fork");
        if (leader == 0) {
                if (close(ready[0]) < 0)
                        err(1, "close");
                monitor(&s, ready[1]);
        }

        if (close(ready[1]) < 0)
                err(1, "close");
        if (s.master >= 0 && close(s.master) < 0)
                err(1, "close pty master");
        if (s.logfd >= 0 && close(s.logfd) < 0)
                err(1, "close %s", cfg.logfile);

        struct ready_msg msg;
        size_t got = 0;
        while (got < sizeof(msg)) {
                ssize_t n = read(ready[0], (char *) &msg + got, sizeof(msg) - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        err(1, "read from monitor");
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        if (got < sizeof(msg)) {
                /* The monitor has printed why; add how it ended. */
                int status;
                if (waitpid_eintr(leader, &status, 0) < 0)
                        err(1, "waitpid");
                if (WIFSIGNALED(status))
                        errx(1, "session monitor killed by signal %d", WTERMSIG(status));
                errx(1, "session monitor failed (exit status %d)",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }

        char *out;
        int len = asprintf(&out, "sid=%lu leader=%d pid=%d tty=%s\n", (unsigned long) msg.sid,
                           (int) leader, (int) msg.child, s.line ? s.line : "-");
        if (len < 0)
                err(1, "asprintf");
        write_all(STDOUT_FILENO, out, (size_t) len);
        free(out);
        free(s.tty_path);
        free(s.pw.name);
        free(s.pw.dir);
        free(s.pw.shell);
        free(cfg.env);
        return 0;
}
