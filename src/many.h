/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "session.h"

/* Ends many sessions at once: each in a child process of its own, so that
 * they all have their grace period at the same time, and one that fails
 * or hangs does not hold up the others.  Their rounds share one /proc walk
 * (walkshare.h).  What each child prints is kept and printed whole, in
 * the sessions' order, once the sessions before it are done: one block
 * each, never interleaved. */

/* What is done for one session, in its child; returns an exit status
 * (exit-status.h). */
typedef int (*many_fn)(const struct session *s, void *userdata);

struct many_result {
        int *codes;          /* the exit status of each, in the sessions' order */
        int interrupted;     /* the signal that interrupted them, or 0 */
        unsigned walks;      /* /proc walks made for all of them */
        unsigned requests;   /* rounds they served */
};

/* At most this many sessions are ended at once; more wait for a place. */
#define MANY_MAX_PARALLEL 256

/* Runs fn for each of the n sessions, every one in a child.  Returns 0,
 * or a negative errno when they could not be started (none was then). */
int many_run(const struct session *const *sessions, size_t n, many_fn fn, void *userdata, struct many_result *ret);
void many_result_done(struct many_result *r);

/* The worst of two exit statuses, in the documented order: 1 (failure),
 * 6 (processes survived), 4 (access denied), 3 (no such session), 5 (the
 * console), 0. */
int exit_status_worst(int a, int b);
