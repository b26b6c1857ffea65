/* SPDX-License-Identifier: MIT */
/* Children that do for logoff what it must not do itself: run a session
 * server's own tool (x2goterminate-session), or a function of logoff's, as
 * the session's user, the way that server's client would (with the user's
 * credentials and groups, a clean environment, no terminal and a time
 * limit); and the plumbing such a child answers through (userfile.c's
 * reader uses it too). */
#include "spawn.h"

#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "procscan.h"
#include "util.h"

#define OWN_CGROUP_EMPTY_USEC (2u * 1000000u)

/* Every descriptor from lowest up: close_range() (Linux 5.9), else those
 * /proc/self/fd lists, else every number below the limit. */
void spawn_close_fds_from(int lowest) {
#ifdef SYS_close_range
        if (syscall(SYS_close_range, (unsigned) lowest, ~0U, 0) == 0)
                return;
#endif
        DIR *d = opendir("/proc/self/fd");
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        uint32_t fd;
                        if (parse_u32(de->d_name, &fd) == 0 && fd >= (uint32_t) lowest && fd <= INT32_MAX &&
                            (int) fd != dirfd(d))
                                (void) close((int) fd);
                }
                closedir(d);
                return;
        }
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = lowest; fd < (max > 0 && max < INT32_MAX ? max : 65536); fd++)
                (void) close((int) fd);
}

/* Into no audit session at all.  logoff's own is the admin's login: a child
 * left in it would be one of the admin's processes, ended with that login
 * and counted in it.  A new one (root writing the user's uid to loginuid
 * gets one) would be a login of the user's that nobody made, listed as a
 * session for as long as the tool runs.  None is what a service's process
 * has; root may clear loginuid, and that clears the session ID with it.  A
 * process with no loginuid may set one once, and the tool runs as the user,
 * who may ptrace it: whatever it starts that way stays in the tool's cgroup,
 * which is killed once the tool has been reaped (see spawn_as_user). */
static int leave_audit_session(void) {
        uint32_t id;
        int r = proc_session_id(getpid(), &id);
        if (r == -ESRCH || r == -ENOENT)
                return 0; /* a kernel without audit sessions */
        if (r < 0)
                return r;
        if (id == AUDIT_SESSION_UNSET)
                return 0;
        _cleanup_close_ int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        static const char unset[] = "4294967295";
        if (write(fd, unset, strlen(unset)) < 0)
                return -errno;
        r = proc_session_id(getpid(), &id);
        if (r < 0)
                return r;
        return id == AUDIT_SESSION_UNSET ? 0 : -EPERM;
}

/* The pipe a child answers on (its read end non-blocking), and an empty
 * answer until it has. */
int spawn_answer_pipe(char *buf, size_t size, int *ret_in, int *ret_out) {
        if (size == 0)
                return -EINVAL;
        buf[0] = '\0';
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        if (fcntl(pipefd[0], F_SETFL, O_NONBLOCK) < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        *ret_in = pipefd[0];
        *ret_out = pipefd[1];
        return 0;
}

/* Reads what the pipe brings until it closes or the deadline passes. */
int spawn_read_until(int fd, uint64_t deadline, char *buf, size_t size, size_t *ret_len) {
        size_t got = 0;
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n <= 0)
                        continue;
                /* Once full, one byte more says whether it sent too much. */
                char extra;
                ssize_t k = got < size ? read(fd, buf + got, size - got) : read(fd, &extra, 1);
                if (k < 0 && errno != EINTR && errno != EAGAIN)
                        return -errno;
                if (k == 0)
                        break;
                if (k > 0 && got == size)
                        return -EPROTO;
                if (k > 0)
                        got += (size_t) k;
        }
        *ret_len = got;
        return 0;
}

/* What the child does once it is the user's: run a tool, or call a
 * function of logoff's whose answer comes back over a pipe. */
struct child_job {
        char *const *argv;
        int (*fn)(void *userdata, int out);
        void *userdata;
        int out; /* the pipe's write end, for fn */
};

/* The child's part (logoff has no threads, so initgroups() may read
 * /etc/group after fork()).  Exit status 126: it could not become the user,
 * or could not leave logoff's cgroup or audit session. */
static void become_user_and_run(const struct passwd *pw, int cgroup_procs_fd, const struct child_job *job) {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
                _exit(126);
        if (setsid() < 0)
                _exit(126);
        if (getuid() == 0 || geteuid() == 0) {
                /* "0" moves the writer itself: before anything else, so that
                 * all it starts is in its cgroup too. */
                if (cgroup_procs_fd >= 0 && write(cgroup_procs_fd, "0", 1) < 0)
                        _exit(126);
                if (leave_audit_session() < 0)
                        _exit(126);
                if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                        _exit(126);
        }
        /* Not root: logoff is the user's own, ending the user's own
         * session; its audit session and cgroup are the user's already. */
        if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
                _exit(126);
        if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
                _exit(126);
        _cleanup_free_ char *home = NULL, *user = NULL, *logname = NULL, *shell = NULL;
        if (asprintf(&home, "HOME=%s", pw->pw_dir) < 0 || asprintf(&user, "USER=%s", pw->pw_name) < 0 ||
            asprintf(&logname, "LOGNAME=%s", pw->pw_name) < 0 ||
            asprintf(&shell, "SHELL=%s", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh") < 0)
                _exit(126);
        char *envp[] = { home, user, logname, shell, "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", NULL };
        /* Last, after NSS (initgroups) may have opened its own: the child
         * keeps none of logoff's descriptors (a lock, a pidfd, the
         * admin's terminal, its system bus), but the answer's pipe. */
        if (job->fn) {
                if (dup2(job->out, 3) < 0)
                        _exit(126);
                spawn_close_fds_from(4);
                environ = envp;
                _exit(job->fn(job->userdata, 3) & 0xff);
        }
        spawn_close_fds_from(3);
        execve(job->argv[0], job->argv, envp);
        _exit(127);
}

static int make_cgroup_at(const char *mount, const char *under, const char *name, char **ret_dir, int *ret_procs_fd) {
        _cleanup_free_ char *dir = NULL, *procs = NULL;
        if (asprintf(&dir, "%s%s/logoff-%s-%d", mount, under, name, (int) getpid()) < 0) {
                dir = NULL;
                return -ENOMEM;
        }
        /* A leftover of an earlier run with the same pid goes if it is
         * empty; a populated one is not ours to reuse. */
        if (mkdir(dir, 0755) < 0 && (errno != EEXIST || rmdir(dir) < 0 || mkdir(dir, 0755) < 0))
                return -errno;
        if (asprintf(&procs, "%s/cgroup.procs", dir) < 0) {
                procs = NULL;
                (void) rmdir(dir);
                return -ENOMEM;
        }
        int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                (void) rmdir(dir);
                return r;
        }
        *ret_dir = TAKE_PTR(dir);
        *ret_procs_fd = fd;
        return 0;
}

/* A cgroup v2 of the child's own, <mount><parent>/logoff-<tool>-<pid>, and
 * its cgroup.procs open for writing (the child moves itself).  Under the
 * user's slice where logind made one, so that the user's limits and
 * accounting are the tool's, else at the hierarchy's root.  systemd did
 * not make it, but it lives only for the tool's run.  -ENOENT or -EROFS:
 * there is no unified hierarchy that logoff may write, nowhere to go. */
static int make_own_cgroup(const char *parent, const char *tool, char **ret_dir, int *ret_procs_fd) {
        _cleanup_free_ char *mount = NULL;
        int r = cgroup2_mount(&mount);
        if (r < 0)
                return r;
        const char *name = strrchr(tool, '/') ? strrchr(tool, '/') + 1 : tool;
        r = parent && parent[0] == '/' ? make_cgroup_at(mount, parent, name, ret_dir, ret_procs_fd) : -ENOENT;
        if (r == -ENOENT)
                r = make_cgroup_at(mount, "", name, ret_dir, ret_procs_fd);
        return r;
}

/* Whatever the tool left in its cgroup (what it started in the background,
 * or what the user made it start) is the user's and ends with it; then the
 * cgroup goes.  A process stuck in the kernel keeps it: it is left, named
 * after logoff's pid and the tool, for the admin to see. */
static void remove_own_cgroup(const char *dir) {
        if (!cgroup_event_is(dir, "populated", "0")) {
                (void) cgroup_kill(dir);
                (void) cgroup_wait_empty(dir, OWN_CGROUP_EMPTY_USEC);
        }
        for (unsigned i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
                sleep_usec(10000);
}

/* Forks the child, waits for it up to timeout_usec and reaps it. */
static int run_and_wait(const struct passwd *pw, int cgroup_procs_fd, const struct child_job *job,
                        uint64_t timeout_usec, int *ret_status) {
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* A logoff that ignores SIGHUP/SIGTERM (ending its own
                 * session) must not hand that on. */
                signal(SIGHUP, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGPIPE, SIG_DFL);
                become_user_and_run(pw, cgroup_procs_fd, job);
        }

        /* Our own child: the pidfd is that process until we reap it. */
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                int r = -errno;
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
                        int r = -errno;
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        (void) waitpid(pid, NULL, 0);
                        return r;
                }
        }
        if (timed_out) {
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                /* And what it started: its process group is its own (setsid)
                 * and cannot be reused while it is unreaped; its cgroup, if
                 * it has one, is emptied afterwards. */
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

static int run_as_user(uid_t uid, const char *cgroup_parent, const char *name, const struct child_job *job,
                       uint64_t timeout_usec, int *ret_status) {
        struct passwd pwbuf, *pw = NULL;
        char buf[4096];
        int r = getpwuid_r(uid, &pwbuf, buf, sizeof(buf), &pw);
        if (r != 0)
                return -r;
        if (!pw)
                return -ENOENT;

        _cleanup_free_ char *cgroup = NULL;
        _cleanup_close_ int procs_fd = -1;
        if (getuid() == 0 || geteuid() == 0) {
                r = make_own_cgroup(cgroup_parent, name, &cgroup, &procs_fd);
                if (r < 0 && r != -ENOENT && r != -EROFS)
                        return r;
        }
        r = run_and_wait(pw, procs_fd, job, timeout_usec, ret_status);
        if (cgroup)
                remove_own_cgroup(cgroup);
        return r;
}

int spawn_as_user(uid_t uid, const char *cgroup_parent, char *const argv[], uint64_t timeout_usec, int *ret_status) {
        if (access(argv[0], X_OK) < 0)
                return -errno;
        const struct child_job job = { .argv = argv, .out = -1 };
        return run_as_user(uid, cgroup_parent, argv[0], &job, timeout_usec, ret_status);
}

int spawn_call_as_user(uid_t uid, const char *cgroup_parent, const char *name, int (*fn)(void *userdata, int out),
                       void *userdata, uint64_t timeout_usec, char *buf, size_t size, int *ret_status) {
        _cleanup_close_ int in = -1, out = -1;
        int r = spawn_answer_pipe(buf, size, &in, &out);
        if (r < 0)
                return r;
        const struct child_job job = { .fn = fn, .userdata = userdata, .out = out };
        r = run_as_user(uid, cgroup_parent, name, &job, timeout_usec, ret_status);
        if (r < 0)
                return r;
        closep(&out);
        /* It has exited: what it wrote is all in the pipe. */
        size_t got = 0;
        r = spawn_read_until(in, now_monotonic_usec() + 100000, buf, size - 1, &got);
        if (r < 0)
                return r;
        buf[got] = '\0';
        return 0;
}
