/* SPDX-License-Identifier: MIT */
#include <locale.h>

#include "args.h"
#include "exit-status.h"
#include "output.h"
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
                " /server:<name>, --server=<name>\n"
                "                         the session host, reached over ssh\n"
                " /v, --verbose           say what is being done\n"
                " -l, --list              list the sessions (like query session)\n"
                "     --json              with --list: JSON output\n"
                " -t, --timeout=<secs>    grace period before SIGKILL (default 5)\n"
                " -n, --dry-run           show what would be done, do nothing\n"
                " /?, -h, --help          display this help\n"
                "     --version           display version\n"),
              stdout);
        fputs(_("\nSwitches are case-insensitive and may start with '/' or '-'.\n"
                "Exit status: 0 logged off, 1 failure, 2 invalid parameters, 3 no such session,\n"
                "4 access denied, 5 console session, 6 processes survived, 7 server unreachable.\n"),
              stdout);
        printf(_("\nFor more details see %s(1).\n"), "logoff");
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
        case PARSE_JSON_WITHOUT_LIST:
                fprintf(stderr, _("%s: --json goes with --list\n"), program);
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
                for (size_t i = 0; i < n && i < ARRAY_SIZE(found); i++)
                        fprintf(stderr, " %u", (unsigned) found[i]->id);
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

static int run_list(const struct options *o) {
        struct session_list l;
        int r = sessions_discover(&l);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the sessions of this host: %s\n"), program, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        const struct session *only = NULL;
        if (o->target) {
                r = select_session(&l, o, &only);
                if (r < 0) {
                        int code = report_select_error(r, o, &l);
                        session_list_done(&l);
                        return code;
                }
        }
        r = o->json ? output_sessions_json(stdout, &l, only) : output_sessions_table(stdout, &l, only);
        session_list_done(&l);
        if (r < 0 || fflush(stdout) != 0) {
                fprintf(stderr, _("%s: write error\n"), program);
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

static int run_logoff(const struct options *o) {
        struct session_list l;
        int r = sessions_discover(&l);
        if (r < 0) {
                fprintf(stderr, _("%s: cannot read the sessions of this host: %s\n"), program, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        const struct session *s = NULL;
        r = select_session(&l, o, &s);
        if (r < 0) {
                int code = report_select_error(r, o, &l);
                session_list_done(&l);
                return code;
        }
        _cleanup_free_ char *b1 = NULL;
        if (s->console) {
                fprintf(stderr, _("%s: session %u (%s) is the console session; it cannot be logged off\n"),
                        program, (unsigned) s->id, printable_or_dash(s->name, &b1));
                session_list_done(&l);
                return EXIT_CONSOLE;
        }
        fprintf(stderr, _("%s: ending sessions is not implemented yet\n"), program);
        session_list_done(&l);
        return EXIT_FAILURE_GENERIC;
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
