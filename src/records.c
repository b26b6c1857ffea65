/* SPDX-License-Identifier: MIT */
#include "records.h"

#include <utmpx.h>

#include "util.h"

/* utmp fields are fixed-width and need not be NUL-terminated. */
static char *field_dup(const char *f, size_t size) {
        return strndup(f, strnlen(f, size));
}

void utmp_logins_free(struct utmp_login *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].line);
                free(l[i].id);
                free(l[i].user);
                free(l[i].host);
        }
        free(l);
}

int utmp_read_logins(struct utmp_login **ret, size_t *ret_n) {
        struct utmp_login *list = NULL;
        size_t n = 0, alloc = 0;

        if (access(_PATH_UTMPX, F_OK) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }

        setutxent();
        struct utmpx *u;
        while ((u = getutxent())) {
                if (u->ut_type != USER_PROCESS || u->ut_pid <= 0)
                        continue;
                if (n == alloc) {
                        size_t na = alloc ? alloc * 2 : 16;
                        struct utmp_login *nl = reallocarray(list, na, sizeof(*nl));
                        if (!nl)
                                goto oom;
                        list = nl;
                        alloc = na;
                }
                struct utmp_login *l = &list[n];
                *l = (struct utmp_login) {
                        .pid = u->ut_pid,
                        .line = field_dup(u->ut_line, sizeof(u->ut_line)),
                        .id = field_dup(u->ut_id, sizeof(u->ut_id)),
                        .user = field_dup(u->ut_user, sizeof(u->ut_user)),
                        .host = field_dup(u->ut_host, sizeof(u->ut_host)),
                        .login_usec = (uint64_t) u->ut_tv.tv_sec * 1000000u + (uint64_t) u->ut_tv.tv_usec,
                };
                n++;
                if (!l->line || !l->id || !l->user || !l->host)
                        goto oom;
        }
        endutxent();
        *ret = list;
        *ret_n = n;
        return 0;

oom:
        endutxent();
        utmp_logins_free(list, n);
        return -ENOMEM;
}
