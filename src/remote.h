/* SPDX-License-Identifier: MIT */
#pragma once

#include "args.h"

/* Runs logoff on o->server over ssh(1), with the same request, and returns
 * its exit status (>= 0), or a negative errno if ssh could not be started.
 * ssh's own failure to connect comes back as 255.
 * LOGOFF_SSH names the ssh program (default "ssh"), LOGOFF_REMOTE_COMMAND the
 * logoff program on the server (default "logoff"). */
int remote_run(const struct options *o);

/* The remote command line, each word quoted for the remote shell. */
int remote_command_line(const struct options *o, char **ret);
