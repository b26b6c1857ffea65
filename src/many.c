/* SPDX-License-Identifier: MIT */
#include "many.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "exit-status.h"
#include "interrupt.h"
#include "membership.h"
#include "output.h"
#include "report.h"
#include "util.h"
#include "walkshare.h"

/* How long a walk waits for the other sessions' rounds to ask too: their
 * rounds start together and back off alike, so most come within it. */
#define GATHER_USEC 3000u

static int rank(int code) {
        switch (code) {
        case EXIT_OK:
                return 0;
        case EXIT_CONSOLE:
                return 1;
        case EXIT_NOT_FOUND:
                return 2;
        case EXIT_ACCESS_DENIED:
                return 3;
        case EXIT_SURVIVORS:
                return 4;
        default:
                return 5; /* a failure, or what no session should return */
        }
}

int exit_status_worst(int a, int b) {
        return rank(b) > rank(a) ? b : a;
}

struct child {
        pid_t pid;     /* 0: not started */
        int pidfd;     /* -1: reaped, or never started */
        int out, err;  /* what it printed: memfds */
        size_t client; /* its walk_share client */
        bool done, printed;
        int signal;    /* killed by this signal (not one logoff caught) */
};

struct run {
        const struct session *const *sessions;
        size_t n;
        struct child *children;
        struct walk_share *walks;
        many_fn fn;
        void *userdata;
        int *codes;
};

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* In the child: the other children's files and sockets are not its own. */
static void close_others(struct run *run, size_t self, int own_walk_fd) {
        for (size_t j = 0; j < run->n; j++) {
                struct child *c = &run->children[j];
                if (j != self) {
                        close_fd(&c->out);
                        close_fd(&c->err);
                }
                close_fd(&c->pidfd);
        }
        for (size_t j = 0; j < run->n; j++) {
                int fd = walk_share_fd(run->walks, j);
                if (fd >= 0 && fd != own_walk_fd)
                        close(fd);
        }
}

static _Noreturn void child_main(struct run *run, size_t i, int walk_fd) {
        struct child *c = &run->children[i];
        close_others(run, i, walk_fd);
        if (dup2(c->out, STDOUT_FILENO) < 0 || dup2(c->err, STDERR_FILENO) < 0)
                _exit(EXIT_FAILURE_GENERIC);
        close_fd(&c->out);
        close_fd(&c->err);
        membership_share_walks(walk_fd);
        int code = run->fn(run->sessions[i], run->userdata);
        if (code == EXIT_BY_SIGNAL)
                interrupt_reraise(interrupt_pending() ? interrupt_pending() : SIGINT);
        fflush(NULL);
        _exit(code < 0 ? EXIT_FAILURE_GENERIC : code);
}

static int start_child(struct run *run, size_t i) {
        struct child *c = &run->children[i];
        c->out = memfd_create("logoff-stdout", MFD_CLOEXEC);
        c->err = c->out >= 0 ? memfd_create("logoff-stderr", MFD_CLOEXEC) : -1;
        if (c->out < 0 || c->err < 0)
                return -errno;
        int walk_fd;
        int r = walk_share_add(run->walks, &walk_fd, &c->client);
        if (r < 0)
                return r;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                close(walk_fd);
                walk_share_remove(run->walks, c->client);
                return r;
        }
        if (pid == 0)
                child_main(run, i, walk_fd);
        close(walk_fd);
        c->pid = pid;
        /* Our own child, not reaped: the pidfd is that very process. */
        c->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (c->pidfd < 0) {
                r = -errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                c->pid = 0;
                walk_share_remove(run->walks, c->client);
                return r;
        }
        return 0;
}

/* Nothing of a child that could not be started is left open. */
static int start(struct run *run, size_t i) {
        int r = start_child(run, i);
        if (r < 0) {
                close_fd(&run->children[i].out);
                close_fd(&run->children[i].err);
        }
        return r;
}

static void reap(struct run *run, size_t i) {
        struct child *c = &run->children[i];
        int status;
        pid_t k;
        while ((k = waitpid(c->pid, &status, 0)) < 0 && errno == EINTR)
                ;
        if (k < 0)
                run->codes[i] = EXIT_FAILURE_GENERIC;
        else if (WIFEXITED(status))
                run->codes[i] = WEXITSTATUS(status);
        else if (WIFSIGNALED(status) && WTERMSIG(status) == interrupt_pending())
                run->codes[i] = EXIT_BY_SIGNAL;
        else {
                run->codes[i] = EXIT_FAILURE_GENERIC;
                c->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        }
        close_fd(&c->pidfd);
        walk_share_remove(run->walks, c->client);
        c->done = true;
}

static void copy_out(int from, FILE *to) {
        fflush(to);
        if (from < 0 || lseek(from, 0, SEEK_SET) < 0)
                return;
        char buf[65536];
        ssize_t k;
        while ((k = read(from, buf, sizeof(buf))) > 0)
                if (fwrite(buf, 1, (size_t) k, to) != (size_t) k)
                        return;
        fflush(to);
}

/* What the sessions before it have printed comes first. */
static void print_done(struct run *run, size_t *next) {
        while (*next < run->n && run->children[*next].done) {
                struct child *c = &run->children[*next];
                copy_out(c->out, stdout);
                copy_out(c->err, stderr);
                if (c->signal)
                        fprintf(stderr, _("%s: ending session %s failed: its process was killed by signal %d (%s)\n"),
                                program_name, or_dash(run->sessions[*next]->id), c->signal, strsignal(c->signal));
                close_fd(&c->out);
                close_fd(&c->err);
                c->printed = true;
                (*next)++;
        }
}

static int wait_and_serve(struct run *run, bool *forwarded) {
        _cleanup_free_ struct pollfd *fds = calloc(2 * run->n, sizeof(*fds));
        _cleanup_free_ size_t *who = calloc(2 * run->n, sizeof(*who));
        _cleanup_free_ bool *ready = calloc(run->n, sizeof(*ready));
        if (!fds || !who || !ready)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < run->n; i++) {
                struct child *c = &run->children[i];
                if (c->pid <= 0 || c->done)
                        continue;
                fds[k] = (struct pollfd) { .fd = c->pidfd, .events = POLLIN };
                who[k++] = i;
                int fd = walk_share_fd(run->walks, c->client);
                if (fd >= 0) {
                        fds[k] = (struct pollfd) { .fd = fd, .events = POLLIN };
                        who[k++] = run->n + c->client;
                }
        }
        if (k == 0)
                return 0;
        int n = poll(fds, k, -1);
        int sig = interrupt_pending();
        if (sig && !*forwarded) {
                /* The admin's Ctrl-C reaches every child through the
                 * terminal; a SIGTERM sent to logoff alone is handed on. */
                for (size_t i = 0; i < run->n; i++)
                        if (run->children[i].pid > 0 && !run->children[i].done)
                                (void) kill(run->children[i].pid, sig);
                *forwarded = true;
        }
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        bool any_ready = false;
        for (size_t j = 0; j < k; j++) {
                if (!fds[j].revents)
                        continue;
                if (who[j] >= run->n) {
                        ready[who[j] - run->n] = true;
                        any_ready = true;
                } else
                        reap(run, who[j]);
        }
        if (any_ready)
                (void) walk_share_serve(run->walks, ready, GATHER_USEC);
        return 0;
}

int many_run(const struct session *const *sessions, size_t n, many_fn fn, void *userdata, struct many_result *ret) {
        *ret = (struct many_result) { 0 };
        struct run run = { .sessions = sessions, .n = n, .fn = fn, .userdata = userdata };
        run.children = calloc(n ? n : 1, sizeof(*run.children));
        run.codes = calloc(n ? n : 1, sizeof(*run.codes));
        int r = run.children && run.codes ? walk_share_new(&run.walks) : -ENOMEM;
        if (r < 0) {
                free(run.children);
                free(run.codes);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                run.children[i] = (struct child) { .pidfd = -1, .out = -1, .err = -1 };

        size_t next_start = 0, next_print = 0, running = 0;
        bool forwarded = false;
        while (next_print < n) {
                while (!interrupt_pending() && running < MANY_MAX_PARALLEL && next_start < n) {
                        r = start(&run, next_start);
                        /* Out of processes or files (a fork storm being
                         * ended takes them): again once one is done. */
                        if (r < 0 && running > 0)
                                break;
                        if (r < 0) {
                                fprintf(stderr, _("%s: cannot start ending session %s: %s\n"), program_name,
                                        or_dash(sessions[next_start]->id), strerror(-r));
                                run.codes[next_start] = EXIT_FAILURE_GENERIC;
                                run.children[next_start].done = true;
                        } else
                                running++;
                        next_start++;
                }
                /* Once interrupted, no more are started: they are left as
                 * they were. */
                if (interrupt_pending())
                        for (; next_start < n; next_start++) {
                                run.codes[next_start] = EXIT_BY_SIGNAL;
                                run.children[next_start].done = true;
                        }
                int k = wait_and_serve(&run, &forwarded);
                if (k < 0) {
                        /* poll() itself failed: wait for each in turn. */
                        for (size_t i = 0; i < n; i++)
                                if (run.children[i].pid > 0 && !run.children[i].done)
                                        reap(&run, i);
                }
                running = 0;
                for (size_t i = 0; i < next_start; i++)
                        running += run.children[i].pid > 0 && !run.children[i].done;
                print_done(&run, &next_print);
        }
        walk_share_stats(run.walks, &ret->walks, &ret->requests);
        walk_share_free(run.walks);
        free(run.children);
        ret->codes = run.codes;
        ret->interrupted = interrupt_pending();
        return 0;
}

void many_result_done(struct many_result *r) {
        free(r->codes);
        *r = (struct many_result) { 0 };
}
