/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct session;

/* The session's user told, before anything is done, that the session will
 * be logged off, and given time to save and leave, as shutdown(8) warns:
 * on every terminal of the session (as write(1) does, never waiting on a
 * terminal that does not take it) and, for a graphical session, as a
 * critical desktop notification; again as the time runs out.  Knows
 * nothing of reports. */
struct warn_report {
        unsigned rounds;            /* warnings given */
        unsigned terminals;         /* terminals written to, in the last round */
        unsigned terminals_skipped; /* that would not take it at once */
        int notify_result;          /* 0: shown; -ENOTCONN: not a graphical session; or a negative errno */
        char *notify_error;         /* what the bus said, when it refused (clean text) */
        bool ended_by_itself;       /* the user logged out meanwhile */
        uint64_t waited_usec;
};

/* Warns with text (the admin's words; NULL: the standard message) and waits
 * grace_usec, or until the session's user processes are gone: 1 then, 0
 * when the time ran out.  A signal noted by interrupt_catch() ends it:
 * -ECANCELED, nothing more is sent. */
int warn_and_wait(const struct session *s, const char *text, uint64_t grace_usec, struct warn_report *rep);

void warn_report_done(struct warn_report *rep);

/* "2 minutes", "30 seconds", "1 hour 5 minutes" (localized, malloc'ed). */
char *warn_format_time_left(uint64_t usec);
