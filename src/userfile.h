/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The first bytes (at most size - 1, NUL-terminated) of a file a user
 * controls, read by root without trusting anything on the way: the path
 * (absolute) is opened component by component, never following a symbolic
 * link, and only through the file systems of "/", "/tmp" and the user's
 * home (home; NULL: none), never a FUSE one, looking at each component
 * with cached attributes only before anything is looked up inside it; the
 * file must be a regular one owned by owner.  All of it happens in a child
 * process killed after timeout_usec, so that a file system that does not
 * answer cannot hang the caller.  Returns 0, -ETIMEDOUT,
 * -EXDEV (another file system), -ELOOP (a symbolic link), -EPERM (not a
 * regular file of owner's), or another negative errno. */
int user_file_read(const char *path, uid_t owner, const char *home, uint64_t timeout_usec, char *buf, size_t size);

