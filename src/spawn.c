/* SPDX-License-Identifier: MIT */
/* Runs a session server's own tool (x2goterminate-session) as the session's
 * user, the way that server's client would: with the user's credentials and
 * groups, a clean environment, no terminal and a time limit. */
#include "spawn.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "util.h"

/* The child's part (logoff has no threads, so initgroups() may read
 * /etc/group after fork()).  Exit status 126: it could not become the user. */
static void become_user_and_exec(const struct passwd *pw, char *const argv[]) {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
                _exit(126);
        if (setsid() < 0)
                _exit(126);
        if (getuid() == 0 || geteuid() == 0) {
                if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                        _exit(126);
        }
        if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
                _exit(126);
        if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
                _exit(126);
        char home[4096], user[300], logname[300], shell[4096];
        snprintf(home, sizeof(home), "HOME=%s", pw->pw_dir);
        snprintf(user, sizeof(user), "USER=%s", pw->pw_name);
        snprintf(logname, sizeof(logname), "LOGNAME=%s", pw->pw_name);
        snprintf(shell, sizeof(shell), "SHELL=%s", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
        char *const envp[] = { home, user, logname, shell, "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", NULL };
        execve(argv[0], argv, envp);
        _exit(127);
}

int spawn_as_user(uid_t uid, char *const argv[], uint64_t timeout_usec, int *ret_status) {
        struct passwd pwbuf, *pw = NULL;
        char buf[4096];
        int r = getpwuid_r(uid, &pwbuf, buf, sizeof(buf), &pw);
        if (r != 0)
                return -r;
        if (!pw)
                return -ENOENT;
        if (access(argv[0], X_OK) < 0)
                return -errno;

        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* A logoff that ignores SIGHUP/SIGTERM (ending its own
                 * session) must not hand that on. */
                signal(SIGHUP, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGPIPE, SIG_DFL);
                become_user_and_exec(pw, argv);
        }

        /* Our own child: the pidfd is that process until we reap it. */
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                r = -errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
        uint64_t deadline = now_monotonic_usec() + timeout_usec;
        bool timed_out = false;
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                int n = poll(&pfd, 1, (int) ((deadline - now + 999) / 1000));
                if (n > 0)
                        break;
                if (n < 0 && errno != EINTR) {
                        r = -errno;
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        (void) waitpid(pid, NULL, 0);
                        return r;
                }
        }
        if (timed_out) {
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                /* And what it started: its process group is its own (setsid)
                 * and cannot be reused while it is unreaped. */
                (void) kill(-pid, SIGKILL);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (timed_out)
                return -ETIMEDOUT;
        *ret_status = status;
        return 0;
}
