/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "desktop.h"
#include "procscan.h"
#include "records.h"
#include "session.h"
#include "terminate.h"

/* How a kind of session host is asked about its sessions.  The rest of the
 * program (arguments, selection, policy, output) sees only sessions and
 * these reports, never which backend made them. */

/* What the session host (logind) said when it was asked to end the
 * session, and what it knows of it afterwards. */
struct host_report {
        const char *asked;        /* "logind" when the host was asked; NULL if not */
        int error;                /* its answer: 0 or a negative errno */
        /* A graphical session: the host was asked only after its processes
         * had their rounds (it would have hung them up all at once), and it
         * may have forgotten the session by then. */
        bool asked_after;
        bool already_forgotten;
        /* Who was asked first whether the caller may ("polkit"), when only
         * the host's yes lets it; error is its answer then. */
        const char *authorizer;
        char *error_name;         /* the D-Bus error name, when it said no */
        char *error_message;
        int forgotten;            /* 1: the host no longer knows the session; 0: still does; -1: not checked */
        char *unit;               /* the session's unit ("session-3.scope"), where it has one */
        char *unit_state;         /* its state once the processes are gone ("inactive", "failed") */
};

/* What a remote desktop server's part of ending a session did. */
struct server_report {
        /* Its own tool, asked before anything else (x2goterminate-session):
         * what running it returned (0 or a negative errno) and its wait
         * status; NULL when it has none. */
        const char *tool;
        int error;
        int status;
        /* A session known by its process tree whose owner has other
         * sessions: the owner's processes left outside every session, which
         * could belong to any of them, and so were not ended. */
        struct proc_info *unclaimed;
        size_t n_unclaimed;
};

/* What ending a session did: its processes' rounds, and the part of the
 * host, of the server and of the desktop, each filled only by its own. */
struct end_report {
        struct terminate_report procs;
        struct host_report host;
        struct server_report server;
        /* A graphical session's desktop, asked to log out before anything
         * was signalled: 0 when it was asked, -ENOENT when it has no
         * session manager logoff knows, -ENOTCONN when it was not tried. */
        int desktop_result;
        struct desktop_report desktop;
};

#define HOST_REPORT_INIT ((struct host_report) { .forgotten = -1 })
#define END_REPORT_INIT ((struct end_report) { .host = HOST_REPORT_INIT, .desktop_result = -ENOTCONN })

struct record_report {
        int utmp;                 /* 1: written; 0: nothing to do; or a negative errno */
        struct utmp_write_report utmp_write;
        int wtmpdb;               /* likewise, for wtmpdb */
};

/* Who keeps the host's login sessions: the kernel's audit sessions with
 * utmp, or logind.  One of them finds every session. */
struct session_host {
        const char *name;
        /* Whether this host runs it and it answers: 0, or a negative errno;
         * NULL: it is always there. */
        int (*probe)(void);
        /* Every login session it knows, with the caller's own marked
         * current. */
        int (*discover)(struct session_list *l);
        /* Where only its yes lets the caller end the session: whether it
         * says yes, before anything is done.  0, or -EACCES with *rep
         * saying why.  NULL: the host decides when it is asked to end it. */
        int (*authorize)(const struct session *s, struct host_report *rep);
        /* Ends the session: the host first where it is asked, then every
         * process that is left.  -EACCES when the host refused. */
        int (*end)(const struct session *s, const struct terminate_options *o, struct end_report *rep);
        /* Closes the session's login records where the host keeps them. */
        int (*record)(const struct session *s, struct record_report *rep);
        /* Whether it decides itself who may end a session (polkit): then a
         * caller without CAP_KILL asks it rather than being refused; the
         * polkit action that lets a caller, for the messages. */
        bool authorizes;
        const char *authorize_action;
        /* What to tell a caller interrupted after the host was asked to end
         * the session, when the host may forget it before its processes
         * are gone (a format: program name, host name, program name, audit
         * session); NULL: nothing. */
        const char *interrupted_note;
};

/* A remote desktop server (xrdp, X2Go): its desktops run in the host's
 * login sessions, or beside them where its logins leave no mark. */
struct desktop_server {
        const char *name;
        /* What its sessions are, and the variable their processes carry. */
        enum session_type type;
        const char *env_marker;
        /* Tells the sessions a session host found what the server knows of
         * them, and adds its own, from one snapshot of every process
         * (sorted by pid) that they share.  A session it takes over ending
         * gets s->server set. */
        int (*enrich)(struct session_list *l, const struct proc_info *all, size_t n_all);
        /* What the listing notes of a session it knows only by its process
         * tree (a format: program name, session ID), and how to give such
         * sessions a mark no process can leave; NULL: none. */
        const char *tree_only_note;
        /* Ends and records a session it took over. */
        int (*end)(const struct session *s, const struct terminate_options *o, struct end_report *rep);
        int (*record)(const struct session *s, struct record_report *rep);
};

/* The session hosts, in the order --backend=auto tries them, and the
 * remote desktop servers; each is defined in its own backend-NAME.c. */
extern const struct session_host host_kernel;
extern const struct session_host host_logind;
extern const struct desktop_server server_xrdp;
extern const struct desktop_server server_x2go;

/* Every remote desktop server logoff knows (the registry's table). */
const struct desktop_server *const *desktop_servers(size_t *ret_n);

/* The remote desktop server whose sessions are of that type, or NULL. */
const struct desktop_server *desktop_server_of_type(enum session_type type);

/* The name of what found or ends s ("logind", "kernel", "xrdp", "x2go"). */
const char *session_backend_name(const struct session *s);

/* Whether a caller without CAP_KILL may ask the session's host (which
 * decides through polkit) rather than be refused: only where the host
 * itself ends the session. */
bool session_host_authorizes(const struct session *s);

/* Discovers the sessions with the session host only (NULL: the first of
 * the registry's that runs and answers: logind, else the kernel's audit
 * sessions; *ret_fallback_error then says why logind was not used, 0 when
 * it was or was not wanted).
 * The remote desktop servers' sessions are added in every case. */
int backends_discover(const struct session_host *only, struct session_list *l, int *ret_fallback_error);

/* Where only the host's yes lets the caller end s: whether it says yes
 * (0), or -EACCES with *rep saying why. */
int session_authorize(const struct session *s, struct host_report *rep);

/* Ends the session through its backend, counting its processes first. */
int session_end(const struct session *s, const struct terminate_options *o, struct end_report *rep);

/* Closes its records, as the one that ended it keeps them. */
int session_record(const struct session *s, struct record_report *rep);

void host_report_done(struct host_report *rep);
void end_report_done(struct end_report *rep);

/* The records every backend closes: utmp/wtmp, and wtmpdb where the host
 * keeps it. */
int record_session_logout(const struct session *s, struct record_report *rep);
