/* SPDX-License-Identifier: MIT */
#include "warn.h"

#include <sys/stat.h>
#include <time.h>

#include "desktop.h"
#include "interrupt.h"
#include "procscan.h"
#include "session.h"
#include "text.h"
#include "util.h"

#define POLL_USEC (200u * 1000u)

/* Seconds left at which the warning is given again, as shutdown(8) does. */
static const unsigned again_at[] = { 3600, 1800, 900, 600, 300, 120, 60, 30, 10 };

char *warn_format_time_left(uint64_t usec) {
        unsigned long secs = (unsigned long) ((usec + 999999u) / 1000000u);
        unsigned long h = secs / 3600, m = (secs % 3600) / 60, sec = secs % 60;
        char *s = NULL;
        int k;
        if (h) {
                _cleanup_free_ char *hs = NULL, *ms = NULL;
                if (asprintf(&hs, ngettext("%lu hour", "%lu hours", h), h) < 0)
                        return NULL;
                if (m && asprintf(&ms, ngettext("%lu minute", "%lu minutes", m), m) < 0)
                        return NULL;
                k = ms ? asprintf(&s, "%s %s", hs, ms) : asprintf(&s, "%s", hs);
        } else if (m && (sec == 0 || m >= 5)) {
                /* Past five minutes, to the nearest minute. */
                unsigned long mm = m + (sec >= 30);
                k = asprintf(&s, ngettext("%lu minute", "%lu minutes", mm), mm);
        }
        else if (m) {
                _cleanup_free_ char *ms = NULL, *ss = NULL;
                if (asprintf(&ms, ngettext("%lu minute", "%lu minutes", m), m) < 0 ||
                    asprintf(&ss, ngettext("%lu second", "%lu seconds", sec), sec) < 0)
                        return NULL;
                k = asprintf(&s, "%s %s", ms, ss);
        } else
                k = asprintf(&s, ngettext("%lu second", "%lu seconds", secs), secs);
        return k < 0 ? NULL : s;
}

/* The session's user processes, and the terminals they hold. */
struct snapshot {
        struct proc_info *procs;
        size_t n;
        unsigned user_procs;
};

static int take_snapshot(const struct session *s, struct snapshot *snap) {
        free(snap->procs);
        *snap = (struct snapshot) { 0 };
        int r = membership_scan(&s->member, PROC_SCAN_UIDS, &snap->procs, &snap->n);
        if (r < 0)
                return r;
        snap->user_procs = proc_count_alive_of(snap->procs, snap->n, s->uid);
        return 0;
}

/* One terminal, by its device: opened without following a link and
 * without becoming anyone's controlling terminal, checked to be that very
 * device, and written only as far as it takes at once. */
static int write_terminal(dev_t dev, const char *msg) {
        _cleanup_free_ char *name = NULL, *path = NULL;
        int r = tty_name_from_dev(dev, &name);
        if (r < 0)
                return r;
        if (asprintf(&path, "/dev/%s", name) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        _cleanup_close_ int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || st.st_rdev != dev || !isatty(fd))
                return -ENOTTY;
        size_t len = strlen(msg);
        ssize_t n = write(fd, msg, len);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EAGAIN;
}

/* A terminal wants "\r\n": it may be in raw mode (an editor). */
static char *terminal_text(const char *header, const char *body) {
        size_t len = strlen(header) + 2 * strlen(body) + 16;
        char *out = malloc(len);
        if (!out)
                return NULL;
        char *w = out;
        w += sprintf(w, "\r\n\a%s\r\n", header);
        for (const char *p = body; *p; p++) {
                if (*p == '\n')
                        *w++ = '\r';
                *w++ = *p;
        }
        strcpy(w, "\r\n");
        return out;
}

static int warn_once(const struct session *s, const struct snapshot *snap, const char *text, uint64_t left_usec,
                     uint32_t *notify_id, struct warn_report *rep) {
        _cleanup_free_ char *left = warn_format_time_left(left_usec);
        if (!left)
                return -ENOMEM;
        _cleanup_free_ char *body = NULL, *summary = NULL, *header = NULL, *tty_msg = NULL;
        const char *session_name = s->name ? s->name : s->id;
        if (asprintf(&summary, _("Your session will be logged off in %s"), left) < 0)
                summary = NULL;
        if (text && asprintf(&body, _("%s\nSession %s will be logged off in %s."), text, session_name, left) < 0)
                body = NULL;
        if (!text && asprintf(&body, _("Save your work and log out: session %s will be logged off in %s."),
                              session_name, left) < 0)
                body = NULL;
        char when[32] = "";
        time_t now = time(NULL);
        struct tm tm;
        if (localtime_r(&now, &tm))
                strftime(when, sizeof(when), "%H:%M", &tm);
        if (asprintf(&header, _("Message from logoff at %s:"), when) < 0)
                header = NULL;
        if (!summary || !body || !header)
                return -ENOMEM;
        tty_msg = terminal_text(header, body);
        if (!tty_msg)
                return -ENOMEM;

        rep->rounds++;
        rep->terminals = rep->terminals_skipped = 0;
        /* Each terminal once: at most one per process, and the session's own. */
        _cleanup_free_ dev_t *seen = calloc(snap->n + 1, sizeof(*seen));
        if (!seen)
                return -ENOMEM;
        size_t n_seen = 0;
        for (size_t i = 0; i <= snap->n; i++) {
                dev_t dev = i < snap->n ? snap->procs[i].tty : s->tty;
                bool dup = dev == 0;
                for (size_t k = 0; k < n_seen && !dup; k++)
                        dup = seen[k] == dev;
                if (dup)
                        continue;
                seen[n_seen++] = dev;
                if (write_terminal(dev, tty_msg) == 0)
                        rep->terminals++;
                else
                        rep->terminals_skipped++;
        }
        if (session_is_graphical(s)) {
                free(rep->notify_error);
                rep->notify_error = NULL;
                rep->notify_result = desktop_notify(s, snap->procs, snap->n, summary, body, notify_id,
                                                    &rep->notify_error);
        }
        return 0;
}

int warn_and_wait(const struct session *s, const char *text, uint64_t grace_usec, struct warn_report *rep) {
        *rep = (struct warn_report) { .notify_result = -ENOTCONN };
        struct snapshot snap = { 0 };
        uint32_t notify_id = 0;
        uint64_t start = now_monotonic_usec(), deadline = start + grace_usec;
        size_t next = 0;
        while (next < ARRAY_SIZE(again_at) && (uint64_t) again_at[next] * 1000000u >= grace_usec)
                next++;
        int r = take_snapshot(s, &snap);
        if (r >= 0)
                r = warn_once(s, &snap, text, grace_usec, &notify_id, rep);
        while (r >= 0) {
                uint64_t now = now_monotonic_usec();
                rep->waited_usec = now - start;
                if (interrupt_pending()) {
                        r = -ECANCELED;
                        break;
                }
                r = take_snapshot(s, &snap);
                if (r < 0)
                        break;
                if (snap.user_procs == 0) {
                        rep->ended_by_itself = true;
                        r = 1;
                        break;
                }
                if (now >= deadline) {
                        r = 0;
                        break;
                }
                uint64_t left = deadline - now;
                if (next < ARRAY_SIZE(again_at) && left <= (uint64_t) again_at[next] * 1000000u) {
                        r = warn_once(s, &snap, text, left, &notify_id, rep);
                        while (next < ARRAY_SIZE(again_at) && (uint64_t) again_at[next] * 1000000u >= left)
                                next++;
                        if (r < 0)
                                break;
                }
                sleep_usec(left < POLL_USEC ? left : POLL_USEC);
        }
        free(snap.procs);
        return r;
}

void warn_report_done(struct warn_report *rep) {
        free(rep->notify_error);
        *rep = (struct warn_report) { .notify_result = -ENOTCONN };
}
