/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
        char comm[32];
};

enum {
        PROC_SCAN_UIDS = 1 << 0,     /* ruid, euid, suid from status */
        PROC_SCAN_LOGINUID = 1 << 1, /* loginuid; else LOGINUID_UNSET */
};

/* Every process (thread group) with an audit session, or only those of
 * session_id unless it is AUDIT_SESSION_UNSET.  Processes that vanish during
 * the scan are left out.  Returns 0 or a negative errno. */
int proc_scan(uint32_t session_id, unsigned flags, struct proc_info **ret, size_t *ret_n);

/* Calls fn for every process with an audit session (or only those of
 * session_id unless it is AUDIT_SESSION_UNSET), with its /proc/PID directory
 * fd and its session.  The fd stays bound to that very process: once it is
 * reaped, reads through it fail with ESRCH even if its pid is reused.
 * Processes that vanish are left out; fn returns 0 or a negative errno,
 * which ends the walk. */
typedef int (*proc_walk_fn)(int procdir_fd, pid_t pid, uint32_t session_id, void *userdata);
int proc_walk(uint32_t session_id, proc_walk_fn fn, void *userdata);

/* Whether an error from reading /proc means the process is gone. */
bool vanished(int r);

/* The stat fields (state, start time, threads, tty, comm) through a /proc/PID
 * directory fd. */
int proc_read_stat_at(int procdir_fd, struct proc_info *p);

/* One process, read through a /proc/PID directory fd. */
int proc_read_at(int procdir_fd, pid_t pid, unsigned flags, struct proc_info *ret);

/* Fills in p->ruid, euid and suid from /proc/PID/status. */
int proc_read_uids(struct proc_info *p);

/* /proc/PID/sessionid through a /proc/PID directory fd. */
int proc_session_id_at(int procdir_fd, uint32_t *ret);

/* /proc/PID/sessionid of one process; -ESRCH if it is gone. */
int proc_session_id(pid_t pid, uint32_t *ret);

/* The value of NAME in /proc/PID/environ (needs ptrace access: usually root). */
int proc_getenv(pid_t pid, const char *name, char **ret);

/* Not a zombie.  A process whose main thread exited while others run on
 * shows state Z too, with more than one thread: that one is alive. */
static inline bool proc_is_alive(const struct proc_info *p) {
        if (p->state == 'X')
                return false;
        return p->state != 'Z' || p->threads > 1;
}

/* Converts a process start time to CLOCK_REALTIME microseconds. */
uint64_t proc_start_realtime_usec(uint64_t start_ticks);

/* The cgroup v2 path ("/user.slice/...") of a process, from /proc/PID/cgroup. */
int proc_cgroup_path(pid_t pid, char **ret);
