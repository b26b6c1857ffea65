/* SPDX-License-Identifier: MIT */
#include "columns.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backend.h"
#include "output.h"
#include "util.h"

/* Every string of a session was cleaned where it entered (session.h):
 * the fills hand it on as it is. */

static const char *fill_name(const struct session *s, char *buf) {
        (void) buf;
        return s->name;
}

static const char *fill_user(const struct session *s, char *buf) {
        (void) buf;
        return s->user;
}

static const char *fill_id(const struct session *s, char *buf) {
        (void) buf;
        return s->id;
}

static const char *fill_state(const struct session *s, char *buf) {
        (void) buf;
        return session_state_to_string(s->state);
}

static const char *json_state(const struct session *s, char *buf) {
        (void) buf;
        return s->state == SESSION_ACTIVE ? "active" : "disconnected";
}

static const char *fill_type(const struct session *s, char *buf) {
        (void) buf;
        return session_type_to_string(s->type);
}

static const char *fill_device(const struct session *s, char *buf) {
        (void) buf;
        return s->remote_host;
}

static const char *fill_idle_from(const struct session *s, char *buf) {
        (void) buf;
        return idle_source_to_string(s->idle_source);
}

/* As quser(1) has it: "." under a minute, then minutes, H:MM, D+HH:MM. */
static const char *fill_idle(const struct session *s, char *buf) {
        if (s->idle_usec < 0)
                return NULL;
        uint64_t m = (uint64_t) s->idle_usec / 60000000u;
        if (m == 0)
                return ".";
        if (m < 60)
                snprintf(buf, COLUMN_BUF, "%" PRIu64, m);
        else if (m < 24 * 60)
                snprintf(buf, COLUMN_BUF, "%" PRIu64 ":%02" PRIu64, m / 60, m % 60);
        else
                snprintf(buf, COLUMN_BUF, "%" PRIu64 "+%02" PRIu64 ":%02" PRIu64, m / (24 * 60), m / 60 % 24, m % 60);
        return buf;
}

static const char *json_idle(const struct session *s, char *buf) {
        if (s->idle_usec < 0)
                return NULL;
        snprintf(buf, COLUMN_BUF, "%" PRId64, s->idle_usec / 1000000);
        return buf;
}

static const char *format_time(uint64_t usec, bool utc, const char *format, char *buf) {
        if (!usec)
                return NULL;
        time_t t = (time_t) (usec / 1000000u);
        struct tm tm;
        if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) || strftime(buf, COLUMN_BUF, format, &tm) == 0)
                return NULL;
        return buf;
}

static const char *fill_logon_time(const struct session *s, char *buf) {
        return format_time(s->login_usec, false, "%Y-%m-%d %H:%M", buf);
}

static const char *json_logon_time(const struct session *s, char *buf) {
        return format_time(s->login_usec, true, "%Y-%m-%dT%H:%M:%SZ", buf);
}

static const char *fill_logon_usec(const struct session *s, char *buf) {
        snprintf(buf, COLUMN_BUF, "%" PRIu64, s->login_usec);
        return buf;
}

static const char *fill_processes(const struct session *s, char *buf) {
        snprintf(buf, COLUMN_BUF, "%u", s->processes);
        return buf;
}

static const char *fill_backend(const struct session *s, char *buf) {
        (void) buf;
        return session_backend_name(s);
}

static const char *fill_class(const struct session *s, char *buf) {
        (void) buf;
        return s->class_;
}

static const char *fill_service(const struct session *s, char *buf) {
        (void) buf;
        return s->service;
}

static const char *fill_leader(const struct session *s, char *buf) {
        snprintf(buf, COLUMN_BUF, "%d", (int) s->leader);
        return buf;
}

/* What tells the session's processes: "audit", "cgroup", "audit+cgroup",
 * or "process-tree" (the weakest). */
static const char *fill_membership(const struct session *s, char *buf) {
        (void) buf;
        const struct membership *m = &s->member;
        bool audit = m->audit_id != AUDIT_SESSION_UNSET, cgroup = m->cgroup != NULL;
        if (audit && cgroup)
                return "audit+cgroup";
        if (audit)
                return "audit";
        if (cgroup)
                return "cgroup";
        return m->tree.root ? "process-tree" : NULL;
}

static const char *fill_uid(const struct session *s, char *buf) {
        snprintf(buf, COLUMN_BUF, "%u", (unsigned) s->uid);
        return buf;
}

static const char *fill_audit(const struct session *s, char *buf) {
        if (s->audit_session == AUDIT_SESSION_UNSET)
                return NULL;
        snprintf(buf, COLUMN_BUF, "%" PRIu32, s->audit_session);
        return buf;
}

static const char *fill_seat(const struct session *s, char *buf) {
        (void) buf;
        return s->seat;
}

static const char *fill_vt(const struct session *s, char *buf) {
        if (!s->vt)
                return NULL;
        snprintf(buf, COLUMN_BUF, "%u", s->vt);
        return buf;
}

static const char *fill_cgroup(const struct session *s, char *buf) {
        (void) buf;
        return s->member.cgroup;
}

static const char *fill_desktop(const struct session *s, char *buf) {
        (void) buf;
        return s->desktop_id;
}

static const char *yes_no(bool b) { return b ? "yes" : "no"; }
static const char *true_false(bool b) { return b ? "true" : "false"; }

static const char *fill_current(const struct session *s, char *buf) {
        (void) buf;
        return yes_no(s->current);
}

static const char *json_current(const struct session *s, char *buf) {
        (void) buf;
        return true_false(s->current);
}

static const char *fill_console(const struct session *s, char *buf) {
        (void) buf;
        return yes_no(s->console);
}

static const char *json_console(const struct session *s, char *buf) {
        (void) buf;
        return true_false(s->console);
}

/* The default six keep "query session"'s widths and gaps; the table
 * widens a column for a wider value.  In the order --help lists them. */
static const struct column columns[] = {
        [COLUMN_SESSIONNAME] = { "SESSIONNAME", "SESSIONNAME", "name", N_("session name: its terminal or display"),
                                 .min_width = 17, .blank = true, .fill = fill_name },
        [COLUMN_USERNAME] = { "USERNAME", "USERNAME", "user", N_("user name"), .gap = 1, .min_width = 20,
                              .fill = fill_user },
        [COLUMN_ID] = { "ID", "ID", "id", N_("session ID (logind's, or the audit session)"), .gap = 1, .min_width = 6,
                        .right = true, .fill = fill_id },
        [COLUMN_STATE] = { "STATE", "STATE", "state", N_("Active, or Disc (disconnected)"), .min_width = 6,
                           .fill = fill_state, .json_value = json_state },
        [COLUMN_TYPE] = { "TYPE", "TYPE", "type", N_("tty, x11, wayland, rdp, x2go..."), .min_width = 11,
                          .fill = fill_type },
        [COLUMN_DEVICE] = { "DEVICE", "DEVICE", "remote_host", N_("where the user is logged in from"), .gap = 1,
                            .blank = true, .fill = fill_device },
        [COLUMN_IDLE] = { "IDLE", "IDLE", "idle_seconds", N_("idle time as quser(1): . under a minute, M, H:MM, D+HH:MM"),
                          .right = true, .json = COLUMN_JSON_NUMBER, .fill = fill_idle, .json_value = json_idle },
        [COLUMN_IDLE_FROM] = { "IDLE-FROM", "IDLE FROM", "idle_source",
                               N_("where IDLE comes from: logind (IdleHint), tty (its atime)"),
                               .fill = fill_idle_from },
        [COLUMN_LOGON_TIME] = { "LOGON-TIME", "LOGON TIME", "login_time", N_("when the session began (local time)"),
                                .fill = fill_logon_time, .json_value = json_logon_time },
        [COLUMN_LOGON_USEC] = { "LOGON-USEC", "LOGON-USEC", "login_usec",
                                N_("when the session began, in microseconds since the epoch"), .right = true,
                                .json = COLUMN_JSON_NUMBER, .fill = fill_logon_usec },
        [COLUMN_PROCESSES] = { "PROCESSES", "PROCESSES", "processes", N_("processes of the session, zombies aside"),
                               .right = true, .json = COLUMN_JSON_NUMBER, .fill = fill_processes },
        [COLUMN_BACKEND] = { "BACKEND", "BACKEND", "backend", N_("what found the session: logind, kernel, xrdp, x2go"),
                             .fill = fill_backend },
        [COLUMN_CLASS] = { "CLASS", "CLASS", "class", N_("logind's class: user, greeter..."), .fill = fill_class },
        [COLUMN_SERVICE] = { "SERVICE", "SERVICE", "service", N_("the PAM service: sshd, login, xrdp-sesman..."),
                             .fill = fill_service },
        [COLUMN_LEADER] = { "LEADER", "LEADER", "leader", N_("pid of the session's leader (0: gone)"), .right = true,
                            .json = COLUMN_JSON_NUMBER, .fill = fill_leader },
        [COLUMN_MEMBERSHIP] = { "MEMBERSHIP", "MEMBERSHIP", "membership",
                                N_("what tells its processes: audit, cgroup or both, process-tree"),
                                .fill = fill_membership },
        [COLUMN_UID] = { "UID", "UID", "uid", N_("user ID"), .right = true, .json = COLUMN_JSON_NUMBER,
                         .fill = fill_uid },
        [COLUMN_AUDIT] = { "AUDIT", "AUDIT", "audit_session", N_("the kernel's audit session"), .right = true,
                           .json = COLUMN_JSON_NUMBER, .fill = fill_audit },
        [COLUMN_SEAT] = { "SEAT", "SEAT", "seat", N_("logind's seat"), .fill = fill_seat },
        [COLUMN_VT] = { "VT", "VT", "vt", N_("virtual terminal"), .right = true, .json = COLUMN_JSON_NUMBER,
                        .fill = fill_vt },
        [COLUMN_CGROUP] = { "CGROUP", "CGROUP", "cgroup", N_("the session's cgroup"), .fill = fill_cgroup },
        [COLUMN_DESKTOP] = { "DESKTOP", "DESKTOP", "desktop_session", N_("the remote desktop server's own session ID"),
                             .fill = fill_desktop },
        [COLUMN_CURRENT] = { "CURRENT", "CURRENT", "current", N_("yes for the caller's own session"),
                             .json = COLUMN_JSON_BOOL, .fill = fill_current, .json_value = json_current },
        [COLUMN_CONSOLE] = { "CONSOLE", "CONSOLE", "console", N_("yes for the console session"),
                             .json = COLUMN_JSON_BOOL, .fill = fill_console, .json_value = json_console },
};

_Static_assert(ARRAY_SIZE(columns) == _COLUMN_MAX, "a description for every column");

const struct column *column_get(enum column_id id) {
        return (size_t) id < ARRAY_SIZE(columns) ? &columns[id] : NULL;
}

static int parse_list(const char *spec, struct column_list *l, const char **ret_bad, size_t *ret_bad_len) {
        for (const char *p = spec;;) {
                size_t len = strcspn(p, ",");
                size_t id = 0;
                while (id < ARRAY_SIZE(columns) &&
                       !(strlen(columns[id].name) == len && strncasecmp(columns[id].name, p, len) == 0))
                        id++;
                bool twice = false;
                for (size_t i = 0; id < ARRAY_SIZE(columns) && i < l->n; i++)
                        twice = twice || l->ids[i] == (enum column_id) id;
                if (id == ARRAY_SIZE(columns) || twice) {
                        *ret_bad = p;
                        *ret_bad_len = len;
                        return twice ? -EEXIST : -EINVAL;
                }
                l->ids[l->n++] = (enum column_id) id;
                if (!p[len])
                        return 0;
                p += len + 1;
        }
}

int columns_parse(const char *spec, struct column_list *ret, const char **ret_bad, size_t *ret_bad_len) {
        struct column_list l = { .n = 0 };
        const char *bad;
        size_t bad_len;
        if (spec[0] == '+') {
                int r = parse_list(COLUMNS_DEFAULT, &l, &bad, &bad_len);
                if (r < 0)
                        return r;
                spec++;
        }
        int r = parse_list(spec, &l, ret_bad, ret_bad_len);
        if (r < 0)
                return r;
        *ret = l;
        return 0;
}

void columns_all(struct column_list *ret) {
        /* The fields' order since --json came: scripts may read it. */
        static const enum column_id order[] = {
                COLUMN_ID,          COLUMN_AUDIT,     COLUMN_BACKEND,    COLUMN_SESSIONNAME, COLUMN_USERNAME,
                COLUMN_UID,         COLUMN_STATE,     COLUMN_TYPE,       COLUMN_CLASS,       COLUMN_SERVICE,
                COLUMN_SEAT,        COLUMN_VT,        COLUMN_CGROUP,     COLUMN_DESKTOP,     COLUMN_MEMBERSHIP,
                COLUMN_DEVICE,      COLUMN_LEADER,    COLUMN_LOGON_TIME, COLUMN_LOGON_USEC,  COLUMN_IDLE,
                COLUMN_IDLE_FROM,   COLUMN_PROCESSES,   COLUMN_CURRENT,   COLUMN_CONSOLE,
        };
        _Static_assert(ARRAY_SIZE(order) == _COLUMN_MAX, "every column in --json");
        ret->n = ARRAY_SIZE(order);
        memcpy(ret->ids, order, sizeof(order));
}
