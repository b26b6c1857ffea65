/* SPDX-License-Identifier: MIT */
#include "procscan.h"

#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "text.h"
#include "util.h"

bool vanished(int r) { return r == -ENOENT || r == -ESRCH; }

bool proc_hides_others(void) {
        /* PID 1's stat is anybody's to read, unless /proc says otherwise;
         * the mount does not change while logoff runs. */
        static int hides = -1;
        if (hides < 0)
                hides = access("/proc/1/stat", R_OK) < 0;
        return hides;
}

/* What /proc answers for a process hidepid hides from us, directory or
 * files.  Only then: anywhere else a process the walk cannot read is an
 * error, never a process quietly left out. */
static bool hidden(int r) { return (r == -EACCES || r == -EPERM) && proc_hides_others(); }

static int read_u32_at(int dirfd, const char *path, uint32_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_small_file_at(dirfd, path, &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        return parse_u32(s, ret);
}

/* The comm field may hold spaces and parentheses: it ends at the last ')'. */
int proc_parse_stat(const char *buf, struct proc_info *p) {
        const char *open = strchr(buf, '(');
        const char *close = strrchr(buf, ')');
        int pid;
        if (!open || !close || close < open || sscanf(buf, "%d", &pid) != 1 || pid <= 0)
                return -EINVAL;
        p->pid = pid;
        /* The kernel keeps 15 bytes of it, any bytes but NUL. */
        text_clean_into(open + 1, (size_t) (close - open - 1), p->comm, sizeof(p->comm));

        char state;
        int ppid, tty_nr;
        unsigned flags;
        long threads;
        unsigned long long start;
        /* Fields 3..22 of proc(5). */
        if (sscanf(close + 1,
                   " %c %d %*d %*d %d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld %*d %llu",
                   &state, &ppid, &tty_nr, &flags, &threads, &start) != 6)
                return -EINVAL;
        p->state = state;
        p->pf_flags = flags;
        p->threads = threads > 0 ? (unsigned) threads : 0;
        p->ppid = ppid;
        /* tty_nr packs the device number the way new_encode_dev() does. */
        unsigned int t = (unsigned int) tty_nr;
        p->tty = t ? makedev((t >> 8) & 0xfff, (t & 0xff) | ((t >> 12) & 0xfff00)) : 0;
        p->start_ticks = start;
        return 0;
}

int proc_parse_status_uids(const char *buf, struct proc_info *p) {
        const char *l = strstr(buf, "\nUid:");
        if (!l)
                return -EINVAL;
        unsigned r, e, s;
        if (sscanf(l + 5, "%u %u %u", &r, &e, &s) != 3)
                return -EINVAL;
        p->ruid = r;
        p->euid = e;
        p->suid = s;
        return 0;
}

static bool pending_has_kill(const char *buf, const char *key) {
        const char *l = strstr(buf, key);
        unsigned long long mask;
        if (!l || sscanf(l + strlen(key), "%llx", &mask) != 1)
                return false;
        return mask & (1ULL << (SIGKILL - 1));
}

void proc_parse_status_kill_pending(const char *buf, struct proc_info *p) {
        p->kill_pending = pending_has_kill(buf, "\nShdPnd:") || pending_has_kill(buf, "\nSigPnd:");
}

/* NSpid lists the pid in our namespace and in every one below it down to
 * the process's own: more than one number means a namespace below ours,
 * and a last number of 1 that it is the init of its own. */
void proc_parse_status_nspid(const char *buf, struct proc_info *p) {
        const char *l = strstr(buf, "\nNSpid:");
        p->child_pidns = p->pidns_init = false;
        p->pidns_depth = 0;
        if (!l)
                return; /* kernels before 4.1: no nested view */
        l += strlen("\nNSpid:");
        size_t len = strcspn(l, "\n");
        unsigned fields = 0;
        const char *last = NULL;
        for (size_t i = 0; i < len; i++)
                if ((i == 0 || l[i - 1] == '\t' || l[i - 1] == ' ') && l[i] >= '0' && l[i] <= '9') {
                        fields++;
                        last = l + i;
                }
        p->child_pidns = fields > 1;
        p->pidns_depth = fields > 1 ? fields - 1 : 0;
        p->pidns_init = fields > 1 && last[0] == '1' && (last + 1 >= l + len || last[1] < '0' || last[1] > '9');
}

/* What tells one process from another: its session and its start time.
 * A walk has read the session already (known_sid). */
static int read_identity(int procdir_fd, const uint32_t *known_sid, struct proc_info *p) {
        int r = known_sid ? 0 : read_u32_at(procdir_fd, "sessionid", &p->session_id);
        if (r < 0)
                return r;
        if (known_sid)
                p->session_id = *known_sid;
        _cleanup_free_ char *stat = NULL;
        r = read_small_file_at(procdir_fd, "stat", &stat, NULL);
        if (r < 0)
                return r;
        return proc_parse_stat(stat, p);
}

static int read_at(int procdir_fd, pid_t pid, const uint32_t *known_sid, unsigned flags, struct proc_info *ret) {
        struct proc_info p = { .pid = pid, .loginuid = LOGINUID_UNSET };
        uint32_t v;
        int r;

        r = read_identity(procdir_fd, known_sid, &p);
        if (r < 0)
                return r;
        if (flags & PROC_SCAN_LOGINUID) {
                r = read_u32_at(procdir_fd, "loginuid", &v);
                if (r < 0)
                        return r;
                p.loginuid = (uid_t) v;
        }

        if (flags & (PROC_SCAN_UIDS | PROC_SCAN_NS)) {
                _cleanup_free_ char *status = NULL;
                r = read_small_file_at(procdir_fd, "status", &status, NULL);
                if (r < 0)
                        return r;
                r = proc_parse_status_uids(status, &p);
                if (r < 0)
                        return r;
                proc_parse_status_nspid(status, &p);
                proc_parse_status_kill_pending(status, &p);
        }
        *ret = p;
        return 0;
}

int proc_read_at(int procdir_fd, pid_t pid, unsigned flags, struct proc_info *ret) {
        return read_at(procdir_fd, pid, NULL, flags, ret);
}


/* every: all processes, with or without an audit session; else m's
 * members, or with m NULL those with an audit session. */
static int cmp_pid(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return x < y ? -1 : x > y;
}

/* One process of a walk, by its name under /proc (dir_fd). */
static int walk_one(int dir_fd, const char *name, pid_t pid, const struct proc_filter *f, bool every,
                    proc_walk_fn fn, void *userdata) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                /* A process being reaped right now answers ESRCH. */
                return vanished(-errno) || hidden(-errno) ? 0 : -errno;

        /* Cheap filter first: most processes of a busy host are not in the
         * session we look for. */
        uint32_t sid;
        int r = read_u32_at(fd, "sessionid", &sid);
        if (vanished(r) || hidden(r))
                return 0;
        if (r < 0)
                return r;
        if (every)
                ;
        else if (!f) {
                if (sid == AUDIT_SESSION_UNSET)
                        return 0;
        } else {
                r = f->contains(fd, sid, f->data);
                if (vanished(r) || r == 0)
                        return 0;
                if (r < 0)
                        return r;
        }
        return fn(fd, pid, sid, userdata);
}

static bool skipped(pid_t pid, const pid_t *skip, size_t n_skip) {
        return n_skip && bsearch(&pid, skip, n_skip, sizeof(*skip), cmp_pid);
}

static int walk(const struct proc_filter *f, bool every, const pid_t *skip, size_t n_skip, proc_walk_fn fn,
                void *userdata) {
        DIR *d = opendir("/proc");
        if (!d)
                return -errno;

        int r = 0;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        break;
                uint32_t pid;
                if (de->d_name[0] < '1' || de->d_name[0] > '9' || parse_u32(de->d_name, &pid) < 0)
                        continue;
                if (skipped((pid_t) pid, skip, n_skip))
                        continue;
                r = walk_one(dirfd(d), de->d_name, (pid_t) pid, f, every, fn, userdata);
                if (r < 0)
                        goto out;
        }
        r = errno != 0 ? -errno : 0;
out:
        closedir(d);
        return r;
}

int proc_walk_pids(const struct proc_filter *f, const pid_t *pids, size_t n, const pid_t *skip, size_t n_skip,
                   proc_walk_fn fn, void *userdata) {
        _cleanup_close_ int dir_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                if (pids[i] <= 0 || skipped(pids[i], skip, n_skip))
                        continue;
                char name[16];
                snprintf(name, sizeof(name), "%d", (int) pids[i]);
                int r = walk_one(dir_fd, name, pids[i], f, false, fn, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int proc_walk(const struct proc_filter *f, proc_walk_fn fn, void *userdata) {
        return walk(f, false, NULL, 0, fn, userdata);
}

void proc_sort_pids(pid_t *pids, size_t n) {
        if (n > 1)
                qsort(pids, n, sizeof(*pids), cmp_pid);
}

int proc_walk_except(const struct proc_filter *f, const pid_t *skip, size_t n_skip, proc_walk_fn fn,
                     void *userdata) {
        return walk(f, false, skip, n_skip, fn, userdata);
}

int proc_walk_all(proc_walk_fn fn, void *userdata) { return walk(NULL, true, NULL, 0, fn, userdata); }

struct collect {
        unsigned flags;
        struct proc_info *list;
        size_t n, alloc;
};

static int collect_one(int procdir_fd, pid_t pid, uint32_t audit_id, void *userdata) {
        struct collect *c = userdata;
        struct proc_info p;
        /* The audit session cannot change once set: the walk's reading of
         * it is the process's. */
        int r = read_at(procdir_fd, pid, &audit_id, c->flags, &p);
        if (vanished(r))
                return 0;
        if (r < 0)
                return r;

        if (ARRAY_RESERVE(c->list, c->alloc, c->n, 256) < 0)
                return -ENOMEM;
        c->list[c->n++] = p;
        return 0;
}

int proc_scan(const struct proc_filter *f, unsigned flags, struct proc_info **ret, size_t *ret_n) {
        struct collect c = { .flags = flags };
        int r = proc_walk(f, collect_one, &c);
        if (r < 0) {
                free(c.list);
                return r;
        }
        *ret = c.list;
        *ret_n = c.n;
        return 0;
}

static int cmp_proc_pid(const void *a, const void *b) {
        const struct proc_info *x = a, *y = b;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int proc_scan_all(unsigned flags, struct proc_info **ret, size_t *ret_n) {
        struct collect c = { .flags = flags };
        int r = proc_walk_all(collect_one, &c);
        if (r < 0) {
                free(c.list);
                return r;
        }
        if (c.n > 1)
                qsort(c.list, c.n, sizeof(*c.list), cmp_proc_pid);
        *ret = c.list;
        *ret_n = c.n;
        return 0;
}

const struct proc_info *proc_find(const struct proc_info *sorted, size_t n, pid_t pid) {
        struct proc_info key = { .pid = pid };
        return n ? bsearch(&key, sorted, n, sizeof(key), cmp_proc_pid) : NULL;
}

int proc_read_cmdline(pid_t pid, char **ret, size_t *ret_len) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        int r = read_small_file_at(AT_FDCWD, path, ret, ret_len);
        return r == -ENOENT ? -ESRCH : r;
}

int proc_open_dir(pid_t pid) {
        char path[32];
        snprintf(path, sizeof(path), "/proc/%d", (int) pid);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 ? fd : errno == ENOENT ? -ESRCH : -errno;
}

int proc_find_ancestor(pid_t ppid, bool (*is_it)(const struct proc_info *a, void *userdata), void *userdata,
                       struct proc_info *ret) {
        for (unsigned depth = 0; depth < PROC_MAX_ANCESTORS && ppid > 1; depth++) {
                _cleanup_close_ int fd = proc_open_dir(ppid);
                struct proc_info a = { 0 };
                /* Gone: its children were reparented, or are about to be. */
                if (fd < 0 || proc_read_stat_at(fd, &a) < 0)
                        return 0;
                if (is_it(&a, userdata)) {
                        if (ret)
                                *ret = a;
                        return 1;
                }
                ppid = a.ppid;
        }
        return 0;
}

int proc_read_stat_at(int procdir_fd, struct proc_info *p) {
        _cleanup_free_ char *stat = NULL;
        int r = read_small_file_at(procdir_fd, "stat", &stat, NULL);
        if (r < 0)
                return r;
        return proc_parse_stat(stat, p);
}

int proc_read_uids(struct proc_info *p) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/status", (int) p->pid);
        _cleanup_free_ char *status = NULL;
        int r = read_small_file_at(AT_FDCWD, path, &status, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        return proc_parse_status_uids(status, p);
}

int proc_session_id_at(int procdir_fd, uint32_t *ret) {
        return read_u32_at(procdir_fd, "sessionid", ret);
}

int proc_session_id(pid_t pid, uint32_t *ret) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/sessionid", (int) pid);
        int r = read_u32_at(AT_FDCWD, path, ret);
        return r == -ENOENT ? -ESRCH : r;
}

int proc_getenv_at(int procdir_fd, const char *name, char **ret) {
        _cleanup_free_ char *env = NULL;
        size_t len;
        int r = read_small_file_at(procdir_fd, "environ", &env, &len);
        if (r < 0)
                return r;
        return environ_lookup(env, len, name, ret);
}

int environ_lookup(const char *env, size_t len, const char *name, char **ret) {
        size_t nlen = strlen(name);
        for (size_t off = 0; off < len; off += strnlen(env + off, len - off) + 1)
                if (len - off > nlen && strncmp(env + off, name, nlen) == 0 && env[off + nlen] == '=') {
                        char *v = strndup(env + off + nlen + 1, len - off - nlen - 1);
                        if (!v)
                                return -ENOMEM;
                        *ret = v;
                        return 0;
                }
        return -ENOENT;
}

int proc_getenv(pid_t pid, const char *name, char **ret) {
        _cleanup_close_ int fd = proc_open_dir(pid);
        return fd < 0 ? fd : proc_getenv_at(fd, name, ret);
}

int proc_read_uids_at(int procdir_fd, struct proc_info *p) {
        _cleanup_free_ char *status = NULL;
        int r = read_small_file_at(procdir_fd, "status", &status, NULL);
        if (r < 0)
                return r;
        return proc_parse_status_uids(status, p);
}

static uint64_t clock_ticks_per_sec(void) {
        static long ticks;
        if (ticks <= 0)
                ticks = sysconf(_SC_CLK_TCK);
        if (ticks <= 0)
                ticks = 100;
        return (uint64_t) ticks;
}

static int boottime_usec(uint64_t *ret) {
        struct timespec boot;
        if (clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
                return -errno;
        *ret = (uint64_t) boot.tv_sec * 1000000u + (uint64_t) boot.tv_nsec / 1000u;
        return 0;
}

uint64_t proc_start_realtime_usec(uint64_t start_ticks) {
        uint64_t since_boot = 0;
        if (boottime_usec(&since_boot) < 0)
                return 0;
        uint64_t boot_realtime = now_realtime_usec() - since_boot;
        return boot_realtime + start_ticks * 1000000u / clock_ticks_per_sec();
}

uint64_t proc_now_ticks(void) {
        uint64_t since_boot = 0;
        if (boottime_usec(&since_boot) < 0)
                return 0;
        return since_boot * clock_ticks_per_sec() / 1000000u;
}

