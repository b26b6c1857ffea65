/* SPDX-License-Identifier: MIT */
#include "backend.h"
#include "output.h"
#include "procscan.h"
#include "session-child.h"
#include "select.h"
#include "session.h"
#include "tap.h"
#include "util.h"

#include <sys/sysmacros.h>

#include <signal.h>
#include <sys/wait.h>

static struct session_list fake_list(void) {
        static struct session s[5];
        s[0] = (struct session) { .id = "3", .name = "pts/0", .user = "alice", .state = SESSION_ACTIVE,
                                  .type = SESSION_TYPE_TTY, .remote_host = "10.0.0.9", .processes = 3 };
        s[1] = (struct session) { .id = "7", .name = "tty1", .user = "root", .state = SESSION_ACTIVE,
                                  .type = SESSION_TYPE_TTY, .console = true, .processes = 1, .current = true };
        s[2] = (struct session) { .id = "9", .name = ":10", .user = "bob", .state = SESSION_ACTIVE,
                                  .type = SESSION_TYPE_X11, .idle_usec = -1, .processes = 20 };
        s[3] = (struct session) { .id = "12", .name = NULL, .user = "bob\"q", .state = SESSION_DISCONNECTED,
                                  .type = SESSION_TYPE_UNSPECIFIED, .processes = 1 };
        s[4] = (struct session) { .id = "c1", .name = NULL, .user = "carol", .state = SESSION_ACTIVE,
                                  .type = SESSION_TYPE_TTY, .class_ = "user", .service = "su", .seat = "seat0",
                                  .vt = 2, .audit_session = UINT32_MAX, .processes = 2 };
        for (size_t i = 0; i < 4; i++)
                s[i].audit_session = (uint32_t) atoi(s[i].id);
        return (struct session_list) { .sessions = s, .n = 5 };
}

static const struct session *pick(const struct session_list *l, const char *target, int *r) {
        struct options o = { .target = target };
        if (target && parse_u32(target, &o.target_id) == 0)
                o.target_is_id = true;
        const struct session *s = NULL;
        *r = select_session(l, &o, &s);
        return *r == 0 ? s : NULL;
}

static void test_select(void) {
        struct session_list l = fake_list();
        int r;
        const struct session *s;

        s = pick(&l, NULL, &r);
        CHECK(s && streq(s->id, "7"), "no target: the current session");
        s = pick(&l, "9", &r);
        CHECK(s && streq(s->id, "9"), "by ID");
        s = pick(&l, "009", &r);
        CHECK(s && streq(s->id, "9"), "by ID with leading zeros");
        s = pick(&l, "c1", &r);
        CHECK(s && streq(s->id, "c1"), "by logind's string ID");
        s = pick(&l, "C1", &r);
        CHECK(s && streq(s->id, "c1"), "by string ID, case-insensitive");
        s = pick(&l, "c2", &r);
        CHECK(!s && r == -ENOENT, "unknown string ID");
        s = pick(&l, "PTS/0", &r);
        CHECK(s && streq(s->id, "3"), "by name, case-insensitive");
        s = pick(&l, "/dev/pts/0", &r);
        CHECK(s && streq(s->id, "3"), "by /dev/ path");
        s = pick(&l, "/DEV/pts/0", &r);
        CHECK(s && streq(s->id, "3"), "by /DEV/ path");
        s = pick(&l, ":10", &r);
        CHECK(s && streq(s->id, "9"), "by X display");
        s = pick(&l, ":10.0", &r);
        CHECK(s && streq(s->id, "9"), "by X display with its screen, as DISPLAY says it");
        s = pick(&l, ":10.1", &r);
        CHECK(s && streq(s->id, "9"), "any screen of the display");
        s = pick(&l, ":1", &r);
        CHECK(!s && r == -ENOENT, "a display is no prefix match");
        s = pick(&l, ":10.", &r);
        CHECK(!s && r == -ENOENT, "a malformed screen number matches nothing");
        s = pick(&l, "console", &r);
        CHECK(s && streq(s->id, "7"), "'console' names the console session");
        s = pick(&l, "pts/9", &r);
        CHECK(!s && r == -ENOENT, "unknown name");
        s = pick(&l, "4", &r);
        CHECK(!s && r == -ENOENT, "unknown ID");
        s = pick(&l, "pts/", &r);
        CHECK(!s && r == -ENOENT, "prefix of a name is not a match");

        l.sessions[1].current = false;
        s = pick(&l, NULL, &r);
        CHECK(!s && r == -ESRCH, "no target and not in a session");

        /* The same line twice: the active login wins over remnants, two
         * active ones are ambiguous. */
        struct session dup[3] = {
                { .id = "20", .name = "pts/5", .state = SESSION_DISCONNECTED },
                { .id = "21", .name = "pts/5", .state = SESSION_ACTIVE },
                { .id = "22", .name = "pts/6", .state = SESSION_ACTIVE },
        };
        struct session_list d = { .sessions = dup, .n = 3 };
        s = pick(&d, "pts/5", &r);
        CHECK(s && streq(s->id, "21"), "active session preferred over a disconnected one of the same name");
        dup[0].state = SESSION_ACTIVE;
        s = pick(&d, "pts/5", &r);
        CHECK(!s && r == -ENOTUNIQ, "two active sessions of one name are ambiguous");
}

static int table(FILE *f, const struct session_list *l, const struct session *only) {
        struct column_list cols;
        const char *bad;
        size_t bad_len;
        int r = columns_parse(COLUMNS_DEFAULT, &cols, &bad, &bad_len);
        return r < 0 ? r : output_sessions_table(f, l, only, &cols, true, false);
}

static int json(FILE *f, const struct session_list *l, const struct session *only) {
        struct column_list cols;
        columns_all(&cols);
        return output_sessions_json(f, l, only, &cols);
}

static char *capture(int (*fn)(FILE *, const struct session_list *, const struct session *),
                     const struct session_list *l, const struct session *only) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        fn(f, l, only);
        fclose(f);
        return buf;
}

static void test_display_names(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { ":10", ":10" }, { ":10.0", ":10" }, { ":10.12", ":10" }, { ":10.", ":10." },
                { ":x", ":x" }, { "pts/3", "pts/3" }, { ":", ":" }, { "host:10.0", "host:10.0" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char *d = display_name(cases[i].in);
                CHECK_STREQ(d, cases[i].out, "display_name(\"%s\")", cases[i].in);
                free(d);
        }
}

static void test_output(void) {
        struct session_list l = fake_list();
        char *t = capture(table, &l, NULL);
        CHECK(t && strncmp(t, " SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE\n",
                           strlen(" SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE\n")) == 0,
              "table header in the query session layout");
        CHECK(t && strstr(t, "\n pts/0             alice                     3  Active  tty         10.0.0.9\n"),
              "a remote tty session row");
        CHECK(t && strstr(t, "\n>tty1              root                      7  Active  tty         \n"),
              "'>' marks the current session");
        CHECK(t && strstr(t, "\n                   bob\"q                    12  Disc    unspecified \n"),
              "a disconnected session without a name");
        CHECK(t && strstr(t, "\n                   carol                    c1  Active  tty         \n"),
              "a string ID, right-aligned");
        free(t);

        t = capture(table, &l, &l.sessions[2]);
        CHECK(t && strstr(t, ":10") && !strstr(t, "pts/0"), "table of one session");
        free(t);

        char *j = capture(json, &l, NULL);
        static const char head[] = "{\"sessions\":[\n  {\"id\":\"3\",\"audit_session\":3,";
        CHECK(j && strncmp(j, head, strlen(head)) == 0,
              "JSON starts with the first session, its ID a string");
        CHECK(j && strstr(j, "{\"id\":\"c1\",\"audit_session\":null,"), "JSON: no audit session is null");
        CHECK(j && strstr(j, "\"class\":\"user\",\"service\":\"su\",\"seat\":\"seat0\",\"vt\":2,"),
              "JSON: class, service, seat and VT");
        CHECK(j && strstr(j, "\"class\":null,\"service\":null,\"seat\":null,\"vt\":null,"),
              "JSON: null class, service, seat and VT where unknown");
        CHECK(j && strstr(j, "\"user\":\"bob\\\"q\""), "JSON escapes quotes");
        CHECK(j && strstr(j, "\"name\":null"), "JSON null for a missing name");
        CHECK(j && strstr(j, "\"idle_seconds\":null"), "JSON null for an unknown idle time");
        CHECK(j && strstr(j, "\"console\":true"), "JSON console flag");
        free(j);

        struct session_list empty = { 0 };
        j = capture(json, &empty, NULL);
        CHECK_STREQ(j, "{\"sessions\":[]}\n", "JSON of no sessions");
        free(j);
}

/* A real audit session: a root child writes its loginuid, as pam_loginuid
 * does, and gets a session of its own that discovery must find. */
static void test_discover_real_session(void) {
        if (geteuid() != 0) {
                CHECK(false, "this test needs root (it creates an audit session)");
                return;
        }
        uint32_t sid;
        pid_t child = spawn_session_child(&sid);
        CHECK(child > 0 && sid != AUDIT_SESSION_UNSET, "child got an audit session");

        struct session_list l;
        int fallback;
        CHECK(backends_discover(&host_kernel, &l, &fallback) == 0, "discover");
        const struct session *found = NULL;
        for (size_t i = 0; i < l.n; i++)
                if (l.sessions[i].audit_session == sid)
                        found = &l.sessions[i];
        CHECK(found != NULL, "the new session %u is listed", sid);
        if (found) {
                char want[16];
                snprintf(want, sizeof(want), "%u", sid);
                CHECK(streq(found->id, want), "its ID is the audit session number");
                CHECK(found->member.audit_id == sid && !found->member.cgroup, "membership by audit session");
                CHECK(found->host == &host_kernel, "found by the kernel backend");
                CHECK(found->leader == child, "its leader is the child");
                CHECK(found->processes == 1, "it has one process");
                CHECK(streq(found->user, "root") && found->uid == 0, "it belongs to root");
                CHECK(!found->current, "it is not the caller's session");
                CHECK(!found->console, "it is not the console");
                CHECK(found->state == SESSION_DISCONNECTED && !found->name, "no terminal: disconnected, no name");
        }
        session_list_done(&l);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
}

static void test_tty_names(void) {
        char *s = NULL;
        CHECK(tty_name_from_dev(makedev(136, 3), &s) == 0 && streq(s, "pts/3"), "pts/3");
        free(s);
        CHECK(tty_name_from_dev(makedev(137, 1), &s) == 0 && streq(s, "pts/257"), "pts/257");
        free(s);
        CHECK(tty_name_from_dev(makedev(4, 2), &s) == 0 && streq(s, "tty2"), "tty2");
        free(s);
        CHECK(tty_name_from_dev(makedev(4, 64), &s) == 0 && streq(s, "ttyS0"), "ttyS0");
        free(s);
        CHECK(tty_name_from_dev(makedev(5, 1), &s) == 0 && streq(s, "console"), "console");
        free(s);
        CHECK(tty_line_is_console("console") && tty_line_is_console("/dev/console"), "console line");
        CHECK(!tty_line_is_console("pts/0") && !tty_line_is_console(NULL), "pts is not the console");
}

int main(void) {
        test_tty_names();
        test_select();
        test_display_names();
        test_output();
        test_discover_real_session();
        return tap_done();
}
