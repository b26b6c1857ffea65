/* SPDX-License-Identifier: MIT */
#include "backend.h"

#include "pidref.h"
#include "util.h"

static int discover_with(const struct backend *b, struct session_list *l) {
        *l = (struct session_list) { .backend = b };
        _cleanup_free_ struct proc_info *all = NULL;
        size_t n_all = 0;
        int r = b->discover(l);
        if (r >= 0)
                r = proc_scan_all(0, &all, &n_all);
        if (r >= 0)
                r = backend_xrdp.enrich(l, all, n_all);
        if (r >= 0)
                r = backend_x2go.enrich(l, all, n_all);
        for (size_t i = 0; r >= 0 && i < l->n; i++)
                r = session_clean_text(&l->sessions[i]);
        if (r < 0) {
                session_list_done(l);
                return r;
        }
        session_list_sort(l);
        l->others_hidden = proc_hides_others();
        return 0;
}

int backends_discover(enum backend_choice choice, struct session_list *l, int *ret_fallback_error) {
        *ret_fallback_error = 0;
        switch (choice) {
        case BACKEND_KERNEL:
                return discover_with(&backend_kernel, l);
        case BACKEND_LOGIND: {
                int r = backend_logind.probe();
                return r < 0 ? r : discover_with(&backend_logind, l);
        }
        case BACKEND_AUTO:
        default: {
                /* Once logind answers, its sessions are the host's: a failure
                 * to read them is reported, not papered over with another
                 * view of the host. */
                int r = backend_logind.probe();
                if (r == 0)
                        return discover_with(&backend_logind, l);
                *ret_fallback_error = r;
                return discover_with(&backend_kernel, l);
        }
        }
}

int session_authorize(const struct session *s, struct end_report *rep) {
        const struct backend *b = s->backend->authorize ? s->backend : s->underlying;
        if (!b || !b->authorize) {
                *rep = (struct end_report) { .forgotten = -1, .desktop_result = -ENOTCONN };
                return -EACCES;
        }
        int r = b->authorize(s, rep);
        rep->desktop_result = -ENOTCONN;
        return r;
}

int session_end(const struct session *s, const struct terminate_options *o, struct end_report *rep) {
        /* What the session holds before anything is done: its host, or
         * the first signals, end some processes before a round meets them
         * (a terminal's shell dies with its terminal), and the report
         * counts every one. */
        _cleanup_free_ struct proc_info *known = NULL;
        size_t n_known = 0;
        /* Without pidfds no signal could be proved to reach the process
         * looked at: none is sent, and the host is not asked either. */
        int r = pidfd_supported();
        if (r >= 0)
                r = proc_scan(&s->member, o->graphical && o->ask_desktop ? PROC_SCAN_UIDS : 0, &known, &n_known);
        if (r < 0) {
                *rep = (struct end_report) { .forgotten = -1, .desktop_result = -ENOTCONN };
                return r;
        }

        /* A graphical session is acted on before its host is asked to end
         * it (its desktop asked to log out, its processes' rounds): the
         * host says first whether the caller may.  The others it decides
         * when asked, before anything is signalled. */
        const char *authorizer = NULL;
        if (o->host_must_agree && o->graphical) {
                r = session_authorize(s, rep);
                if (r < 0)
                        return r;
                authorizer = rep->authorizer;
                end_report_done(rep);
        }

        /* Its own "Log out" first: the applications get asked to save. */
        struct desktop_report desktop = { 0 };
        int desktop_result = -ENOTCONN;
        if (o->graphical && o->ask_desktop) {
                desktop_result = desktop_logout(s, known, n_known, o->desktop_wait_usec, &desktop);
                if (desktop_result == -ECANCELED) {
                        *rep = (struct end_report) { .forgotten = -1, .authorizer = authorizer,
                                                     .desktop_result = 0, .desktop = desktop };
                        r = proc_scan(&s->member, PROC_SCAN_UIDS, &rep->procs.left, &rep->procs.n_left);
                        return r < 0 ? r : -ECANCELED;
                }
        }

        struct terminate_options to = *o;
        to.known = known;
        to.n_known = n_known;
        r = s->backend->end(s, &to, rep);
        rep->authorizer = authorizer;
        rep->desktop_result = desktop_result;
        rep->desktop = desktop;
        return r;
}

void end_report_done(struct end_report *rep) {
        terminate_report_done(&rep->procs);
        free(rep->unclaimed);
        free(rep->ask_error_name);
        free(rep->ask_error_message);
        free(rep->unit);
        free(rep->unit_state);
        desktop_report_done(&rep->desktop);
        *rep = (struct end_report) { .forgotten = -1, .desktop_result = -ENOTCONN };
}
