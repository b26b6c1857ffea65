/* SPDX-License-Identifier: MIT */
#include "args.h"
#include "tap.h"
#include "util.h"

#define PARSE(o, e, ...)                                                        \
        ({                                                                      \
                char *_argv[] = { "logoff", __VA_ARGS__, NULL };                \
                parse_args((int) ARRAY_SIZE(_argv) - 1, _argv, (o), (e));       \
        })

static void test_reference_syntax(void) {
        struct options o;
        enum parse_error e;
        char *argv0[] = { "logoff", NULL };

        CHECK(parse_args(1, argv0, &o, &e) == 0 && o.action == ACTION_LOGOFF && !o.target && !o.server,
              "no argument: log off the current session");

        CHECK(PARSE(&o, &e, "12") == 0 && o.target_is_id && o.target_id == 12, "numeric argument is an ID");
        CHECK(PARSE(&o, &e, "0012") == 0 && o.target_is_id && o.target_id == 12, "leading zeros are still an ID");
        CHECK(PARSE(&o, &e, "TERM04", "/server:Server1") == 0 && !o.target_is_id &&
                      streq(o.target, "TERM04") && streq(o.server, "Server1"),
              "the reference's third example");
        CHECK(PARSE(&o, &e, "pts/3", "/v") == 0 && o.verbose, "/v");
        CHECK(PARSE(&o, &e, "/V", "pts/3") == 0 && o.verbose && streq(o.target, "pts/3"), "/V before the name");
        CHECK(PARSE(&o, &e, "-v") == 0 && o.verbose, "-v");
        CHECK(PARSE(&o, &e, "--verbose") == 0 && o.verbose, "--verbose");
        CHECK(PARSE(&o, &e, "1", "/SERVER:host1") == 0 && streq(o.server, "host1"), "/SERVER: uppercase");
        CHECK(PARSE(&o, &e, "1", "-server:host1") == 0 && streq(o.server, "host1"), "-server:");
        CHECK(PARSE(&o, &e, "1", "--server=host1") == 0 && streq(o.server, "host1"), "--server=");
        CHECK(PARSE(&o, &e, "--server", "host1", "7") == 0 && streq(o.server, "host1") && o.target_id == 7,
              "--server HOST");
        CHECK(PARSE(&o, &e, "1", "/server:admin@10.1.2.3") == 0, "user@address as server");
        CHECK(PARSE(&o, &e, "1", "/server:[::1]") == 0, "bracketed IPv6 server");
        CHECK(PARSE(&o, &e, "/?") == 0 && o.action == ACTION_HELP, "/?");
        CHECK(PARSE(&o, &e, "-h") == 0 && o.action == ACTION_HELP, "-h");
        CHECK(PARSE(&o, &e, "--HELP") == 0 && o.action == ACTION_HELP, "--HELP");
        CHECK(PARSE(&o, &e, "--version") == 0 && o.action == ACTION_VERSION, "--version");
        CHECK(PARSE(&o, &e, "-l") == 0 && o.action == ACTION_LIST, "-l");
        CHECK(PARSE(&o, &e, "--list", "--json") == 0 && o.action == ACTION_LIST && o.json, "--list --json");
        CHECK(PARSE(&o, &e, "/list", "pts/1") == 0 && o.action == ACTION_LIST && streq(o.target, "pts/1"),
              "/list with a session");
        CHECK(PARSE(&o, &e, "/dev/pts/3") == 0 && streq(o.target, "/dev/pts/3") && !o.target_is_id,
              "/dev/ path is a name, not a switch");
        CHECK(PARSE(&o, &e, ":10") == 0 && streq(o.target, ":10"), "X display name");
        CHECK(PARSE(&o, &e, "--", "-odd") == 0 && streq(o.target, "-odd"), "-- ends the switches");
        CHECK(PARSE(&o, &e, "4294967294") == 0 && o.target_id == 4294967294u, "largest session ID");
}

static void test_timeout(void) {
        struct options o;
        enum parse_error e;
        CHECK(PARSE(&o, &e, "1") == 0 && o.timeout_usec == DEFAULT_TIMEOUT_USEC, "default grace period");
        CHECK(PARSE(&o, &e, "--timeout=2.5") == 0 && o.timeout_usec == 2500000, "--timeout=2.5");
        CHECK(PARSE(&o, &e, "-t", "0") == 0 && o.timeout_usec == 0, "-t 0");
        CHECK(PARSE(&o, &e, "/timeout:3") == 0 && o.timeout_usec == 3000000, "/timeout:3");
        CHECK(PARSE(&o, &e, "--timeout=abc") < 0 && e == PARSE_BAD_TIMEOUT, "timeout not a number");
        CHECK(PARSE(&o, &e, "--timeout=-1") < 0 && e == PARSE_BAD_TIMEOUT, "negative timeout");
        CHECK(PARSE(&o, &e, "--timeout=1e9") < 0 && e == PARSE_BAD_TIMEOUT, "huge timeout");
        CHECK(PARSE(&o, &e, "--timeout=nan") < 0 && e == PARSE_BAD_TIMEOUT, "nan timeout");
        CHECK(PARSE(&o, &e, "--timeout=") < 0 && e == PARSE_BAD_TIMEOUT, "empty timeout");
        CHECK(PARSE(&o, &e, "--timeout") < 0 && e == PARSE_MISSING_VALUE, "timeout without value");
}

static void test_bad_input(void) {
        struct options o;
        enum parse_error e;

        CHECK(PARSE(&o, &e, "/x") < 0 && e == PARSE_UNKNOWN_SWITCH && streq(o.bad_arg, "/x"), "unknown switch");
        CHECK(PARSE(&o, &e, "--bogus") < 0 && e == PARSE_UNKNOWN_SWITCH, "unknown long option");
        CHECK(PARSE(&o, &e, "-") < 0 && e == PARSE_UNKNOWN_SWITCH, "lone dash");
        CHECK(PARSE(&o, &e, "/") < 0 && e == PARSE_UNKNOWN_SWITCH, "lone slash");
        CHECK(PARSE(&o, &e, "-5") < 0 && e == PARSE_UNKNOWN_SWITCH, "negative ID is a bad switch");
        CHECK(PARSE(&o, &e, "/v:yes") < 0 && e == PARSE_UNEXPECTED_VALUE, "value on a flag");
        CHECK(PARSE(&o, &e, "1", "2") < 0 && e == PARSE_EXTRA_ARGUMENT && streq(o.bad_arg, "2") &&
                      streq(o.conflict_arg, "1"),
              "two positional arguments");
        CHECK(PARSE(&o, &e, "/server:") < 0 && e == PARSE_EMPTY_SERVER, "empty /server:");
        CHECK(PARSE(&o, &e, "--server=") < 0 && e == PARSE_EMPTY_SERVER, "empty --server=");
        CHECK(PARSE(&o, &e, "/server") < 0 && e == PARSE_MISSING_VALUE, "/server without colon");
        CHECK(PARSE(&o, &e, "--server") < 0 && e == PARSE_MISSING_VALUE, "--server at the end");
        CHECK(PARSE(&o, &e, "/server:-oProxyCommand=x") < 0 && e == PARSE_BAD_SERVER,
              "server starting with '-' cannot become an ssh option");
        CHECK(PARSE(&o, &e, "/server:a b") < 0 && e == PARSE_BAD_SERVER, "server with a space");
        CHECK(PARSE(&o, &e, "/server:a;reboot") < 0 && e == PARSE_BAD_SERVER, "server with a ';'");
        CHECK(PARSE(&o, &e, "/server:a", "/server:b") < 0 && e == PARSE_REPEATED_SERVER, "two servers");
        CHECK(PARSE(&o, &e, "4294967295") < 0 && e == PARSE_ID_RANGE, "the unset audit ID is out of range");
        CHECK(PARSE(&o, &e, "99999999999999999999999") < 0 && e == PARSE_ID_RANGE, "overflowing ID");
        CHECK(PARSE(&o, &e, "pts/1\n") < 0 && e == PARSE_BAD_NAME, "newline in a name");
        CHECK(PARSE(&o, &e, "a\033[2Jb") < 0 && e == PARSE_BAD_NAME, "escape sequence in a name");
        CHECK(PARSE(&o, &e, "") < 0 && e == PARSE_BAD_NAME, "empty name");
        CHECK(PARSE(&o, &e, "--json") < 0 && e == PARSE_JSON_WITHOUT_LIST, "--json without --list");
        CHECK(PARSE(&o, &e, "/server:h") < 0 && e == PARSE_SERVER_NEEDS_SESSION,
              "/server without a session: the current one there would be the ssh login");
        CHECK(PARSE(&o, &e, "/server:h", "-l") == 0 && o.action == ACTION_LIST, "/server with --list alone");
}

static void test_selection(void) {
        struct options o;
        enum parse_error e;
        CHECK(PARSE(&o, &e, "1") == 0 && !o.select.given, "a session ID is no selection");
        CHECK(PARSE(&o, &e, "--user=alice,1001") == 0 && o.select.given && streq(o.select.users, "alice,1001") &&
                      !o.target,
              "--user: names and UIDs");
        CHECK(PARSE(&o, &e, "--idle=2h") == 0 && o.select.idle_given && o.select.idle_usec == 7200ull * 1000000u,
              "--idle=2h");
        CHECK(PARSE(&o, &e, "--idle=90m") == 0 && o.select.idle_usec == 5400ull * 1000000u, "--idle=90m");
        CHECK(PARSE(&o, &e, "--idle=1d") == 0 && o.select.idle_usec == 86400ull * 1000000u, "--idle=1d");
        CHECK(PARSE(&o, &e, "--idle=365d") == 0 && o.select.idle_usec == MAX_IDLE_USEC, "--idle=365d, the most");
        CHECK(PARSE(&o, &e, "--idle=0") == 0 && o.select.idle_given && o.select.idle_usec == 0,
              "--idle=0: any known idle time");
        CHECK(PARSE(&o, &e, "--idle=366d") == -EINVAL && e == PARSE_BAD_IDLE, "--idle=366d refused");
        CHECK(PARSE(&o, &e, "--idle=2x") == -EINVAL && e == PARSE_BAD_IDLE, "--idle=2x refused");
        CHECK(PARSE(&o, &e, "--state=disc") == 0 && o.select.state_given && o.select.state == SESSION_DISCONNECTED,
              "--state=disc");
        CHECK(PARSE(&o, &e, "/STATE:Active") == 0 && o.select.state == SESSION_ACTIVE, "/STATE:Active");
        CHECK(PARSE(&o, &e, "--state=down") == -EINVAL && e == PARSE_BAD_STATE, "--state=down refused");
        CHECK(PARSE(&o, &e, "--type=rdp,X2GO") == 0 &&
                      o.select.types == ((1u << SESSION_TYPE_RDP) | (1u << SESSION_TYPE_X2GO)),
              "--type: a set, any case");
        CHECK(PARSE(&o, &e, "--type=rdp,vnc") == -EINVAL && e == PARSE_BAD_TYPE && o.bad_column_len == 3 &&
                      strncmp(o.bad_column, "vnc", 3) == 0,
              "--type: the unknown one named");
        CHECK(PARSE(&o, &e, "--all", "--state=disc") == 0 && o.select.all && o.select.state_given,
              "--all with --state");
        CHECK(PARSE(&o, &e, "--all", "--all") == -EINVAL && e == PARSE_REPEATED_SELECTION, "--all twice");
        CHECK(PARSE(&o, &e, "--user=a", "pts/1") == -EINVAL && e == PARSE_TARGET_WITH_SELECTION,
              "a name and a selection");
        CHECK(PARSE(&o, &e, "--user=a", "/server:h") == 0 && streq(o.server, "h"),
              "/server with a selection needs no session");
        CHECK(PARSE(&o, &e, "--user=a", "--list") == 0 && o.action == ACTION_LIST && o.select.given,
              "--list filtered by a selection");
        CHECK(PARSE(&o, &e, "--user=a,,b") == -EINVAL && e == PARSE_BAD_USER, "an empty user name");
}

int main(void) {
        test_reference_syntax();
        test_timeout();
        test_bad_input();
        test_selection();
        return tap_done();
}
