/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <utmpx.h>

/* A live login as utmp records it (USER_PROCESS). */
struct utmp_login {
        pid_t pid;
        char *line;   /* "pts/3", "tty1", ":10" */
        char *id;     /* ut_id, not NUL-terminated in utmp: copied as a string */
        char *user;
        char *host;
        uint64_t login_usec;
};

/* The utmp entry that belongs to a session whose processes are procs: its
 * ut_pid is one of them.  A stale entry whose pid was reused is ruled out by
 * time: no process logs in before it was started. */
struct proc_info;
const struct utmp_login *utmp_find_login(const struct utmp_login *logins, size_t n_logins,
                                         const struct proc_info *procs, size_t n_procs);

/* Every USER_PROCESS entry of the utmp file (a missing file is no entries). */
int utmp_read_logins(struct utmp_login **ret, size_t *ret_n);
/* The same from records already read (a fuzzer's, a test's). */
int utmp_logins_from_records(const struct utmpx *records, size_t n_records, struct utmp_login **ret,
                             size_t *ret_n);
void utmp_logins_free(struct utmp_login *l, size_t n);

#include "utmpfile.h"

/* How long the lock login and sshd take on utmp and wtmp is waited for
 * before writing without it. */
#define UTMP_LOCK_BOUND_USEC (2u * 1000000u)

/* What writing the records met: the file a failure was about, and the locks. */
struct utmp_write_report {
        const char *path;        /* the file an error is about; NULL when written */
        struct lock_wait utmp_lock, wtmp_lock;
        bool no_wtmp;            /* the host keeps no wtmp file: nothing appended */
};

/* The session is over: mark its utmp entry (ut_id, ut_line, owned by pid)
 * DEAD_PROCESS and append a logout record to wtmp, as login(1) and sshd do at
 * a normal logout.  If its owner already did, or the line has been reused by
 * a new login since, nothing is written.  Two logoff runs at once write one
 * record: they take turns on a lock only root can take.  A user's lock on
 * utmp or wtmp delays the write by UTMP_LOCK_BOUND_USEC at most.
 * Returns 1 when written, 0 when nothing was left to do, or a negative errno. */
int utmp_record_logout(const char *ut_id, const char *line, pid_t pid, struct utmp_write_report *rep);
