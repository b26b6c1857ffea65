/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Whether an RDP client is attached to the xrdp session whose X server is
 * x_server (Xorg when xorg, else Xvnc) on display N, and the client's
 * address (NULL when it cannot be told), searched among the xrdp
 * processes xrdp_pids.  Returns 0 or a negative errno. */
int xrdp_connection(pid_t x_server, bool xorg, unsigned display, const pid_t *xrdp_pids, size_t n_xrdp,
                    bool *ret_connected, char **ret_client);
