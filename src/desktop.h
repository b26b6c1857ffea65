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
struct desktop_report {
        const char *desktop;      /* "Xfce", "GNOME", ...; NULL: no session manager found */
        pid_t manager;            /* its process, a member of the session */
        char *bus;                /* the bus it was asked on (clean text) */
        int error;                /* 0: it took the request; or a negative errno */
        char *error_name;         /* the D-Bus error, when it answered one (clean text) */
        char *error_message;
        bool ended;               /* the session then ended by itself */
        unsigned left;            /* processes of the user's still there when the wait ended */
        uint64_t waited_usec;
};

/* How long a desktop that took the request gets to end the session. */
#define DESKTOP_LOGOUT_WAIT_USEC (30u * 1000000u)

/* The session manager among procs (the session's members) that a desktop
 * table names; *ret_desktop its desktop's name.  -ENOENT when none. */
int desktop_find_manager(const struct proc_info *procs, size_t n, uid_t owner, pid_t *ret_manager,
                         const char **ret_desktop);

/* Asks the desktop of session s (its members procs) to log out, then waits
 * up to wait_usec for the session's user processes to be gone.  A signal
 * noted by interrupt_catch() ends the wait: -ECANCELED.  Returns 0 when it
 * was asked (rep->ended says whether the session then ended), -ENOENT when
 * the session has no session manager logoff knows, or a negative errno. */
int desktop_logout(const struct session *s, const struct proc_info *procs, size_t n, uint64_t wait_usec,
                   struct desktop_report *rep);

/* A critical desktop notification to the session's user, on the session's
 * bus (its session manager's, else a process's of the user's in it, else
 * the per-user bus), sent as the user.  *id: the one to replace (0: none),
 * then the one shown.  On a D-Bus error, *ret_error says it (clean text). */
int desktop_notify(const struct session *s, const struct proc_info *procs, size_t n, const char *summary,
                   const char *body, uint32_t *id, char **ret_error);

void desktop_report_done(struct desktop_report *rep);
