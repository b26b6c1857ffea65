/* SPDX-License-Identifier: MIT */
/*
 * load-helper: benchmark and load-test helper (bench/bench_load.py,
 * tests/load), compiled at setup.
 *
 *   rusage FILE CMD...  runs CMD and writes its ru_maxrss (kB) to FILE.  A
 *       child of this Python process would report at least this process's
 *       RSS (the kernel keeps the pre-exec high-water mark), hence a small
 *       static parent.
 *   reap [-c CGROUP_DIR]... CMD...  a child subreaper: CMD runs in the
 *       cgroups given, and every orphan of the session it starts is
 *       reparented here and reaped at once (PID 1 of this machine reaps
 *       slowly, and the benchmark counts tasks until they are reaped).
 *       Exits when it has no children left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t start(char **argv, char **dirs, int ndirs) {
        pid_t p = fork();
        if (p != 0)
                return p;
        char pid[32], path[4096];
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        for (int i = 0; i < ndirs; i++) {
                snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[i]);
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
                        fprintf(stderr, "helper: %s: %s\n", path, strerror(errno));
                        _exit(126);
                }
                close(fd);
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execvp(argv[0], argv);
        fprintf(stderr, "helper: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

int main(int argc, char **argv) {
        if (argc >= 4 && strcmp(argv[1], "rusage") == 0) {
                pid_t p = start(argv + 3, NULL, 0);
                int st;
                struct rusage ru;
                if (p < 0)
                        return 126;
                while (wait4(p, &st, 0, &ru) < 0)
                        if (errno != EINTR)
                                return 126;
                FILE *f = fopen(argv[2], "w");
                if (!f || fprintf(f, "%ld\n", ru.ru_maxrss) < 0 || fclose(f) != 0)
                        return 126;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (argc >= 3 && strcmp(argv[1], "reap") == 0) {
                char *dirs[8];
                int n = 0, a = 2;
                while (a + 1 < argc && strcmp(argv[a], "-c") == 0 && n < 8) {
                        dirs[n++] = argv[a + 1];
                        a += 2;
                }
                if (a >= argc || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || start(argv + a, dirs, n) < 0)
                        return 126;
                for (;;)
                        if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
                                return 0;
        }
        fprintf(stderr, "usage: helper rusage FILE CMD... | helper reap [-c DIR]... CMD...\n");
        return 2;
}
