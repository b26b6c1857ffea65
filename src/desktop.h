/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "procscan.h"

struct session;

/* A graphical session's desktop, asked to log out on the session's own
 * D-Bus, as its user, the way its own "Log out" does: its session manager
 * then asks its applications to save (XSMP SaveYourself) and ends the
 * session itself.  Knows nothing of reports. */
/* What a desktop inhibitor holds off (gnome-session's flags, which MATE's
 * and Cinnamon's session managers share). */
enum {
        DESKTOP_INHIBIT_LOGOUT = 1u << 0,
        DESKTOP_INHIBIT_SWITCH_USER = 1u << 1,
        DESKTOP_INHIBIT_SUSPEND = 1u << 2,
        DESKTOP_INHIBIT_IDLE = 1u << 3,
        DESKTOP_INHIBIT_AUTOMOUNT = 1u << 4,
};

/* An application's request to the session manager to hold something off,
 * as its GetInhibitors names them. */
struct desktop_inhibitor {
        char *app_id; /* clean text */
        char *reason; /* clean text */
        uint32_t flags;
};

/* At most this many are read; the rest are only counted. */
#define DESKTOP_MAX_INHIBITORS 16u

struct desktop_report {
        const char *desktop;      /* "Xfce", "GNOME", ...; NULL: no session manager found */
        pid_t manager;            /* its process, a member of the session */
        char *bus;                /* the bus it was asked on (clean text) */
        int error;                /* 0: it took the request; or a negative errno */
        char *error_name;         /* the D-Bus error, when it answered one (clean text) */
        char *error_message;
        bool ended;               /* the session then ended by itself */
        bool manager_exited;      /* its session manager did (then: manager_exited_usec after the request) */
        uint64_t manager_exited_usec;
        unsigned left;            /* processes of the user's still there when the wait ended */
        uint64_t waited_usec;
        /* Its inhibitors, read before it was asked (desktops that have them:
         * GNOME, MATE, Cinnamon); inhibitors_error: why they could not be
         * read, or -EOPNOTSUPP for a desktop without them. */
        struct desktop_inhibitor *inhibitors;
        size_t n_inhibitors, alloc_inhibitors;
        unsigned inhibitors_not_read; /* beyond DESKTOP_MAX_INHIBITORS */
        int inhibitors_error;
};

/* How long a desktop that took the request gets to end the session, and
 * how long what is left gets once its session manager has exited: what
 * does not end by then (a program started outside the desktop, which the
 * X server's end does not reach) the desktop will not end.  Xsession's
 * ssh-agent, the session manager's parent, sees it gone within 10 s (its
 * parent check) and exits by itself: a desktop that logged out normally
 * needs no signal. */
#define DESKTOP_LOGOUT_WAIT_USEC (30u * 1000000u)
#define DESKTOP_AFTER_MANAGER_USEC (12u * 1000000u)

/* Asks the desktop of session s (its members procs) to log out, then waits
 * up to wait_usec for the session's user processes to be gone, and no more
 * than DESKTOP_AFTER_MANAGER_USEC after its session manager exited.  A signal
 * noted by interrupt_catch() ends the wait: -ECANCELED.  Returns 0 when it
 * was asked (rep->ended says whether the session then ended), -ENOENT when
 * the session has no session manager logoff knows, or a negative errno. */
int desktop_logout(const struct session *s, const struct proc_info *procs, size_t n, uint64_t wait_usec,
                   struct desktop_report *rep);

/* Only names the desktop of session s and reads its inhibitors, as
 * desktop_logout() does before it asks (for the dry run): 0, -ENOENT when
 * the session has no session manager logoff knows, or a negative errno. */
int desktop_inhibitors(const struct session *s, const struct proc_info *procs, size_t n, struct desktop_report *rep);

/* Words for an inhibitor's flags, "logout, suspend" (NULL: no memory). */
char *desktop_inhibit_flags_text(uint32_t flags);

/* A critical desktop notification to the session's user, on the session's
 * bus (its session manager's, else a process's of the user's in it, else
 * the per-user bus), sent as the user.  *id: the one to replace (0: none),
 * then the one shown.  On a D-Bus error, *ret_error says it (clean text). */
int desktop_notify(const struct session *s, const struct proc_info *procs, size_t n, const char *summary,
                   const char *body, uint32_t *id, char **ret_error);

void desktop_report_done(struct desktop_report *rep);

/* The answer of the child that asked the session manager, as the user (so
 * the user may have written it): its inhibitor lines into rep, cleaned,
 * then its status line.  0; the failure it tells as a negative errno
 * (-EREMOTEIO: the manager said no, in error_name and error_message);
 * or -EPROTO. */
int desktop_parse_answer(char *answer, struct desktop_report *rep);
