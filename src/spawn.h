/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Runs argv (argv[0] an absolute path) as user uid with that user's groups,
 * home and a clean environment, stdin/stdout/stderr on /dev/null, in a
 * session of its own, and waits up to timeout_usec.  *ret_status is its
 * wait status.  Returns 0, -ETIMEDOUT (it was killed), or a negative errno. */
int spawn_as_user(uid_t uid, char *const argv[], uint64_t timeout_usec, int *ret_status);
