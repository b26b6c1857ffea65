/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "membership.h"

struct session_host;
struct desktop_server;

enum session_state {
        SESSION_ACTIVE,       /* its terminal, display or connection is still there */
        SESSION_DISCONNECTED, /* only processes are left (nohup, screen, closing) */
};

/* Where a session's idle time was read. */
enum idle_source {
        IDLE_UNKNOWN,
        IDLE_LOGIND,      /* logind's IdleHint and IdleSinceHint */
        IDLE_TTY,         /* the terminal's atime, as w(1) reads it */
};

enum session_type {
        SESSION_TYPE_UNSPECIFIED,
        SESSION_TYPE_TTY,
        SESSION_TYPE_X11,
        SESSION_TYPE_WAYLAND,
        SESSION_TYPE_MIR,
        SESSION_TYPE_WEB,
        SESSION_TYPE_RDP,         /* an xrdp session */
        SESSION_TYPE_X2GO,        /* an X2Go session */
};

/* One login session, whichever backend found it.  Every string in it was
 * taken from outside (logind, utmp, environments, passwd) and is shown only
 * through the printers' escaping. */
struct session {
        char *id;                 /* the backend's ID: "3", "c1" */
        uint32_t audit_session;   /* AUDIT_SESSION_UNSET: none */
        /* The session host that found its login; NULL for a remote
         * desktop's session that no login marks (xrdp without
         * pam_loginuid on a host without logind). */
        const struct session_host *host;
        /* The remote desktop server that ends it, where it took that over
         * (or found it itself); NULL: its host ends it. */
        const struct desktop_server *server;
        struct membership member; /* what makes a process part of it */
        char *name;               /* "pts/3", "tty2", ":10"; NULL when it has none */
        char *user;
        uid_t uid;
        enum session_state state;
        enum session_type type;
        char *class_;             /* logind's class: "user", "greeter"; NULL when unknown */
        char *service;            /* the PAM service: "sshd", "su" */
        char *seat;
        unsigned vt;              /* 0: none */
        char *remote_host;        /* NULL when local */
        pid_t leader;             /* 0: gone or unknown */
        uint64_t login_usec;      /* CLOCK_REALTIME */
        int64_t idle_usec;        /* -1: unknown */
        enum idle_source idle_source;
        unsigned processes;       /* not counting zombies */
        dev_t tty;
        bool current;
        bool console;
        /* Its utmp entry, if it has a live one (ut_id, ut_line, ut_pid: the
         * process that logged in, not always logind's leader). */
        char *utmp_id;
        char *utmp_line;
        pid_t utmp_pid;
        /* A remote desktop server's own name for it (X2Go's session ID). */
        char *desktop_id;
};

struct session_list {
        struct session *sessions;
        size_t n, alloc;
        const struct session_host *host; /* the one that found them */
        /* /proc hides other users' processes from the caller (hidepid):
         * their sessions may be missing, or shown without processes. */
        bool others_hidden;
};

void session_done(struct session *s);
void session_list_done(struct session_list *l);

/* A new zeroed session at the end of the list (audit_session unset, idle
 * unknown); NULL when out of memory. */
struct session *session_list_append(struct session_list *l);

/* The first session that process pid is a member of: 0 and its index,
 * -ENOENT when none, -ESRCH when the process is gone. */
int session_list_find_member(const struct session_list *l, pid_t pid, size_t *ret);

/* A remote desktop's session: named by its display, with the server's type,
 * Active while a client is connected, Disc when not. */
int session_show_display(struct session *s, unsigned display, enum session_type type, bool connected);

/* Cleans the strings that are shown (text.h), once, when the session is
 * known; utmp_line, utmp_id and the cgroup stay as the host wrote them, to
 * find what they name. */
int session_clean_text(struct session *s);

/* Removes the i-th session (another one took it in). */
void session_list_remove(struct session_list *l, size_t i);

/* Drops the last session appended. */
void session_list_drop_last(struct session_list *l);

/* Sorts by ID: numeric IDs by value, before the others ("c1"). */
void session_list_sort(struct session_list *l);

/* An X display, Wayland or Mir, as a display manager, xrdp or X2Go makes
 * them: it ends in its server's order (terminate.h). */
bool session_type_is_graphical(enum session_type t);
bool session_is_graphical(const struct session *s);

const char *session_state_to_string(enum session_state s);
/* "logind", "tty"; NULL when unknown. */
const char *idle_source_to_string(enum idle_source s);
/* Sets s's idle time from its terminal line's atime, where it has one. */
void session_idle_from_line(struct session *s);
const char *session_type_to_string(enum session_type t);
enum session_type session_type_from_string(const char *s);
/* A type named as the listing shows it (len bytes of s, any case):
 * 0, or -EINVAL for a name that is no type. */
int session_type_parse(const char *s, size_t len, enum session_type *ret);

/* "pts/3" for a pty, "tty1", "ttyS0", "console"; sysfs for the rest. */
int tty_name_from_dev(dev_t dev, char **ret);

/* Whether a terminal line ("ttyS0", "tty1", "console") is the system console. */
bool tty_line_is_console(const char *line);

/* The name of a user, or the number when passwd has none. */
int user_name(uid_t uid, char **ret);
/* uid's home directory, an absolute path; *ret NULL when none is known. */
int user_home(uid_t uid, char **ret);

/* How long the terminal line has been idle, from its atime as w(1) does;
 * -1 when it is no terminal. */
int64_t idle_of_line(const char *line);

/* A local X display as a session is named: ":10" for ":10", ":10.0" (a
 * screen of it, as DISPLAY says) or ":10.1".  Other names as they are.
 * Returns a malloc'ed string, or NULL when out of memory. */
char *display_name(const char *s);

/* Whether a name typed by the user names this session name: case-insensitive,
 * "/dev/" allowed before a terminal, a screen number after a display. */
bool session_name_matches(const char *session_name, const char *typed);

/* Copies src into *dst unless it is NULL or empty. */
int strdup_to(char **dst, const char *src);
