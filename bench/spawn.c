/* SPDX-License-Identifier: MIT */
/*
 * spawn: benchmark helper, the "shell" of a benchmark login session.
 *
 *   spawn [-i] TOTAL DETACHED
 *
 * Makes the session hold exactly TOTAL processes of the user, itself
 * included, then waits (pause) until killed:
 *
 *   - DETACHED of them escape the obvious tools like `setsid -f nohup CMD`
 *     does: fork, setsid() (new POSIX session, no controlling tty), fork
 *     again and let the middle process exit, so the survivor's parent is
 *     PID 1.  `pkill -s SID` and `pkill -t pts/N` cannot see them; only
 *     their audit session id still says where they came from.
 *   - the rest (TOTAL - 1 - DETACHED) are plain children: same POSIX session,
 *     same controlling terminal, parent = this process.
 *
 * Every process keeps the default signal dispositions, so SIGHUP and
 * SIGTERM end all of them (the graceful path of logoff works); with -i every
 * process ignores SIGHUP and SIGTERM, so only SIGKILL or cgroup.kill ends
 * them (the forced path, and what `loginctl terminate-session` cannot end).  It only
 * forks (no exec) so that making 10,000 processes takes well under a second.
 * Prints nothing: the benchmark counts /proc/PID/sessionid to know when the
 * session is complete.  Exits 2 on bad arguments, 1 if a fork fails (after
 * killing what it made, so a half-built session does not linger).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long parse(const char *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 1000000)
                return -1;
        return v;
}

static int ignore_term;

static void park(void) {
        /* HUP and TERM as chosen in main(); SIGCHLD back to its default. */
        signal(SIGCHLD, SIG_DFL);
        for (;;)
                pause();
}

static void fail(const char *what) {
        int e = errno;
        fprintf(stderr, "spawn: %s: %s\n", what, strerror(e));
        /* Our own process group holds the plain children; the detached ones
         * are the benchmark's to clean up (it kills by audit session id). */
        if (ignore_term)
                kill(0, SIGKILL);
        signal(SIGTERM, SIG_IGN);
        kill(0, SIGTERM);
        _exit(1);
}

int main(int argc, char **argv) {
        int a = 1;
        if (argc == 4 && strcmp(argv[1], "-i") == 0) {
                ignore_term = 1;
                a = 2;
        }
        if (argc - a != 2) {
                fprintf(stderr, "usage: spawn [-i] TOTAL DETACHED\n");
                return 2;
        }
        long total = parse(argv[a]), detached = parse(argv[a + 1]);
        if (total < 1 || detached < 0 || detached > total - 1) {
                fprintf(stderr, "spawn: need TOTAL >= 1 and 0 <= DETACHED < TOTAL\n");
                return 2;
        }
        long plain = total - 1 - detached;

        if (ignore_term) {
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
        }
        /* The middle processes of the double forks are reaped by the kernel;
         * nothing of ours lingers as a zombie. */
        signal(SIGCHLD, SIG_IGN);

        for (long i = 0; i < detached; i++) {
                pid_t p = fork();
                if (p < 0)
                        fail("fork");
                if (p == 0) {
                        if (setsid() < 0)
                                _exit(1);
                        pid_t q = fork();
                        if (q < 0)
                                _exit(1);
                        if (q == 0)
                                park();
                        _exit(0);
                }
        }
        for (long i = 0; i < plain; i++) {
                pid_t p = fork();
                if (p < 0)
                        fail("fork");
                if (p == 0)
                        park();
        }
        park();
}
