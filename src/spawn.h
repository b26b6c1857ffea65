/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Runs argv (argv[0] an absolute path) as user uid with that user's groups,
 * home and a clean environment, stdin/stdout/stderr on /dev/null and no
 * other file descriptor, in a session of its own, and waits up to
 * timeout_usec.  Run by root, it is a process of the user's and nothing of
 * logoff's: in no audit session (neither logoff's nor a new login), and in
 * a cgroup v2 of its own below cgroup_parent (a path in the unified
 * hierarchy such as "/user.slice/user-1000.slice"; NULL or missing: the
 * hierarchy's root), which is emptied and removed once it has been reaped.
 * *ret_status is its wait status.  Returns 0, -ETIMEDOUT (it was killed),
 * or a negative errno. */
int spawn_as_user(uid_t uid, const char *cgroup_parent, char *const argv[], uint64_t timeout_usec, int *ret_status);

/* Calls fn in a child that is user uid's as spawn_as_user()'s tool is
 * (name names its cgroup), with out, the write end of a pipe, as its only
 * descriptor but 0-2; what it writes there (at most size - 1 bytes,
 * NUL-terminated) comes back in buf once it has exited, and what fn
 * returns is its exit status (*ret_status: the wait status).  Returns 0,
 * -ETIMEDOUT (it was killed), or a negative errno. */
int spawn_call_as_user(uid_t uid, const char *cgroup_parent, const char *name, int (*fn)(void *userdata, int out),
                       void *userdata, uint64_t timeout_usec, char *buf, size_t size, int *ret_status);

/* What a child of logoff's is given: no descriptor from lowest up
 * (close_range, else each one /proc/self/fd lists). */
void spawn_close_fds_from(int lowest);

/* The pipe a child answers on (its read end non-blocking, both close on
 * exec), and buf an empty answer until it has. */
int spawn_answer_pipe(char *buf, size_t size, int *ret_in, int *ret_out);

/* Reads what the pipe brings, at most size bytes, until it closes or the
 * deadline (CLOCK_MONOTONIC usec) passes: -ETIMEDOUT; -EPROTO when it
 * sends more. */
int spawn_read_until(int fd, uint64_t deadline, char *buf, size_t size, size_t *ret_len);
