/* SPDX-License-Identifier: MIT */
/* backend-xrdp.c: the display of an X server's command line, which its
 * user runs. */
#include "backend-xrdp.h"
#include "tap.h"

#include <errno.h>

#define CMDLINE(s) (s), sizeof(s)

int main(void) {
        unsigned d = 0;
        CHECK(xrdp_parse_x_display(CMDLINE("/usr/lib/xorg/Xorg\0:10\0-auth\0.Xauthority\0-config\0xrdp/xorg.conf"), &d) ==
                              0 &&
                      d == 10,
              "Xorg :10 (d=%u)", d);
        CHECK(xrdp_parse_x_display(CMDLINE("Xvnc\0:11\0:12"), &d) == 0 && d == 11, "the first :N (d=%u)", d);
        CHECK(xrdp_parse_x_display(CMDLINE("Xvnc\0:59636"), &d) == -ENOENT, "5900 + N must be a port");
        CHECK(xrdp_parse_x_display(CMDLINE("Xvnc\0:59635"), &d) == 0 && d == 59635, "the last display that has one");
        CHECK(xrdp_parse_x_display(CMDLINE("Xvnc\0:10.0\0:1x"), &d) == -ENOENT, "not a bare number");
        CHECK(xrdp_parse_x_display(CMDLINE("Xvnc\0-geometry\0800x600"), &d) == -ENOENT, "no display at all");
        CHECK(xrdp_parse_x_display("", 0, &d) == -ENOENT, "an empty command line");
        CHECK(xrdp_parse_x_display("X\0:1", sizeof("X\0:1") - 1, &d) == 0 && d == 1, "a last argument without its NUL");
        return tap_done();
}
