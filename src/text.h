/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Text from outside, made valid printable UTF-8: invalid bytes, control
 * and bidirectional characters, the line and paragraph separators and the
 * backslash become \xNN per byte.  NULL when out of memory. */
char *text_clean(const char *s);
char *text_clean_n(const char *s, size_t len);

/* Whether s is valid UTF-8 (printable or not). */
bool text_is_valid_utf8(const char *s);

/* Replaces *s (may be NULL) by its clean form: 0 or -ENOMEM. */
int text_clean_in_place(char **s);

/* The clean form of len bytes of s into out (size bytes), cut at a
 * character boundary. */
void text_clean_into(const char *s, size_t len, char *out, size_t size);

/* How many terminal columns clean text takes: two for East Asian wide
 * characters, none for combining marks. */
size_t text_width(const char *s);
