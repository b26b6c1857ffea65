/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* The kernel's "no audit session" value of /proc/PID/sessionid. */
#define AUDIT_SESSION_UNSET UINT32_MAX
#define LOGINUID_UNSET ((uid_t) -1)

struct proc_info {
        pid_t pid;
        pid_t ppid;
        uint32_t session_id;  /* audit session ID */
        uid_t loginuid;
        uid_t ruid, euid, suid; /* only with PROC_SCAN_UIDS */
        char state;           /* R S D Z T ... from /proc/PID/stat */
        unsigned threads;
        dev_t tty;            /* 0: none */
        uint64_t start_ticks; /* clock ticks after boot */
        bool child_pidns;     /* in a PID namespace below ours; only with PROC_SCAN_NS */
        bool pidns_init;      /* in a namespace below ours, and its init there (pid 1); with PROC_SCAN_NS */
        unsigned pidns_depth; /* how many namespaces below ours (0: ours); with PROC_SCAN_NS */
        unsigned pf_flags;    /* the kernel's PF_* flags, from /proc/PID/stat */
        bool kill_pending;    /* SIGKILL is pending; only with PROC_SCAN_UIDS */
        char comm[64];        /* clean text (text.h): a hostile name shows as it is, escaped */
};

enum {
        PROC_SCAN_UIDS = 1 << 0,     /* ruid, euid, suid from status */
        PROC_SCAN_LOGINUID = 1 << 1, /* loginuid; else LOGINUID_UNSET */
        PROC_SCAN_NS = 1 << 2,       /* child_pidns, from status */
};

/* Which processes a walk or scan takes: contains(procdir_fd, audit_id,
 * data) > 0 for those, 0 for the others, or a negative errno (one that
 * says the process vanished leaves it out).  A NULL filter takes every
 * process with an audit session.  membership.h makes one of a session's
 * membership. */
struct proc_filter {
        int (*contains)(int procdir_fd, uint32_t audit_id, const void *data);
        const void *data;
};

/* Every process (thread group) the filter takes.  Processes that vanish
 * during the scan are left out.  Returns 0 or a negative errno. */
int proc_scan(const struct proc_filter *f, unsigned flags, struct proc_info **ret, size_t *ret_n);

/* Every process of the host (thread group), sorted by pid, and the one with
 * a given pid in such a list. */
int proc_scan_all(unsigned flags, struct proc_info **ret, size_t *ret_n);
const struct proc_info *proc_find(const struct proc_info *sorted, size_t n, pid_t pid);

/* Calls fn for every process the filter takes, with its /proc/PID
 * directory fd and its audit session.
 * The fd stays bound to that very process: once it is reaped, reads through
 * it fail with ESRCH even if its pid is reused.  Processes that vanish are
 * left out; fn returns 0 or a negative errno, which ends the walk. */
typedef int (*proc_walk_fn)(int procdir_fd, pid_t pid, uint32_t audit_id, void *userdata);
int proc_walk(const struct proc_filter *f, proc_walk_fn fn, void *userdata);

/* The same, leaving out the pids of skip (sorted with proc_sort_pids)
 * without even opening their /proc directories. */
void proc_sort_pids(pid_t *pids, size_t n);
int proc_walk_except(const struct proc_filter *f, const pid_t *skip, size_t n_skip, proc_walk_fn fn,
                     void *userdata);

/* The same over the pids of a walk done for many sessions at once
 * (walkshare.h): each is looked at and filtered as a walk would. */
int proc_walk_pids(const struct proc_filter *f, const pid_t *pids, size_t n, const pid_t *skip, size_t n_skip,
                   proc_walk_fn fn, void *userdata);

/* The same for every process of this PID namespace, in a session or not. */
int proc_walk_all(proc_walk_fn fn, void *userdata);

/* Whether an error from reading /proc means the process is gone. */
bool vanished(int r);

/* Whether /proc hides other users' processes from us (mounted with
 * hidepid, and we may not ptrace them): the walks skip what they may not
 * read, so a listing is partial. */
bool proc_hides_others(void);

/* The stat fields (state, start time, threads, tty, comm) through a /proc/PID
 * directory fd. */
int proc_read_stat_at(int procdir_fd, struct proc_info *p);

/* The parsers of /proc/PID/stat (pid, comm, state, ppid, tty, threads,
 * start time) and of the Uid line of /proc/PID/status: 0 or -EINVAL. */
int proc_parse_stat(const char *buf, struct proc_info *p);
int proc_parse_status_uids(const char *buf, struct proc_info *p);
/* The SigPnd and ShdPnd lines of /proc/PID/status: whether SIGKILL is
 * pending, for the thread or for the whole process. */
void proc_parse_status_kill_pending(const char *buf, struct proc_info *p);
/* The NSpid line: child_pidns, pidns_depth and pidns_init. */
void proc_parse_status_nspid(const char *buf, struct proc_info *p);

/* NAME's value in an environ block (NUL-separated, len bytes): -ENOENT
 * when it is not set. */
int environ_lookup(const char *env, size_t len, const char *name, char **ret);

/* One process, read through a /proc/PID directory fd. */
int proc_read_at(int procdir_fd, pid_t pid, unsigned flags, struct proc_info *ret);

/* Fills in p->ruid, euid and suid from /proc/PID/status. */
int proc_read_uids(struct proc_info *p);
int proc_read_uids_at(int procdir_fd, struct proc_info *p);

/* /proc/PID/sessionid through a /proc/PID directory fd. */
int proc_session_id_at(int procdir_fd, uint32_t *ret);

/* /proc/PID/sessionid of one process; -ESRCH if it is gone. */
int proc_session_id(pid_t pid, uint32_t *ret);

/* The /proc/PID directory, an fd that stays bound to that process (-ESRCH:
 * gone). */
int proc_open_dir(pid_t pid);

/* /proc/PID/cmdline: NUL-separated arguments (-ESRCH: gone). */
int proc_read_cmdline(pid_t pid, char **ret, size_t *ret_len);

/* The nearest ancestor, starting at the process ppid, for which is_it says
 * yes: 1 (and *ret when given), or 0 when the chain reaches init, ends (a
 * process exited) or is deeper than PROC_MAX_ANCESTORS. */
#define PROC_MAX_ANCESTORS 64
int proc_find_ancestor(pid_t ppid, bool (*is_it)(const struct proc_info *a, void *userdata), void *userdata,
                       struct proc_info *ret);

/* The value of NAME in /proc/PID/environ (needs ptrace access: usually root). */
int proc_getenv(pid_t pid, const char *name, char **ret);
/* The same through a /proc/PID directory fd: -ENOENT when it is not set. */
int proc_getenv_at(int procdir_fd, const char *name, char **ret);

/* Not a zombie.  A process whose main thread exited while others run on
 * shows state Z too, with more than one thread: that one is alive. */
static inline bool proc_is_alive(const struct proc_info *p) {
        if (p->state == 'X')
                return false;
        return p->state != 'Z' || p->threads > 1;
}

/* How many of procs (read with PROC_SCAN_UIDS) are alive and user uid's,
 * the calling process aside: what is left of a user in a session. */
static inline unsigned proc_count_alive_of(const struct proc_info *procs, size_t n, uid_t uid) {
        unsigned k = 0;
        pid_t self = getpid();
        for (size_t i = 0; i < n; i++)
                if (procs[i].ruid == uid && procs[i].pid != self && proc_is_alive(&procs[i]))
                        k++;
        return k;
}

/* Killed and on its way out: the kernel runs its exit (PF_EXITING) or
 * SIGKILL waits to be taken, which no handler can refuse.  It is still
 * there, but nothing of it returns to user space: it is dying, not
 * surviving.  kill_pending needs PROC_SCAN_UIDS. */
static inline bool proc_is_dying(const struct proc_info *p) {
        return (p->pf_flags & 0x00000004u /* PF_EXITING */) || p->kill_pending;
}

/* Converts a process start time to CLOCK_REALTIME microseconds. */
uint64_t proc_start_realtime_usec(uint64_t start_ticks);

/* Now, in the clock of start_ticks (clock ticks after boot); 0 if unknown. */
uint64_t proc_now_ticks(void);

