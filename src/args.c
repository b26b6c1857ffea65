/* SPDX-License-Identifier: MIT */
#include "args.h"

#include <ctype.h>
#include <math.h>

#include "columns.h"
#include "util.h"

enum switch_id {
        SW_VERBOSE,
        SW_HELP,
        SW_HELP_COLUMNS,
        SW_VERSION,
        SW_SERVER,
        SW_LIST,
        SW_JSON,
        SW_TIMEOUT,
        SW_DRY_RUN,
        SW_BACKEND,
        SW_WARN,
        SW_GRACE,
        SW_OUTPUT,
        SW_NOHEADINGS,
        SW_RAW,
        SW_USER,
        SW_IDLE,
        SW_STATE,
        SW_TYPE,
        SW_ALL,
};

struct switch_def {
        const char *name;
        enum switch_id id;
        enum { NO_VALUE, VALUE, OPTIONAL_VALUE } value;
};

/* Names are matched case-insensitively after the '/', '-' or '--' prefix, so
 * "/V", "-v", "--verbose" and "/VERBOSE" are one switch, as in the reference. */
static const struct switch_def switches[] = {
        { "v", SW_VERBOSE, NO_VALUE },
        { "verbose", SW_VERBOSE, NO_VALUE },
        { "?", SW_HELP, NO_VALUE },
        { "h", SW_HELP, NO_VALUE },
        { "help", SW_HELP_COLUMNS, NO_VALUE },
        { "version", SW_VERSION, NO_VALUE },
        { "server", SW_SERVER, VALUE },
        { "l", SW_LIST, NO_VALUE },
        { "list", SW_LIST, NO_VALUE },
        { "json", SW_JSON, NO_VALUE },
        { "t", SW_TIMEOUT, VALUE },
        { "timeout", SW_TIMEOUT, VALUE },
        { "n", SW_DRY_RUN, NO_VALUE },
        { "dry-run", SW_DRY_RUN, NO_VALUE },
        { "backend", SW_BACKEND, VALUE },
        { "warn", SW_WARN, OPTIONAL_VALUE },
        { "grace", SW_GRACE, VALUE },
        { "o", SW_OUTPUT, VALUE },
        { "output", SW_OUTPUT, VALUE },
        { "noheadings", SW_NOHEADINGS, NO_VALUE },
        { "raw", SW_RAW, NO_VALUE },
        { "user", SW_USER, VALUE },
        { "idle", SW_IDLE, VALUE },
        { "state", SW_STATE, VALUE },
        { "type", SW_TYPE, VALUE },
        { "all", SW_ALL, NO_VALUE },
};

static const char *const backend_names[] = {
        [BACKEND_AUTO] = "auto",
        [BACKEND_LOGIND] = "logind",
        [BACKEND_KERNEL] = "kernel",
};

int backend_choice_from_string(const char *s, enum backend_choice *ret) {
        for (size_t i = 0; i < ARRAY_SIZE(backend_names); i++)
                if (strcaseeq(s, backend_names[i])) {
                        *ret = (enum backend_choice) i;
                        return 0;
                }
        return -EINVAL;
}

const char *backend_choice_to_string(enum backend_choice c) {
        return (size_t) c < ARRAY_SIZE(backend_names) ? backend_names[c] : "auto";
}

static const struct switch_def *find_switch(const char *name, size_t len) {
        for (size_t i = 0; i < ARRAY_SIZE(switches); i++)
                if (strlen(switches[i].name) == len && strncasecmp(switches[i].name, name, len) == 0)
                        return &switches[i];
        return NULL;
}

bool server_name_is_valid(const char *s) {
        if (!s || !*s || *s == '-' || strlen(s) > 1024)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (!isalnum(*p) && !strchr(".-_:[]@%", *p))
                        return false;
        return true;
}

/* A time span: seconds, or with a unit as shutdown(8) and sleep(1) take
 * them ("90", "90s", "5m", "1h", "2d"), at most max. */
static int parse_duration(const char *s, uint64_t max, uint64_t *ret) {
        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || !end || !isfinite(v) || v < 0)
                return -EINVAL;
        double unit = 1;
        if (streq(end, "m") || streq(end, "min"))
                unit = 60;
        else if (streq(end, "h"))
                unit = 3600;
        else if (streq(end, "d"))
                unit = 24 * 3600;
        else if (*end && !streq(end, "s"))
                return -EINVAL;
        double usec = v * unit * 1e6;
        if (usec > (double) max)
                return -ERANGE;
        *ret = (uint64_t) (usec + 0.5);
        return 0;
}

/* Seconds, possibly fractional ("2.5"), as the grace period. */
static int parse_timeout(const char *s, uint64_t *ret) {
        if (!s || !*s || !(isdigit((unsigned char) *s) || *s == '.'))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || !end || *end != '\0' || !isfinite(v) || v < 0)
                return -EINVAL;
        if (v * 1e6 > (double) MAX_TIMEOUT_USEC)
                return -ERANGE;
        *ret = (uint64_t) (v * 1e6 + 0.5);
        return 0;
}

/* --user's names: each one non-empty and printable; they are looked up
 * when the sessions are known. */
static bool user_list_is_valid(const char *s) {
        if (!*s || has_control_chars(s) || strlen(s) > 4096)
                return false;
        for (const char *p = s;; p++) {
                size_t len = strcspn(p, ",");
                if (len == 0)
                        return false;
                p += len;
                if (!*p)
                        return true;
        }
}

static int parse_types(const char *s, unsigned *ret, const char **ret_bad, size_t *ret_bad_len) {
        unsigned mask = 0;
        for (const char *p = s;;) {
                size_t len = strcspn(p, ",");
                enum session_type t;
                if (session_type_parse(p, len, &t) < 0) {
                        *ret_bad = p;
                        *ret_bad_len = len;
                        return -EINVAL;
                }
                mask |= 1u << t;
                if (!p[len])
                        break;
                p += len + 1;
        }
        *ret = mask;
        return 0;
}

static bool looks_like_switch(const char *a) {
        if (a[0] == '-')
                return true;
        /* "/dev/pts/3" names a session; "/v" and "/server:x" are switches. */
        return a[0] == '/' && strncmp(a, "/dev/", 5) != 0;
}

static int set_target(struct options *o, const char *arg, enum parse_error *err) {
        if (o->target) {
                o->bad_arg = arg;
                o->conflict_arg = o->target;
                *err = PARSE_EXTRA_ARGUMENT;
                return -EINVAL;
        }
        if (!*arg || has_control_chars(arg) || strlen(arg) > 4096) {
                o->bad_arg = arg;
                *err = PARSE_BAD_NAME;
                return -EINVAL;
        }
        uint32_t id;
        int r = parse_u32(arg, &id);
        if (r == -ERANGE || (r == 0 && id == UINT32_MAX)) {
                /* UINT32_MAX is the kernel's "no audit session". */
                o->bad_arg = arg;
                *err = PARSE_ID_RANGE;
                return -EINVAL;
        }
        o->target = arg;
        o->target_is_id = r == 0;
        o->target_id = r == 0 ? id : 0;
        return 0;
}

/* One condition of a selection; each may be given once. */
static int parse_selection(enum switch_id id, const char *arg, const char *value, struct selection *sel,
                           struct options *o, enum parse_error *err) {
        bool twice = (id == SW_USER && sel->users) || (id == SW_IDLE && sel->idle_given) ||
                     (id == SW_STATE && sel->state_given) || (id == SW_TYPE && sel->types) ||
                     (id == SW_ALL && sel->all);
        o->bad_arg = arg;
        if (twice) {
                *err = PARSE_REPEATED_SELECTION;
                return -EINVAL;
        }
        switch (id) {
        case SW_USER:
                if (!user_list_is_valid(value)) {
                        *err = PARSE_BAD_USER;
                        return -EINVAL;
                }
                sel->users = value;
                break;
        case SW_IDLE:
                if (parse_duration(value, MAX_IDLE_USEC, &sel->idle_usec) < 0) {
                        o->bad_arg = value;
                        *err = PARSE_BAD_IDLE;
                        return -EINVAL;
                }
                sel->idle_given = true;
                break;
        case SW_STATE:
                if (strcaseeq(value, "active"))
                        sel->state = SESSION_ACTIVE;
                else if (strcaseeq(value, "disc") || strcaseeq(value, "disconnected"))
                        sel->state = SESSION_DISCONNECTED;
                else {
                        o->bad_arg = value;
                        *err = PARSE_BAD_STATE;
                        return -EINVAL;
                }
                sel->state_given = true;
                break;
        case SW_TYPE:
                if (parse_types(value, &sel->types, &o->bad_column, &o->bad_column_len) < 0) {
                        o->bad_arg = value;
                        *err = PARSE_BAD_TYPE;
                        return -EINVAL;
                }
                break;
        default:
                sel->all = true;
                break;
        }
        o->bad_arg = NULL;
        sel->given = true;
        return 0;
}

int parse_args(int argc, char *const *argv, struct options *o, enum parse_error *err) {
        *o = (struct options) { .action = ACTION_LOGOFF, .timeout_usec = DEFAULT_TIMEOUT_USEC,
                                .grace_usec = DEFAULT_GRACE_USEC };
        const char *listing_only = NULL; /* the first switch only a listing takes */
        bool grace_given = false;
        *err = PARSE_OK;
        bool list = false, help = false, version = false, only_positionals = false;

        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];
                int r;

                if (only_positionals || !looks_like_switch(arg)) {
                        r = set_target(o, arg, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (streq(arg, "--")) {
                        only_positionals = true;
                        continue;
                }

                bool double_dash = strncmp(arg, "--", 2) == 0;
                const char *name = arg + (double_dash ? 2 : 1);
                size_t name_len = strcspn(name, double_dash ? "=" : ":=");
                const char *value = name[name_len] ? name + name_len + 1 : NULL;
                const struct switch_def *sw = find_switch(name, name_len);
                if (!sw || name_len == 0) {
                        o->bad_arg = arg;
                        *err = PARSE_UNKNOWN_SWITCH;
                        return -EINVAL;
                }
                if (sw->value == NO_VALUE && value) {
                        o->bad_arg = arg;
                        *err = PARSE_UNEXPECTED_VALUE;
                        return -EINVAL;
                }
                /* GNU style "--server host" and "-t 5"; the reference's
                 * "/server:host" always carries its value after the colon. */
                if (sw->value == VALUE && !value && arg[0] == '-' && i + 1 < argc)
                        value = argv[++i];
                if (sw->value == VALUE && !value) {
                        o->bad_arg = arg;
                        *err = PARSE_MISSING_VALUE;
                        return -EINVAL;
                }

                switch (sw->id) {
                case SW_VERBOSE:
                        o->verbose = true;
                        break;
                case SW_HELP:
                        help = true;
                        break;
                case SW_HELP_COLUMNS:
                        help = true;
                        o->help_columns = true;
                        break;
                case SW_VERSION:
                        version = true;
                        break;
                case SW_LIST:
                        list = true;
                        break;
                case SW_JSON:
                        o->json = true;
                        break;
                case SW_DRY_RUN:
                        o->dry_run = true;
                        break;
                case SW_SERVER:
                        if (o->server) {
                                o->bad_arg = arg;
                                *err = PARSE_REPEATED_SERVER;
                                return -EINVAL;
                        }
                        if (!*value) {
                                o->bad_arg = arg;
                                *err = PARSE_EMPTY_SERVER;
                                return -EINVAL;
                        }
                        if (!server_name_is_valid(value)) {
                                o->bad_arg = value;
                                *err = PARSE_BAD_SERVER;
                                return -EINVAL;
                        }
                        o->server = value;
                        break;
                case SW_BACKEND:
                        if (backend_choice_from_string(value, &o->backend) < 0) {
                                o->bad_arg = value;
                                *err = PARSE_BAD_BACKEND;
                                return -EINVAL;
                        }
                        break;
                case SW_TIMEOUT:
                        if (parse_timeout(value, &o->timeout_usec) < 0) {
                                o->bad_arg = value;
                                *err = PARSE_BAD_TIMEOUT;
                                return -EINVAL;
                        }
                        break;
                case SW_WARN:
                        /* The admin's words reach other people's terminals:
                         * nothing that a terminal would take for a command. */
                        if (value && (!*value || has_control_chars(value) || strlen(value) > MAX_WARN_TEXT)) {
                                o->bad_arg = arg;
                                *err = PARSE_BAD_WARN_TEXT;
                                return -EINVAL;
                        }
                        o->warn = true;
                        o->warn_text = value;
                        break;
                case SW_OUTPUT:
                        if (o->columns_given) {
                                o->bad_arg = arg;
                                *err = PARSE_REPEATED_OUTPUT;
                                return -EINVAL;
                        }
                        r = columns_parse(value, &o->columns, &o->bad_column, &o->bad_column_len);
                        if (r < 0) {
                                o->bad_arg = value;
                                *err = r == -EEXIST ? PARSE_REPEATED_COLUMN : PARSE_BAD_COLUMN;
                                return -EINVAL;
                        }
                        o->columns_given = true;
                        listing_only = listing_only ? listing_only : arg;
                        break;
                case SW_NOHEADINGS:
                        o->noheadings = true;
                        listing_only = listing_only ? listing_only : arg;
                        break;
                case SW_RAW:
                        o->raw = true;
                        listing_only = listing_only ? listing_only : arg;
                        break;
                case SW_USER:
                case SW_IDLE:
                case SW_STATE:
                case SW_TYPE:
                case SW_ALL:
                        r = parse_selection(sw->id, arg, value, &o->select, o, err);
                        if (r < 0)
                                return r;
                        break;
                case SW_GRACE:
                        if (parse_duration(value, MAX_GRACE_USEC, &o->grace_usec) < 0) {
                                o->bad_arg = value;
                                *err = PARSE_BAD_GRACE;
                                return -EINVAL;
                        }
                        grace_given = true;
                        break;
                }
        }

        if (help)
                o->action = ACTION_HELP;
        else if (version)
                o->action = ACTION_VERSION;
        else if (list)
                o->action = ACTION_LIST;

        if (o->target && o->select.given) {
                o->bad_arg = o->target;
                *err = PARSE_TARGET_WITH_SELECTION;
                return -EINVAL;
        }
        if (o->server && o->action == ACTION_LOGOFF && !o->target && !o->select.given) {
                o->bad_arg = o->server;
                *err = PARSE_SERVER_NEEDS_SESSION;
                return -EINVAL;
        }
        if (grace_given && !o->warn) {
                o->bad_arg = "--grace";
                *err = PARSE_GRACE_WITHOUT_WARN;
                return -EINVAL;
        }
        if (o->warn && o->action == ACTION_LIST) {
                o->bad_arg = "--warn";
                *err = PARSE_WARN_WITH_LIST;
                return -EINVAL;
        }
        if (o->json && o->action == ACTION_LOGOFF) {
                o->bad_arg = "--json";
                *err = PARSE_JSON_WITHOUT_LIST;
                return -EINVAL;
        }
        if (listing_only && o->action == ACTION_LOGOFF) {
                o->bad_arg = listing_only;
                *err = PARSE_TABLE_WITHOUT_LIST;
                return -EINVAL;
        }
        if (o->json && (o->raw || o->noheadings)) {
                o->bad_arg = o->raw ? "--raw" : "--noheadings";
                *err = PARSE_JSON_WITH_TABLE;
                return -EINVAL;
        }
        if (!o->columns_given) {
                if (o->json)
                        columns_all(&o->columns);
                else
                        (void) columns_parse(COLUMNS_DEFAULT, &o->columns, &o->bad_column, &o->bad_column_len);
        }
        return 0;
}
