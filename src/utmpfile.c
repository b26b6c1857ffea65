/* SPDX-License-Identifier: MIT */
/* utmp and wtmp, read and written without glibc's utmp functions.  Those
 * wait up to 10 s for any fcntl lock on the file, and utmp is world-readable:
 * any user can hold a read lock on it for ever and so decide whether a
 * logout is recorded.  Here reading takes no lock at all; writing takes the
 * lock glibc's writers (login, sshd) take when it comes within a short bound,
 * and writes without it when it does not: one whole record, at its own
 * offset in utmp, appended with O_APPEND to wtmp. */
#include "utmpfile.h"

#include <sys/file.h>
#include <sys/stat.h>

#include "util.h"

/* A utmp file larger than this is not one: nothing reads it whole. */
#define UTMP_MAX_BYTES (64u << 20)

/* A record file is a regular file: not a FIFO or a device someone put there. */
static int open_records(const char *path, int flags, struct stat *st) {
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        int r = fstat(fd, st) < 0 ? -errno : S_ISREG(st->st_mode) ? 0 : -EBADF;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int utmp_file_read(const char *path, struct utmpx **ret, size_t *ret_n) {
        struct stat st = { 0 };
        _cleanup_close_ int fd = open_records(path, O_RDONLY | O_NONBLOCK, &st);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size > UTMP_MAX_BYTES)
                return -EFBIG;
        size_t n = (size_t) st.st_size / sizeof(struct utmpx);
        struct utmpx *r = calloc(n ? n : 1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        /* A file that shrank since fstat() ends the read early; a record
         * being written right now may be half old, half new, which the
         * readers' checks (type, pid, start time) take in their stride. */
        size_t got = 0, want = n * sizeof(*r);
        while (got < want) {
                ssize_t k = pread(fd, (char *) r + got, want - got, (off_t) got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = -errno;
                        free(r);
                        return e;
                }
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        *ret = r;
        *ret_n = got / sizeof(*r);
        return 0;
}

int utmp_file_lock(int fd, short type, uint64_t bound_usec, struct lock_wait *ret) {
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
        uint64_t start = now_monotonic_usec(), delay = 1000;
        *ret = (struct lock_wait) { 0 };
        for (;;) {
                if (fcntl(fd, F_SETLK, &fl) == 0) {
                        ret->locked = true;
                        break;
                }
                if (errno != EACCES && errno != EAGAIN && errno != EINTR)
                        return -errno;
                uint64_t now = now_monotonic_usec();
                if (now - start >= bound_usec) {
                        struct flock who = { .l_type = type, .l_whence = SEEK_SET };
                        if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
                                ret->holder = who.l_pid;
                        break;
                }
                sleep_usec(delay < bound_usec - (now - start) ? delay : bound_usec - (now - start));
                if (delay < 50000)
                        delay *= 2;
        }
        ret->waited_usec = now_monotonic_usec() - start;
        return 0;
}

void utmp_file_unlock(int fd, const struct lock_wait *w) {
        if (!w->locked)
                return;
        struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
        (void) fcntl(fd, F_SETLK, &fl);
}

static int write_all_at(int fd, const void *buf, size_t len, off_t off, bool append) {
        ssize_t k;
        do
                k = append ? write(fd, buf, len) : pwrite(fd, buf, len, off);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        return (size_t) k == len ? 0 : -EIO;
}

int utmp_file_replace(int fd, size_t index, const struct utmpx *u) {
        return write_all_at(fd, u, sizeof(*u), (off_t) (index * sizeof(*u)), false);
}

int wtmp_file_append(const char *path, const struct utmpx *u, uint64_t bound_usec, struct lock_wait *ret) {
        *ret = (struct lock_wait) { 0 };
        struct stat st = { 0 };
        _cleanup_close_ int fd = open_records(path, O_WRONLY | O_APPEND | O_NOFOLLOW, &st);
        if (fd < 0)
                return fd;
        int r = utmp_file_lock(fd, F_WRLCK, bound_usec, ret);
        if (r < 0)
                return r;
        /* A partial record left by a writer that died would shift every
         * later one: start at a record boundary, as glibc's updwtmp does. */
        off_t end = lseek(fd, 0, SEEK_END);
        if (end >= 0 && end % (off_t) sizeof(*u) != 0 && ret->locked)
                (void) ftruncate(fd, end - end % (off_t) sizeof(*u));
        r = write_all_at(fd, u, sizeof(*u), 0, true);
        utmp_file_unlock(fd, ret);
        return r;
}
