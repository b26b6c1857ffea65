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

/* A string already cleaned where it entered (text.h: every string of a
 * session, of a report), or "-" when there is none. */
static inline const char *or_dash(const char *s) { return s && *s ? s : "-"; }

/* The same for text that was never cleaned (the command line's own
 * arguments), with control characters replaced (*buf: what to free). */
const char *printable_or_dash(const char *s, char **buf);

/* "1:02:03" / "5:07" / "42s" for an idle time, "." when under a minute like w(1). */
void format_duration(char *buf, size_t size, uint64_t usec);
