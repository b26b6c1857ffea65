/* SPDX-License-Identifier: MIT */
/* What X2Go's processes say about its sessions, read by backend-x2go.c and
 * by the tests: the agent's command line and environment are the user's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* X2Go's session IDs are "user-50-1796153372_stDxterm_dp24": a user name and
 * what X2Go adds.  Anything else is not passed on to its tools. */
bool x2go_id_is_valid(const char *id);

/* "-name X2GO-<id>" and ":N" of the agent's command line (len bytes of
 * NUL-separated arguments, a NUL after them): 0, or -ENOENT when either is missing. */
int x2go_parse_agent_cmdline(const char *cmdline, size_t len, char **ret_id, unsigned *ret_display);

/* The agent's DISPLAY is "nx/nx,options=<dir>/C-<id>/options:N": its state
 * file is <dir>/C-<id>/state (x2gostartagent's <dir> is /tmp/.x2go-USER).
 * -ENOENT when DISPLAY does not name the options of session id. */
int x2go_state_path(const char *display, const char *id, char **ret);
