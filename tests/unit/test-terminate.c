/* SPDX-License-Identifier: MIT */
#include "pidref.h"
#include "procscan.h"
#include "session-child.h"
#include "tap.h"
#include "terminate.h"
#include "util.h"

#include <signal.h>
#include <sys/wait.h>

static struct membership by_audit(uint32_t sid) { return (struct membership) { .audit_id = sid }; }

static int scan_one(uint32_t sid, pid_t pid, struct proc_info *ret) {
        struct proc_info *procs = NULL;
        size_t n = 0;
        struct membership m = by_audit(sid);
        int r = membership_scan(&m, 0, &procs, &n);
        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t i = 0; i < n; i++)
                if (procs[i].pid == pid) {
                        *ret = procs[i];
                        r = 0;
                }
        free(procs);
        return r;
}

static bool alive(pid_t pid) {
        return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Makes the next fork() get this pid, as a PID wraparound eventually would. */
static pid_t fork_with_pid(pid_t want) {
        /* Other processes of the machine may take the pid first: try again. */
        for (int attempt = 0; attempt < 500; attempt++) {
                FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
                if (!f)
                        return -1;
                fprintf(f, "%d", (int) want - 1);
                if (fclose(f) != 0)
                        return -1;
                pid_t pid = fork();
                if (pid == 0) {
                        for (;;)
                                pause();
                }
                if (pid == want || pid < 0)
                        return pid;
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        return -1;
}

static void test_signal_reaches_the_session_process(void) {
        uint32_t sid;
        pid_t child = spawn_session_child(&sid);
        CHECK(child > 0 && sid != AUDIT_SESSION_UNSET, "session child");
        struct proc_info info;
        CHECK(scan_one(sid, child, &info) == 0, "scan finds it");
        static const int term[] = { SIGTERM };
        CHECK(signal_pinned(&info, &(struct membership) { .audit_id = sid }, term, 1) == 0, "signal sent");
        int status = 0;
        CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
              "child ended by SIGTERM");
}

static void test_wrong_session_not_signalled(void) {
        uint32_t sid_a, sid_b;
        pid_t a = spawn_session_child(&sid_a);
        pid_t b = spawn_session_child(&sid_b);
        struct proc_info info;
        CHECK(scan_one(sid_b, b, &info) == 0, "scan finds b");
        static const int kill_sig[] = { SIGKILL };
        CHECK(signal_pinned(&info, &(struct membership) { .audit_id = sid_a }, kill_sig, 1) == -ESRCH, "b is not in a's session: refused");
        usleep(20000);
        CHECK(alive(b), "b still alive");
        kill(a, SIGKILL);
        kill(b, SIGKILL);
        waitpid(a, NULL, 0);
        waitpid(b, NULL, 0);
}

static void test_reused_pid_not_signalled(void) {
        uint32_t sid;
        pid_t old = spawn_session_child(&sid);
        struct proc_info info;
        CHECK(scan_one(sid, old, &info) == 0, "scan finds the session process");

        /* It dies after the scan; its pid goes to an unrelated process. */
        kill(old, SIGKILL);
        waitpid(old, NULL, 0);
        pid_t newcomer = fork_with_pid(old);
        CHECK(newcomer == old, "pid %d reused by a process outside the session", (int) old);

        static const int kill_sig[] = { SIGKILL };
        CHECK(signal_pinned(&info, &(struct membership) { .audit_id = sid }, kill_sig, 1) == -ESRCH, "stale scan entry: nothing signalled");
        usleep(20000);
        CHECK(newcomer > 0 && alive(newcomer), "the newcomer is alive");

        /* Same again with the newcomer inside the same session (a sibling
         * forked it): the start time tells them apart. */
        if (newcomer > 0) {
                kill(newcomer, SIGKILL);
                waitpid(newcomer, NULL, 0);
        }
        struct proc_info forged;
        uint32_t sid2;
        pid_t live = spawn_session_child(&sid2);
        CHECK(scan_one(sid2, live, &forged) == 0, "scan a live process");
        forged.start_ticks += 1;
        CHECK(signal_pinned(&forged, &(struct membership) { .audit_id = sid2 }, kill_sig, 1) == -ESRCH, "start time differs: nothing signalled");
        usleep(20000);
        CHECK(alive(live), "still alive");
        kill(live, SIGKILL);
        waitpid(live, NULL, 0);
}

/* The walk pins each process through its /proc directory.  A directory
 * opened before the process died must not pin a newcomer with the same pid,
 * even one in the same session.  Run in a child that has its own session,
 * so victim and newcomer share it; the exit status says what failed. */
static int stale_directory_child(void) {
        int fd = open("/proc/self/loginuid", O_WRONLY);
        if (fd < 0 || write(fd, "0", 1) != 1)
                return 10;
        close(fd);
        uint32_t sid;
        if (proc_session_id(getpid(), &sid) < 0)
                return 11;

        pid_t victim = fork();
        if (victim == 0)
                for (;;)
                        pause();
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", (int) victim);
        int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return 12;
        int pidfd = pin_at(dirfd, victim, &(struct membership) { .audit_id = sid });
        if (pidfd < 0)
                return 13; /* the live victim must pin */
        close(pidfd);

        kill(victim, SIGKILL);
        waitpid(victim, NULL, 0);
        pid_t newcomer = fork_with_pid(victim);
        if (newcomer != victim)
                return 14;
        uint32_t newcomer_sid;
        if (proc_session_id(newcomer, &newcomer_sid) < 0 || newcomer_sid != sid)
                return 15;

        int r = pin_at(dirfd, victim, &(struct membership) { .audit_id = sid });
        usleep(20000);
        bool newcomer_alive = alive(newcomer);
        kill(newcomer, SIGKILL);
        waitpid(newcomer, NULL, 0);
        if (r != -ESRCH)
                return 16;
        return newcomer_alive ? 0 : 17;
}

static void test_stale_directory_does_not_pin_a_newcomer(void) {
        pid_t child = fork();
        if (child == 0)
                _exit(stale_directory_child());
        int status = 0;
        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "child ran");
        CHECK(WEXITSTATUS(status) == 0,
              "a /proc directory of a dead process pins nothing, even when its pid is reused in the "
              "same session (child status %d)",
              WEXITSTATUS(status));
}

int main(void) {
        if (geteuid() != 0) {
                CHECK(false, "these tests need root (audit sessions, ns_last_pid)");
                return tap_done();
        }
        test_signal_reaches_the_session_process();
        test_wrong_session_not_signalled();
        test_reused_pid_not_signalled();
        test_stale_directory_does_not_pin_a_newcomer();
        return tap_done();
}
