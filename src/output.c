/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <inttypes.h>
#include <time.h>

#include "backend.h"
#include "text.h"
#include "util.h"

const char *printable_or_dash(const char *s, char **buf) {
        *buf = NULL;
        if (!s || !*s)
                return "-";
        if (!has_control_chars(s))
                return s;
        char *c = strdup(s);
        if (!c)
                return "?";
        for (unsigned char *p = (unsigned char *) c; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        *p = '?';
        *buf = c;
        return c;
}

void format_duration(char *buf, size_t size, uint64_t usec) {
        uint64_t s = usec / 1000000u;
        if (s >= 86400)
                snprintf(buf, size, "%" PRIu64 "days", s / 86400);
        else if (s >= 3600)
                snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
        else if (s >= 60)
                snprintf(buf, size, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
        else
                snprintf(buf, size, "%" PRIu64 "s", s);
}

/* What tells the session's processes: "audit", "cgroup", "audit+cgroup",
 * or "process-tree" (the weakest). */
static const char *membership_kind(const struct membership *m) {
        bool audit = m->audit_id != AUDIT_SESSION_UNSET, cgroup = m->cgroup != NULL;
        if (audit && cgroup)
                return "audit+cgroup";
        if (audit)
                return "audit";
        if (cgroup)
                return "cgroup";
        return m->tree.root ? "process-tree" : NULL;
}

static int width_of(const char *s) {
        return (int) text_width(s);
}

/* s, then spaces up to width display columns (printf counts bytes). */
static void put_padded(FILE *f, const char *s, int width) {
        fputs(s, f);
        for (int w = width_of(s); w < width; w++)
                fputc(' ', f);
}

int output_sessions_table(FILE *f, const struct session_list *l, const struct session *only) {
        /* Windows pads to these widths; wider values widen the column. */
        int w_name = 17, w_user = 20, w_id = 6;
        for (size_t i = 0; i < l->n; i++) {
                const struct session *s = &l->sessions[i];
                if (only && s != only)
                        continue;
                int wn = width_of(or_dash(s->name));
                int wu = width_of(or_dash(s->user));
                int wi = width_of(or_dash(s->id));
                if (wn > w_name)
                        w_name = wn;
                if (wu > w_user)
                        w_user = wu;
                if (wi > w_id)
                        w_id = wi;
        }

        fprintf(f, " %-*s %-*s %*s  %-6s  %-11s %s\n", w_name, "SESSIONNAME", w_user, "USERNAME", w_id, "ID",
                "STATE", "TYPE", "DEVICE");
        for (size_t i = 0; i < l->n; i++) {
                const struct session *s = &l->sessions[i];
                if (only && s != only)
                        continue;
                const char *id = or_dash(s->id);
                fputc(s->current ? '>' : ' ', f);
                put_padded(f, s->name ? or_dash(s->name) : "", w_name);
                fputc(' ', f);
                put_padded(f, or_dash(s->user), w_user);
                for (int w = width_of(id); w < w_id + 1; w++)
                        fputc(' ', f);
                fprintf(f, "%s  %-6s  %-11s %s\n", id, session_state_to_string(s->state),
                        session_type_to_string(s->type), s->remote_host ? or_dash(s->remote_host) : "");
        }
        return ferror(f) ? -EIO : 0;
}

static void json_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        /* Session strings are clean text already; one the host wrote and
         * that is kept raw (a cgroup path) is cleaned here, so the output is
         * always valid UTF-8. */
        _cleanup_free_ char *clean = NULL;
        if (!text_is_valid_utf8(s)) {
                clean = text_clean(s);
                s = clean ? clean : "?";
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void json_time(FILE *f, uint64_t usec) {
        time_t t = (time_t) (usec / 1000000u);
        struct tm tm;
        char buf[64];
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
                fputs("null", f);
                return;
        }
        json_string(f, buf);
}

int output_sessions_json(FILE *f, const struct session_list *l, const struct session *only) {
        bool first = true;
        fputs("{\"sessions\":[", f);
        for (size_t i = 0; i < l->n; i++) {
                const struct session *s = &l->sessions[i];
                if (only && s != only)
                        continue;
                if (!first)
                        fputc(',', f);
                first = false;
                fputs("\n  {\"id\":", f);
                json_string(f, s->id);
                fputs(",\"audit_session\":", f);
                if (s->audit_session == UINT32_MAX)
                        fputs("null", f);
                else
                        fprintf(f, "%" PRIu32, s->audit_session);
                fputs(",\"backend\":", f);
                json_string(f, session_backend_name(s));
                fputs(",\"name\":", f);
                json_string(f, s->name);
                fputs(",\"user\":", f);
                json_string(f, s->user);
                fprintf(f, ",\"uid\":%u,\"state\":", (unsigned) s->uid);
                json_string(f, s->state == SESSION_ACTIVE ? "active" : "disconnected");
                fputs(",\"type\":", f);
                json_string(f, session_type_to_string(s->type));
                fputs(",\"class\":", f);
                json_string(f, s->class_);
                fputs(",\"service\":", f);
                json_string(f, s->service);
                fputs(",\"seat\":", f);
                json_string(f, s->seat);
                fputs(",\"vt\":", f);
                if (s->vt)
                        fprintf(f, "%u", s->vt);
                else
                        fputs("null", f);
                fputs(",\"cgroup\":", f);
                json_string(f, s->member.cgroup);
                fputs(",\"desktop_session\":", f);
                json_string(f, s->desktop_id);
                fputs(",\"membership\":", f);
                json_string(f, membership_kind(&s->member));
                fputs(",\"remote_host\":", f);
                json_string(f, s->remote_host);
                fprintf(f, ",\"leader\":%d,\"login_time\":", (int) s->leader);
                json_time(f, s->login_usec);
                fprintf(f, ",\"login_usec\":%" PRIu64 ",\"idle_seconds\":", s->login_usec);
                if (s->idle_usec < 0)
                        fputs("null", f);
                else
                        fprintf(f, "%" PRId64, s->idle_usec / 1000000);
                fprintf(f, ",\"processes\":%u,\"current\":%s,\"console\":%s}", s->processes,
                        s->current ? "true" : "false", s->console ? "true" : "false");
        }
        fputs(first ? "]}\n" : "\n]}\n", f);
        return ferror(f) ? -EIO : 0;
}
