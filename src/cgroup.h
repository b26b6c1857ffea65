/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procscan.h"

/* Cgroups: the paths /proc/PID/cgroup gives, and a session's cgroup v2
 * directory (freeze, cgroup.kill, cgroup.events).  Knows nothing of
 * sessions or reports; returns 0 or a negative errno. */

/* The path of the process in the given hierarchy ("" for unified,
 * "name=elogind" ...), parsed from the text of /proc/PID/cgroup; and read
 * from there for pid (-ESRCH when it is gone). */
int cgroup_path_in(const char *proc_cgroup_text, const char *hierarchy, char **ret);
int cgroup_path_of_pid(pid_t pid, const char *hierarchy, char **ret);

/* Whether path is dir or lies below it. */
bool cgroup_path_under(const char *path, const char *dir);

/* Where the unified hierarchy is mounted: /sys/fs/cgroup on a pure v2 host,
 * /sys/fs/cgroup/unified on a hybrid one. */
int cgroup2_mount(char **ret);

/* Whether pid lies in a frozen (or freezing) cgroup of the v1 freezer,
 * where even SIGKILL waits for a thaw: 1, 0, or a negative errno. */
int cgroup_v1_frozen(pid_t pid);

/* The directory of a cgroup path of that hierarchy when it is the unified
 * one and exists; -ENOENT otherwise. */
int cgroup_dir_of(const char *cgroup, const char *hierarchy, char **ret_dir);

/* The cgroup v2 directory that holds exactly the session's processes (and
 * nothing else), as logind makes one per session; for a session known only
 * by its audit ID.  procs are its members.  -ENOENT when it has none. */
int cgroup_find_own(const struct proc_filter *members, const struct proc_info *procs, size_t n, pid_t self,
                    char **ret_dir);

/* Whether this process itself lies in the cgroup v2 directory dir (under
 * the unified mount): then cgroup.kill would end logoff too. */
bool cgroup_holds_self(const char *dir);

/* cgroup.freeze, then waits (bounded) until cgroup.events says frozen.
 * Returns 1 when frozen, 0 when it did not take hold in time. */
int cgroup_freeze(const char *dir, uint64_t timeout_usec);
int cgroup_thaw(const char *dir);
/* 1 when cgroup.freeze of dir asks for it to be frozen, 0 when not, or a
 * negative errno. */
int cgroup_freeze_requested(const char *dir);

/* cgroup.kill: the kernel kills what is being forked too, so fork() cannot
 * outrun it.  Returns at once; cgroup_wait_empty() waits for the end. */
int cgroup_kill(const char *dir);

/* Waits (bounded) until no process is left in the cgroup.  Returns 1 when
 * it is empty, 0 when the time ran out. */
int cgroup_wait_empty(const char *dir, uint64_t timeout_usec);

/* The processes cgroup.procs lists in dir and below (malloc'ed). */
int cgroup_procs(const char *dir, pid_t **ret, size_t *ret_n);

/* Whether cgroup.events has the line "key value". */
bool cgroup_event_is(const char *dir, const char *key, const char *value);
