/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "session.h"

/* The layout of Windows "query session": SESSIONNAME USERNAME ID STATE TYPE
 * DEVICE, with '>' before the caller's session.  With only set, that one
 * session alone. */
int output_sessions_table(FILE *f, const struct session_list *l, const struct session *only);

/* {"sessions":[...]} with every field discovery knows. */
int output_sessions_json(FILE *f, const struct session_list *l, const struct session *only);

/* "pts/3" or "-" — names and hosts come from utmp and environments, so they
 * are shown with control characters replaced. */
const char *printable_or_dash(const char *s, char **buf);

/* "1:02:03" / "5:07" / "42s" for an idle time, "." when under a minute like w(1). */
void format_duration(char *buf, size_t size, uint64_t usec);
