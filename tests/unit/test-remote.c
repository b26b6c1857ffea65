/* SPDX-License-Identifier: MIT */
/* remote.c: the command line /server: runs, quoted for the remote shell. */
#include "args.h"
#include "remote.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void test_remote_quoting(void) {
        struct options o = { .action = ACTION_LOGOFF, .target = "it's", .verbose = true, .timeout_usec = 2500000 };
        char *line = NULL;
        unsetenv("LOGOFF_REMOTE_COMMAND");
        CHECK(remote_command_line(&o, &line) == 0, "remote command line");
        CHECK_STREQ(line, "'logoff' '--verbose' '--timeout=2.500000' '--' 'it'\\''s'", "quoted for the remote shell");
        free(line);

        o = (struct options) { .action = ACTION_LIST, .json = true };
        setenv("LOGOFF_REMOTE_COMMAND", "/opt/x/logoff", 1);
        CHECK(remote_command_line(&o, &line) == 0, "remote list command line");
        CHECK_STREQ(line, "'/opt/x/logoff' '--list' '--json'", "list forwarded");
        free(line);
        unsetenv("LOGOFF_REMOTE_COMMAND");

        /* The columns go over by their own names, as parsed, whatever was
         * typed: "id,+x" never reaches the remote shell. */
        char *argv[] = { "logoff", "--list", "-o", "+idle,Processes", "--raw", "--noheadings", NULL };
        enum parse_error e;
        CHECK(parse_args(6, argv, &o, &e) == 0, "a listing with columns parses");
        CHECK(remote_command_line(&o, &line) == 0, "remote listing with columns");
        CHECK_STREQ(line,
                    "'logoff' '--list' '--output=SESSIONNAME,USERNAME,ID,STATE,TYPE,DEVICE,IDLE,PROCESSES' "
                    "'--noheadings' '--raw'",
                    "the parsed columns, --noheadings and --raw forwarded");
        free(line);

        /* A selection goes over as parsed: the idle time in seconds, the
         * state and the types by their own names. */
        char *sel[] = { "logoff", "/USER:alice,bob", "--idle=2h", "--state=Disconnected", "--type=RDP,tty", "--all",
                        "/server:h", "-n", NULL };
        CHECK(parse_args(8, sel, &o, &e) == 0, "a selection parses");
        CHECK(remote_command_line(&o, &line) == 0, "remote selection");
        CHECK(line && strstr(line, "'--user=alice,bob' '--idle=7200.000000' '--state=disc' '--type=tty,rdp' '--all'"),
              "the selection forwarded: %s", line ? line : "(null)");
        CHECK(line && !strstr(line, "'--'"), "no session named: no '--'");
        free(line);
}

int main(void) {
        test_remote_quoting();
        return tap_done();
}
