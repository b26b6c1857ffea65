/* SPDX-License-Identifier: MIT */
#include "terminate.h"

#include <signal.h>

#include "cgroup.h"
#include "hashmap.h"
#include "interrupt.h"
#include "pidref.h"
#include "text.h"
#include "util.h"

/* What has been done to one process, keyed by pid and start time: a pid that
 * comes back with another start time is another process. */
enum {
        DONE_HANGUP = 1 << 0,
        DONE_STOP = 1 << 1,
        DONE_KILL = 1 << 2,
        DONE_DENIED = 1 << 3,
        DONE_SEEN = 1 << 4, /* counted in the report's seen */
        DONE_LATE_HUP = 1 << 5, /* graphical: SIGHUP after SIGTERM */
        DONE_SPARED = 1 << 6,   /* graphical: a root helper, not signalled yet */
        DONE_CLEANUP = 1 << 7,  /* started by a process after logoff signalled it */
};

struct tracked {
        pid_t pid;
        uint64_t start_ticks;
        unsigned done;
        /* The graceful round that first signalled it (0: none), and the
         * clock tick when that round began. */
        unsigned signalled_round;
        uint64_t signalled_tick;
};

struct tracker {
        struct tracked *entries;
        size_t n, alloc;
        struct hashmap by_pid; /* pid -> index in entries */
        unsigned round;        /* rounds walked so far */
};

static void tracker_done(struct tracker *t) {
        free(t->entries);
        hashmap_done(&t->by_pid);
        *t = (struct tracker) { 0 };
}

static struct tracked *tracker_find(const struct tracker *t, pid_t pid) {
        size_t i;
        return hashmap_get(&t->by_pid, (uint64_t) pid, &i) ? &t->entries[i] : NULL;
}

static bool tracker_has_pid(const struct tracker *t, pid_t pid) {
        return tracker_find(t, pid) != NULL;
}

/* A process its parent started after logoff had asked that parent to end
 * (xrdp-chansrv's fusermount, a shell's logout work), or that such a
 * process started: the parent's answer to the request, which the grace
 * period lets finish.  The forced phase ends what is left of it.  Only a
 * process first met in a later round than its parent's signal counts, so
 * one missed by that same walk is still signalled. */
static bool started_by_cleanup(const struct tracker *t, const struct proc_info *p) {
        const struct tracked *parent = tracker_find(t, p->ppid);
        if (!parent || parent->start_ticks > p->start_ticks)
                return false; /* not its parent: a reused pid */
        if (parent->done & DONE_CLEANUP)
                return true;
        return parent->signalled_round && parent->signalled_round < t->round &&
               p->start_ticks >= parent->signalled_tick;
}

/* The entry of this process, created on first sight; valid until the
 * next call. */
static int tracker_get(struct tracker *t, const struct proc_info *p, struct tracked **ret, bool *ret_new) {
        struct tracked *e = tracker_find(t, p->pid);
        *ret_new = !e || e->start_ticks != p->start_ticks;
        if (!e) {
                if (ARRAY_RESERVE(t->entries, t->alloc, t->n, 1024) < 0)
                        return -ENOMEM;
                int r = hashmap_put(&t->by_pid, (uint64_t) p->pid, t->n);
                if (r < 0)
                        return r;
                e = &t->entries[t->n++];
        }
        if (*ret_new)
                *e = (struct tracked) { .pid = p->pid, .start_ticks = p->start_ticks };
        *ret = e;
        return 0;
}

/* getpid() is a system call; this runs for every process of every round. */
static pid_t self_pid;

static bool is_live(const struct proc_info *p) {
        return proc_is_alive(p) && p->pid != self_pid;
}

static int remember_denied(struct terminate_report *rep, const struct proc_info *p) {
        if (ARRAY_RESERVE(rep->denied_procs, rep->alloc_denied_procs, rep->n_denied_procs, 16) < 0)
                return -ENOMEM;
        struct proc_info *n = &rep->denied_procs[rep->n_denied_procs];
        *n = *p;
        /* Whose it is, for the report; it may be gone by now. */
        (void) proc_read_uids(n);
        rep->n_denied_procs++;
        return 0;
}

/* What one round saw of the session's live processes. */
struct round_counts {
        size_t live;      /* all of them */
        size_t spared;    /* root helpers this round left alone */
        size_t ours;      /* those the caller may signal */
        size_t fresh;     /* met for the first time by this round's signal */
        size_t unstopped; /* ours, not (yet) stopped when scanned */
        size_t cleanup;   /* ours, left to finish the session's cleanup */
};

/* A process in uninterruptible sleep stops only when it wakes up; it cannot
 * fork meanwhile, and the SIGKILL rounds catch whatever it does after.  One
 * whose main thread exited shows Z whatever its other threads do: the stop
 * was sent, its state cannot tell more. */
static bool stopped_or_settled(char state) {
        return state && strchr("TtDZ", state);
}

struct round {
        const struct membership *m;
        /* Left to cgroup.kill when it did not freeze: every process in this
         * cgroup (unified path). */
        const char *skip_cgroup;
        /* Root processes are left alone (a graphical session's helpers). */
        bool spare_root;
        struct tracker *t;
        unsigned flag;
        const int *sigs;
        size_t n_sigs;
        unsigned *counter;
        struct terminate_report *rep;
        /* A round of the grace period: cleanup is left to finish. */
        bool graceful;
        uint64_t tick; /* when the round began */
        struct round_counts c;
};

/* One process of a round: read through its /proc directory, signal through
 * a pidfd pinned by that same directory, so the walk needs no second look. */
static int round_visit(int procdir_fd, pid_t pid, uint32_t audit_id, void *userdata) {
        struct round *rd = userdata;
        struct proc_info p = { .pid = pid, .session_id = audit_id };
        int r;
        if (rd->skip_cgroup) {
                _cleanup_free_ char *text = NULL, *path = NULL;
                r = read_small_file_at(procdir_fd, "cgroup", &text, NULL);
                if (vanished(r))
                        return 0;
                if (r < 0)
                        return r;
                if (cgroup_path_in(text, "", &path) == 0 && cgroup_path_under(path, rd->skip_cgroup))
                        return 0;
        }
        r = proc_read_stat_at(procdir_fd, &p);
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
        if (rd->spare_root) {
                /* Running as root (its real uid: the owner of its /proc
                 * directory is root too while it is not dumpable): a helper. */
                struct proc_info full;
                r = proc_read_at(procdir_fd, pid, PROC_SCAN_UIDS, &full);
                if (vanished(r))
                        return 0;
                if (r < 0)
                        return r;
                if (full.ruid == 0) {
                        if (!(e->done & DONE_SEEN))
                                rd->rep->seen++;
                        if (!(e->done & DONE_SPARED))
                                rd->rep->helpers++;
                        e->done |= DONE_SEEN | DONE_SPARED;
                        rd->c.live++;
                        rd->c.spared++;
                        return 0;
                }
        }
        if (e->done & DONE_DENIED) {
                rd->c.live++;
                return 0;
        }
        if (rd->graceful && is_new && started_by_cleanup(rd->t, &p)) {
                e->done |= DONE_CLEANUP | DONE_SEEN;
                rd->rep->seen++;
                rd->rep->cleanup++;
        }
        if (rd->graceful && (e->done & DONE_CLEANUP)) {
                rd->c.live++;
                rd->c.ours++;
                rd->c.cleanup++;
                return 0;
        }
        /* A stopped process can be continued by a sibling that was not
         * stopped yet: stop it again. */
        bool again = rd->flag == DONE_STOP && !stopped_or_settled(p.state);
        bool first = !(e->done & rd->flag);
        if (first || again) {
                _cleanup_close_ int pidfd = pin_at(procdir_fd, pid, rd->m);
                r = pidfd < 0 ? pidfd : pidfd_send_signals(pidfd, rd->sigs, rd->n_sigs);
                if (r == -ESRCH)
                        return 0; /* gone, or left the session */
                if (r == -EPERM) {
                        if (!(e->done & DONE_SEEN))
                                rd->rep->seen++;
                        e->done |= DONE_DENIED | DONE_SEEN;
                        rd->c.live++;
                        return remember_denied(rd->rep, &p);
                }
                if (r < 0)
                        return r;
                if (first) {
                        (*rd->counter)++;
                        rd->c.fresh++;
                }
                /* Forked after the last graceful round: the forced phase
                 * is the first to meet it. */
                if (!rd->graceful && !(e->done & DONE_SEEN))
                        rd->rep->forced_first++;
                if (rd->graceful && !e->signalled_round) {
                        e->signalled_round = rd->t->round;
                        e->signalled_tick = rd->tick;
                }
                /* Counted once it was really signalled, so the report's
                 * totals agree with each other. */
                if (!(e->done & DONE_SEEN))
                        rd->rep->seen++;
                e->done |= rd->flag | DONE_SEEN;
        }
        rd->c.live++;
        rd->c.ours++;
        if (!stopped_or_settled(p.state))
                rd->c.unstopped++;
        return 0;
}

/* Sends sigs once per process (flag marks it done); SIGSTOP again to one
 * that was continued since. */
static int signal_round_sparing(const struct membership *m, bool spare_root, struct tracker *t, unsigned flag,
                                const int *sigs, size_t n_sigs, unsigned *counter, struct terminate_report *rep,
                                struct round_counts *ret) {
        struct round rd = {
                .m = m, .spare_root = spare_root, .t = t, .flag = flag, .sigs = sigs, .n_sigs = n_sigs,
                .counter = counter, .rep = rep, .graceful = flag & (DONE_HANGUP | DONE_LATE_HUP),
                .tick = proc_now_ticks(),
        };
        t->round++;
        int r = membership_walk(m, round_visit, &rd);
        if (r < 0)
                return r;
        *ret = rd.c;
        return 0;
}

static int signal_round(const struct membership *m, struct tracker *t, unsigned flag, const int *sigs,
                        size_t n_sigs, unsigned *counter, struct terminate_report *rep, struct round_counts *ret) {
        return signal_round_sparing(m, false, t, flag, sigs, n_sigs, counter, rep, ret);
}

/* Live processes of the session, after the caller has done what it could. */
static int collect_left(const struct membership *m, struct terminate_report *rep) {
        struct proc_info *procs = NULL;
        size_t n = 0, k = 0;
        int r = membership_scan(m, PROC_SCAN_UIDS, &procs, &n);
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

/* Moves what is left and dying (SIGKILL taken or pending, not in
 * uninterruptible sleep) from rep->left to rep->exiting: the kernel is
 * tearing it down, and nothing of it runs again.  One in state D may never
 * wake up to die, and one without SIGKILL pending was not killed: those
 * stay survivors. */
/* Killed, and not held where SIGKILL cannot reach: uninterruptible sleep,
 * or a v1 freezer cgroup (whose tasks can be seen running for a moment
 * when the signal wakes them, before they freeze again). */
static bool dying(const struct proc_info *p) {
        return proc_is_dying(p) && p->state != 'D' && cgroup_v1_frozen(p->pid) != 1;
}

static int split_dying(struct terminate_report *rep) {
        size_t n_dying = 0;
        for (size_t i = 0; i < rep->n_left; i++)
                if (dying(&rep->left[i]))
                        n_dying++;
        if (n_dying == 0)
                return 0;
        struct proc_info *dying_procs = calloc(n_dying, sizeof(*dying_procs));
        if (!dying_procs)
                return -ENOMEM;
        size_t k = 0, d = 0;
        for (size_t i = 0; i < rep->n_left; i++) {
                if (dying(&rep->left[i]))
                        dying_procs[d++] = rep->left[i];
                else
                        rep->left[k++] = rep->left[i];
        }
        free(rep->exiting);
        rep->exiting = dying_procs;
        rep->n_exiting = d;
        rep->n_left = k;
        return 0;
}

/* The session's own cgroup v2, if it has one: the one its backend knows,
 * or for a session known only by its audit ID, the one that holds exactly
 * its processes. */
static int find_cgroup(const struct membership *m, char **ret_dir) {
        int r = cgroup_dir_of(m->cgroup, m->cgroup_hierarchy, ret_dir);
        if (r != -ENOENT || m->cgroup)
                return r;
        struct proc_info *procs = NULL;
        size_t n = 0;
        r = membership_scan(m, 0, &procs, &n);
        if (r < 0)
                return r;
        struct proc_filter members = membership_filter(m);
        r = cgroup_find_own(&members, procs, n, self_pid, ret_dir);
        free(procs);
        return r;
}

/* logoff killed between cgroup.freeze and its thaw leaves the session's
 * cgroup frozen, where no signal but SIGKILL reaches its processes: the
 * next run thaws it first, so they get their grace period.  The cgroup of
 * one process tells cheaply whether to look closer; only the session's own
 * cgroup is thawed, never one it shares (an admin's frozen slice). */
static int thaw_leftover(const struct membership *m, const struct terminate_options *o,
                         struct terminate_report *rep) {
        const struct proc_info *first = NULL;
        for (size_t i = 0; i < o->n_known && !first; i++)
                if (is_live(&o->known[i]))
                        first = &o->known[i];
        if (!first || !o->cap_kill)
                return 0;
        _cleanup_free_ char *mount = NULL, *path = NULL, *dir = NULL;
        if (cgroup2_mount(&mount) < 0 || cgroup_path_of_pid(first->pid, "", &path) < 0)
                return 0; /* no cgroup v2 here, or the process is gone */
        if (asprintf(&dir, "%s%s", mount, path) < 0) {
                dir = NULL;
                return -ENOMEM;
        }
        if (!cgroup_event_is(dir, "frozen", "1"))
                return 0;
        free(TAKE_PTR(dir));
        if (find_cgroup(m, &dir) < 0 || cgroup_freeze_requested(dir) <= 0)
                return 0;
        int r = cgroup_thaw(dir);
        if (r < 0)
                return r;
        rep->thawed = text_clean(dir);
        return rep->thawed ? 0 : -ENOMEM;
}

/* Ends the session's processes outside its cgroup (a logind session's
 * process that moved out but kept its audit session) with one SIGKILL
 * round, leaving the ones inside to cgroup.kill.  Without an audit session
 * every member is in the cgroup, and there is nothing to do. */
static int kill_outside(const char *dir, const struct membership *m, const pid_t *frozen, size_t n_frozen,
                        struct tracker *t, struct terminate_report *rep, struct round_counts *ret) {
        static const int kill_sig[] = { SIGKILL };
        *ret = (struct round_counts) { 0 };
        if (m->audit_id == AUDIT_SESSION_UNSET)
                return 0;
        _cleanup_free_ char *mount = NULL;
        int r = frozen ? 0 : cgroup2_mount(&mount);
        if (r < 0)
                return r;
        struct membership by_audit = { .audit_id = m->audit_id };
        struct round rd = {
                .m = &by_audit, .skip_cgroup = frozen ? NULL : dir + strlen(mount), .t = t, .flag = DONE_KILL,
                .sigs = kill_sig, .n_sigs = 1, .counter = &rep->killed, .rep = rep,
        };
        /* The frozen cgroup's processes are not even looked at. */
        r = membership_walk_except(&by_audit, frozen, n_frozen, round_visit, &rd);
        *ret = rd.c;
        return r;
}

/* How long the forced phase waits.  Tearing down a large session takes the
 * kernel seconds (100,000 processes: about 5 s for a bare cgroup.kill on 2
 * cores), so a fixed bound would call dying processes survivors.  The wait
 * goes on while the session keeps shrinking: it ends when nothing has
 * changed for a while, or at a hard cap. */
#define STOP_STALL_USEC (2000000u)
#define STOP_CAP_USEC (30000000u)
#define KILL_STALL_USEC (3000000u)
#define KILL_CAP_USEC (120000000u)

struct progress_clock {
        uint64_t start, last_progress, stall_usec, cap_usec;
        size_t least; /* the fewest processes seen left so far */
};

static struct progress_clock progress_start(uint64_t stall_usec, uint64_t cap_usec) {
        uint64_t now = now_monotonic_usec();
        return (struct progress_clock) { .start = now, .last_progress = now, .stall_usec = stall_usec,
                                         .cap_usec = cap_usec, .least = SIZE_MAX };
}

/* Notes how many are left (or that progress was made otherwise); true when
 * waiting longer is pointless. */
static bool progress_over(struct progress_clock *pc, size_t left, bool progressed) {
        uint64_t now = now_monotonic_usec();
        if (left < pc->least || progressed) {
                if (left < pc->least)
                        pc->least = left;
                pc->last_progress = now;
        }
        return now - pc->last_progress >= pc->stall_usec || now - pc->start >= pc->cap_usec;
}

/* Waits while the killed cgroup empties: as long as it shrinks. */
static void wait_cgroup_empty(const char *dir, struct terminate_report *rep) {
        struct progress_clock pc = progress_start(KILL_STALL_USEC, KILL_CAP_USEC);
        for (;;) {
                if (cgroup_wait_empty(dir, 100000u) != 0)
                        break; /* empty, or it cannot be read: the rounds after tell */
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                if (cgroup_procs(dir, &pids, &n) < 0 || n == 0 || progress_over(&pc, n, false))
                        break;
        }
        rep->kill_wait_usec += now_monotonic_usec() - pc.start;
}

/* Freezing first makes the count we report exact, and lets the walk for
 * processes outside the cgroup tell them by pid: a frozen cgroup neither
 * forks nor loses a process, so its list stays true until cgroup.kill.
 * Returns 0, or a negative errno when the cgroup could not be used;
 * *outside says what the walk met outside it. */
static int kill_by_cgroup(const char *dir, const struct membership *m, struct tracker *t,
                          struct terminate_report *rep, struct round_counts *outside) {
        /* A cgroup that cannot freeze is still killed. */
        rep->frozen = cgroup_freeze(dir, 1000000u) > 0;
        int r = 0;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (cgroup_procs(dir, &pids, &n) == 0) {
                rep->cgroup_members = (unsigned) n;
                /* What was forked since the last round counts as met. */
                for (size_t i = 0; i < n; i++)
                        if (!tracker_has_pid(t, pids[i]) && pids[i] != self_pid) {
                                rep->seen++;
                                rep->forced_first++;
                        }
                proc_sort_pids(pids, n);
        } else
                rep->frozen = false; /* its list is unknown: tell the ones inside by their cgroup */

        if (rep->frozen)
                r = kill_outside(dir, m, pids, n, t, rep, outside);
        if (r >= 0)
                r = cgroup_kill(dir);
        if (r >= 0) {
                rep->cgroup_killed = true;
                /* Not frozen: outside processes are found while the kernel
                 * kills the inside ones, which costs no extra time. */
                if (!rep->frozen)
                        r = kill_outside(dir, m, NULL, 0, t, rep, outside);
                wait_cgroup_empty(dir, rep);
        }
        /* Whatever happened, never leave the cgroup frozen behind us. */
        (void) cgroup_thaw(dir);
        return r < 0 ? r : 0;
}

/* SIGSTOP everything, rescanning until a scan finds no process that was not
 * stopped already: a stopped process cannot fork, so a fork storm runs dry.
 * A round that stops something new is progress. */
static int stop_everything(const struct membership *m, struct tracker *t, struct terminate_report *rep) {
        static const int stop[] = { SIGSTOP };
        struct progress_clock pc = progress_start(STOP_STALL_USEC, STOP_CAP_USEC);
        for (;;) {
                struct round_counts c;
                int r = signal_round(m, t, DONE_STOP, stop, ARRAY_SIZE(stop), &rep->stopped, rep, &c);
                if (r < 0)
                        return r;
                rep->stop_rounds++;
                /* Done when one scan found nothing new and everything of
                 * ours stopped: nothing is left that could fork. */
                if (c.ours == 0 || (c.fresh == 0 && c.unstopped == 0))
                        return 0;
                if (progress_over(&pc, c.unstopped, c.fresh > 0))
                        return 0;
                if (c.fresh == 0)
                        sleep_usec(1000);
        }
}

/* Without a cgroup, or with processes left outside it: SIGSTOP rounds until
 * a fork storm runs dry, then SIGKILL, waiting while the session shrinks. */
static int stop_and_kill(const struct membership *m, struct tracker *t, struct terminate_report *rep,
                         struct round_counts *c) {
        static const int kill_sig[] = { SIGKILL };
        int r = stop_everything(m, t, rep);
        if (r < 0)
                return r;
        struct progress_clock pc = progress_start(KILL_STALL_USEC, KILL_CAP_USEC);
        uint64_t delay = 1000;
        for (;;) {
                r = signal_round(m, t, DONE_KILL, kill_sig, ARRAY_SIZE(kill_sig), &rep->killed, rep, c);
                if (r < 0)
                        return r;
                /* Wait for the ones we may not signal too: they end with
                 * their children (sshd's monitor does). */
                if (c->live == 0 || progress_over(&pc, c->live, c->fresh > 0))
                        break;
                sleep_usec(delay);
                if (delay < 50000)
                        delay *= 2;
        }
        rep->kill_wait_usec += now_monotonic_usec() - pc.start;
        return 0;
}

/* Until nothing is left or the grace period is over, with a backoff. */
static int rounds_until(const struct membership *m, bool spare_root, struct tracker *t, unsigned flag,
                        const int *sigs, size_t n_sigs, unsigned *counter, struct terminate_report *rep,
                        uint64_t deadline, bool users_only, struct round_counts *c) {
        uint64_t delay = 2000;
        for (;;) {
                int r = signal_round_sparing(m, spare_root, t, flag, sigs, n_sigs, counter, rep, c);
                if (r < 0)
                        return r;
                uint64_t now = now_monotonic_usec();
                size_t left = users_only ? c->live - c->spared : c->live;
                if (left == 0 || now >= deadline)
                        return 0;
                /* Nothing is stopped yet: the admin may still change their mind. */
                if (interrupt_pending())
                        return -ECANCELED;
                sleep_usec(delay < deadline - now ? delay : deadline - now);
                if (delay < 100000)
                        delay *= 2;
        }
}

/* What logind does, so shells save history, editors save buffers and sshd
 * writes its own logout records. */
static int graceful(const struct membership *m, struct tracker *t, const struct terminate_options *o,
                    struct terminate_report *rep, struct round_counts *c) {
        static const int hangup[] = { SIGHUP, SIGTERM, SIGCONT };
        return rounds_until(m, false, t, DONE_HANGUP, hangup, ARRAY_SIZE(hangup), &rep->hangup, rep,
                            now_monotonic_usec() + o->timeout_usec, false, c);
}

/* A desktop's programs get SIGTERM first: SIGHUP would end xrdp-chansrv
 * before it unmounts the user's thinclient_drives.  SIGHUP follows for what
 * ignores SIGTERM (shells).  The root helpers go on untouched until the
 * user's processes are gone, then get time to clean up by themselves. */
#define GRAPHICAL_HUP_DELAY_USEC (1000000u)
#define HELPER_EXIT_USEC (3000000u)

static int graceful_graphical(const struct membership *m, struct tracker *t, const struct terminate_options *o,
                              struct terminate_report *rep, struct round_counts *c) {
        static const int term[] = { SIGTERM, SIGCONT };
        static const int hup[] = { SIGHUP, SIGCONT };
        uint64_t start = now_monotonic_usec(), deadline = start + o->timeout_usec;
        uint64_t hup_at = start + (o->timeout_usec / 2 < GRAPHICAL_HUP_DELAY_USEC ? o->timeout_usec / 2
                                                                                 : GRAPHICAL_HUP_DELAY_USEC);
        int r = rounds_until(m, true, t, DONE_HANGUP, term, ARRAY_SIZE(term), &rep->hangup, rep, hup_at, true, c);
        if (r < 0)
                return r;
        if (c->live > c->spared) {
                r = rounds_until(m, true, t, DONE_LATE_HUP, hup, ARRAY_SIZE(hup), &rep->hangup_late, rep, deadline,
                                 true, c);
                if (r < 0)
                        return r;
        }
        if (c->live > c->spared || c->spared == 0) {
                rep->helpers_exited = rep->helpers - (unsigned) c->spared;
                return 0; /* the forced phase ends the rest, helpers too */
        }
        /* Only helpers left: they exit by themselves (or the forced phase
         * ends them), however short the grace period was. */
        uint64_t helpers_until = now_monotonic_usec() + HELPER_EXIT_USEC;
        if (deadline > helpers_until)
                helpers_until = deadline;
        unsigned none = 0;
        r = rounds_until(m, true, t, DONE_HANGUP, NULL, 0, &none, rep, helpers_until, false, c);
        if (r < 0)
                return r;
        rep->helpers_exited = rep->helpers - (unsigned) c->spared;
        return 0;
}

int session_terminate(const struct membership *m, const struct terminate_options *o, struct terminate_report *rep) {
        static const int kill_sig[] = { SIGKILL };
        struct tracker t = { 0 };
        uint64_t start = now_monotonic_usec();
        struct round_counts c = { 0 };
        int r;

        *rep = (struct terminate_report) { .graphical = o->graphical && o->owner != 0 };
        self_pid = getpid();
        for (size_t i = 0; i < o->n_known; i++) {
                if (!is_live(&o->known[i]))
                        continue;
                struct tracked *e;
                bool is_new;
                r = tracker_get(&t, &o->known[i], &e, &is_new);
                if (r < 0)
                        goto out;
                if (!(e->done & DONE_SEEN))
                        rep->seen++;
                e->done |= DONE_SEEN;
        }

        r = thaw_leftover(m, o, rep);
        if (r < 0)
                goto out;
        if (o->graphical && o->owner != 0)
                r = graceful_graphical(m, &t, o, rep, &c);
        else
                r = graceful(m, &t, o, rep, &c);
        rep->graceful_usec = now_monotonic_usec() - start;
        if (r == -ECANCELED) {
                /* What the admin leaves running; if nothing, it is over. */
                r = collect_left(m, rep);
                if (r >= 0)
                        r = rep->n_left > 0 ? -ECANCELED : 0;
                goto out;
        }
        if (r < 0)
                goto out;
        rep->graceful_usec = now_monotonic_usec() - start;
        rep->cleanup_finished = rep->cleanup - (unsigned) c.cleanup;

        /* Only what the caller may not signal is left: it may still end by
         * itself (sshd's monitor does), which the final count tells. */
        if (c.ours > 0 || c.spared > 0) {
                uint64_t forced_start = now_monotonic_usec();
                /* Not when logoff ends its own session from inside that
                 * cgroup: cgroup.kill would end logoff before its work. */
                _cleanup_free_ char *dir = NULL;
                bool own = o->cap_kill && find_cgroup(m, &dir) == 0 && !cgroup_holds_self(dir);
                bool over = false;
                if (own) {
                        /* A path is text from outside (a user names the
                         * cgroups it may create): shown cleaned. */
                        rep->cgroup = text_clean(dir);
                        if (!rep->cgroup) {
                                r = -ENOMEM;
                                goto out;
                        }
                        r = kill_by_cgroup(dir, m, &t, rep, &c);
                        /* Nothing of the session outside the emptied cgroup:
                         * that proves it over. */
                        over = r == 0 && cgroup_event_is(dir, "populated", "0") && c.live == 0;
                }
                if (!over) {
                        r = stop_and_kill(m, &t, rep, &c);
                        if (r < 0)
                                goto out;
                }
                rep->forced_usec = now_monotonic_usec() - forced_start;
        }

        /* The last round just scanned: only survivors need another look. */
        r = c.live > 0 ? collect_left(m, rep) : 0;
        if (r < 0)
                goto out;
        r = split_dying(rep);
        if (r < 0)
                goto out;
        r = rep->n_left > 0 ? -EBUSY : 0;
out:
        for (size_t i = 0; i < t.n; i++)
                if (t.entries[i].done == DONE_SEEN)
                        rep->gone_unsignalled++;
        /* Failing half-way must not leave the session stopped: the caller
         * asked for it to end, so finish what can be finished. */
        if (r < 0 && r != -EBUSY && rep->stopped > 0)
                (void) signal_round(m, &t, DONE_KILL, kill_sig, ARRAY_SIZE(kill_sig), &rep->killed, rep, &c);
        rep->elapsed_usec = now_monotonic_usec() - start;
        tracker_done(&t);
        return r;
}

void terminate_report_done(struct terminate_report *rep) {
        free(rep->cgroup);
        free(rep->thawed);
        free(rep->left);
        free(rep->denied_procs);
        free(rep->exiting);
        *rep = (struct terminate_report) { 0 };
}
