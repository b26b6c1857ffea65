/* SPDX-License-Identifier: MIT */
/* A few lines of TAP, so meson reports each check by name. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

#define CHECK(cond, ...)                                                                   \
        do {                                                                               \
                bool _ok = (cond);                                                         \
                tap_count++;                                                               \
                if (_ok)                                                                   \
                        printf("ok %d - ", tap_count);                                     \
                else {                                                                     \
                        tap_failed++;                                                      \
                        printf("not ok %d - ", tap_count);                                 \
                }                                                                          \
                printf(__VA_ARGS__);                                                       \
                printf("\n");                                                              \
                if (!_ok)                                                                  \
                        printf("#   %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
        } while (0)

#define CHECK_STREQ(a, b, ...)                                                             \
        do {                                                                               \
                const char *_a = (a), *_b = (b);                                           \
                bool _same = _a && _b && strcmp(_a, _b) == 0;                              \
                CHECK(_same, __VA_ARGS__);                                                 \
                if (!_same)                                                                \
                        printf("#   got '%s', want '%s'\n", _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)

static inline int tap_done(void) {
        printf("1..%d\n", tap_count);
        return tap_failed ? 1 : 0;
}
