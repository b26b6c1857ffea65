/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Login history in wtmpdb (Debian 13 and later, openSUSE): libwtmpdb is
 * loaded at run time, so logoff builds and runs where it does not exist. */

/* Closes the open login record of a session in wtmpdb, as pam_wtmpdb does at a normal logout:
 * the newest record of tty `line` with no logout time, only if it belongs to `user` and started no later than
 * login_usec + a small slack (a newer login on the same line is not ours). Returns 1 when written, 0 when there is
 * nothing to close or this host keeps no wtmpdb (library or database missing), or a negative errno.
 *
 * `line` is what sshd and pam_wtmpdb write: the tty without "/dev/" ("pts/3", "tty1").  An ssh session
 * without a pty has no wtmpdb record at all (sshd records pty sessions only, and Debian's pam_wtmpdb
 * skips sshd), so there is nothing to pass for it.  login_usec is CLOCK_REALTIME.  The library's errors
 * map to: -ENOMEM, -EBUSY (database locked past the library's 5 s timeout), -EACCES (no permission:
 * a user closing their own session; the database is root's; SQLite says the same for a read-only
 * file system), -ENOSPC, -EBADMSG (not a database, or corrupt), -EIO (anything else). */
int wtmpdb_record_logout(const char *line, const char *user, uint64_t login_usec);

