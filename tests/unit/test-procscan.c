/* SPDX-License-Identifier: MIT */
/* procscan's parsers of /proc/PID/stat and status, and what they say of
 * real processes: killed and on its way out, in a PID namespace of its own. */
#include "procscan.h"
#include "tap.h"
#include "util.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static void test_stat_flags(void) {
        struct proc_info p = { 0 };
        const char *exiting = "42 (sleep) R 1 42 42 0 -1 4194308 90 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        CHECK(proc_parse_stat(exiting, &p) == 0 && p.pf_flags == 4194308u, "flags field read");
        CHECK(proc_is_dying(&p), "PF_EXITING: dying");
        const char *running = "42 (sleep) S 1 42 42 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        CHECK(proc_parse_stat(running, &p) == 0 && !proc_is_dying(&p), "no PF_EXITING, no SIGKILL: alive");
}

static void test_kill_pending(void) {
        struct proc_info p = { 0 };
        proc_parse_status_kill_pending("Name:\tx\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n", &p);
        CHECK(p.kill_pending && proc_is_dying(&p), "SIGKILL pending for the process");
        proc_parse_status_kill_pending("Name:\tx\nSigPnd:\t0000000000000100\nShdPnd:\t0000000000000000\n", &p);
        CHECK(p.kill_pending, "SIGKILL pending for the thread");
        proc_parse_status_kill_pending("Name:\tx\nSigPnd:\t0000000000000001\nShdPnd:\t0000000000004000\n", &p);
        CHECK(!p.kill_pending, "SIGHUP and SIGTERM pending: not killed");
        proc_parse_status_kill_pending("Name:\tx\n", &p);
        CHECK(!p.kill_pending, "no pending lines");
}

static void test_nspid(void) {
        struct proc_info p = { 0 };
        proc_parse_status_nspid("Name:\tx\nNSpid:\t4242\n", &p);
        CHECK(!p.child_pidns && p.pidns_depth == 0 && !p.pidns_init, "our namespace");
        proc_parse_status_nspid("Name:\tx\nNSpid:\t4242\t1\n", &p);
        CHECK(p.child_pidns && p.pidns_depth == 1 && p.pidns_init, "init of a namespace below ours");
        proc_parse_status_nspid("Name:\tx\nNSpid:\t4242\t17\n", &p);
        CHECK(p.child_pidns && p.pidns_depth == 1 && !p.pidns_init, "pid 17 there: not its init");
        proc_parse_status_nspid("Name:\tx\nNSpid:\t4242\t10\t1\n", &p);
        CHECK(p.pidns_depth == 2 && p.pidns_init, "two levels down, init of the inner one");
        proc_parse_status_nspid("Name:\tx\nNSpid:\t4242\t12\n", &p);
        CHECK(!p.pidns_init, "12 is not 1");
}

/* A real child that is pid 1 of a new PID namespace, read from here. */
static void test_real_namespace(void) {
        if (geteuid() != 0) {
                CHECK(false, "this test needs root (it makes a PID namespace)");
                return;
        }
        struct proc_info self;
        _cleanup_close_ int sfd = proc_open_dir(getpid());
        CHECK(sfd >= 0 && proc_read_at(sfd, getpid(), PROC_SCAN_NS, &self) == 0 && !self.child_pidns &&
                      !self.pidns_init,
              "this process: our namespace");
        int ready[2];
        CHECK(pipe(ready) == 0, "pipe");
        pid_t pid = fork();
        if (pid == 0) {
                if (unshare(CLONE_NEWPID) < 0)
                        _exit(1);
                pid_t init = fork();
                if (init == 0) {
                        char c = 'x';
                        (void) !write(ready[1], &c, 1);
                        pause();
                        _exit(0);
                }
                int st;
                waitpid(init, &st, 0);
                _exit(0);
        }
        char c;
        CHECK(read(ready[0], &c, 1) == 1, "the namespace's init runs");
        /* The grandchild: the only child of pid. */
        _cleanup_free_ char *kids = NULL;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid, (int) pid);
        pid_t init = 0;
        if (read_small_file_at(AT_FDCWD, path, &kids, NULL) == 0)
                init = (pid_t) atoi(kids);
        struct proc_info p;
        _cleanup_close_ int fd = init > 0 ? proc_open_dir(init) : -1;
        CHECK(fd >= 0 && proc_read_at(fd, init, PROC_SCAN_NS, &p) == 0 && p.child_pidns && p.pidns_init &&
                      p.pidns_depth == 1,
              "the child: init of a namespace one below ours");
        if (init > 0)
                kill(init, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        close(ready[0]);
        close(ready[1]);
}

int main(void) {
        test_stat_flags();
        test_kill_pending();
        test_nspid();
        test_real_namespace();
        return tap_done();
}
