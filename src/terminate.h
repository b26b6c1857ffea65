/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "membership.h"
#include "procscan.h"

struct terminate_options {
        uint64_t timeout_usec;      /* after SIGHUP/SIGTERM, before SIGKILL */
        bool cap_kill;              /* the caller may signal any process (policy.h: caller) */
        /* The caller may end this session only with its host's yes (the
         * policy left it to logind and polkit): where the host cannot be
         * asked, or gives any other answer, nothing is signalled. */
        bool host_must_agree;
        /* The session's processes as they were before anything was done
         * (the session host may end some before the first round): they
         * count as met, so the report's totals add up. */
        const struct proc_info *known;
        size_t n_known;
        /* A graphical session (xrdp, X2Go, a display manager's): its
         * processes get SIGTERM and SIGCONT first and SIGHUP only after,
         * and its root helpers (xrdp-sesman's session child), which close
         * PAM and free the display once the desktop is gone, are left to
         * exit by themselves until the user's processes are gone. */
        bool graphical;
        uid_t owner;                /* the session's user: root processes of another user's session are helpers */
        /* A graphical session's desktop is asked to log out first, and the
         * session gets this long to end by itself (backend.h). */
        bool ask_desktop;
        uint64_t desktop_wait_usec;
};

struct terminate_report {
        unsigned seen;              /* distinct processes met in the session */
        unsigned gone_unsignalled;  /* of those, ended before logoff signalled them */
        unsigned hangup;            /* got SIGHUP, SIGTERM and SIGCONT (graphical: SIGTERM and SIGCONT) */
        bool graphical;             /* ended in a graphical session's order */
        unsigned hangup_late;       /* graphical: got SIGHUP after SIGTERM */
        unsigned helpers;           /* graphical: root helpers left to exit by themselves */
        unsigned helpers_exited;    /* of those, the ones that did */
        unsigned cleanup;           /* started by a process after it was signalled: left to finish */
        unsigned cleanup_finished;  /* of those, ended within the grace period */
        unsigned forced_first;      /* first met by the forced phase (forked after the grace period's last round) */
        unsigned stopped;           /* got SIGSTOP before SIGKILL */
        unsigned killed;            /* got SIGKILL (one by one) */
        unsigned stop_rounds;
        bool frozen;                /* cgroup.freeze took hold */
        bool cgroup_killed;         /* cgroup.kill was written */
        unsigned cgroup_members;    /* live processes in it just before */
        char *cgroup;               /* the session's own cgroup, if it has one */
        char *thawed;               /* its cgroup, found frozen and thawed first */
        uint64_t graceful_usec;     /* how long the graceful phase lasted */
        uint64_t forced_usec;       /* and the forced one after it (0: none was needed) */
        uint64_t kill_wait_usec;    /* of that, waiting for killed processes to go */
        uint64_t elapsed_usec;
        struct proc_info *left;     /* live processes at the end */
        size_t n_left;
        /* Killed and still exiting when logoff stopped waiting (the wait
         * ends when the session stops shrinking, or at a cap): dying, not
         * survivors. */
        struct proc_info *exiting;
        size_t n_exiting;
        struct proc_info *denied_procs; /* the ones the caller may not signal */
        size_t n_denied_procs, alloc_denied_procs;
};

/* Ends every member of m except the caller itself: SIGHUP+SIGTERM+SIGCONT,
 * a grace period, then stop everything (cgroup.freeze or SIGSTOP rounds
 * until a scan finds nothing new) and SIGKILL it, or cgroup.kill where the
 * session has a cgroup of its own.  Every signal goes through a pidfd whose
 * process was checked to be a member.
 * A signal noted by interrupt_catch() ends the grace period early and
 * nothing more is done: -ECANCELED, with what is left in rep->left.
 * Returns 0 when nothing of the session is left but what is dying of
 * SIGKILL (rep->exiting), -EBUSY when processes survived (listed in
 * rep->left), or another negative errno. */
int session_terminate(const struct membership *m, const struct terminate_options *o, struct terminate_report *rep);
void terminate_report_done(struct terminate_report *rep);
