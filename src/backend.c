/* SPDX-License-Identifier: MIT */
#include "backend.h"

#include "pidref.h"
#include "util.h"

/* The registry: every kind logoff knows, each defined in its own file.
 * Session hosts in the order --backend=auto tries them. */
static const struct session_host *const session_hosts[] = { &host_logind, &host_kernel };
static const struct desktop_server *const servers[] = { &server_xrdp, &server_x2go };

const struct desktop_server *const *desktop_servers(size_t *ret_n) {
        *ret_n = ARRAY_SIZE(servers);
        return servers;
}

const struct desktop_server *desktop_server_of_type(enum session_type type) {
        for (size_t i = 0; i < ARRAY_SIZE(servers); i++)
                if (servers[i]->type == type)
                        return servers[i];
        return NULL;
}

const char *session_backend_name(const struct session *s) {
        return s->server ? s->server->name : s->host ? s->host->name : NULL;
}

bool session_host_authorizes(const struct session *s) {
        return !s->server && s->host && s->host->authorizes;
}

static int discover_with(const struct session_host *h, struct session_list *l) {
        *l = (struct session_list) { .host = h };
        _cleanup_free_ struct proc_info *all = NULL;
        size_t n_all = 0;
        int r = h->discover(l);
        if (r >= 0)
                r = proc_scan_all(0, &all, &n_all);
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(servers); i++)
                r = servers[i]->enrich(l, all, n_all);
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

static int probe(const struct session_host *h) { return h->probe ? h->probe() : 0; }

int backends_discover(const struct session_host *only, struct session_list *l, int *ret_fallback_error) {
        *ret_fallback_error = 0;
        if (only) {
                int r = probe(only);
                return r < 0 ? r : discover_with(only, l);
        }
        /* Once a host answers, its sessions are the host's: a failure to
         * read them is reported, not papered over with another view of the
         * host.  *ret_fallback_error says why the first was not used. */
        for (size_t i = 0; i < ARRAY_SIZE(session_hosts); i++) {
                int r = probe(session_hosts[i]);
                if (r == 0)
                        return discover_with(session_hosts[i], l);
                if (i == 0)
                        *ret_fallback_error = r;
        }
        return -ENOENT;
}

int session_authorize(const struct session *s, struct host_report *rep) {
        *rep = HOST_REPORT_INIT;
        const struct session_host *b = s->host;
        return b && b->authorize ? b->authorize(s, rep) : -EACCES;
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
                r = membership_scan(&s->member, o->graphical && o->ask_desktop ? PROC_SCAN_UIDS : 0, &known, &n_known);
        *rep = END_REPORT_INIT;
        if (r < 0)
                return r;

        /* A graphical session is acted on before its host is asked to end
         * it (its desktop asked to log out, its processes' rounds): the
         * host says first whether the caller may.  The others it decides
         * when asked, before anything is signalled. */
        const char *authorizer = NULL;
        if (o->host_must_agree && o->graphical) {
                r = session_authorize(s, &rep->host);
                if (r < 0)
                        return r;
                authorizer = rep->host.authorizer;
                host_report_done(&rep->host);
        }

        /* Its own "Log out" first: the applications get asked to save. */
        struct desktop_report desktop = { 0 };
        int desktop_result = -ENOTCONN;
        if (o->graphical && o->ask_desktop) {
                desktop_result = desktop_logout(s, known, n_known, o->desktop_wait_usec, &desktop);
                if (desktop_result == -ECANCELED) {
                        rep->host.authorizer = authorizer;
                        rep->desktop_result = 0;
                        rep->desktop = desktop;
                        r = membership_scan(&s->member, PROC_SCAN_UIDS, &rep->procs.left, &rep->procs.n_left);
                        return r < 0 ? r : -ECANCELED;
                }
        }

        struct terminate_options to = *o;
        to.known = known;
        to.n_known = n_known;
        r = s->server ? s->server->end(s, &to, rep) : s->host->end(s, &to, rep);
        rep->host.authorizer = authorizer;
        rep->desktop_result = desktop_result;
        rep->desktop = desktop;
        return r;
}

int session_record(const struct session *s, struct record_report *rep) {
        return s->server ? s->server->record(s, rep) : s->host->record(s, rep);
}

void host_report_done(struct host_report *rep) {
        free(rep->error_name);
        free(rep->error_message);
        free(rep->unit);
        free(rep->unit_state);
        *rep = HOST_REPORT_INIT;
}

void end_report_done(struct end_report *rep) {
        terminate_report_done(&rep->procs);
        host_report_done(&rep->host);
        free(rep->server.unclaimed);
        desktop_report_done(&rep->desktop);
        *rep = END_REPORT_INIT;
}
