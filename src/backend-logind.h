/* SPDX-License-Identifier: MIT */
/* How backend-logind.c places a session's processes in cgroups, for its
 * tests: /proc/PID/cgroup is the kernel's, but its paths may name
 * anything a user's cgroup delegation lets them create. */
#pragma once

#include <stdbool.h>

/* The hierarchy of text (a /proc/PID/cgroup, modified) whose line holds
 * cgroup, the path sd-login gave: "" for the unified one, or elogind's
 * named one ("name=elogind").  0, or -ENOENT. */
int logind_hierarchy_of(char *text, const char *cgroup, char **ret);

/* Cuts acc to the longest path both acc and path lie in. */
void logind_common_ancestor(char *acc, const char *path);

/* The session's cgroup is its scope where it has one, even when all of its
 * processes happen to sit in one sub-cgroup: cuts cgroup after the
 * component scope. */
void logind_cut_at_scope(char *cgroup, const char *scope);

/* A cgroup is the session's only when its last component says so: its
 * scope ("session-3.scope") under systemd, its ID ("3") under elogind.
 * Anything else (a parent shared with other sessions, the root) would make
 * processes of other sessions members: the session is then known by its
 * audit session alone. */
bool logind_cgroup_names_session(const char *cgroup, const char *scope, const char *id);
