/* SPDX-License-Identifier: MIT */
#include "terminate.h"

#include <signal.h>
#include <dirent.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

/* What has been done to one process, keyed by pid and start time: a pid that
 * comes back with another start time is another process. */
enum {
        DONE_HANGUP = 1 << 0,
        DONE_STOP = 1 << 1,
        DONE_KILL = 1 << 2,
        DONE_DENIED = 1 << 3,
};

struct tracked {
        pid_t pid; /* 0: free slot */
        uint64_t start_ticks;
        unsigned done;
};

struct tracker {
        struct tracked *slots;
        size_t size, used;
};

static void tracker_done(struct tracker *t) {
        free(t->slots);
        *t = (struct tracker) { 0 };
}

static int tracker_grow(struct tracker *t) {
        size_t nsize = t->size ? t->size * 2 : 1024;
        struct tracked *n = calloc(nsize, sizeof(*n));
        if (!n)
                return -ENOMEM;
        for (size_t i = 0; i < t->size; i++) {
                if (!t->slots[i].pid)
                        continue;
                size_t h = (size_t) t->slots[i].pid & (nsize - 1);
                while (n[h].pid)
                        h = (h + 1) & (nsize - 1);
                n[h] = t->slots[i];
        }
        free(t->slots);
        t->slots = n;
        t->size = nsize;
        return 0;
}

/* The entry of this process, created on first sight. */
static int tracker_get(struct tracker *t, const struct proc_info *p, struct tracked **ret, bool *ret_new) {
        if ((t->used + 1) * 2 > t->size) {
                int r = tracker_grow(t);
                if (r < 0)
                        return r;
        }
        size_t h = (size_t) p->pid & (t->size - 1);
        while (t->slots[h].pid && t->slots[h].pid != p->pid)
                h = (h + 1) & (t->size - 1);
        struct tracked *e = &t->slots[h];
        *ret_new = !e->pid || e->start_ticks != p->start_ticks;
        if (!e->pid)
                t->used++;
        if (*ret_new)
                *e = (struct tracked) { .pid = p->pid, .start_ticks = p->start_ticks };
        *ret = e;
        return 0;
}

/* The directory is bound to one process and its reads fail once that one
 * is reaped, so a successful read after pidfd_open() proves it held the pid
 * when the pidfd was opened: the pidfd is that process, not a newcomer that
 * reused the pid. */
int pin_at(int procdir_fd, pid_t pid, uint32_t sid) {
        _cleanup_close_ int pidfd = pidfd_open(pid, 0);
        if (pidfd < 0)
                return -errno;
        uint32_t now_sid;
        int r = proc_session_id_at(procdir_fd, &now_sid);
        if (r < 0)
                return vanished(r) ? -ESRCH : r;
        if (now_sid != sid)
                return -ESRCH;
        return TAKE_FD(pidfd);
}

static int send_signals(int pidfd, const int *sigs, size_t n_sigs) {
        for (size_t i = 0; i < n_sigs; i++)
                if (pidfd_send_signal(pidfd, sigs[i], NULL, 0) < 0)
                        return -errno;
        return 0;
}

int signal_pinned(const struct proc_info *p, uint32_t sid, const int *sigs, size_t n_sigs) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", (int) p->pid);
        _cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;

        struct proc_info now = { .pid = p->pid };
        int r = proc_read_stat_at(dirfd, &now);
        if (r < 0)
                return vanished(r) ? -ESRCH : r;
        if (now.start_ticks != p->start_ticks)
                return -ESRCH; /* another process has the pid now */

        _cleanup_close_ int pidfd = pin_at(dirfd, p->pid, sid);
        if (pidfd < 0)
                return pidfd;
        return send_signals(pidfd, sigs, n_sigs);
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000u), .tv_nsec = (long) (usec % 1000000u) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* getpid() is a system call; this runs for every process of every round. */
static pid_t self_pid;

static bool is_live(const struct proc_info *p) {
        return proc_is_alive(p) && p->pid != self_pid;
}

static int remember_denied(struct terminate_report *rep, const struct proc_info *p) {
        struct proc_info *n = reallocarray(rep->denied_procs, rep->n_denied_procs + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        rep->denied_procs = n;
        n[rep->n_denied_procs] = *p;
        /* Whose it is, for the report; it may be gone by now. */
        (void) proc_read_uids(&n[rep->n_denied_procs]);
        rep->n_denied_procs++;
        return 0;
}

/* What one round saw of the session's live processes. */
struct round_counts {
        size_t live;      /* all of them */
        size_t ours;      /* those the caller may signal */
        size_t fresh;     /* met for the first time by this round's signal */
        size_t unstopped; /* ours, not (yet) stopped when scanned */
};

/* A process in uninterruptible sleep stops only when it wakes up; it cannot
 * fork meanwhile, and the SIGKILL rounds catch whatever it does after.  One
 * whose main thread exited shows Z whatever its other threads do: the stop
 * was sent, its state cannot tell more. */
static bool stopped_or_settled(char state) {
        return state && strchr("TtDZ", state);
}

struct round {
        struct tracker *t;
        unsigned flag;
        const int *sigs;
        size_t n_sigs;
        unsigned *counter;
        struct terminate_report *rep;
        struct round_counts c;
};

/* One process of a round: read through its /proc directory, signal through
 * a pidfd pinned by that same directory, so the walk needs no second look. */
static int round_visit(int procdir_fd, pid_t pid, uint32_t sid, void *userdata) {
        struct round *rd = userdata;
        struct proc_info p = { .pid = pid, .session_id = sid };
        int r = proc_read_stat_at(procdir_fd, &p);
        if (vanished(r))
                return 0;
        if (r < 0)
                return r;
        if (!is_live(&p))
                return 0;

        struct tracked *e;
        bool is_new;
        r = tracker_get(rd->t, &p, &e, &is_new);
        if (r < 0)
                return r;
        if (is_new)
                rd->rep->seen++;
        if (e->done & DONE_DENIED) {
                rd->c.live++;
                return 0;
        }
        /* A stopped process can be continued by a sibling that was not
         * stopped yet: stop it again. */
        bool again = rd->flag == DONE_STOP && !stopped_or_settled(p.state);
        bool first = !(e->done & rd->flag);
        if (first || again) {
                _cleanup_close_ int pidfd = pin_at(procdir_fd, pid, sid);
                r = pidfd < 0 ? pidfd : send_signals(pidfd, rd->sigs, rd->n_sigs);
                if (r == -ESRCH)
                        return 0; /* gone, or left the session */
                if (r == -EPERM) {
                        e->done |= DONE_DENIED;
                        rd->c.live++;
                        return remember_denied(rd->rep, &p);
                }
                if (r < 0)
                        return r;
                if (first) {
                        (*rd->counter)++;
                        rd->c.fresh++;
                }
                e->done |= rd->flag;
        }
        rd->c.live++;
        rd->c.ours++;
        if (!stopped_or_settled(p.state))
                rd->c.unstopped++;
        return 0;
}

/* Sends sigs once per process (flag marks it done); SIGSTOP again to one
 * that was continued since. */
static int signal_round(uint32_t sid, struct tracker *t, unsigned flag, const int *sigs, size_t n_sigs,
                        unsigned *counter, struct terminate_report *rep, struct round_counts *ret) {
        struct round rd = {
                .t = t, .flag = flag, .sigs = sigs, .n_sigs = n_sigs, .counter = counter, .rep = rep,
        };
        int r = proc_walk(sid, round_visit, &rd);
        if (r < 0)
                return r;
        *ret = rd.c;
        return 0;
}

/* Live processes of the session, after the caller has done what it could. */
static int collect_left(uint32_t sid, struct terminate_report *rep) {
        struct proc_info *procs = NULL;
        size_t n = 0, k = 0;
        int r = proc_scan(sid, PROC_SCAN_UIDS, &procs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (is_live(&procs[i]))
                        procs[k++] = procs[i];
        free(rep->left);
        rep->left = procs;
        rep->n_left = k;
        return 0;
}

/* Where the unified cgroup hierarchy is mounted: /sys/fs/cgroup on a pure v2
 * host, /sys/fs/cgroup/unified on a hybrid one. */
static int cgroup2_mount(char **ret) {
        _cleanup_free_ char *info = NULL;
        int r = read_small_file_at(AT_FDCWD, "/proc/self/mountinfo", &info, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *sep = strstr(line, " - ");
                if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
                        continue;
                char *m = NULL;
                if (sscanf(line, "%*s %*s %*s %*s %ms", &m) != 1)
                        return -ENOMEM;
                *ret = m;
                return 0;
        }
        return -ENOENT;
}

/* Every process in the cgroup and below belongs to the session. */
static int cgroup_only_session(const char *dir, uint32_t sid, unsigned depth) {
        if (depth > 32)
                return -ELOOP;
        _cleanup_free_ char *procs_path = NULL, *procs = NULL;
        if (asprintf(&procs_path, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        int r = read_small_file_at(AT_FDCWD, procs_path, &procs, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *l = strtok_r(procs, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                uint32_t pid, psid;
                if (parse_u32(l, &pid) < 0)
                        return -EINVAL;
                r = proc_session_id((pid_t) pid, &psid);
                if (r == -ESRCH)
                        continue;
                if (r < 0)
                        return r;
                if (psid != sid)
                        return -EEXIST;
        }

        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        struct dirent *de;
        r = 0;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = cgroup_only_session(sub, sid, depth + 1);
        }
        closedir(d);
        return r;
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int session_own_cgroup(uint32_t sid, const struct proc_info *procs, size_t n, char **ret_path) {
        _cleanup_free_ char *mount = NULL, *dir = NULL;
        int r = cgroup2_mount(&mount);
        if (r < 0)
                return r;

        char **paths = calloc(n ? n : 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        size_t n_paths = 0;
        const char *common = NULL;
        for (size_t i = 0; i < n; i++) {
                if (!is_live(&procs[i]))
                        continue;
                r = proc_cgroup_path(procs[i].pid, &paths[n_paths]);
                if (r == -ESRCH)
                        continue;
                if (r < 0)
                        goto out;
                if (!common || strlen(paths[n_paths]) < strlen(common))
                        common = paths[n_paths];
                n_paths++;
        }

        /* The session's cgroup is the shortest one its processes are in;
         * every other one must lie below it. */
        r = -ENOENT;
        if (!common || streq(common, "/"))
                goto out;
        size_t len = strlen(common);
        for (size_t i = 0; i < n_paths; i++)
                if (strncmp(paths[i], common, len) != 0 || (paths[i][len] != '\0' && paths[i][len] != '/'))
                        goto out;

        if (asprintf(&dir, "%s%s", mount, common) < 0) {
                dir = NULL;
                r = -ENOMEM;
                goto out;
        }
        r = cgroup_only_session(dir, sid, 0);
        if (r == -EEXIST)
                r = -ENOENT; /* shared with processes of other sessions */
        if (r == 0)
                *ret_path = TAKE_PTR(dir);
out:
        strv_free(paths, n_paths);
        return r;
}

static int write_cgroup_file(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                return -errno;
        return 0;
}

static bool cgroup_event_is(const char *dir, const char *key, const char *value) {
        _cleanup_free_ char *path = NULL, *events = NULL;
        if (asprintf(&path, "%s/cgroup.events", dir) < 0)
                return false;
        if (read_small_file_at(AT_FDCWD, path, &events, NULL) < 0)
                return false;
        /* One "key value" pair per line. */
        _cleanup_free_ char *want = NULL;
        if (asprintf(&want, "%s %s\n", key, value) < 0)
                return false;
        size_t len = strlen(want);
        for (const char *l = events; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, want, len) == 0)
                        return true;
        return false;
}

/* cgroup.kill cannot be outrun by fork(): the kernel kills what is being
 * forked too.  Freezing first makes the count we report exact. */
static int kill_by_cgroup(const char *dir, uint32_t sid, struct terminate_report *rep) {
        int r = write_cgroup_file(dir, "cgroup.freeze", "1");
        if (r == 0) {
                uint64_t until = now_monotonic_usec() + 1000000u;
                while (!cgroup_event_is(dir, "frozen", "1") && now_monotonic_usec() < until)
                        sleep_usec(2000);
                rep->frozen = cgroup_event_is(dir, "frozen", "1");
        }

        struct proc_info *procs = NULL;
        size_t n = 0;
        if (proc_scan(sid, 0, &procs, &n) == 0) {
                for (size_t i = 0; i < n; i++)
                        if (is_live(&procs[i]))
                                rep->cgroup_members++;
                free(procs);
        }

        r = write_cgroup_file(dir, "cgroup.kill", "1");
        /* Whatever happened, never leave the cgroup frozen behind us. */
        (void) write_cgroup_file(dir, "cgroup.freeze", "0");
        if (r < 0)
                return r;
        rep->cgroup_killed = true;

        /* Let the kernel finish before anything is counted as a straggler. */
        uint64_t until = now_monotonic_usec() + 2000000u;
        while (!cgroup_event_is(dir, "populated", "0") && now_monotonic_usec() < until)
                sleep_usec(2000);
        return 0;
}

/* SIGSTOP everything, rescanning until a scan finds no process that was not
 * stopped already: a stopped process cannot fork, so a fork storm runs dry. */
static int stop_everything(uint32_t sid, struct tracker *t, struct terminate_report *rep, uint64_t deadline) {
        static const int stop[] = { SIGSTOP };
        for (;;) {
                struct round_counts c;
                int r = signal_round(sid, t, DONE_STOP, stop, ARRAY_SIZE(stop), &rep->stopped, rep, &c);
                if (r < 0)
                        return r;
                rep->stop_rounds++;
                /* Done when one scan found nothing new and everything of
                 * ours stopped: nothing is left that could fork. */
                if (c.ours == 0 || (c.fresh == 0 && c.unstopped == 0))
                        return 0;
                if (now_monotonic_usec() >= deadline)
                        return 0;
                if (c.fresh == 0)
                        sleep_usec(1000);
        }
}

int session_terminate(uint32_t sid, const struct terminate_options *o, struct terminate_report *rep) {
        static const int hangup[] = { SIGHUP, SIGTERM, SIGCONT };
        static const int kill_sig[] = { SIGKILL };
        struct tracker t = { 0 };
        uint64_t start = now_monotonic_usec();
        struct round_counts c = { 0 };
        int r;

        *rep = (struct terminate_report) { 0 };
        self_pid = getpid();

        /* Graceful: what logind does, so shells save history, editors save
         * buffers and sshd writes its own logout records. */
        uint64_t deadline = start + o->timeout_usec, delay = 2000;
        for (;;) {
                r = signal_round(sid, &t, DONE_HANGUP, hangup, ARRAY_SIZE(hangup), &rep->hangup, rep, &c);
                if (r < 0)
                        goto out;
                uint64_t now = now_monotonic_usec();
                if (c.live == 0 || now >= deadline)
                        break;
                sleep_usec(delay < deadline - now ? delay : deadline - now);
                if (delay < 100000)
                        delay *= 2;
        }
        rep->graceful_usec = now_monotonic_usec() - start;

        /* Only what the caller may not signal is left: it may still end by
         * itself (sshd's monitor does), which the final count tells. */
        if (c.ours > 0) {
                struct proc_info *procs = NULL;
                size_t n = 0;
                r = proc_scan(sid, 0, &procs, &n);
                if (r < 0)
                        goto out;
                bool own = o->caller->cap_kill && session_own_cgroup(sid, procs, n, &rep->cgroup) == 0;
                free(procs);

                if (own)
                        r = kill_by_cgroup(rep->cgroup, sid, rep);
                if (!own || r < 0)
                        r = stop_everything(sid, &t, rep, now_monotonic_usec() + 2000000u);
                if (r < 0)
                        goto out;

                /* One by one too, after cgroup.kill: whatever slipped out of
                 * the cgroup is still in the session. */
                uint64_t kill_deadline = now_monotonic_usec() + o->kill_wait_usec;
                delay = 1000;
                for (;;) {
                        r = signal_round(sid, &t, DONE_KILL, kill_sig, ARRAY_SIZE(kill_sig), &rep->killed, rep, &c);
                        if (r < 0)
                                goto out;
                        /* Wait for the ones we may not signal too: they end
                         * with their children (sshd's monitor does). */
                        if (c.live == 0 || now_monotonic_usec() >= kill_deadline)
                                break;
                        sleep_usec(delay);
                        if (delay < 50000)
                                delay *= 2;
                }
        }

        /* The last round just scanned: only survivors need another look. */
        r = c.live > 0 ? collect_left(sid, rep) : 0;
        if (r < 0)
                goto out;
        r = rep->n_left > 0 ? -EBUSY : 0;
out:
        /* Failing half-way must not leave the session stopped: the caller
         * asked for it to end, so finish what can be finished. */
        if (r < 0 && r != -EBUSY && rep->stopped > 0)
                (void) signal_round(sid, &t, DONE_KILL, kill_sig, ARRAY_SIZE(kill_sig), &rep->killed, rep, &c);
        rep->elapsed_usec = now_monotonic_usec() - start;
        tracker_done(&t);
        return r;
}

void terminate_report_done(struct terminate_report *rep) {
        free(rep->cgroup);
        free(rep->left);
        free(rep->denied_procs);
        *rep = (struct terminate_report) { 0 };
}
