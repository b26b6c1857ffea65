/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "membership.h"
#include "procscan.h"

/* The only way logoff signals anything: a pidfd that was proved to be the
 * process looked at, and that process a member of the session. */

/* Whether this kernel has pidfds (Linux 5.3): 0, or -ENOSYS (or another
 * negative errno) when logoff cannot pin a process, and so must not signal
 * any. */
int pidfd_supported(void);

/* Pins the process behind a /proc/PID directory fd with a pidfd, if it is
 * still that process and still a member of m.  Returns the pidfd, -ESRCH
 * when it is gone or not a member, or another negative errno. */
int pin_at(int procdir_fd, pid_t pid, const struct membership *m);

/* Sends sigs, in order, through a pidfd.  Returns 0 or a negative errno. */
int pidfd_send_signals(int pidfd, const int *sigs, size_t n_sigs);

/* Sends sigs to the process p describes, through a pidfd, only if the
 * process behind the pid is still a member of m and has p's start time.
 * Returns 0, -ESRCH (gone, or the pid now belongs to another process),
 * -EPERM, or another negative errno. */
int signal_pinned(const struct proc_info *p, const struct membership *m, const int *sigs, size_t n_sigs);
