/* SPDX-License-Identifier: MIT */
#include "wtmpdb.h"

#include <dlfcn.h>
#include <inttypes.h>

#include "util.h"

/* libwtmpdb's ABI, declared here from its header (wtmpdb.h, 0.73) because
 * logoff must build where the library does not exist (Debian 12).  All
 * functions take the database path, NULL meaning the library's default, and
 * report failure as a negative number plus an error string in *error,
 * allocated with malloc: the caller frees it.  The numbers are a mix of
 * -errno, -1 and negated SQLite result codes, depending on version and code
 * path, so only the string says what went wrong. */
typedef int64_t (*wtmpdb_get_id_fn)(const char *db_path, const char *tty, char **error);
typedef int (*wtmpdb_logout_fn)(const char *db_path, int64_t id, uint64_t usec_logout, char **error);
typedef int (*wtmpdb_row_fn)(void *userdata, int argc, char **argv, char **column);
typedef int (*wtmpdb_read_all_fn)(const char *db_path, wtmpdb_row_fn cb, char **error);
typedef int (*wtmpdb_read_all_v2_fn)(const char *db_path, wtmpdb_row_fn cb, void *userdata, char **error);

#define WTMPDB_SONAME "libwtmpdb.so.0"
#define WTMPDB_USER_PROCESS 3

/* Where the database lives: upstream's _PATH_WTMPDB, and Debian's since
 * 0.73.0-3+deb13u1 (the old path stays as a symlink to it).  The library is
 * always called with NULL, its own default, because that is the database sshd
 * and pam_wtmpdb write; these paths only answer whether there is one. */
static const char *const db_paths[] = {
        "/var/lib/wtmpdb/wtmp.db",
        "/var/log/wtmp.db",
};

/* sshd writes the record after authentication, while logoff dates a session
 * without utmp by its first process, the sshd monitor, which starts before
 * it: the record is later than login_usec by the time it took to log in.
 * A login on the same line that is later than that by more is a new login
 * on a reused pty, not ours. */
#define LOGIN_SLACK_USEC (30u * 1000000u)

static struct {
        bool loaded;
        void *handle;
        wtmpdb_get_id_fn get_id;
        wtmpdb_logout_fn logout;
        wtmpdb_read_all_v2_fn read_all_v2;
        wtmpdb_read_all_fn read_all; /* before 0.50, without userdata */
} lib;

/* Loads the library and resolves its symbols once per process (logoff is
 * single-threaded).  A library that is missing, or lacks what we need, is the
 * same as none: this host does not keep wtmpdb. */
static bool wtmpdb_load(void) {
        if (lib.loaded)
                return lib.handle != NULL;
        lib.loaded = true;

        void *h = dlopen(WTMPDB_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return false;
        lib.get_id = (wtmpdb_get_id_fn) dlsym(h, "wtmpdb_get_id");
        lib.logout = (wtmpdb_logout_fn) dlsym(h, "wtmpdb_logout");
        lib.read_all_v2 = (wtmpdb_read_all_v2_fn) dlsym(h, "wtmpdb_read_all_v2");
        lib.read_all = (wtmpdb_read_all_fn) dlsym(h, "wtmpdb_read_all");
        if (!lib.get_id || !lib.logout || (!lib.read_all_v2 && !lib.read_all)) {
                dlclose(h);
                return false;
        }
        lib.handle = h;
        return true;
}

static bool wtmpdb_db_exists(void) {
        /* access() follows Debian's symlink: a dangling one (no login was
         * ever recorded) is no database. */
        for (size_t i = 0; i < ARRAY_SIZE(db_paths); i++)
                if (access(db_paths[i], F_OK) == 0)
                        return true;
        return false;
}

/* Whether this host keeps login history in wtmpdb (library loadable and
 * database present). */
static bool wtmpdb_present(void) {
        return wtmpdb_load() && wtmpdb_db_exists();
}

/* The library's error strings end in SQLite's own message (sqlite3_errmsg)
 * or, where it only had a result code, in that code as a number: both are
 * stable SQLite texts and codes. */
static int error_to_errno(const char *error) {
        static const struct {
                const char *text;
                int code; /* SQLite result code */
                int err;
        } map[] = {
                { "out of memory",                  7,  ENOMEM  },
                { "database is locked",             5,  EBUSY   },
                { "database table is locked",       6,  EBUSY   },
                { "attempt to write a readonly database", 8, EACCES },
                { "disk I/O error",                 10, EIO     },
                { "database disk image is malformed", 11, EBADMSG },
                { "database or disk is full",       13, ENOSPC  },
                { "unable to open database file",   14, EACCES  },
                { "file is not a database",         26, EBADMSG },
        };

        if (!error)
                return -EIO;
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (strcasestr(error, map[i].text))
                        return -map[i].err;

        /* "...did not return SQLITE_DONE: 8", "sqlite3_step returned: 5" */
        const char *colon = strrchr(error, ':');
        uint32_t code;
        if (colon && parse_u32(colon + 1 + strspn(colon + 1, " "), &code) == 0)
                for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                        /* Extended result codes keep the primary one in the low byte. */
                        if (map[i].code == (int) (code & 0xff))
                                return -map[i].err;
        return -EIO;
}

struct wanted_record {
        const char *id;      /* decimal, as SQLite prints it */
        bool found;
        bool matches;
        const char *line;
        const char *user;
        uint64_t login_usec;
};

static const char *column(int argc, char **argv, char **names, const char *name) {
        for (int i = 0; i < argc; i++)
                if (names[i] && strcaseeq(names[i], name))
                        return argv[i];
        return NULL;
}

/* Called for every row of the wtmp table, newest first.  Returns nonzero to
 * stop the scan once the record is seen. */
static int check_row(void *userdata, int argc, char **argv, char **names) {
        struct wanted_record *w = userdata;

        const char *id = column(argc, argv, names, "ID");
        if (!id || !streq(id, w->id))
                return 0;
        w->found = true;

        const char *type = column(argc, argv, names, "Type");
        const char *user = column(argc, argv, names, "User");
        const char *tty = column(argc, argv, names, "TTY");
        const char *login = column(argc, argv, names, "Login");
        const char *logout = column(argc, argv, names, "Logout");
        uint64_t login_usec;
        char *end;

        if (!type || !streq(type, "3") || !user || !streq(user, w->user) ||
            !tty || !streq(tty, w->line) || logout || !login)
                return 1;
        errno = 0;
        login_usec = strtoull(login, &end, 10);
        if (errno != 0 || end == login || *end)
                return 1;
        w->matches = login_usec <= w->login_usec + LOGIN_SLACK_USEC;
        return 1;
}

/* wtmpdb_read_all() before 0.50 passes no userdata to its callback. */
static struct wanted_record *wanted_v1;
static int check_row_v1(void *unused, int argc, char **argv, char **names) {
        (void) unused;
        return check_row(wanted_v1, argc, argv, names);
}

static int read_record(struct wanted_record *w) {
        _cleanup_free_ char *error = NULL;
        int r;

        if (lib.read_all_v2)
                r = lib.read_all_v2(NULL, check_row, w, &error);
        else {
                wanted_v1 = w;
                r = lib.read_all(NULL, check_row_v1, &error);
                wanted_v1 = NULL;
        }
        /* Stopping the scan early is reported as an error ("query aborted"). */
        if (w->found)
                return 0;
        if (r < 0)
                return error_to_errno(error);
        return 0;
}

int wtmpdb_record_logout(const char *line, const char *user, uint64_t login_usec) {
        if (!line || !*line || !user || !*user)
                return -EINVAL;
        if (!wtmpdb_present())
                return 0;

        /* The same lookup sshd does at logout: the newest record of the line
         * without a logout time.  It says nothing about whose record it is;
         * the scan below checks that. */
        _cleanup_free_ char *error = NULL;
        int64_t id = lib.get_id(NULL, line, &error);
        if (id < 0) {
                /* "Open entry for tty 'pts/0' not found"; an empty database
                 * file (a fresh one after log rotation) has no table yet. */
                if (error && (strstr(error, "not found") || strstr(error, "no such table")))
                        return 0;
                int r = error_to_errno(error);
                /* The database went away between the check and the lookup. */
                if (r == -EACCES && !wtmpdb_db_exists())
                        return 0;
                return r;
        }

        char idstr[21]; /* INT64_MAX has 19 digits */
        snprintf(idstr, sizeof(idstr), "%" PRId64, id);
        struct wanted_record w = {
                .id = idstr,
                .line = line,
                .user = user,
                .login_usec = login_usec,
        };
        int r = read_record(&w);
        if (r < 0)
                return r;
        if (!w.matches)
                return 0;

        /* Nothing locks the record between the check and this update: if its
         * owner closes it meanwhile, our logout time replaces its own by a
         * moment later, the same as two logouts. */
        free(error);
        error = NULL;
        r = lib.logout(NULL, id, now_realtime_usec(), &error);
        if (r < 0) {
                /* Rotated away meanwhile: "expected 1, got 0". */
                if (error && strstr(error, "got 0"))
                        return 0;
                return error_to_errno(error);
        }
        return 1;
}
