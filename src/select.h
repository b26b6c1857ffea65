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

/* What a selection (--user, --idle, --state, --type, --all) took. */
struct selected {
        size_t *index;          /* into the list, in its order */
        size_t n;
        bool console_matched;   /* the console matched, and was left out */
        bool own_left_out;      /* --all left out the caller's own session */
        /* A --user name that names no user and no session's user: where
         * it is in the list as typed, and its length. */
        const char *unknown_user;
        size_t unknown_user_len;
};

/* Every session that meets all the selection's conditions, never the
 * console (nothing may log it off), and with --all never the caller's own.
 * A session whose idle time is unknown is never idle enough.
 * Returns 0 (n may be 0), -ENXIO for an unknown user name, or -ENOMEM. */
int select_many(const struct session_list *l, const struct selection *sel, struct selected *ret);
void selected_done(struct selected *s);

/* Sessions whose name matches, for a "several sessions" message. */
size_t sessions_matching_name(const struct session_list *l, const char *name,
                              const struct session **out, size_t max);
