/* SPDX-License-Identifier: MIT */
/* Reading a file a user controls (an X lock, X2Go's state file), which
 * could leave whoever reads it asleep forever: in a child that cannot hang
 * logoff, without trusting anything on the way. */
#include "userfile.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "spawn.h"
#include "util.h"

/* FUSE's file systems are served by whoever mounted them, any user: a
 * request may never be answered, and its caller then sleeps until the
 * server goes, in state D once it is killed.  Told by the device numbers
 * mountinfo gives their mounts (reading mountinfo asks no file system). */
struct fs_rules {
        dev_t *fuse;
        size_t n_fuse;
        dev_t allowed[3]; /* "/", "/tmp", the home; 0: none */
};

static int read_fuse_devices(struct fs_rules *f) {
        _cleanup_free_ char *info = NULL;
        int r = read_small_file_at(AT_FDCWD, "/proc/self/mountinfo", &info, NULL);
        if (r < 0)
                return r;
        size_t alloc = 0;
        char *save = NULL;
        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* "36 35 0:52 / /mnt rw,nosuid - fuse.sshfs host: rw": the
                 * paths are escaped (\040), so " - " ends the optional fields. */
                const char *sep = strstr(line, " - ");
                unsigned maj, min;
                if (!sep || sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2)
                        continue;
                const char *type = sep + 3;
                size_t tlen = strcspn(type, " ");
                if (!((tlen == 4 && strncmp(type, "fuse", 4) == 0) || (tlen == 7 && strncmp(type, "fuseblk", 7) == 0) ||
                      strncmp(type, "fuse.", 5) == 0))
                        continue;
                if (ARRAY_RESERVE(f->fuse, alloc, f->n_fuse, 8) < 0)
                        return -ENOMEM;
                f->fuse[f->n_fuse++] = makedev(maj, min);
        }
        return 0;
}

/* What the file system last said of fd's file, asking it nothing:
 * AT_STATX_DONT_SYNC takes the cached attributes where a network or FUSE
 * file system would otherwise ask its server (fstat() would). */
static int stat_cached(int fd, struct statx *stx) {
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                  STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO, stx) < 0)
                return -errno;
        return 0;
}

static dev_t stx_dev(const struct statx *stx) { return makedev(stx->stx_dev_major, stx->stx_dev_minor); }

static bool is_fuse(const struct fs_rules *f, dev_t dev) {
        for (size_t i = 0; i < f->n_fuse; i++)
                if (f->fuse[i] == dev)
                        return true;
        return false;
}

static int check_fs(const struct fs_rules *f, const struct statx *stx, bool restricted) {
        dev_t dev = stx_dev(stx);
        if (is_fuse(f, dev))
                return -EXDEV;
        if (!restricted)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(f->allowed); i++)
                if (f->allowed[i] && f->allowed[i] == dev)
                        return 0;
        return -EXDEV;
}

/* path (absolute) opened with O_PATH one component at a time from "/":
 * never through a symbolic link (O_NOFOLLOW on each, not only the last),
 * and each component checked before anything is looked up in it, as a
 * lookup in a FUSE directory is a request to its server.  Opening a FUSE
 * mount's root from the directory it is mounted on asks the server
 * nothing; the check then refuses it.  restricted: only the allowed file
 * systems.  The last component must be a directory when dir. */
static int walk(const struct fs_rules *f, const char *path, bool restricted, bool dir, struct statx *ret_stx) {
        if (path[0] != '/')
                return -EINVAL;
        _cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct statx stx;
        int r = stat_cached(fd, &stx);
        if (r < 0 || (r = check_fs(f, &stx, restricted)) < 0)
                return r;
        for (const char *p = path; *p;) {
                p += strspn(p, "/");
                size_t len = strcspn(p, "/");
                if (len == 0)
                        break;
                _cleanup_free_ char *name = strndup(p, len);
                if (!name)
                        return -ENOMEM;
                p += len;
                bool last = p[strspn(p, "/")] == '\0';
                if (streq(name, ".") || streq(name, ".."))
                        return -EINVAL;
                /* O_PATH | O_NOFOLLOW opens whatever is there, a
                 * symbolic link itself included, and opens nothing. */
                int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                closep(&fd);
                fd = next;
                if ((r = stat_cached(fd, &stx)) < 0)
                        return r;
                if (S_ISLNK(stx.stx_mode))
                        return -ELOOP;
                if ((r = check_fs(f, &stx, restricted)) < 0)
                        return r;
                if (!S_ISDIR(stx.stx_mode) && (!last || dir))
                        return -ENOTDIR;
        }
        if (ret_stx)
                *ret_stx = stx;
        return TAKE_FD(fd);
}

static void fs_rules_done(struct fs_rules *f) {
        free(f->fuse);
        *f = (struct fs_rules) { 0 };
}

static int read_checked(const char *path, uid_t owner, const char *home, char *buf, size_t size, size_t *ret_len) {
        __attribute__((cleanup(fs_rules_done))) struct fs_rules f = { 0 };
        int r = read_fuse_devices(&f);
        if (r < 0)
                return r;
        /* The file systems X2Go itself uses: /tmp (its session
         * directories) and the home (~/.x2go), and the root they hang from.
         * Each is looked up through FUSE-free components only; one that is
         * FUSE (a user may mount over their own home) is not allowed. */
        const char *roots[] = { "/", "/tmp", home };
        for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
                struct statx stx;
                if (!roots[i])
                        continue;
                int fd = walk(&f, roots[i], false, true, &stx);
                if (fd < 0)
                        continue;
                close(fd);
                f.allowed[i] = stx_dev(&stx);
        }
        struct statx stx;
        _cleanup_close_ int pathfd = walk(&f, path, true, false, &stx);
        if (pathfd < 0)
                return pathfd;
        if (!S_ISREG(stx.stx_mode) || stx.stx_uid != owner)
                return -EPERM;
        /* Reopened through the O_PATH descriptor: the very file checked,
         * with no second lookup of its name.  O_NONBLOCK, should it have
         * become something else than a regular file since. */
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/fd/%d", pathfd);
        _cleanup_close_ int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != owner || st.st_ino != stx.stx_ino)
                return -EPERM;
        ssize_t n = read(fd, buf, size);
        if (n < 0)
                return -errno;
        *ret_len = (size_t) n;
        return 0;
}

/* The reader's answer over its pipe: its result, then the bytes. */
struct read_answer {
        int32_t result;
        uint32_t len;
};

static void reader_child(pid_t parent, int out, const char *path, uid_t owner, const char *home, size_t size,
                         uint64_t timeout_usec) {
        /* Nothing of logoff's stays open in a process that may never end
         * (a lock, a pidfd), and none outlives logoff, or its own time, by
         * much, wherever it is not stuck in the kernel. */
        if (dup2(out, 3) < 0)
                _exit(1);
        spawn_close_fds_from(4);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        signal(SIGALRM, SIG_DFL);
        alarm((unsigned) (timeout_usec / 1000000u) + 2);
        _cleanup_free_ char *data = malloc(size ? size : 1);
        size_t len = 0;
        int r = data ? read_checked(path, owner, home, data, size, &len) : -ENOMEM;
        struct read_answer a = { .result = r, .len = r < 0 ? 0 : (uint32_t) len };
        if (write(3, &a, sizeof(a)) != (ssize_t) sizeof(a) || (a.len && write(3, data, a.len) != (ssize_t) a.len))
                _exit(1);
        _exit(0);
}

int user_file_read(const char *path, uid_t owner, const char *home, uint64_t timeout_usec, char *buf,
                         size_t size) {
        _cleanup_close_ int in = -1, out = -1;
        int r = spawn_answer_pipe(buf, size, &in, &out);
        if (r < 0)
                return r;
        uint64_t deadline = now_monotonic_usec() + timeout_usec;
        pid_t parent = getpid(), pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                reader_child(parent, out, path, owner, home, size - 1, timeout_usec);
        closep(&out);
        out = -1;
        /* Our own child, unreaped: the pidfd is that process. */
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);

        size_t msg_size = sizeof(struct read_answer) + size - 1, got = 0;
        _cleanup_free_ char *msg = malloc(msg_size);
        r = msg ? spawn_read_until(in, deadline, msg, msg_size, &got) : -ENOMEM;
        struct read_answer a = { .result = -EPROTO };
        if (r == 0 && got >= sizeof(a)) {
                memcpy(&a, msg, sizeof(a));
                if (a.result < 0)
                        r = a.result;
                else if (a.len != got - sizeof(a) || a.len > size - 1)
                        r = -EPROTO;
                else {
                        memcpy(buf, msg + sizeof(a), a.len);
                        buf[a.len] = '\0';
                }
        } else if (r == 0)
                r = -EPROTO;

        /* It answered and is exiting, or it is killed now.  A reader stuck
         * in the kernel (a file system that never answers) does not die
         * even of SIGKILL until that file system lets it go: it is not
         * waited for, but left to init once logoff exits. */
        if (r == -ETIMEDOUT || r == -EPROTO) {
                if (pidfd >= 0)
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                else
                        (void) kill(pid, SIGKILL);
        }
        if (pidfd >= 0) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                while (poll(&p, 1, 100) < 0 && errno == EINTR)
                        ;
                if (p.revents & POLLIN)
                        (void) waitpid(pid, NULL, 0);
        } else
                (void) waitpid(pid, NULL, WNOHANG);
        return r;
}
