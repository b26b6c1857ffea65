/* SPDX-License-Identifier: MIT */
/* desktop.c: an inhibitor's flags as words. */
#include "desktop.h"
#include "tap.h"
#include "util.h"

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

int main(void) {
        test_flags_text();
        return tap_done();
}
