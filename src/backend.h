/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "args.h"
#include "desktop.h"
#include "procscan.h"
#include "records.h"
#include "session.h"
#include "terminate.h"

/* How a kind of session host is asked about its sessions.  The rest of the
 * program (arguments, selection, policy, output) sees only sessions and
 * these reports, never which backend made them. */

/* What ending a session did, beyond the processes: the session host's own
 * part of it. */
struct end_report {
        struct terminate_report procs;
        const char *asked;        /* "logind" when the host was asked first; NULL if not */
        int ask_error;            /* its answer: 0 or a negative errno */
        /* A graphical session: the host was asked only after its processes
         * had their rounds (it would have hung them up all at once), and it
         * may have forgotten the session by then. */
        bool asked_after;
        bool already_forgotten;
        /* Who was asked first whether the caller may ("polkit"), when only
         * the host's yes lets it; ask_error is its answer then. */
        const char *authorizer;
        char *ask_error_name;     /* the D-Bus error name, when it said no */
        char *ask_error_message;
        int forgotten;            /* 1: the host no longer knows the session; 0: still does; -1: not checked */
        char *unit;               /* the session's unit ("session-3.scope"), where it has one */
        char *unit_state;         /* its state once the processes are gone ("inactive", "failed") */
        /* A session known by its process tree whose owner has other
         * sessions: the owner's processes left outside every session, which
         * could belong to any of them, and so were not ended. */
        struct proc_info *unclaimed;
        size_t n_unclaimed;
        /* The remote desktop server's own tool, asked before anything else
         * (x2goterminate-session): what it returned (0 or a negative
         * errno) and its wait status. */
        const char *server_tool;
        int server_error;
        int server_status;
        /* A graphical session's desktop, asked to log out before anything
         * was signalled: 0 when it was asked, -ENOENT when it has no
         * session manager logoff knows, -ENOTCONN when it was not tried. */
        int desktop_result;
        struct desktop_report desktop;
};

struct record_report {
        int utmp;                 /* 1: written; 0: nothing to do; or a negative errno */
        struct utmp_write_report utmp_write;
        int wtmpdb;               /* likewise, for wtmpdb */
};

struct backend {
        const char *name;
        /* Whether this host runs it and it answers: 0, or a negative errno. */
        int (*probe)(void);
        /* Every login session it knows, with the caller's own marked
         * current. */
        int (*discover)(struct session_list *l);
        /* A remote desktop server's: tells the sessions another backend
         * found what it knows of them and adds its own, from one snapshot
         * of every process (sorted by pid) that they share. */
        int (*enrich)(struct session_list *l, const struct proc_info *all, size_t n_all);
        /* Where only its yes lets the caller end the session: whether it
         * says yes, before anything is done.  0, or -EACCES with *rep
         * saying why.  NULL: the host decides when it is asked to end it. */
        int (*authorize)(const struct session *s, struct end_report *rep);
        /* Ends the session: its host first where it has one, then every
         * process that is left.  -EACCES when the host refused. */
        int (*end)(const struct session *s, const struct terminate_options *o, struct end_report *rep);
        /* Closes the session's login records where the host keeps them. */
        int (*record)(const struct session *s, struct record_report *rep);
        /* Whether it decides itself who may end a session (polkit): then a
         * caller without CAP_KILL asks it rather than being refused. */
        bool authorizes;
};

extern const struct backend backend_kernel;
extern const struct backend backend_logind;
/* Adds xrdp's sessions to those another backend found, and tells those it
 * found already (by their audit session or cgroup) what xrdp knows. */
extern const struct backend backend_xrdp;
/* Tells the login sessions that run an X2Go desktop what X2Go knows, and
 * takes over ending them. */
extern const struct backend backend_x2go;

/* Discovers the sessions with the chosen backend.  auto takes logind when
 * it runs and answers, else the kernel's audit sessions; *ret_fallback_error
 * then says why logind was not used (0 when it was, or was not wanted).
 * The remote desktop servers' sessions are added in every case. */
int backends_discover(enum backend_choice choice, struct session_list *l, int *ret_fallback_error);

/* Where only the host's yes lets the caller end s: whether it says yes
 * (0), or -EACCES with *rep saying why. */
int session_authorize(const struct session *s, struct end_report *rep);

/* Ends the session through its backend, counting its processes first. */
int session_end(const struct session *s, const struct terminate_options *o, struct end_report *rep);

void end_report_done(struct end_report *rep);

/* The records every backend closes: utmp/wtmp, and wtmpdb where the host
 * keeps it. */
int record_session_logout(const struct session *s, struct record_report *rep);
