/* SPDX-License-Identifier: MIT */
/* The listing's columns, as util-linux's tools have them: one table of
 * column descriptions, one fill function each, drives the table, --raw,
 * --json and --output. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum column_id {
        COLUMN_SESSIONNAME,
        COLUMN_USERNAME,
        COLUMN_ID,
        COLUMN_STATE,
        COLUMN_TYPE,
        COLUMN_DEVICE,
        COLUMN_IDLE,
        COLUMN_IDLE_FROM,
        COLUMN_LOGON_TIME,
        COLUMN_LOGON_USEC,
        COLUMN_PROCESSES,
        COLUMN_BACKEND,
        COLUMN_CLASS,
        COLUMN_SERVICE,
        COLUMN_LEADER,
        COLUMN_MEMBERSHIP,
        COLUMN_UID,
        COLUMN_AUDIT,
        COLUMN_SEAT,
        COLUMN_VT,
        COLUMN_CGROUP,
        COLUMN_DESKTOP,
        COLUMN_CURRENT,
        COLUMN_CONSOLE,
        _COLUMN_MAX,
};

struct session;

/* Room for a cell a fill function formats (a number, a time). */
#define COLUMN_BUF 64

enum column_json {
        COLUMN_JSON_STRING,
        COLUMN_JSON_NUMBER,
        COLUMN_JSON_BOOL,
};

struct column {
        const char *name;      /* as --output takes it */
        const char *header;    /* as the table heads it ("LOGON TIME") */
        const char *json_key;
        const char *help;      /* for --help, N_() */
        unsigned gap;          /* spaces before it in the table; 0: two */
        int min_width;
        bool right;            /* numbers are right-aligned */
        bool blank;            /* no value shows as nothing, not "-" */
        enum column_json json;
        /* The cell: the session's own (clean) string, or one formatted into
         * buf (COLUMN_BUF bytes); NULL when there is none. */
        const char *(*fill)(const struct session *s, char *buf);
        /* What --json says where it differs from the cell (a number of
         * seconds, true or false, a time in UTC); NULL: the cell. */
        const char *(*json_value)(const struct session *s, char *buf);
};

/* The columns of "query session", the default. */
#define COLUMNS_DEFAULT "SESSIONNAME,USERNAME,ID,STATE,TYPE,DEVICE"

struct column_list {
        enum column_id ids[_COLUMN_MAX];
        size_t n;
};

/* Parses --output's list ("ID,USERNAME", or "+IDLE" to add to the
 * default), names in any case.  0; -EINVAL for a name that is no column,
 * -EEXIST for one given twice, with *ret_bad pointing at it (within spec)
 * and *ret_bad_len its length. */
int columns_parse(const char *spec, struct column_list *ret, const char **ret_bad, size_t *ret_bad_len);

/* Every column, in the order of --json without --output. */
void columns_all(struct column_list *ret);

const struct column *column_get(enum column_id id);
