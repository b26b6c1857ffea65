/* SPDX-License-Identifier: MIT */
/* What xrdp's processes say about its sessions, read by backend-xrdp.c and
 * by the tests: the X server's command line is the user's. */
#pragma once

#include <stddef.h>

/* N of the first ":N" argument of an X server's command line (len bytes of
 * NUL-separated arguments, a NUL after them), below 65536 - 5900 (5900 + N is its port):
 * 0, or -ENOENT. */
int xrdp_parse_x_display(const char *cmdline, size_t len, unsigned *ret);
