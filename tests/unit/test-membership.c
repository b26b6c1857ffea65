/* SPDX-License-Identifier: MIT */
/* Membership by cgroup, as logind sessions have it: parsed from
 * /proc/PID/cgroup, checked per process, and a session ended through a
 * real cgroup v2 directory. */
#include "cgroup.h"
#include "membership.h"
#include "pidref.h"
#include "procscan.h"
#include "tap.h"
#include "terminate.h"
#include "util.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>


static bool alive(pid_t pid) { return waitpid(pid, NULL, WNOHANG) == 0; }

/* A child that ignores SIGHUP and SIGTERM, in the cgroup dir. */
static pid_t stubborn_child_in(const char *dir) {
        pid_t pid = fork();
        if (pid == 0) {
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                for (;;)
                        pause();
        }
        if (pid < 0)
                return pid;
        char path[512], buf[32];
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        FILE *f = fopen(path, "w");
        snprintf(buf, sizeof(buf), "%d", (int) pid);
        if (!f || fputs(buf, f) < 0 || fclose(f) != 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -1;
        }
        return pid;
}

static void test_real_cgroup(void) {
        if (geteuid() != 0) {
                CHECK(false, "this test needs root (it makes a cgroup)");
                return;
        }
        _cleanup_free_ char *mount = NULL;
        CHECK(cgroup2_mount(&mount) == 0, "cgroup v2 is mounted");
        if (!mount)
                return;
        char name[64], dir[512];
        snprintf(name, sizeof(name), "/logoff-unit-%d", (int) getpid());
        snprintf(dir, sizeof(dir), "%s%s", mount, name);
        CHECK(mkdir(dir, 0755) == 0, "made cgroup %s", dir);

        pid_t a = stubborn_child_in(dir), b = stubborn_child_in(dir);
        CHECK(a > 0 && b > 0, "two stubborn children in it");

        struct membership m = { .audit_id = AUDIT_SESSION_UNSET, .cgroup = name, .cgroup_hierarchy = "" };
        int self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(membership_contains_at(&m, self) == 0, "the test itself is no member");
        struct membership everything = { .audit_id = AUDIT_SESSION_UNSET, .cgroup = "/", .cgroup_hierarchy = "" };
        CHECK(membership_contains_at(&everything, self) == 0,
              "the root cgroup is never a session's: nothing is its member");
        close(self);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", (int) a);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(membership_contains_at(&m, fd) == 1, "a child in the cgroup is a member");
        int pidfd = pin_at(fd, a, &m);
        CHECK(pidfd >= 0, "and can be pinned");
        if (pidfd >= 0)
                close(pidfd);
        close(fd);

        struct proc_info *procs = NULL;
        size_t n = 0;
        CHECK(membership_scan(&m, 0, &procs, &n) == 0 && n == 2, "a scan by cgroup finds exactly the two (found %zu)", n);
        free(procs);

        struct terminate_options o = { .timeout_usec = 200000, .cap_kill = true };
        struct terminate_report rep;
        int r = session_terminate(&m, &o, &rep);
        CHECK(r == 0, "session_terminate: %s", strerror(-r));
        CHECK(rep.cgroup_killed && rep.cgroup && streq(rep.cgroup, dir), "ended through cgroup.kill of %s",
              rep.cgroup ? rep.cgroup : "(none)");
        CHECK(rep.hangup == 2 && rep.seen == 2, "counts agree: %u signalled, %u seen", rep.hangup, rep.seen);
        terminate_report_done(&rep);
        usleep(100000);
        CHECK(!alive(a) && !alive(b), "both children are gone");
        CHECK(!cgroup_event_is(dir, "frozen", "1"), "the cgroup is not left frozen");
        waitpid(a, NULL, 0);
        waitpid(b, NULL, 0);
        CHECK(rmdir(dir) == 0, "the cgroup is empty and removable");
}

/* A logind-like session: an audit session and a cgroup.  One stubborn
 * process inside the cgroup, the session's first process outside it (as
 * one that moved out would be): cgroup.kill ends the one, a SIGKILL round
 * the other, and nothing else on the machine is touched. */
static void test_member_outside_the_cgroup(void) {
        _cleanup_free_ char *mount = NULL;
        if (geteuid() != 0 || cgroup2_mount(&mount) < 0) {
                CHECK(false, "this test needs root and cgroup v2");
                return;
        }
        char name[64], dir[512];
        snprintf(name, sizeof(name), "/logoff-unit-out-%d", (int) getpid());
        snprintf(dir, sizeof(dir), "%s%s", mount, name);
        CHECK(mkdir(dir, 0755) == 0, "made cgroup %s", dir);

        int p[2];
        if (pipe(p) < 0)
                return;
        pid_t outside = fork();
        if (outside == 0) {
                int fd = open("/proc/self/loginuid", O_WRONLY);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(1);
                close(fd);
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                pid_t inside = fork();
                if (inside == 0)
                        for (;;)
                                pause();
                uint32_t sid = AUDIT_SESSION_UNSET;
                proc_session_id(getpid(), &sid);
                if (write(p[1], &inside, sizeof(inside)) != (ssize_t) sizeof(inside) ||
                    write(p[1], &sid, sizeof(sid)) != (ssize_t) sizeof(sid))
                        _exit(1);
                for (;;)
                        pause();
        }
        close(p[1]);
        pid_t inside = -1;
        uint32_t sid = AUDIT_SESSION_UNSET;
        bool ok = read(p[0], &inside, sizeof(inside)) == (ssize_t) sizeof(inside) &&
                  read(p[0], &sid, sizeof(sid)) == (ssize_t) sizeof(sid);
        close(p[0]);
        CHECK(ok && inside > 0 && sid != AUDIT_SESSION_UNSET, "a session of two stubborn processes");
        char path[600], buf[32];
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        FILE *f = fopen(path, "w");
        snprintf(buf, sizeof(buf), "%d", (int) inside);
        CHECK(f && fputs(buf, f) >= 0 && fclose(f) == 0, "one of them moved into the cgroup");

        struct membership m = { .audit_id = sid, .cgroup = name, .cgroup_hierarchy = "" };
        struct terminate_options o = { .timeout_usec = 100000, .cap_kill = true };
        struct terminate_report rep;
        int r = session_terminate(&m, &o, &rep);
        CHECK(r == 0, "session_terminate: %s", strerror(-r));
        CHECK(rep.cgroup_killed && rep.frozen && rep.cgroup_members == 1, "cgroup.kill of the frozen cgroup (%u in it)",
              rep.cgroup_members);
        CHECK(rep.killed == 1, "the one outside got SIGKILL (%u sent)", rep.killed);
        CHECK(rep.seen == 2 && rep.n_left == 0, "both met, none left");
        terminate_report_done(&rep);
        usleep(50000);
        CHECK(!alive(outside), "the process outside the cgroup is gone");
        waitpid(outside, NULL, 0);
        CHECK(rmdir(dir) == 0, "the cgroup is empty and removable");
}

/* A child that becomes uid (when not 0), optionally double-forked so init
 * is its parent, or that writes its own loginuid; waits until killed.
 * Returns the pid of the process that waits. */
static pid_t spawn_waiter(uid_t uid, bool reparented, bool own_loginuid) {
        int p[2];
        if (pipe(p) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                if (reparented && fork() != 0)
                        _exit(0);
                if (own_loginuid) {
                        int fd = open("/proc/self/loginuid", O_WRONLY);
                        if (fd < 0 || write(fd, "0", 1) != 1)
                                _exit(1);
                        close(fd);
                }
                if (uid != 0 && setresuid(uid, uid, uid) < 0)
                        _exit(1);
                pid_t self = getpid();
                if (write(p[1], &self, sizeof(self)) != (ssize_t) sizeof(self))
                        _exit(1);
                close(p[1]);
                for (;;)
                        pause();
        }
        close(p[1]);
        pid_t waiter = -1;
        if (read(p[0], &waiter, sizeof(waiter)) != (ssize_t) sizeof(waiter))
                waiter = -1;
        close(p[0]);
        if (reparented)
                waitpid(pid, NULL, 0);
        return waiter;
}

static enum tree_relation relation(const struct process_tree *t, pid_t pid) {
        _cleanup_close_ int fd = proc_open_dir(pid);
        uint32_t audit = AUDIT_SESSION_UNSET;
        enum tree_relation rel = TREE_NONE;
        if (fd < 0 || proc_session_id_at(fd, &audit) < 0 || membership_tree_relation_at(t, fd, audit, &rel) < 0)
                return (enum tree_relation) -1;
        return rel;
}

static void stop_waiter(pid_t pid) {
        kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
}

/* The tree's rules (issue 13): the orphans rule never takes root's
 * processes nor a service's children; a descendant that wrote its own
 * loginuid is still the tree's. */
static void test_tree_rules(void) {
        if (geteuid() != 0) {
                CHECK(false, "this test needs root (it changes uids and loginuids)");
                return;
        }
        const uid_t nobody = 65534;
        /* This process is the tree's root: whatever it forks descends from it. */
        struct proc_info self = { .pid = getpid() };
        _cleanup_close_ int sfd = proc_open_dir(getpid());
        CHECK(sfd >= 0 && proc_read_stat_at(sfd, &self) == 0, "read this process");
        struct process_tree t = { .root = getpid(), .root_start = self.start_ticks, .owner = nobody,
                                  .orphans = TREE_ORPHANS_TAKEN };

        pid_t child = spawn_waiter(nobody, false, true);
        CHECK(child > 0 && relation(&t, child) == TREE_ROOT_OR_DESCENDANT,
              "a descendant with a loginuid of its own is the tree's");

        /* Reparented to init: no longer a descendant; the owner's with no
         * audit session, its parent init: an orphan. */
        pid_t orphan = spawn_waiter(nobody, true, false);
        struct process_tree other_root = t;
        other_root.root = 1; /* not its ancestor any more either way */
        other_root.root_start = 0;
        CHECK(orphan > 0 && relation(&other_root, orphan) == TREE_ORPHAN, "the owner's, parent init: an orphan");

        /* The owner's but a root service's child (this process is root and
         * not in the tree): not an orphan; the loose rule would take it. */
        struct process_tree service = other_root;
        pid_t served = spawn_waiter(nobody, false, false);
        service.root = orphan; /* some other root: this child does not descend from it */
        service.root_start = 0;
        CHECK(served > 0 && relation(&service, served) == TREE_NONE, "a service's child is not an orphan");
        service.orphans = TREE_ORPHANS_ANY;
        CHECK(relation(&service, served) == TREE_ORPHAN, "the loose rule, for naming, would take it");

        /* Root's: never, whatever else. */
        struct process_tree rooted = other_root;
        rooted.owner = 0;
        pid_t root_orphan = spawn_waiter(0, true, false);
        CHECK(root_orphan > 0 && relation(&rooted, root_orphan) == TREE_NONE, "a root process is never an orphan");

        stop_waiter(child);
        stop_waiter(served);
        kill(orphan, SIGKILL);
        kill(root_orphan, SIGKILL);
}

int main(void) {
        test_tree_rules();
        test_real_cgroup();
        test_member_outside_the_cgroup();
        return tap_done();
}
