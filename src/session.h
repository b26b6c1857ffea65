/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum session_state {
        SESSION_ACTIVE,       /* its terminal or display login is still there */
        SESSION_DISCONNECTED, /* only processes are left (nohup, screen, ...) */
};

enum session_type {
        SESSION_TYPE_TTY,
        SESSION_TYPE_X11,
        SESSION_TYPE_UNSPECIFIED,
};

struct session {
        uint32_t id;             /* audit session ID */
        char *name;              /* "pts/3", "tty2", ":10"; NULL when it has none */
        char *user;
        uid_t uid;               /* its loginuid */
        enum session_state state;
        enum session_type type;
        char *remote_host;       /* NULL when local */
        pid_t leader;
        uint64_t login_usec;     /* CLOCK_REALTIME */
        int64_t idle_usec;       /* -1: unknown */
        unsigned processes;      /* not counting zombies */
        dev_t tty;
        bool current;
        bool console;
        /* Its utmp entry, if it has a live one (ut_id, ut_line). */
        char *utmp_id;
        char *utmp_line;
};

struct session_list {
        struct session *sessions;
        size_t n;
        uint32_t current_id; /* AUDIT_SESSION_UNSET: caller is in no session */
};

/* Every login session of this host, by audit session ID, sorted by ID. */
int sessions_discover(struct session_list *ret);
void session_list_done(struct session_list *l);

const char *session_state_to_string(enum session_state s);
const char *session_type_to_string(enum session_type t);

/* "pts/3" for a pty, "tty1", "ttyS0", "console"; sysfs for the rest. */
int tty_name_from_dev(dev_t dev, char **ret);

/* Whether a terminal line ("ttyS0", "tty1", "console") is the system console. */
bool tty_line_is_console(const char *line);
