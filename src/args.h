/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "columns.h"
#include "session.h"

/* Which backend finds the sessions: logind where it runs, else the kernel's
 * audit sessions; or one of them by name. */
enum backend_choice {
        BACKEND_AUTO,
        BACKEND_LOGIND,
        BACKEND_KERNEL,
};

enum action {
        ACTION_LOGOFF,
        ACTION_LIST,
        ACTION_HELP,
        ACTION_VERSION,
};

/* What was wrong with the command line, so main() can say it precisely. */
enum parse_error {
        PARSE_OK,
        PARSE_UNKNOWN_SWITCH,   /* "Invalid parameter(s)" in the reference */
        PARSE_EXTRA_ARGUMENT,   /* a second session name or ID */
        PARSE_MISSING_VALUE,    /* /server or --timeout without a value */
        PARSE_UNEXPECTED_VALUE, /* /v:x */
        PARSE_EMPTY_SERVER,
        PARSE_BAD_SERVER,
        PARSE_ID_RANGE,
        PARSE_BAD_NAME,
        PARSE_BAD_TIMEOUT,
        PARSE_JSON_WITHOUT_LIST,
        PARSE_REPEATED_SERVER,
        PARSE_SERVER_NEEDS_SESSION, /* the current session over there is the ssh login */
        PARSE_BAD_BACKEND,
        PARSE_BAD_GRACE,
        PARSE_GRACE_WITHOUT_WARN,
        PARSE_BAD_WARN_TEXT,
        PARSE_WARN_WITH_LIST,
        PARSE_BAD_COLUMN,          /* --output: a name that is no column */
        PARSE_REPEATED_COLUMN,
        PARSE_REPEATED_OUTPUT,
        PARSE_TABLE_WITHOUT_LIST,  /* --output, --noheadings, --raw */
        PARSE_JSON_WITH_TABLE,     /* --json with --raw or --noheadings */
        PARSE_BAD_USER,            /* --user: an empty or unprintable name */
        PARSE_BAD_IDLE,
        PARSE_BAD_STATE,
        PARSE_BAD_TYPE,
        PARSE_REPEATED_SELECTION,  /* --user, --idle, --state, --type or --all twice */
        PARSE_TARGET_WITH_SELECTION, /* a session named, and a selection */
};

/* Which sessions a selection takes (select.h): every condition given must
 * hold.  The strings point into argv. */
struct selection {
        bool given;              /* any of these */
        const char *users;       /* --user: names or UIDs, comma-separated */
        bool idle_given;
        uint64_t idle_usec;      /* --idle: idle longer than this */
        bool state_given;
        enum session_state state;
        unsigned types;          /* --type: 1 << enum session_type; 0: any */
        bool all;                /* --all: neither the caller's own nor the console */
};

struct options {
        enum action action;
        const char *target;      /* session name or ID as typed; NULL: current session */
        bool target_is_id;
        uint32_t target_id;
        const char *server;      /* NULL: this host */
        bool verbose;
        bool json;
        bool dry_run;
        bool help_columns;       /* --help: the columns too, not only /?'s screen */
        uint64_t timeout_usec;   /* grace period between SIGTERM and SIGKILL */
        enum backend_choice backend;
        /* --warn: the session's user is told first (warn.h), and gets
         * grace_usec before anything is done; warn_text, when given, is
         * the admin's own words (no control characters). */
        bool warn;
        const char *warn_text;
        uint64_t grace_usec;
        /* The listing's columns (--output, else the default, or every one
         * for --json), --noheadings and --raw. */
        struct column_list columns;
        bool columns_given;
        bool noheadings;
        bool raw;
        struct selection select;
        /* Set on error: the argument at fault (and, for a second positional,
         * the first one in conflict_arg). */
        const char *bad_arg;
        const char *conflict_arg;
        const char *bad_column;    /* within bad_arg, bad_column_len bytes */
        size_t bad_column_len;
};

#define DEFAULT_TIMEOUT_USEC (5u * 1000000u)
#define MAX_TIMEOUT_USEC (3600ull * 1000000u)
#define DEFAULT_GRACE_USEC (120ull * 1000000u)
#define MAX_GRACE_USEC (24ull * 3600u * 1000000u)
#define MAX_WARN_TEXT 1024
#define MAX_IDLE_USEC (365ull * 24u * 3600u * 1000000u)

/* Fills *o from argv.  Returns 0 or -EINVAL; on -EINVAL *err says why and
 * o->bad_arg points at the argument at fault. */
int parse_args(int argc, char *const *argv, struct options *o, enum parse_error *err);

/* Accepts what ssh(1) accepts as a destination host, and nothing that could
 * be read as an option or split by a shell. */
bool server_name_is_valid(const char *s);

/* "auto", "logind" or "kernel" (any case); -EINVAL otherwise. */
int backend_choice_from_string(const char *s, enum backend_choice *ret);

/* The name of a choice, as --backend takes it. */
const char *backend_choice_to_string(enum backend_choice c);
