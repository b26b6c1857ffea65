/* SPDX-License-Identifier: MIT */
#include "records.h"

#include "backend.h"

#include <sys/file.h>
#include <utmpx.h>

#include "procscan.h"
#include "util.h"
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

/* glibc locks utmp with fcntl() for each call; flock() is a separate lock
 * on Linux, so holding it across our read-check-write cannot deadlock with
 * glibc, and serializes concurrent logoff runs. */
static int lock_utmp(void) {
        int fd = open(_PATH_UTMPX, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
        }
        return fd;
}

static int append_wtmp(const struct utmpx *u) {
        _cleanup_close_ int fd = open(_PATH_WTMPX, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        ssize_t k = write(fd, u, sizeof(*u));
        if (k < 0)
                return -errno;
        if ((size_t) k != sizeof(*u))
                return -EIO;
        return 0;
}

int utmp_record_logout(const char *ut_id, const char *line, pid_t pid) {
        _cleanup_close_ int lock = lock_utmp();
        if (lock == -ENOENT)
                return 0;
        /* A user logging off their own session cannot write utmp; that is
         * only an error if its login process did not write it either. */
        if (lock < 0 && lock != -EACCES)
                return lock;

        struct utmpx key = { .ut_type = USER_PROCESS };
        strncpy(key.ut_id, ut_id, sizeof(key.ut_id));

        setutxent();
        struct utmpx *u = getutxid(&key);
        if (!u || u->ut_type != USER_PROCESS || u->ut_pid != pid ||
            strncmp(u->ut_line, line, sizeof(u->ut_line)) != 0) {
                endutxent();
                return 0;
        }
        if (lock < 0) {
                endutxent();
                return lock;
        }

        struct utmpx dead = *u;
        dead.ut_type = DEAD_PROCESS;
        memset(dead.ut_user, 0, sizeof(dead.ut_user));
        memset(dead.ut_host, 0, sizeof(dead.ut_host));
        memset(&dead.ut_addr_v6, 0, sizeof(dead.ut_addr_v6));
        uint64_t now = now_realtime_usec();
        dead.ut_tv.tv_sec = (int32_t) (now / 1000000u);
        dead.ut_tv.tv_usec = (int32_t) (now % 1000000u);

        errno = 0;
        struct utmpx *w = pututxline(&dead);
        int r = w ? 0 : (errno ? -errno : -EIO);
        endutxent();
        if (r < 0)
                return r;

        r = append_wtmp(&dead);
        if (r < 0)
                return r;
        return 1;
}

int record_session_logout(const struct session *s, struct record_report *rep) {
        *rep = (struct record_report) { 0 };
        if (s->utmp_line)
                rep->utmp = utmp_record_logout(s->utmp_id ? s->utmp_id : "", s->utmp_line, s->utmp_pid);
        /* Hosts without utmp (Debian 13) keep the login in wtmpdb under the
         * session's terminal line. */
        const char *line = s->utmp_line ? s->utmp_line : s->name;
        if (line && s->user)
                rep->wtmpdb = wtmpdb_record_logout(line, s->user, s->login_usec);
        return rep->utmp < 0 ? rep->utmp : rep->wtmpdb < 0 ? rep->wtmpdb : 0;
}
