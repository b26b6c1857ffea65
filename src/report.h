/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "backend.h"
#include "procscan.h"
#include "session.h"

/* What /v, --dry-run and the error messages say about a session and its
 * end.  main() decides what happens; these only say it, and map an outcome
 * to the exit status that tells a script the same. */

extern const char program_name[];

/* With /v: one line on stdout, flushed (logging off our own session hangs
 * up our terminal: a failed write must not stop the logoff). */
void report_verbose(const struct options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* /v: the session about to be logged off. */
void report_session(const struct options *o, const struct session *s);

/* On stderr, when /proc hides other users' processes from the caller. */
void report_hidden_note(const struct session_list *l);

/* After a listing, on stderr: a view /proc made partial, and (tables only)
 * the sessions known only by their server's processes, and how the host
 * could give them more. */
void report_listing_notes(const struct options *o, const struct session_list *l, const struct session *only);

/* --dry-run: what would be ended (procs: its processes now; desktop, what
 * desktop_inhibitors() found, desktop_result what it returned).  An exit
 * status. */
int report_dry_run(const struct options *o, const struct session *s, const struct proc_info *procs, size_t n,
                   const struct desktop_report *desktop, int desktop_result);

/* What ending the session did (r: what the backend returned).  An exit
 * status: EXIT_OK only when nothing of the session is left. */
int report_end(const struct options *o, const struct session *s, const struct end_report *rep, int r);
/* The host's no before anything was done (its authorizer asked first):
 * the exit status. */
int report_denied(const struct session *s, const struct host_report *host, int r);

struct warn_report;

/* What warning the user did (r: what warn_and_wait() returned).  EXIT_OK
 * to go on with the logoff; EXIT_BY_SIGNAL when it was cancelled. */
int report_warning(const struct options *o, const struct session *s, const struct warn_report *w, int r);

/* What was recorded where.  An exit status. */
int report_records(const struct options *o, const struct session *s, const struct record_report *rec);

/* /v: the last line of a logoff that succeeded. */
void report_logged_off(const struct options *o, const struct session *s, const struct end_report *rep);
