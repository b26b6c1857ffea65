/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Ctrl-C while a session is being ended.  During the grace period logoff
 * stops at the next round and reports what it did: nothing of the session
 * is stopped or frozen then, so stopping is clean.  Once the forced phase
 * has begun (SIGSTOP or cgroup.freeze, then SIGKILL), it goes on to the
 * end, a few seconds at most: stopping there would leave processes
 * stopped.  A hangup of logoff's own terminal never stops it: the admin who
 * asked is gone, the job is done anyway. */

/* Notes SIGINT and SIGQUIT from now on, SIGTERM too unless term_ignored
 * (logoff ending its own session ignores it: its parents relay theirs),
 * and ignores SIGHUP and SIGPIPE.  Returns 0 or a negative errno. */
int interrupt_catch(bool term_ignored);

/* The first of those signals that came since, or 0. */
int interrupt_pending(void);

/* Ends logoff by that signal, as it would have without catching it, so
 * that the shell and scripts see what ended it. */
void interrupt_reraise(int sig);
