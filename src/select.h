/* SPDX-License-Identifier: MIT */
#pragma once

#include "args.h"
#include "session.h"

/* The session a command line names: by ID when numeric, else by name
 * (case-insensitive, "/dev/" allowed, "console" for the console session);
 * the caller's own session when none is named.
 * Returns 0, -ENOENT (no such session), -ENOTUNIQ (a name several sessions
 * share), or -ESRCH (no name given and the caller is in no session). */
int select_session(const struct session_list *l, const struct options *o, const struct session **ret);

/* Sessions whose name matches, for a "several sessions" message. */
size_t sessions_matching_name(const struct session_list *l, const char *name,
                              const struct session **out, size_t max);
