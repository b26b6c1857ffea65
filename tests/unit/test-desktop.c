/* SPDX-License-Identifier: MIT */
/* desktop.c: an inhibitor's flags as words; the asking child's answer. */
#include "desktop.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

static void test_flags_text(void) {
        char *t = desktop_inhibit_flags_text(DESKTOP_INHIBIT_LOGOUT | DESKTOP_INHIBIT_SUSPEND);
        CHECK(t && streq(t, "logout, suspend"), "logout and suspend in gnome-session's order (got %s)", t);
        free(t);
        t = desktop_inhibit_flags_text(DESKTOP_INHIBIT_IDLE | 0x40u);
        CHECK(t && streq(t, "idle, 0x40"), "an unknown bit in hex (got %s)", t);
        free(t);
        t = desktop_inhibit_flags_text(0);
        CHECK(t && streq(t, ""), "nothing (got %s)", t);
        free(t);
        t = desktop_inhibit_flags_text(0x1fu);
        CHECK(t && streq(t, "logout, switching user, suspend, idle, automount"), "all five (got %s)", t);
        free(t);
}

static int parse(const char *answer, struct desktop_report *rep) {
        char *copy = strdup(answer);
        *rep = (struct desktop_report) { 0 };
        int r = copy ? desktop_parse_answer(copy, rep) : -ENOMEM;
        free(copy);
        return r;
}

static void test_parse_answer(void) {
        struct desktop_report rep;
        int r = parse("inhibitor 5\torg.example.Burner\tBurning a disc \033]0;owned\007\n"
                      "inhibitor 8\torg.example.Player\tPlaying a film\n"
                      "inhibitors-more 3\nok\n",
                      &rep);
        CHECK(r == 0, "two inhibitors and ok (r=%d)", r);
        CHECK(rep.n_inhibitors == 2 && rep.inhibitors_not_read == 3, "both read, three more counted (%zu, %u)",
              rep.n_inhibitors, rep.inhibitors_not_read);
        if (rep.n_inhibitors == 2) {
                CHECK(rep.inhibitors[0].flags == 5 && streq(rep.inhibitors[0].app_id, "org.example.Burner"),
                      "the first one's flags and app");
                CHECK(!has_control_chars(rep.inhibitors[0].reason), "an escape in a reason is cleaned where it enters");
                CHECK_STREQ(rep.inhibitors[1].reason, "Playing a film", "the second one's reason");
        }
        desktop_report_done(&rep);

        r = parse("inhibitors-error 13\nerror org.gnome.SessionManager.NotInInitialization\nNot now", &rep);
        CHECK(r == -EREMOTEIO, "the manager's no (r=%d)", r);
        CHECK(rep.inhibitors_error == -EACCES, "the inhibitors' own error (%d)", rep.inhibitors_error);
        CHECK_STREQ(rep.error_name, "org.gnome.SessionManager.NotInInitialization", "its error name");
        CHECK_STREQ(rep.error_message, "Not now", "its message");
        desktop_report_done(&rep);

        CHECK(parse("errno 110\n", &rep) == -ETIMEDOUT, "an errno from the child");
        desktop_report_done(&rep);
        CHECK(parse("owner 1234\n", &rep) == -EPERM, "a bus name another process serves");
        desktop_report_done(&rep);
        CHECK(parse("inhibitor 1\tno-reason-tab\nok\n", &rep) == -EPROTO, "an inhibitor line without a reason");
        desktop_report_done(&rep);
        CHECK(parse("inhibitor 1\ta\tb", &rep) == -EPROTO, "an inhibitor line cut short");
        desktop_report_done(&rep);
        CHECK(parse("errno -5\n", &rep) == -EPROTO, "a negative errno is nonsense");
        desktop_report_done(&rep);
        CHECK(parse("", &rep) == -EPROTO, "nothing at all");
        desktop_report_done(&rep);
}

int main(void) {
        test_flags_text();
        test_parse_answer();
        return tap_done();
}
