/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define _(s) gettext(s)
#define N_(s) (s)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Room for element n of a growable array *array of *alloc elements of
 * size elem: doubled when full, first elements at first.  0, or -ENOMEM
 * with the array as it was. */
int array_reserve(void **array, size_t *alloc, size_t n, size_t elem, size_t first);
#define ARRAY_RESERVE(array, alloc, n, first) \
        array_reserve((void **) &(array), &(alloc), (n), sizeof(*(array)), (first))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

/* Hand ownership of a cleanup-managed pointer or fd to the caller. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool strcaseeq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* Reads a small file (procfs, sysfs) whole, NUL-terminated.  Returns 0 or a
 * negative errno; *ret is malloc'ed, *ret_len (if given) excludes the NUL. */
int read_small_file_at(int dirfd, const char *path, char **ret, size_t *ret_len);

/* Parses a decimal unsigned number that must fit in uint32_t and must be the
 * whole string.  Returns 0, -EINVAL (not a number) or -ERANGE. */
int parse_u32(const char *s, uint32_t *ret);

/* True when s contains a byte below 0x20 or DEL. */
bool has_control_chars(const char *s);

/* CLOCK_REALTIME / CLOCK_MONOTONIC in microseconds. */
uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);

/* Sleeps that long, resuming after signals. */
void sleep_usec(uint64_t usec);
