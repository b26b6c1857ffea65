/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <utmpx.h>

/* How taking a lock went: whether it was had, and if not, who held it. */
struct lock_wait {
        bool locked;
        pid_t holder;          /* 0: unknown */
        uint64_t waited_usec;
};

/* Every whole record of a utmp/wtmp-format file, read without a lock
 * (-ENOENT: no such file, -EFBIG: too large to be one). */
int utmp_file_read(const char *path, struct utmpx **ret, size_t *ret_n);

/* Takes an fcntl lock of the given type on the whole file, trying for at
 * most bound_usec; *ret says whether it was had.  Returns 0, or a negative
 * errno when locking itself failed. */
int utmp_file_lock(int fd, short type, uint64_t bound_usec, struct lock_wait *ret);
void utmp_file_unlock(int fd, const struct lock_wait *w);

/* Writes record number index of the utmp file open on fd. */
int utmp_file_replace(int fd, size_t index, const struct utmpx *u);

/* Appends one record to a wtmp file, under its lock when that comes within
 * bound_usec, without it otherwise. */
int wtmp_file_append(const char *path, const struct utmpx *u, uint64_t bound_usec, struct lock_wait *ret);
