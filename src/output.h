/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "columns.h"
#include "session.h"

/* The sessions in those columns (COLUMNS_DEFAULT: the layout of Windows
 * "query session"), with '>' before the caller's session; headed by the
 * columns' names unless !headings; raw: one space between cells, none
 * aligned.  With only set, that one session alone. */
int output_sessions_table(FILE *f, const struct session_list *l, const struct session *only,
                          const struct column_list *cols, bool headings, bool raw);

/* {"sessions":[...]} with those columns' fields (columns_all(): every field
 * discovery knows). */
int output_sessions_json(FILE *f, const struct session_list *l, const struct session *only,
                         const struct column_list *cols);

/* A string already cleaned where it entered (text.h: every string of a
 * session, of a report), or "-" when there is none. */
static inline const char *or_dash(const char *s) { return s && *s ? s : "-"; }

/* The same for text that was never cleaned (the command line's own
 * arguments), with control characters replaced (*buf: what to free). */
const char *printable_or_dash(const char *s, char **buf);

/* "1:02:03" / "5:07" / "42s" for an idle time, "." when under a minute like w(1). */
void format_duration(char *buf, size_t size, uint64_t usec);
