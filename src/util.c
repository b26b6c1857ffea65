/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <time.h>

int array_reserve(void **array, size_t *alloc, size_t n, size_t elem, size_t first) {
        if (n < *alloc)
                return 0;
        size_t na = *alloc ? *alloc * 2 : first;
        if (na <= n)
                na = n + 1;
        if (elem && na > SIZE_MAX / elem)
                return -ENOMEM;
        void *grown = reallocarray(*array, na, elem);
        if (!grown)
                return -ENOMEM;
        *array = grown;
        *alloc = na;
        return 0;
}

int read_small_file_at(int dirfd, const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        size_t size = 0, alloc = 512;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                if (alloc - size < 2) {
                        if (alloc > 16 * 1024 * 1024)
                                return -EFBIG;
                        char *n = realloc(buf, alloc * 2);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        alloc *= 2;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        buf[size] = '\0';
        if (ret_len)
                *ret_len = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int parse_u32(const char *s, uint32_t *ret) {
        if (!s || !*s)
                return -EINVAL;
        uint64_t v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;
}

bool has_control_chars(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

static uint64_t clock_usec(clockid_t id) {
        struct timespec ts;
        if (clock_gettime(id, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

uint64_t now_realtime_usec(void) { return clock_usec(CLOCK_REALTIME); }
uint64_t now_monotonic_usec(void) { return clock_usec(CLOCK_MONOTONIC); }

void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000u), .tv_nsec = (long) (usec % 1000000u) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}
