/* SPDX-License-Identifier: MIT */
#include <locale.h>
#include <signal.h>
#include <utmpx.h>

#include "args.h"
#include "backend.h"
#include "desktop.h"
#include "exit-status.h"
#include "interrupt.h"
#include "output.h"
#include "policy.h"
#include "procscan.h"
#include "remote.h"
#include "report.h"
#include "select.h"
#include "session.h"
#include "util.h"
#include "warn.h"

static void print_usage(FILE *f) {
        fprintf(f, _("Usage:\n"
                     " %1$s [<sessionname> | <sessionID>] [/server:<servername>] [/v]\n"
                     " %1$s --list [--json] [/server:<servername>]\n"),
                program_name);
}

static void print_help(bool columns) {
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
                " -o, --output=<cols>     with --list: these columns; --noheadings, --raw\n"
                " -t, --timeout=<secs>    grace period before SIGKILL (default 5)\n"
                " -n, --dry-run           show what would be done, do nothing\n"
                "     --warn[=<text>]     warn the user first; --grace=<time>: then wait (2m)\n"
                "     --backend=<name>    auto (logind where it runs), logind or kernel\n"
                " /?, -h, --help          this help (--help: with the columns); --version\n"),
              stdout);
        fputs(_("\nSwitches are case-insensitive and may start with '/' or '-'.  See logoff(1).\n"
                "Exit status: 0 logged off, 1 failure, 2 invalid parameters, 3 no such session,\n"
                "4 access denied, 5 console session, 6 processes survived, 7 server unreachable.\n"),
              stdout);
        if (columns) {
                /* util-linux's way: --noheadings drops the heading, --raw
                 * aligns nothing, --json has every field unless --output. */
                fputs(_("\nAvailable output columns (--output=<cols>, or --output=+<cols> to add them):\n"), stdout);
                for (size_t i = 0; i < _COLUMN_MAX; i++) {
                        const struct column *c = column_get((enum column_id) i);
                        printf(" %11s  %s\n", c->name, _(c->help));
                }
                printf(_("The default is %s;\n--json without --output has them all.\n"), COLUMNS_DEFAULT);
        }
}

static int usage_error(enum parse_error e, const struct options *o) {
        /* The arguments are shown as text, never as a terminal's commands. */
        _cleanup_free_ char *b1 = NULL, *b2 = NULL;
        const char *bad = o->bad_arg && !*o->bad_arg ? "" : printable_or_dash(o->bad_arg, &b1),
                   *conflict = printable_or_dash(o->conflict_arg, &b2);
        switch (e) {
        case PARSE_UNKNOWN_SWITCH:
        case PARSE_UNEXPECTED_VALUE:
                fprintf(stderr, _("Invalid parameter(s)\n"));
                fprintf(stderr, _("%s: unknown switch '%s'\n"), program_name, bad);
                print_usage(stderr);
                return EXIT_USAGE;
        case PARSE_EXTRA_ARGUMENT:
                fprintf(stderr, _("%s: only one session may be named, got '%s' and '%s'\n"), program_name,
                        conflict, bad);
                break;
        case PARSE_MISSING_VALUE:
                fprintf(stderr, _("%s: '%s' needs a value\n"), program_name, bad);
                break;
        case PARSE_EMPTY_SERVER:
                fprintf(stderr, _("%s: '%s' needs a server name\n"), program_name, bad);
                break;
        case PARSE_BAD_SERVER:
                fprintf(stderr, _("%s: invalid server name '%s'\n"), program_name, bad);
                break;
        case PARSE_REPEATED_SERVER:
                fprintf(stderr, _("%s: only one server may be given ('%s')\n"), program_name, bad);
                break;
        case PARSE_ID_RANGE:
                fprintf(stderr, _("%s: session ID '%s' is out of range (0-%u)\n"), program_name, bad,
                        (unsigned) (UINT32_MAX - 1));
                break;
        case PARSE_BAD_NAME: {
                fprintf(stderr, _("%s: invalid session name '%s'\n"), program_name, bad);
                break;
        }
        case PARSE_BAD_GRACE: {
                fprintf(stderr, _("%s: invalid grace period '%s' (seconds, or with s, m or h; at most 24 h)\n"),
                        program_name, bad);
                break;
        }
        case PARSE_GRACE_WITHOUT_WARN:
                fprintf(stderr, _("%s: --grace is how long the user has after --warn: give --warn too\n"),
                        program_name);
                break;
        case PARSE_BAD_WARN_TEXT: {
                fprintf(stderr, _("%s: invalid warning in '%s': it must be 1 to %d characters, with no control "
                                  "characters\n"),
                        program_name, bad, MAX_WARN_TEXT);
                break;
        }
        case PARSE_WARN_WITH_LIST:
                fprintf(stderr, _("%s: --warn is for logging off, not for --list\n"), program_name);
                break;
        case PARSE_BAD_TIMEOUT:
                fprintf(stderr, _("%s: invalid timeout '%s' (seconds, at most 3600)\n"), program_name, bad);
                break;
        case PARSE_SERVER_NEEDS_SESSION:
                fprintf(stderr, _("%s: name the session to log off on %s\n"), program_name, bad);
                break;
        case PARSE_JSON_WITHOUT_LIST:
                fprintf(stderr, _("%s: --json goes with --list\n"), program_name);
                break;
        case PARSE_BAD_COLUMN:
        case PARSE_REPEATED_COLUMN: {
                _cleanup_free_ char *b3 = NULL;
                _cleanup_free_ char *name = o->bad_column ? strndup(o->bad_column, o->bad_column_len) : NULL;
                const char *column = printable_or_dash(name, &b3);
                if (e == PARSE_REPEATED_COLUMN)
                        fprintf(stderr, _("%s: column '%s' is given twice in '%s'\n"), program_name, column, bad);
                else
                        fprintf(stderr, _("%s: unknown column '%s' in '%s' (see '%s --help')\n"), program_name,
                                name && *name ? column : "", bad, program_name);
                break;
        }
        case PARSE_REPEATED_OUTPUT:
                fprintf(stderr, _("%s: --output may be given once ('%s')\n"), program_name, bad);
                break;
        case PARSE_TABLE_WITHOUT_LIST:
                fprintf(stderr, _("%s: '%s' goes with --list\n"), program_name, bad);
                break;
        case PARSE_JSON_WITH_TABLE:
                fprintf(stderr, _("%s: --json has no '%s': it is not a table\n"), program_name, bad);
                break;
        case PARSE_BAD_BACKEND:
                fprintf(stderr, _("%s: unknown backend '%s' (auto, logind or kernel)\n"), program_name, bad);
                break;
        case PARSE_OK:
                break;
        }
        fprintf(stderr, _("Invalid parameter(s)\n"));
        fprintf(stderr, _("Try '%s /?' for more information.\n"), program_name);
        return EXIT_USAGE;
}

static int report_select_error(int r, const struct options *o, const struct session_list *l) {
        _cleanup_free_ char *buf = NULL;
        switch (r) {
        case -ESRCH:
                fprintf(stderr, _("%s: this process is not in a login session; name the session to log off\n"),
                        program_name);
                return EXIT_NOT_FOUND;
        case -ENOENT:
                if (o->target_is_id)
                        fprintf(stderr, _("%s: no session with ID %s\n"), program_name, o->target);
                else
                        fprintf(stderr, _("%s: no session named '%s'\n"), program_name,
                                printable_or_dash(o->target, &buf));
                report_hidden_note(l);
                return EXIT_NOT_FOUND;
        case -ENOTUNIQ: {
                const struct session *found[16];
                size_t n = sessions_matching_name(l, o->target, found, ARRAY_SIZE(found));
                fprintf(stderr, _("%s: %zu sessions are named '%s'; give the ID instead:"), program_name, n,
                        printable_or_dash(o->target, &buf));
                for (size_t i = 0; i < n && i < ARRAY_SIZE(found); i++) {
                        fprintf(stderr, " %s", or_dash(found[i]->id));
                }
                fputc('\n', stderr);
                return EXIT_NOT_FOUND;
        }
        default:
                fprintf(stderr, _("%s: cannot select the session: %s\n"), program_name, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
}

static int run_remote(const struct options *o) {
        int r = remote_run(o);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot run ssh to reach %s: %s\n"), program_name, o->server, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        if (r == 255) {
                fprintf(stderr, _("%s: cannot reach server %s over ssh\n"), program_name, o->server);
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
        const struct session_host *only = o->backend == BACKEND_KERNEL   ? &host_kernel
                                          : o->backend == BACKEND_LOGIND ? &host_logind
                                                                         : NULL;
        int r = backends_discover(only, l, &fallback);
        if (r < 0 && o->backend == BACKEND_LOGIND) {
                fprintf(stderr, _("%s: cannot reach logind: %s\n"), program_name, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the sessions of this host: %s\n"), program_name, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        if (fallback < 0 && o->verbose)
                fprintf(stderr, _("%s: warning: no logind here (%s); using the kernel's audit sessions\n"), program_name,
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
        r = o->json ? output_sessions_json(stdout, &l, only, &o->columns)
                    : output_sessions_table(stdout, &l, only, &o->columns, !o->noheadings, o->raw);
        if (r >= 0 && fflush(stdout) == 0)
                report_listing_notes(o, &l, only);
        session_list_done(&l);
        if (r < 0 || fflush(stdout) != 0) {
                fprintf(stderr, _("%s: write error\n"), program_name);
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

static int dry_run(const struct options *o, const struct session *s) {
        struct proc_info *procs = NULL;
        size_t n = 0;
        int r = membership_scan(&s->member, PROC_SCAN_UIDS, &procs, &n);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the processes of session %s: %s\n"), program_name,
                        or_dash(s->id), strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        /* What its desktop would be asked, and what holds it off: a
         * question, nothing it acts on. */
        struct desktop_report desktop = { 0 };
        int desktop_result = session_is_graphical(s) ? desktop_inhibitors(s, procs, n, &desktop) : -ENOENT;
        int code = report_dry_run(o, s, procs, n, &desktop, desktop_result);
        desktop_report_done(&desktop);
        free(procs);
        return code;
}

/* end -> record -> report. */
static int end_session(const struct options *o, const struct session *s, const struct caller *caller,
                       bool host_must_agree) {
        /* Ending our own session, our terminal hangs up and our parents
         * die around us (sudo relays their SIGTERM to us, logind sends its
         * own): logoff must outlive them to finish the job. */
        if (s->current && signal(SIGTERM, SIG_IGN) == SIG_ERR)
                return EXIT_FAILURE_GENERIC;
        int r = interrupt_catch(s->current);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot catch signals: %s\n"), program_name, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }

        struct terminate_options to = {
                .timeout_usec = o->timeout_usec,
                .cap_kill = caller->cap_kill,
                .host_must_agree = host_must_agree,
                .graphical = session_is_graphical(s),
                .owner = s->uid,
                .ask_desktop = true,
                .desktop_wait_usec = DESKTOP_LOGOUT_WAIT_USEC,
        };
        struct end_report end;
        /* Told first, and given time to save and leave; not when it is our
         * own session.  Where only the host's yes lets us, it is asked
         * before anyone is told, and asked again when it acts: the grace
         * period may last hours, and the answer that counts is the one
         * given when the session is ended. */
        if (o->warn && !s->current) {
                if (host_must_agree) {
                        struct host_report host;
                        r = session_authorize(s, &host);
                        int code = r < 0 ? report_denied(s, &host, r) : EXIT_OK;
                        host_report_done(&host);
                        if (code != EXIT_OK)
                                return code;
                }
                struct warn_report w;
                r = warn_and_wait(s, o->warn_text, o->grace_usec, &w);
                int code = report_warning(o, s, &w, r);
                warn_report_done(&w);
                if (code != EXIT_OK)
                        return code;
        }
        r = session_end(s, &to, &end);
        int code = report_end(o, s, &end, r);
        if (code == EXIT_OK) {
                struct record_report rec;
                (void) session_record(s, &rec);
                code = report_records(o, s, &rec);
        }
        if (code == EXIT_OK)
                report_logged_off(o, s, &end);
        end_report_done(&end);
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
                fprintf(stderr, _("%s: cannot read the caller's credentials: %s\n"), program_name, strerror(-r));
                session_list_done(&l);
                return EXIT_FAILURE_GENERIC;
        }

        int code;
        enum policy_verdict verdict = policy_check(s, &caller);
        switch (verdict) {
        case POLICY_DENY_CONSOLE:
                fprintf(stderr, _("%s: session %s (%s) is the console session; it cannot be logged off\n"), program_name,
                        or_dash(s->id), or_dash(s->name));
                code = EXIT_CONSOLE;
                break;
        case POLICY_DENY_NOT_ALLOWED:
                fprintf(stderr,
                        _("%s: Access is denied: session %s (%s) belongs to %s; logging off another "
                          "session needs root or CAP_KILL\n"),
                        program_name, or_dash(s->id), or_dash(s->name),
                        or_dash(s->user));
                code = EXIT_ACCESS_DENIED;
                break;
        case POLICY_ALLOW:
        case POLICY_ASK_HOST:
                report_session(o, s);
                code = o->dry_run ? dry_run(o, s) : end_session(o, s, &caller, verdict == POLICY_ASK_HOST);
                break;
        default:
                code = EXIT_FAILURE_GENERIC;
        }
        session_list_done(&l);
        return code;
}

/* A caller may start us with stdin, stdout or stderr closed: the next file
 * opened (utmp) would take that number, and what is printed would land in
 * it.  Before any file is opened, each is open on /dev/null at least. */
static int open_standard_fds(void) {
        for (int fd = 0; fd < 3; fd++) {
                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                int n = open("/dev/null", O_RDWR | O_NOCTTY);
                if (n < 0)
                        return -errno;
                if (n != fd) {
                        /* Lower numbers were open: it cannot be lower. */
                        close(n);
                        return -EBADF;
                }
        }
        return 0;
}

int main(int argc, char **argv) {
        if (open_standard_fds() < 0)
                return EXIT_FAILURE_GENERIC;
        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        textdomain(GETTEXT_PACKAGE);

        struct options o;
        enum parse_error e;
        if (parse_args(argc, argv, &o, &e) < 0)
                return usage_error(e, &o);

        switch (o.action) {
        case ACTION_HELP:
                print_help(o.help_columns);
                return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
        case ACTION_VERSION:
                printf("logoff %s\n", PACKAGE_VERSION);
                return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
        case ACTION_LIST:
                return o.server ? run_remote(&o) : run_list(&o);
        case ACTION_LOGOFF: {
                if (o.server)
                        return run_remote(&o);
                int code = run_logoff(&o);
                if (code == EXIT_BY_SIGNAL)
                        interrupt_reraise(interrupt_pending());
                return code == EXIT_BY_SIGNAL ? EXIT_FAILURE_GENERIC : code;
        }
        }
        return EXIT_FAILURE_GENERIC;
}
