/* SPDX-License-Identifier: MIT */
#include "records.h"

#include "backend.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <utmpx.h>

#include "procscan.h"
#include "util.h"
#include "utmpfile.h"
#include "wtmpdb.h"

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
        _cleanup_free_ struct utmpx *records = NULL;
        size_t n_records = 0;

        /* No lock: a listing must not wait on one that any user can hold. */
        int r = utmp_file_read(_PATH_UTMPX, &records, &n_records);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        return utmp_logins_from_records(records, n_records, ret, ret_n);
}

int utmp_logins_from_records(const struct utmpx *records, size_t n_records, struct utmp_login **ret,
                             size_t *ret_n) {
        struct utmp_login *list = NULL;
        size_t n = 0, alloc = 0;
        for (size_t i = 0; i < n_records; i++) {
                const struct utmpx *u = &records[i];
                if (u->ut_type != USER_PROCESS || u->ut_pid <= 0)
                        continue;
                if (ARRAY_RESERVE(list, alloc, n, 16) < 0)
                        goto oom;
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
        *ret = list;
        *ret_n = n;
        return 0;

oom:
        utmp_logins_free(list, n);
        return -ENOMEM;
}

/* The utmp entry that belongs to this session: its ut_pid is a process of
 * the session.  A stale entry whose pid was reused is ruled out by time: no
 * process logs in before it was started. */
const struct utmp_login *utmp_find_login(const struct utmp_login *logins, size_t n_logins,
                                           const struct proc_info *procs, size_t n_procs) {
        const struct utmp_login *best = NULL;
        uint64_t best_start = UINT64_MAX;
        for (size_t i = 0; i < n_logins; i++)
                for (size_t j = 0; j < n_procs; j++) {
                        if (procs[j].pid != logins[i].pid || !proc_is_alive(&procs[j]))
                                continue;
                        uint64_t started = proc_start_realtime_usec(procs[j].start_ticks);
                        if (logins[i].login_usec + 2000000u < started)
                                continue;
                        /* Nested logins (screen, xterm) write entries too;
                         * the earliest process is the real login. */
                        if (procs[j].start_ticks < best_start) {
                                best = &logins[i];
                                best_start = procs[j].start_ticks;
                        }
                }
        return best;
}

/* Two logoff runs on one session must write one record.  They take turns
 * on a lock file only root can open: a lock on utmp itself (flock or
 * fcntl) any user could take first, and hold. */
#define RECORDS_LOCK "/run/logoff-records.lock"
#define RECORDS_LOCK_BOUND_USEC (10u * 1000000u)

static int lock_records(void) {
        int fd = open(RECORDS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077)) {
                close(fd);
                return -EPERM;
        }
        /* Only other logoff runs hold it, each for a few milliseconds. */
        uint64_t until = now_monotonic_usec() + RECORDS_LOCK_BOUND_USEC;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if ((errno != EWOULDBLOCK && errno != EINTR) || now_monotonic_usec() >= until) {
                        int r = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
                        close(fd);
                        return r;
                }
                sleep_usec(2000);
        }
        return fd;
}

/* Where the session's live entry is: its index, or -1. */
static ssize_t find_entry(const struct utmpx *records, size_t n, const char *ut_id, const char *line, pid_t pid) {
        for (size_t i = 0; i < n; i++) {
                const struct utmpx *u = &records[i];
                if (u->ut_type == USER_PROCESS && u->ut_pid == pid &&
                    strncmp(u->ut_id, ut_id, sizeof(u->ut_id)) == 0 &&
                    strncmp(u->ut_line, line, sizeof(u->ut_line)) == 0)
                        return (ssize_t) i;
        }
        return -1;
}

int utmp_record_logout(const char *ut_id, const char *line, pid_t pid, struct utmp_write_report *rep) {
        *rep = (struct utmp_write_report) { .path = _PATH_UTMPX };
        _cleanup_close_ int serial = -1;
        _cleanup_close_ int fd = open(_PATH_UTMPX, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return 0;
        /* A user logging off their own session cannot write utmp; that is
         * only an error if its login process did not write it either. */
        int open_error = fd < 0 ? -errno : 0;
        if (!open_error) {
                serial = lock_records();
                if (serial < 0)
                        return serial;
        }

        _cleanup_free_ struct utmpx *records = NULL;
        size_t n = 0;
        int r = utmp_file_read(_PATH_UTMPX, &records, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        ssize_t i = find_entry(records, n, ut_id, line, pid);
        if (i < 0)
                return 0;
        if (open_error)
                return open_error;

        /* login and sshd take this lock for their writes: have it if it
         * comes, and write anyway if a reader sits on it. */
        r = utmp_file_lock(fd, F_WRLCK, UTMP_LOCK_BOUND_USEC, &rep->utmp_lock);
        if (r < 0)
                return r;
        /* Read again under the lock: the entry may have moved or ended. */
        _cleanup_free_ struct utmpx *again = NULL;
        r = utmp_file_read(_PATH_UTMPX, &again, &n);
        if (r >= 0)
                i = find_entry(again, n, ut_id, line, pid);
        if (r < 0 || i < 0) {
                utmp_file_unlock(fd, &rep->utmp_lock);
                return r < 0 ? r : 0;
        }

        struct utmpx dead = again[i];
        dead.ut_type = DEAD_PROCESS;
        memset(dead.ut_user, 0, sizeof(dead.ut_user));
        memset(dead.ut_host, 0, sizeof(dead.ut_host));
        memset(&dead.ut_addr_v6, 0, sizeof(dead.ut_addr_v6));
        uint64_t now = now_realtime_usec();
        dead.ut_tv.tv_sec = (int32_t) (now / 1000000u);
        dead.ut_tv.tv_usec = (int32_t) (now % 1000000u);
        r = utmp_file_replace(fd, (size_t) i, &dead);
        utmp_file_unlock(fd, &rep->utmp_lock);
        if (r < 0)
                return r;

        rep->path = _PATH_WTMPX;
        r = wtmp_file_append(_PATH_WTMPX, &dead, UTMP_LOCK_BOUND_USEC, &rep->wtmp_lock);
        /* Like login and sshd, never create it: no wtmp is an admin's
         * choice (or a host that keeps wtmpdb instead). */
        if (r == -ENOENT)
                rep->no_wtmp = true;
        else if (r < 0)
                return r;
        rep->path = NULL;
        return 1;
}

int record_session_logout(const struct session *s, struct record_report *rep) {
        *rep = (struct record_report) { 0 };
        if (s->utmp_line)
                rep->utmp = utmp_record_logout(s->utmp_id ? s->utmp_id : "", s->utmp_line, s->utmp_pid,
                                               &rep->utmp_write);
        /* Hosts without utmp (Debian 13) keep the login in wtmpdb under the
         * session's terminal line. */
        const char *line = s->utmp_line ? s->utmp_line : s->name;
        if (line && s->user)
                rep->wtmpdb = wtmpdb_record_logout(line, s->user, s->login_usec);
        return rep->utmp < 0 ? rep->utmp : rep->wtmpdb < 0 ? rep->wtmpdb : 0;
}
