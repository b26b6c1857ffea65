/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "session.h"

struct caller {
        uid_t ruid, euid;
        bool cap_kill;
        /* Started with more privilege than its caller has (file
         * capabilities, setuid: AT_SECURE): the caller is not trusted. */
        bool secure;
};

enum policy_verdict {
        POLICY_ALLOW,
        POLICY_DENY_CONSOLE,     /* the console session is never logged off */
        POLICY_DENY_NOT_ALLOWED, /* someone else's session, without root or CAP_KILL */
        POLICY_ASK_HOST,         /* the session host (logind, polkit) decides when asked */
};

/* Who runs logoff: its uids and whether CAP_KILL is in its effective set. */
int caller_identify(struct caller *ret);

/* The reference's rules: your own current session always; any other needs
 * full control (root, or CAP_KILL given by the admin to the caller); the
 * console session never.  CAP_KILL that came with the binary (file
 * capabilities) lets a user end only their own sessions.  Where the session
 * host decides (logind's polkit rules let a user end their own sessions),
 * a caller without CAP_KILL is left to its answer. */
enum policy_verdict policy_check(const struct session *s, const struct caller *c);

/* Whether kill(2) lets the caller signal a process with these uids. */
bool policy_may_signal(const struct caller *c, uid_t target_ruid, uid_t target_suid);
