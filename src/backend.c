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
                r = proc_scan(&s->member, 0, &known, &n_known);
        if (r < 0) {
                *rep = (struct end_report) { .forgotten = -1 };
                return r;
        }
        struct terminate_options to = *o;
        to.known = known;
        to.n_known = n_known;
        return s->backend->end(s, &to, rep);
}

void end_report_done(struct end_report *rep) {
        terminate_report_done(&rep->procs);
        free(rep->unclaimed);
        free(rep->ask_error_name);
        free(rep->ask_error_message);
        free(rep->unit);
        free(rep->unit_state);
        *rep = (struct end_report) { .forgotten = -1 };
}
