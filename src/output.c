/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <inttypes.h>

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

static int width_of(const char *s) {
        return (int) text_width(s);
}

/* A cell as printed: "-" (or nothing, for the columns that leave it
 * blank) for none; text the host wrote and that is kept raw (a cgroup
 * path) cleaned here, into *tmp. */
static const char *cell(const struct column *c, const struct session *s, char *buf, char **tmp) {
        const char *v = c->fill(s, buf);
        if (!v)
                return c->blank ? "" : "-";
        if (!*v)
                return "-";
        if (has_control_chars(v) || !text_is_valid_utf8(v)) {
                *tmp = text_clean(v);
                return *tmp ? *tmp : "?";
        }
        return v;
}

static bool shown(const struct session *s, const struct session *only) {
        return !only || s == only;
}

/* --raw: one space between cells, and a space or backslash in one as \x20
 * or \x5c, as util-linux's tools write it. */
static void put_raw(FILE *f, const char *v) {
        for (; *v; v++)
                if (*v == ' ' || *v == '\\')
                        fprintf(f, "\\x%02x", (unsigned char) *v);
                else
                        fputc(*v, f);
}

static void put_aligned(FILE *f, const char *v, int width, bool right, bool last) {
        int pad = width - width_of(v);
        for (int w = 0; right && w < pad; w++)
                fputc(' ', f);
        fputs(v, f);
        for (int w = 0; !right && !last && w < pad; w++)
                fputc(' ', f);
}

/* One line: the heading (s NULL) or a session's.  width NULL: --raw.  The
 * first character of an aligned line marks the caller's own session
 * ('>'), as "query session" does. */
static void put_line(FILE *f, const struct column_list *cols, const struct session *s, const int *width) {
        for (size_t k = 0; k < cols->n; k++) {
                char buf[COLUMN_BUF];
                _cleanup_free_ char *tmp = NULL;
                const struct column *c = column_get(cols->ids[k]);
                const char *v = s ? cell(c, s, buf, &tmp) : width ? c->header : c->name;
                if (!width) {
                        if (k)
                                fputc(' ', f);
                        put_raw(f, *v ? v : "-");
                        continue;
                }
                if (k == 0)
                        fputc(s && s->current ? '>' : ' ', f);
                for (unsigned g = k == 0 ? 0 : c->gap ? c->gap : 2; g > 0; g--)
                        fputc(' ', f);
                put_aligned(f, v, width[k], c->right, k + 1 == cols->n);
        }
        fputc('\n', f);
}

int output_sessions_table(FILE *f, const struct session_list *l, const struct session *only,
                          const struct column_list *cols, bool headings, bool raw) {
        int width[_COLUMN_MAX];
        for (size_t k = 0; !raw && k < cols->n; k++) {
                const struct column *c = column_get(cols->ids[k]);
                width[k] = c->min_width;
                if (headings && width_of(c->header) > width[k])
                        width[k] = width_of(c->header);
                for (size_t i = 0; i < l->n; i++) {
                        char buf[COLUMN_BUF];
                        _cleanup_free_ char *tmp = NULL;
                        int w = shown(&l->sessions[i], only) ? width_of(cell(c, &l->sessions[i], buf, &tmp)) : 0;
                        if (w > width[k])
                                width[k] = w;
                }
        }
        if (headings)
                put_line(f, cols, NULL, raw ? NULL : width);
        for (size_t i = 0; i < l->n; i++)
                if (shown(&l->sessions[i], only))
                        put_line(f, cols, &l->sessions[i], raw ? NULL : width);
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

int output_sessions_json(FILE *f, const struct session_list *l, const struct session *only,
                         const struct column_list *cols) {
        bool first = true;
        fputs("{\"sessions\":[", f);
        for (size_t i = 0; i < l->n; i++) {
                const struct session *s = &l->sessions[i];
                if (!shown(s, only))
                        continue;
                fputs(first ? "\n  {" : ",\n  {", f);
                first = false;
                for (size_t k = 0; k < cols->n; k++) {
                        char buf[COLUMN_BUF];
                        const struct column *c = column_get(cols->ids[k]);
                        const char *v = c->json_value ? c->json_value(s, buf) : c->fill(s, buf);
                        fprintf(f, "%s\"%s\":", k ? "," : "", c->json_key);
                        if (!v)
                                fputs("null", f);
                        else if (c->json == COLUMN_JSON_STRING)
                                json_string(f, v);
                        else
                                fputs(v, f);
                }
                fputc('}', f);
        }
        fputs(first ? "]}\n" : "\n]}\n", f);
        return ferror(f) ? -EIO : 0;
}
