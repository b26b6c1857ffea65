/* SPDX-License-Identifier: MIT */
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <utmpx.h>

#include "args.h"
#include "backend.h"
#include "exit-status.h"
#include "output.h"
#include "policy.h"
#include "procscan.h"
#include "remote.h"
#include "select.h"
#include "session.h"
#include "util.h"

static const char *program = "logoff";

static void print_usage(FILE *f) {
        fprintf(f, _("Usage:\n"
                     " %1$s [<sessionname> | <sessionID>] [/server:<servername>] [/v]\n"
                     " %1$s --list [--json] [/server:<servername>]\n"),
                program);
}

static void print_help(void) {
        print_usage(stdout);
        fputs(_("\nLog a user off a login session: end every process of the session and\n"
                "delete it from the host's records.  Without a session, log off your own.\n"),
              stdout);
        fputs(_("\nOptions:\n"
                " <sessionname>           terminal line (pts/3, tty2), X display (:10), console\n"
                " <sessionID>             session ID, as the listing shows it\n"
                " /server:<name>          the session host, over ssh (or --server=<name>)\n"
                " /v, --verbose           say what is being done\n"
                " -l, --list              list the sessions (like query session)\n"
                "     --json              with --list: JSON output\n"
                " -t, --timeout=<secs>    grace period before SIGKILL (default 5)\n"
                " -n, --dry-run           show what would be done, do nothing\n"
                "     --backend=<name>    auto (logind where it runs), logind or kernel\n"
                " /?, -h, --help          display this help\n"
                "     --version           display version\n"),
              stdout);
        fputs(_("\nSwitches are case-insensitive and may start with '/' or '-'.\n"
                "Exit status: 0 logged off, 1 failure, 2 invalid parameters, 3 no such session,\n"
                "4 access denied, 5 console session, 6 processes survived, 7 server unreachable.\n"),
              stdout);
        printf(_("For more details see %s(1).\n"), "logoff");
}

static int usage_error(enum parse_error e, const struct options *o) {
        switch (e) {
        case PARSE_UNKNOWN_SWITCH:
        case PARSE_UNEXPECTED_VALUE:
                fprintf(stderr, _("Invalid parameter(s)\n"));
                fprintf(stderr, _("%s: unknown switch '%s'\n"), program, o->bad_arg);
                print_usage(stderr);
                return EXIT_USAGE;
        case PARSE_EXTRA_ARGUMENT:
                fprintf(stderr, _("%s: only one session may be named, got '%s' and '%s'\n"), program,
                        o->conflict_arg, o->bad_arg);
                break;
        case PARSE_MISSING_VALUE:
                fprintf(stderr, _("%s: '%s' needs a value\n"), program, o->bad_arg);
                break;
        case PARSE_EMPTY_SERVER:
                fprintf(stderr, _("%s: '%s' needs a server name\n"), program, o->bad_arg);
                break;
        case PARSE_BAD_SERVER:
                fprintf(stderr, _("%s: invalid server name '%s'\n"), program, o->bad_arg);
                break;
        case PARSE_REPEATED_SERVER:
                fprintf(stderr, _("%s: only one server may be given ('%s')\n"), program, o->bad_arg);
                break;
        case PARSE_ID_RANGE:
                fprintf(stderr, _("%s: session ID '%s' is out of range (0-%u)\n"), program, o->bad_arg,
                        (unsigned) (UINT32_MAX - 1));
                break;
        case PARSE_BAD_NAME: {
                _cleanup_free_ char *buf = NULL;
                fprintf(stderr, _("%s: invalid session name '%s'\n"), program, printable_or_dash(o->bad_arg, &buf));
                break;
        }
        case PARSE_BAD_TIMEOUT:
                fprintf(stderr, _("%s: invalid timeout '%s' (seconds, at most 3600)\n"), program, o->bad_arg);
                break;
        case PARSE_SERVER_NEEDS_SESSION:
                fprintf(stderr, _("%s: name the session to log off on %s\n"), program, o->bad_arg);
                break;
        case PARSE_JSON_WITHOUT_LIST:
                fprintf(stderr, _("%s: --json goes with --list\n"), program);
                break;
        case PARSE_BAD_BACKEND:
                fprintf(stderr, _("%s: unknown backend '%s' (auto, logind or kernel)\n"), program, o->bad_arg);
                break;
        case PARSE_OK:
                break;
        }
        fprintf(stderr, _("Invalid parameter(s)\n"));
        fprintf(stderr, _("Try '%s /?' for more information.\n"), program);
        return EXIT_USAGE;
}

static int report_select_error(int r, const struct options *o, const struct session_list *l) {
        _cleanup_free_ char *buf = NULL;
        switch (r) {
        case -ESRCH:
                fprintf(stderr, _("%s: this process is not in a login session; name the session to log off\n"),
                        program);
                return EXIT_NOT_FOUND;
        case -ENOENT:
                if (o->target_is_id)
                        fprintf(stderr, _("%s: no session with ID %s\n"), program, o->target);
                else
                        fprintf(stderr, _("%s: no session named '%s'\n"), program,
                                printable_or_dash(o->target, &buf));
                return EXIT_NOT_FOUND;
        case -ENOTUNIQ: {
                const struct session *found[16];
                size_t n = sessions_matching_name(l, o->target, found, ARRAY_SIZE(found));
                fprintf(stderr, _("%s: %zu sessions are named '%s'; give the ID instead:"), program, n,
                        printable_or_dash(o->target, &buf));
                for (size_t i = 0; i < n && i < ARRAY_SIZE(found); i++) {
                        _cleanup_free_ char *b = NULL;
                        fprintf(stderr, " %s", printable_or_dash(found[i]->id, &b));
                }
                fputc('\n', stderr);
                return EXIT_NOT_FOUND;
        }
        default:
                fprintf(stderr, _("%s: cannot select the session: %s\n"), program, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
}

static int run_remote(const struct options *o) {
        int r = remote_run(o);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot run ssh to reach %s: %s\n"), program, o->server, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        if (r == 255) {
                fprintf(stderr, _("%s: cannot reach server %s over ssh\n"), program, o->server);
                return EXIT_UNREACHABLE;
        }
        return r;
}

/* parse -> discover -> select.  Returns an exit status; on EXIT_OK *l
 * holds the sessions and *ret the one named (NULL if none was and
 * any_is_fine). */
static int discover_and_select(const struct options *o, bool any_is_fine, struct session_list *l,
                               const struct session **ret) {
        int fallback = 0;
        int r = backends_discover(o->backend, l, &fallback);
        if (r < 0 && o->backend == BACKEND_LOGIND) {
                fprintf(stderr, _("%s: cannot reach logind: %s\n"), program, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the sessions of this host: %s\n"), program, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        if (fallback < 0 && o->verbose)
                fprintf(stderr, _("%s: warning: no logind here (%s); using the kernel's audit sessions\n"), program,
                        strerror(-fallback));
        *ret = NULL;
        if (!o->target && any_is_fine)
                return EXIT_OK;
        r = select_session(l, o, ret);
        if (r < 0) {
                int code = report_select_error(r, o, l);
                session_list_done(l);
                return code;
        }
        return EXIT_OK;
}

static int run_list(const struct options *o) {
        struct session_list l;
        const struct session *only;
        int r = discover_and_select(o, true, &l, &only);
        if (r != EXIT_OK)
                return r;
        r = o->json ? output_sessions_json(stdout, &l, only) : output_sessions_table(stdout, &l, only);
        session_list_done(&l);
        if (r < 0 || fflush(stdout) != 0) {
                fprintf(stderr, _("%s: write error\n"), program);
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

static void verbose(const struct options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verbose(const struct options *o, const char *fmt, ...) {
        if (!o->verbose)
                return;
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        /* Logging off our own session hangs up our terminal: output may
         * fail from then on, and that must not stop the logoff. */
        fflush(stdout);
}

static void describe_session(const struct options *o, const struct session *s) {
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL;
        char idle[32] = "?";
        if (s->idle_usec >= 0)
                format_duration(idle, sizeof(idle), (uint64_t) s->idle_usec);
        verbose(o,
                ngettext("Session %s: name %s, user %s, from %s, state %s, type %s, leader %d, %u process, idle %s",
                         "Session %s: name %s, user %s, from %s, state %s, type %s, leader %d, %u processes, idle %s",
                         s->processes),
                printable_or_dash(s->id, &b4), printable_or_dash(s->name, &b1), printable_or_dash(s->user, &b2),
                s->remote_host ? printable_or_dash(s->remote_host, &b3) : _("this host"),
                session_state_to_string(s->state), session_type_to_string(s->type), (int) s->leader, s->processes,
                idle);
}

static void print_procs(FILE *f, const char *what, const struct proc_info *procs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *b = NULL;
                fprintf(f, _("%s: %s: pid %d (%s), uid %u, state %c\n"), program, what, (int) procs[i].pid,
                        printable_or_dash(procs[i].comm, &b), (unsigned) procs[i].ruid, procs[i].state);
        }
}

static int dry_run(const struct options *o, const struct session *s) {
        struct proc_info *procs = NULL;
        size_t n = 0;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
        int r = proc_scan(&s->member, PROC_SCAN_UIDS, &procs, &n);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the processes of session %s: %s\n"), program,
                        printable_or_dash(s->id, &b3), strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        printf(_("Would log off session %s (%s) of %s:\n"), printable_or_dash(s->id, &b3),
               printable_or_dash(s->name, &b1), printable_or_dash(s->user, &b2));
        if (s->backend && s->backend->authorizes)
                printf(_("  would ask %s to terminate it first\n"), s->backend->name);
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
                if (!proc_is_alive(&procs[i]) || procs[i].pid == getpid())
                        continue;
                _cleanup_free_ char *b = NULL;
                printf(_("  would end pid %d (%s), uid %u\n"), (int) procs[i].pid, printable_or_dash(procs[i].comm, &b),
                       (unsigned) procs[i].ruid);
                shown++;
        }
        printf(ngettext("  %zu process: SIGHUP, SIGTERM and SIGCONT, then SIGKILL after %.1f s\n",
                        "  %zu processes: SIGHUP, SIGTERM and SIGCONT, then SIGKILL after %.1f s\n", shown),
               shown,
               (double) o->timeout_usec / 1e6);
        if (s->utmp_line) {
                _cleanup_free_ char *b = NULL;
                printf(_("  would mark the utmp entry of %s dead and append a logout record to wtmp\n"),
                       printable_or_dash(s->utmp_line, &b));
        }
        free(procs);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
}

/* What the session host said when asked to end the session, and what it
 * knows of it afterwards. */
static void report_host(const struct options *o, const struct session *s, const struct end_report *rep) {
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
        if (!rep->asked)
                return;
        if (rep->ask_error == 0)
                verbose(o, _("Asked %s to terminate session %s"), rep->asked, printable_or_dash(s->id, &b1));
        else if (rep->ask_error != -EACCES)
                verbose(o, _("Asked %s to terminate session %s: %s (%s); ending its processes anyway"), rep->asked,
                        printable_or_dash(s->id, &b1), printable_or_dash(rep->ask_error_message, &b2),
                        printable_or_dash(rep->ask_error_name, &b3));
}

static void report_host_after(const struct options *o, const struct session *s, const struct end_report *rep) {
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
        if (rep->forgotten == 1)
                verbose(o, _("%s no longer knows session %s"), rep->asked, printable_or_dash(s->id, &b1));
        else if (rep->forgotten == 0)
                fprintf(stderr, _("%s: %s still lists session %s after its processes ended\n"), program, rep->asked,
                        printable_or_dash(s->id, &b1));
        if (rep->unit && rep->unit_state) {
                if (streq(rep->unit_state, "failed"))
                        fprintf(stderr, _("%s: unit %s ended in state %s\n"), program, printable_or_dash(rep->unit, &b2),
                                printable_or_dash(rep->unit_state, &b3));
                else
                        verbose(o, _("Unit %s is %s"), printable_or_dash(rep->unit, &b2),
                                printable_or_dash(rep->unit_state, &b3));
        }
}

static int end_session(const struct options *o, const struct session *s, const struct caller *caller) {
        _cleanup_free_ char *bid = NULL;
        const char *id = printable_or_dash(s->id, &bid);
        if (s->current) {
                /* Our terminal hangs up and our parents die around us (sudo
                 * relays their SIGTERM to us, logind sends its own): logoff
                 * must outlive them to finish the job. */
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                signal(SIGPIPE, SIG_IGN);
        }

        struct terminate_options to = {
                .timeout_usec = o->timeout_usec,
                .kill_wait_usec = 3000000u,
                .caller = caller,
        };
        struct end_report host;
        int r = s->backend->end(s, &to, &host);
        const struct terminate_report *rep = &host.procs;

        if (r == -EACCES && host.ask_error == -EACCES) {
                _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
                fprintf(stderr,
                        _("%s: Access is denied: %s refused to end session %s (%s) of %s: %s\n"
                          "%s: ending another user's session needs root, or the polkit action %s\n"),
                        program, host.asked, id, printable_or_dash(s->name, &b1), printable_or_dash(s->user, &b2),
                        printable_or_dash(host.ask_error_message, &b3), program, "org.freedesktop.login1.manage");
                end_report_done(&host);
                return EXIT_ACCESS_DENIED;
        }
        report_host(o, s, &host);

        verbose(o, ngettext("Sent SIGHUP, SIGTERM and SIGCONT to %u process; waited %.2f s",
                         "Sent SIGHUP, SIGTERM and SIGCONT to %u processes; waited %.2f s", rep->hangup),
                rep->hangup,
                (double) rep->graceful_usec / 1e6);
        if (rep->gone_unsignalled)
                verbose(o, ngettext("%u process ended before logoff signalled it",
                                    "%u processes ended before logoff signalled them", rep->gone_unsignalled),
                        rep->gone_unsignalled);
        if (rep->cgroup_killed)
                verbose(o, ngettext("Wrote cgroup.kill of %s (%s): %u process", "Wrote cgroup.kill of %s (%s): %u processes",
                                    rep->cgroup_members),
                        rep->cgroup,
                        rep->frozen ? _("frozen first") : _("not frozen"), rep->cgroup_members);
        if (rep->stopped)
                verbose(o, ngettext("Sent SIGSTOP to %u process in %u rounds", "Sent SIGSTOP to %u processes in %u rounds",
                                    rep->stopped),
                        rep->stopped, rep->stop_rounds);
        if (rep->killed)
                verbose(o, ngettext("Sent SIGKILL to %u process", "Sent SIGKILL to %u processes", rep->killed),
                        rep->killed);
        if (rep->forced_usec)
                verbose(o, _("Ended what the grace period left in %.3f s"), (double) rep->forced_usec / 1e6);
        unsigned denied = (unsigned) rep->n_denied_procs;
        if (denied && r == -EBUSY) {
                fprintf(stderr, ngettext("%s: %u process of session %s could not be signalled (not yours):\n",
                                 "%s: %u processes of session %s could not be signalled (not yours):\n", denied),
                        program, denied, id);
                print_procs(stderr, _("not signalled"), rep->denied_procs, rep->n_denied_procs);
        } else if (denied)
                /* sshd's root monitor in a user's own session, typically:
                 * it ends by itself once the user's processes are gone. */
                verbose(o, ngettext("%u process could not be signalled (not yours) but ended with the session",
                                 "%u processes could not be signalled (not yours) but ended with the session",
                                 denied),
                        denied);

        int code = EXIT_OK;
        if (r == -EBUSY) {
                fprintf(stderr, ngettext("%s: session %s: %zu process survived:\n", "%s: session %s: %zu processes survived:\n",
                                 rep->n_left),
                        program, id, rep->n_left);
                print_procs(stderr, _("survivor"), rep->left, rep->n_left);
                for (size_t i = 0; i < rep->n_left; i++)
                        if (rep->left[i].state == 'D') {
                                fprintf(stderr, _("%s: processes in state D are in uninterruptible sleep "
                                                  "(usually I/O); they end when it completes\n"),
                                        program);
                                break;
                        }
                code = EXIT_SURVIVORS;
        } else if (r < 0) {
                fprintf(stderr, _("%s: cannot end session %s: %s\n"), program, id, strerror(-r));
                code = EXIT_FAILURE_GENERIC;
        } else {
                verbose(o, ngettext("The %u process of the session ended", "All %u processes of the session ended",
                                    rep->seen),
                        rep->seen);
                report_host_after(o, s, &host);
        }

        if (code == EXIT_OK) {
                _cleanup_free_ char *b = NULL;
                struct record_report rec;
                r = s->backend->record(s, &rec);
                if (!s->utmp_line)
                        verbose(o, _("No utmp entry to record"));
                else if (rec.utmp < 0) {
                        fprintf(stderr, _("%s: cannot record the logout of %s in utmp/wtmp: %s\n"), program,
                                printable_or_dash(s->utmp_line, &b), strerror(-rec.utmp));
                        code = EXIT_FAILURE_GENERIC;
                } else if (rec.utmp > 0)
                        verbose(o, _("Marked the utmp entry of %s dead and appended a logout record to %s"),
                                printable_or_dash(s->utmp_line, &b), _PATH_WTMPX);
                else
                        verbose(o, _("The utmp entry of %s was already closed by its login process"),
                                printable_or_dash(s->utmp_line, &b));
                if (rec.wtmpdb < 0) {
                        fprintf(stderr, _("%s: cannot record the logout of session %s in wtmpdb: %s\n"), program, id,
                                strerror(-rec.wtmpdb));
                        code = EXIT_FAILURE_GENERIC;
                } else if (rec.wtmpdb > 0)
                        verbose(o, _("Closed the login record of session %s in wtmpdb"), id);
        }
        if (code == EXIT_OK)
                verbose(o, _("Session %s logged off in %.2f s"), id, (double) rep->elapsed_usec / 1e6);
        end_report_done(&host);
        return code;
}

static int run_logoff(const struct options *o) {
        struct session_list l;
        const struct session *s;
        int r = discover_and_select(o, false, &l, &s);
        if (r != EXIT_OK)
                return r;

        struct caller caller;
        r = caller_identify(&caller);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the caller's credentials: %s\n"), program, strerror(-r));
                session_list_done(&l);
                return EXIT_FAILURE_GENERIC;
        }

        int code;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
        switch (policy_check(s, &caller)) {
        case POLICY_DENY_CONSOLE:
                fprintf(stderr, _("%s: session %s (%s) is the console session; it cannot be logged off\n"), program,
                        printable_or_dash(s->id, &b3), printable_or_dash(s->name, &b1));
                code = EXIT_CONSOLE;
                break;
        case POLICY_DENY_NOT_ALLOWED:
                fprintf(stderr,
                        _("%s: Access is denied: session %s (%s) belongs to %s; logging off another "
                          "session needs root or CAP_KILL\n"),
                        program, printable_or_dash(s->id, &b3), printable_or_dash(s->name, &b1),
                        printable_or_dash(s->user, &b2));
                code = EXIT_ACCESS_DENIED;
                break;
        case POLICY_ALLOW:
        case POLICY_ASK_HOST:
                describe_session(o, s);
                code = o->dry_run ? dry_run(o, s) : end_session(o, s, &caller);
                break;
        default:
                code = EXIT_FAILURE_GENERIC;
        }
        session_list_done(&l);
        return code;
}

int main(int argc, char **argv) {
        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        textdomain(GETTEXT_PACKAGE);

        struct options o;
        enum parse_error e;
        if (parse_args(argc, argv, &o, &e) < 0)
                return usage_error(e, &o);

        switch (o.action) {
        case ACTION_HELP:
                print_help();
                return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
        case ACTION_VERSION:
                printf("logoff %s\n", PACKAGE_VERSION);
                return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
        case ACTION_LIST:
                return o.server ? run_remote(&o) : run_list(&o);
        case ACTION_LOGOFF:
                return o.server ? run_remote(&o) : run_logoff(&o);
        }
        return EXIT_FAILURE_GENERIC;
}
