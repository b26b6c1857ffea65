/* SPDX-License-Identifier: MIT */
#include <locale.h>
#include <signal.h>
#include <utmpx.h>

#include "args.h"
#include "backend.h"
#include "desktop.h"
#include "exit-status.h"
#include "interrupt.h"
#include "many.h"
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
                     " %1$s <selection> [--dry-run] [/server:<servername>] [/v]\n"
                     " %1$s --list [--json] [/server:<servername>]\n"),
                program_name);
}

static void print_help(bool columns) {
        print_usage(stdout);
        fputs(_("\nLog off a session (your own without one): end its processes, close its records.\n"), stdout);
        fputs(_("\nOptions:\n"
                " <sessionname> | <ID>    pts/3, tty2, an X display (:10), console; or its ID\n"
                " /server:<name>          the session host, over ssh (or --server=<name>)\n"
                " /v, --verbose           say what is being done\n"
                " -l, --list [--json]     list the sessions (like query session), or in JSON\n"
                " -o, --output=<cols>     with --list: these columns; --noheadings, --raw\n"
                " <selection>             --user=<names>, --idle=<time>, --state=active|disc,\n"
                "                         --type=<types>, --all (all but yours and the console)\n"
                " -t, --timeout=<secs>    grace period before SIGKILL (default 5)\n"
                " -n, --dry-run           show what would be done, do nothing\n"
                "     --warn[=<text>]     warn the user first; --grace=<time>: then wait (2m)\n"
                "     --backend=<name>    auto (logind where it runs), logind or kernel\n"
                " /?, -h, --help          this help (--help: with the columns); --version\n"),
              stdout);
        fputs(_("\nSwitches are case-insensitive and may start with '/' or '-'.  See logoff(1).\n"
                "Exit status: 0 logged off, 1 failure, 2 invalid parameters, 3 no such session,\n"
                "4 access denied, 5 console, 6 processes survived, 7 unreachable (many: 1>6>4>3).\n"),
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
        case PARSE_BAD_USER:
                fprintf(stderr, _("%s: invalid user list in '%s': names or UIDs, separated by commas\n"), program_name,
                        bad);
                break;
        case PARSE_BAD_IDLE:
                fprintf(stderr, _("%s: invalid idle time '%s' (seconds, or with s, m, h or d; at most 365 d)\n"),
                        program_name, bad);
                break;
        case PARSE_BAD_STATE:
                fprintf(stderr, _("%s: invalid state '%s' (active or disc)\n"), program_name, bad);
                break;
        case PARSE_BAD_TYPE: {
                _cleanup_free_ char *b3 = NULL;
                _cleanup_free_ char *name = o->bad_column ? strndup(o->bad_column, o->bad_column_len) : NULL;
                fprintf(stderr, _("%s: unknown session type '%s' in '%s' (tty, x11, wayland, mir, web, rdp, x2go, "
                                  "unspecified)\n"),
                        program_name, name && *name ? printable_or_dash(name, &b3) : "", bad);
                break;
        }
        case PARSE_REPEATED_SELECTION:
                fprintf(stderr, _("%s: '%s' may be given once\n"), program_name, bad);
                break;
        case PARSE_TARGET_WITH_SELECTION:
                fprintf(stderr, _("%s: '%s' names one session: it does not go with --user, --idle, --state, --type "
                                  "or --all\n"),
                        program_name, bad);
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

static int report_selection_error(int r, const struct selected *sel) {
        if (r == -ENXIO) {
                _cleanup_free_ char *b = NULL;
                _cleanup_free_ char *name = strndup(sel->unknown_user, sel->unknown_user_len);
                fprintf(stderr, _("%s: no user named '%s'\n"), program_name, printable_or_dash(name, &b));
                return EXIT_NOT_FOUND;
        }
        fprintf(stderr, _("%s: cannot select the sessions: %s\n"), program_name, strerror(-r));
        return EXIT_FAILURE_GENERIC;
}

/* The sessions a selection took, as a list of their own for the printers:
 * the same sessions, borrowed, in the same order. */
static int selection_view(const struct session_list *l, const struct selected *sel, struct session_list *ret) {
        *ret = (struct session_list) { .host = l->host, .others_hidden = l->others_hidden };
        if (sel->n == 0)
                return 0;
        ret->sessions = calloc(sel->n, sizeof(*ret->sessions));
        if (!ret->sessions)
                return -ENOMEM;
        for (size_t i = 0; i < sel->n; i++)
                ret->sessions[i] = l->sessions[sel->index[i]];
        ret->n = ret->alloc = sel->n;
        return 0;
}

static int run_list(const struct options *o) {
        struct session_list l;
        const struct session *only;
        int r = discover_and_select(o, true, &l, &only);
        if (r != EXIT_OK)
                return r;
        struct selected sel = { 0 };
        struct session_list view = { 0 };
        const struct session_list *shown = &l;
        if (o->select.given) {
                r = select_many(&l, &o->select, &sel);
                if (r >= 0)
                        r = selection_view(&l, &sel, &view);
                if (r < 0) {
                        int code = report_selection_error(r, &sel);
                        selected_done(&sel);
                        session_list_done(&l);
                        return code;
                }
                shown = &view;
        }
        r = o->json ? output_sessions_json(stdout, shown, only, &o->columns)
                    : output_sessions_table(stdout, shown, only, &o->columns, !o->noheadings, o->raw);
        if (r >= 0 && fflush(stdout) == 0)
                report_listing_notes(o, shown, only);
        free(view.sessions);
        selected_done(&sel);
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

/* check -> end -> record -> report, for one session. */
static int logoff_one(const struct options *o, const struct session *s, const struct caller *caller) {
        int code;
        enum policy_verdict verdict = policy_check(s, caller);
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
                code = o->dry_run ? dry_run(o, s) : end_session(o, s, caller, verdict == POLICY_ASK_HOST);
                break;
        default:
                code = EXIT_FAILURE_GENERIC;
        }
        return code;
}

static int identify_caller(struct caller *ret) {
        int r = caller_identify(ret);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the caller's credentials: %s\n"), program_name, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

static int run_logoff(const struct options *o) {
        struct session_list l;
        const struct session *s;
        int r = discover_and_select(o, false, &l, &s);
        if (r != EXIT_OK)
                return r;
        struct caller caller;
        int code = identify_caller(&caller);
        if (code == EXIT_OK)
                code = logoff_one(o, s, &caller);
        session_list_done(&l);
        return code;
}

struct many_job {
        const struct options *o;
        const struct caller *caller;
};

static int logoff_one_of_many(const struct session *s, void *userdata) {
        const struct many_job *job = userdata;
        return logoff_one(job->o, s, job->caller);
}

/* What a selection took: each session's own block, in the listing's order,
 * then a word on the whole under /v. */
static void report_many(const struct options *o, size_t n, const int *codes, const struct many_result *res) {
        if (!o->verbose)
                return;
        unsigned done = 0, failed = 0;
        for (size_t i = 0; i < n; i++)
                if (codes[i] == EXIT_OK)
                        done++;
                else if (codes[i] != EXIT_BY_SIGNAL)
                        failed++;
        if (o->dry_run)
                fprintf(stderr,
                        ngettext("%s: %zu session selected; nothing was done (dry run)\n",
                                 "%s: %zu sessions selected; nothing was done (dry run)\n", n),
                        program_name, n);
        else
                fprintf(stderr,
                        ngettext("%s: %zu session selected: %u logged off, %u not (see above)%s\n",
                                 "%s: %zu sessions selected: %u logged off, %u not (see above)%s\n", n),
                        program_name, n, done, failed, res && res->interrupted ? _("; interrupted") : "");
        if (res && res->requests > 0)
                fprintf(stderr, _("%s: their rounds shared %u walks of /proc for %u rounds\n"), program_name,
                        res->walks, res->requests);
}

static int run_many(const struct options *o) {
        struct session_list l;
        const struct session *none;
        int code = discover_and_select(o, true, &l, &none);
        if (code != EXIT_OK)
                return code;
        struct selected sel;
        int r = select_many(&l, &o->select, &sel);
        if (r < 0) {
                code = report_selection_error(r, &sel);
                session_list_done(&l);
                return code;
        }
        if (o->verbose && sel.console_matched)
                fprintf(stderr, _("%s: the console session matches too; it is never logged off\n"), program_name);
        if (o->verbose && sel.own_left_out)
                fprintf(stderr, _("%s: --all leaves out your own session\n"), program_name);
        struct caller caller;
        code = sel.n == 0 ? EXIT_NOT_FOUND : identify_caller(&caller);
        if (sel.n == 0)
                fprintf(stderr, _("%s: no session matches the selection\n"), program_name);
        if (code != EXIT_OK) {
                selected_done(&sel);
                session_list_done(&l);
                return code;
        }

        /* The caller's own session last, by logoff itself: ending it
         * first would end the logoff that ends the others. */
        _cleanup_free_ const struct session **picked = calloc(sel.n, sizeof(*picked));
        _cleanup_free_ int *codes = calloc(sel.n, sizeof(*codes));
        if (!picked || !codes) {
                selected_done(&sel);
                session_list_done(&l);
                fprintf(stderr, _("%s: out of memory\n"), program_name);
                return EXIT_FAILURE_GENERIC;
        }
        size_t n = 0;
        const struct session *own = NULL;
        for (size_t i = 0; i < sel.n; i++) {
                const struct session *s = &l.sessions[sel.index[i]];
                if (s->current)
                        own = s;
                else
                        picked[n++] = s;
        }

        struct many_result res = { 0 };
        if (o->dry_run) {
                /* Nothing is signalled: one after another, in this process. */
                for (size_t i = 0; i < n; i++)
                        codes[i] = logoff_one(o, picked[i], &caller);
        } else if (n > 0) {
                r = interrupt_catch(false);
                if (r >= 0) {
                        struct many_job job = { .o = o, .caller = &caller };
                        r = many_run(picked, n, logoff_one_of_many, &job, &res);
                }
                if (r < 0) {
                        fprintf(stderr, _("%s: cannot end the sessions: %s\n"), program_name, strerror(-r));
                        for (size_t i = 0; i < n; i++)
                                codes[i] = EXIT_FAILURE_GENERIC;
                } else
                        memcpy(codes, res.codes, n * sizeof(*codes));
        }
        if (own && !interrupt_pending()) {
                picked[n] = own;
                codes[n++] = logoff_one(o, own, &caller);
        }
        report_many(o, n, codes, r < 0 ? NULL : &res);

        code = EXIT_OK;
        for (size_t i = 0; i < n; i++)
                code = codes[i] == EXIT_BY_SIGNAL ? code : exit_status_worst(code, codes[i]);
        if (interrupt_pending())
                code = EXIT_BY_SIGNAL;
        many_result_done(&res);
        selected_done(&sel);
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
                int code = o.select.given ? run_many(&o) : run_logoff(&o);
                if (code == EXIT_BY_SIGNAL)
                        interrupt_reraise(interrupt_pending());
                return code == EXIT_BY_SIGNAL ? EXIT_FAILURE_GENERIC : code;
        }
        }
        return EXIT_FAILURE_GENERIC;
}
