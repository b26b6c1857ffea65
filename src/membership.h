/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What makes a process part of a session.  Every signal logoff sends is
 * checked against it through the process's own /proc directory, so a
 * session's membership is data, not a global assumption.
 *
 * A process belongs when its audit session is audit_id, or when it sits in
 * cgroup (or below it) of the hierarchy named by cgroup_hierarchy ("" for
 * the unified hierarchy, "name=elogind" for a named v1 one).  logind
 * sessions have both: their scope, and the audit session of their login,
 * which setsid, double forks and moving between cgroups all keep. */
struct membership {
        uint32_t audit_id;      /* AUDIT_SESSION_UNSET: none */
        char *cgroup;           /* NULL: none; else "/user.slice/.../session-3.scope" */
        char *cgroup_hierarchy; /* with cgroup */
};

void membership_done(struct membership *m);

/* Whether the process behind a /proc/PID directory fd is a member.  Its
 * audit session is tried first, as it is the cheaper file.  Returns 1, 0,
 * or a negative errno (-ESRCH/-ENOENT: the process is gone). */
int membership_contains_at(const struct membership *m, int procdir_fd);

/* The same, for a walk that has read the process's audit session already. */
int membership_contains_known_at(const struct membership *m, int procdir_fd, uint32_t audit_id);

/* The path of the process in the given hierarchy ("" for unified), parsed
 * from the text of /proc/PID/cgroup. */
int cgroup_path_in(const char *proc_cgroup_text, const char *hierarchy, char **ret);

/* Whether path is dir or lies below it. */
bool cgroup_path_under(const char *path, const char *dir);
