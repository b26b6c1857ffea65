/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* A live login as utmp records it (USER_PROCESS). */
struct utmp_login {
        pid_t pid;
        char *line;   /* "pts/3", "tty1", ":10" */
        char *id;     /* ut_id, not NUL-terminated in utmp: copied as a string */
        char *user;
        char *host;
        uint64_t login_usec;
};

/* Every USER_PROCESS entry of the utmp file (a missing file is no entries). */
int utmp_read_logins(struct utmp_login **ret, size_t *ret_n);
void utmp_logins_free(struct utmp_login *l, size_t n);
