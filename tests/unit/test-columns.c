/* SPDX-License-Identifier: MIT */
/* columns.c and the table it drives (output.c): --output's list, each
 * column's cell, --raw, --noheadings and --json with columns. */
#include "columns.h"
#include "output.h"
#include "session.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

static void test_parse(void) {
        struct column_list l;
        const char *bad = NULL;
        size_t bad_len = 0;
        CHECK(columns_parse(COLUMNS_DEFAULT, &l, &bad, &bad_len) == 0 && l.n == 6 && l.ids[0] == COLUMN_SESSIONNAME &&
                      l.ids[5] == COLUMN_DEVICE,
              "the default is query session's six");
        CHECK(columns_parse("id,Username,LOGON-TIME", &l, &bad, &bad_len) == 0 && l.n == 3 && l.ids[0] == COLUMN_ID &&
                      l.ids[1] == COLUMN_USERNAME && l.ids[2] == COLUMN_LOGON_TIME,
              "names in any case, in the order given");
        CHECK(columns_parse("+IDLE,PROCESSES", &l, &bad, &bad_len) == 0 && l.n == 8 && l.ids[6] == COLUMN_IDLE &&
                      l.ids[7] == COLUMN_PROCESSES,
              "+ adds to the default");
        const char *spec = "ID,NOPE,USERNAME";
        CHECK(columns_parse(spec, &l, &bad, &bad_len) == -EINVAL && bad == spec + 3 && bad_len == 4,
              "an unknown name is pointed at");
        spec = "ID,USERNAME,id";
        CHECK(columns_parse(spec, &l, &bad, &bad_len) == -EEXIST && bad == spec + 12 && bad_len == 2,
              "a name given twice");
        CHECK(columns_parse("+ID", &l, &bad, &bad_len) == -EEXIST, "+ with a default column is twice");
        CHECK(columns_parse("", &l, &bad, &bad_len) == -EINVAL && bad_len == 0, "nothing");
        CHECK(columns_parse("ID,", &l, &bad, &bad_len) == -EINVAL, "an empty name after a comma");
        CHECK(columns_parse(",ID", &l, &bad, &bad_len) == -EINVAL, "an empty name first");
        CHECK(columns_parse("ID USERNAME", &l, &bad, &bad_len) == -EINVAL, "spaces do not separate");
        CHECK(columns_parse("+", &l, &bad, &bad_len) == -EINVAL, "a bare +");

        columns_all(&l);
        bool every = l.n == _COLUMN_MAX;
        for (size_t id = 0; id < _COLUMN_MAX; id++) {
                bool found = false;
                for (size_t i = 0; i < l.n; i++)
                        found = found || l.ids[i] == (enum column_id) id;
                every = every && found;
                const struct column *c = column_get((enum column_id) id);
                every = every && c && c->name && c->header && c->json_key && c->help && c->fill;
                /* Every name parses back to its own column. */
                struct column_list one;
                every = every && columns_parse(c->name, &one, &bad, &bad_len) == 0 && one.n == 1 &&
                        one.ids[0] == (enum column_id) id;
        }
        CHECK(every, "every column is described, in --json, and parses by its name");
}

static char *cell(enum column_id id, const struct session *s) {
        char buf[COLUMN_BUF];
        const char *v = column_get(id)->fill(s, buf);
        return v ? strdup(v) : NULL;
}

static void test_idle(void) {
        struct session s = { .idle_usec = -1 };
        char *v = cell(COLUMN_IDLE, &s);
        CHECK(!v, "unknown idle time: no value");
        free(v);
        static const struct {
                int64_t sec;
                const char *want;
        } cases[] = {
                { 0, "." }, { 59, "." }, { 60, "1" }, { 59 * 60 + 59, "59" }, { 3600, "1:00" },
                { 3600 + 5 * 60, "1:05" }, { 24 * 3600 - 1, "23:59" }, { 24 * 3600, "1+00:00" },
                { 3 * 86400 + 4 * 3600 + 7 * 60, "3+04:07" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                s.idle_usec = cases[i].sec * 1000000;
                v = cell(COLUMN_IDLE, &s);
                CHECK_STREQ(v, cases[i].want, "idle %lld s as quser has it", (long long) cases[i].sec);
                free(v);
        }
}

static struct session_list two(void) {
        static struct session s[2];
        s[0] = (struct session) { .id = "3", .name = "pts/0", .user = "alice", .state = SESSION_ACTIVE,
                                  .type = SESSION_TYPE_TTY, .remote_host = "10.0.0.9", .processes = 3, .leader = 42,
                                  .idle_usec = 125 * 1000000, .idle_source = IDLE_TTY, .audit_session = 3 };
        s[1] = (struct session) { .id = "c7", .user = "bob", .state = SESSION_DISCONNECTED, .type = SESSION_TYPE_RDP,
                                  .idle_usec = -1, .audit_session = AUDIT_SESSION_UNSET, .current = true,
                                  .member = { .audit_id = AUDIT_SESSION_UNSET, .cgroup = "/a b\\c\033]0;x\a" } };
        return (struct session_list) { .sessions = s, .n = 2 };
}

static char *print(const char *spec, bool headings, bool raw, bool json) {
        struct column_list cols;
        const char *bad;
        size_t bad_len;
        if (spec)
                columns_parse(spec, &cols, &bad, &bad_len);
        else
                columns_all(&cols);
        struct session_list l = two();
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        int r = json ? output_sessions_json(f, &l, NULL, &cols) : output_sessions_table(f, &l, NULL, &cols, headings, raw);
        fclose(f);
        if (r < 0) {
                free(out);
                return NULL;
        }
        return out;
}

static void test_table(void) {
        char *t = print("ID,USERNAME,IDLE,PROCESSES,MEMBERSHIP", true, false, false);
        CHECK_STREQ(t,
                    "     ID USERNAME              IDLE  PROCESSES  MEMBERSHIP\n"
                    "      3 alice                    2          3  audit\n"
                    ">    c7 bob                      -          0  cgroup\n",
                    "chosen columns, numbers right-aligned, '>' before the caller's");
        free(t);
        t = print("ID,USERNAME", false, false, false);
        CHECK_STREQ(t, "      3 alice\n>    c7 bob\n", "--noheadings");
        free(t);
        t = print("ID,SESSIONNAME,CGROUP,STATE", true, true, false);
        CHECK(t && strncmp(t, "ID SESSIONNAME CGROUP STATE\n3 pts/0 - Active\nc7 - ", 44) == 0,
              "--raw: one space between cells, '-' for none (got %s)", t ? t : "(null)");
        CHECK(t && strstr(t, "\\x20") && strstr(t, "\\x5c") && !strchr(t, '\033') && !strchr(t, '\a'),
              "--raw: a space and a backslash escaped, a raw cgroup's control characters cleaned");
        free(t);
        t = print("ID,CGROUP", true, false, false);
        CHECK(t && !strchr(t, '\033') && !strchr(t, '\a'), "the table cleans a raw cgroup path too");
        free(t);
}

static void test_json(void) {
        char *j = print("ID,IDLE,CURRENT,STATE,AUDIT", true, false, true);
        CHECK_STREQ(j,
                    "{\"sessions\":[\n"
                    "  {\"id\":\"3\",\"idle_seconds\":125,\"current\":false,\"state\":\"active\",\"audit_session\":3},\n"
                    "  {\"id\":\"c7\",\"idle_seconds\":null,\"current\":true,\"state\":\"disconnected\","
                    "\"audit_session\":null}\n"
                    "]}\n",
                    "--json with --output: those fields, numbers and booleans as JSON has them");
        free(j);
        j = print(NULL, true, false, true);
        CHECK(j && strncmp(j, "{\"sessions\":[\n  {\"id\":\"3\",\"audit_session\":3,\"backend\":null,\"name\":\"pts/0\",", 72) ==
                          0,
              "--json alone: every field, in the order it always had");
        CHECK(j && strstr(j, "\"login_time\":null,\"login_usec\":0,\"idle_seconds\":125,\"idle_source\":\"tty\","
                             "\"processes\":3,"
                             "\"current\":false,\"console\":false}"),
              "the last fields");
        free(j);
        j = print("ID,IDLE-FROM", true, false, true);
        CHECK_STREQ(j,
                    "{\"sessions\":[\n"
                    "  {\"id\":\"3\",\"idle_source\":\"tty\"},\n"
                    "  {\"id\":\"c7\",\"idle_source\":null}\n"
                    "]}\n",
                    "where idle time comes from, null where it is unknown");
        free(j);
        j = print("ID,IDLE,IDLE-FROM", false, true, false);
        CHECK_STREQ(j, "3 2 tty\nc7 - -\n", "--raw: unknown idle and its source both '-'");
        free(j);
}

int main(void) {
        test_parse();
        test_idle();
        test_table();
        test_json();
        return tap_done();
}
