/* SPDX-License-Identifier: MIT */
/* backend-x2go.c: what the agent's command line and DISPLAY say, as the
 * user who runs it could shape them. */
#include "backend-x2go.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

#define CMDLINE(s) (s), sizeof(s)

static void test_cmdline(void) {
        char *id = NULL;
        unsigned display = 0;
        int r = x2go_parse_agent_cmdline(CMDLINE("x2goagent\0-nolisten\0tcp\0-name\0X2GO-bob-50-1796153372_stDxterm_dp24\0:50"),
                                         &id, &display);
        CHECK(r == 0 && display == 50, "the ID and :50 (r=%d, display=%u)", r, display);
        CHECK_STREQ(id, "bob-50-1796153372_stDxterm_dp24", "the session ID after X2GO-");
        free(id);
        id = NULL;

        CHECK(x2go_parse_agent_cmdline(CMDLINE("x2goagent\0-name\0X2GO-bob-50\0"), &id, &display) == -ENOENT && !id,
              "no display: not an agent");
        CHECK(x2go_parse_agent_cmdline(CMDLINE("x2goagent\0:50\0-name\0other\0"), &id, &display) == -ENOENT && !id,
              "a name that is not X2GO-...: not an agent");
        CHECK(x2go_parse_agent_cmdline(CMDLINE("x2goagent\0-name\0X2GO-bob;rm -rf /\0:50"), &id, &display) == -ENOENT,
              "an ID no X2Go tool should see is refused");
        CHECK(x2go_parse_agent_cmdline(CMDLINE("x2goagent\0-name\0X2GO---help\0:50"), &id, &display) == -ENOENT,
              "an ID that reads as an option is refused");
        CHECK(x2go_parse_agent_cmdline(CMDLINE("x2goagent\0X2GO-bob\0:50"), &id, &display) == -ENOENT,
              "X2GO- only counts after -name");
        CHECK(x2go_parse_agent_cmdline(CMDLINE("x2goagent\0-name\0X2GO-a\0-name\0X2GO-b\0:7"), &id, &display) == 0 &&
                      id && streq(id, "a"),
              "the first -name counts");
        free(id);
        id = NULL;
        CHECK(x2go_parse_agent_cmdline("", 0, &id, &display) == -ENOENT, "an empty command line (a zombie)");
        /* The kernel's command line may lack its last NUL; the reader
         * adds one after len. */
        CHECK(x2go_parse_agent_cmdline("-name\0X2GO-a\0:5", sizeof("-name\0X2GO-a\0:5") - 1, &id, &display) == 0 &&
                      display == 5,
              "a last argument without its NUL");
        free(id);
}

static void test_state_path(void) {
        char *p = NULL;
        int r = x2go_state_path("nx/nx,options=/tmp/.x2go-bob/C-bob-50-17_stDxterm_dp24/options:50",
                                "bob-50-17_stDxterm_dp24", &p);
        CHECK(r == 0, "the state file of a real DISPLAY (r=%d)", r);
        CHECK_STREQ(p, "/tmp/.x2go-bob/C-bob-50-17_stDxterm_dp24/state", "its path");
        free(p);
        p = NULL;
        CHECK(x2go_state_path("nx/nx,options=/tmp/.x2go-bob/C-other/options:50", "bob-50", &p) == -ENOENT && !p,
              "the options of another session are not this one's");
        CHECK(x2go_state_path("nx/nx,options=relative/C-bob/options:50", "bob", &p) == -ENOENT, "a relative path");
        CHECK(x2go_state_path(":50", "bob", &p) == -ENOENT, "no options at all");
        CHECK(x2go_state_path("nx/nx,options=/C-bob/options", "bob", &p) == 0 && p && streq(p, "/C-bob/state"),
              "a path at / (the file checks are user_file_read's)");
        free(p);
}

int main(void) {
        CHECK(x2go_id_is_valid("bob-50-1796153372_stDxterm_dp24"), "a real ID");
        CHECK(!x2go_id_is_valid(""), "an empty ID");
        CHECK(!x2go_id_is_valid("-x"), "an ID starting with '-'");
        CHECK(!x2go_id_is_valid("a b"), "a space");
        test_cmdline();
        test_state_path();
        return tap_done();
}
