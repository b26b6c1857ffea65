/* SPDX-License-Identifier: MIT */
/*
 * stuck-fuse: test helper that makes processes hang in uninterruptible sleep
 * (state D) that not even SIGKILL ends, like processes waiting on a dead
 * NFS or FUSE server.  logoff has to cope with such processes: report them
 * and not wait for them forever.
 *
 * It mounts a FUSE file system on MOUNTPOINT, answers FUSE_INIT, prints
 * "ready" and then reads every request and never answers one.  A process
 * that touches anything below MOUNTPOINT (stat MOUNTPOINT/x, say) sleeps in
 * state S.  A caught signal makes the kernel send FUSE_INTERRUPT and wait in
 * state D, still killable; once a fatal signal is pending (SIGKILL, or SIGTERM
 * left at its default) the kernel, as the daemon has read the request,
 * waits for the answer uninterruptibly: the process stays in D and does not
 * die until the connection goes away.
 *
 * On SIGTERM or SIGINT it aborts the connection by closing /dev/fuse, which
 * wakes every stuck process (those killed then die), detaches the mount and
 * exits 0.  allow_other lets users other than root into the file system.
 *
 * With -s MSEC it is slow rather than dead: once it gets SIGUSR1 it answers
 * the requests it holds, one every MSEC milliseconds, oldest first (ENOENT;
 * FUSE_INTERRUPT and FUSE_FORGET need no answer), and from then on each new
 * one after MSEC too.  Killed processes stuck on it then die one by one: a
 * session that dies slowly but steadily.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_WRITE 4096

static volatile sig_atomic_t stop, answering;

static void on_signal(int sig) {
        if (sig == SIGUSR1)
                answering = 1;
        else
                stop = 1;
}

#define MAX_HELD 4096

/* The unique IDs of the requests that want an answer, oldest first. */
static uint64_t held[MAX_HELD];
static size_t n_held;

static void answer_oldest(int fd) {
        if (n_held == 0)
                return;
        struct fuse_out_header hdr = { .len = sizeof hdr, .error = -ENOENT, .unique = held[0] };
        /* ENOENT: the request was interrupted and is gone; fine too. */
        if (write(fd, &hdr, sizeof hdr) < 0 && errno != ENOENT)
                err(1, "answer");
        memmove(held, held + 1, (n_held - 1) * sizeof(*held));
        n_held--;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
        long slow_ms = -1;
        if (argc == 4 && strcmp(argv[1], "-s") == 0) {
                slow_ms = strtol(argv[2], NULL, 10);
                argv += 2;
                argc -= 2;
        }
        if (argc != 2 || slow_ms == 0) {
                fprintf(stderr, "usage: %s [-s MSEC] MOUNTPOINT\n", program_invocation_short_name);
                return 2;
        }
        const char *mnt = argv[1];

        int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                err(1, "/dev/fuse");
        char *opts;
        if (asprintf(&opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,"
            "allow_other", fd) < 0)
                errx(1, "out of memory");
        if (mount("stuck-fuse", mnt, "fuse", MS_NOSUID | MS_NODEV, opts) < 0)
                err(1, "mount %s", mnt);
        free(opts);

        /* The kernel refuses reads into buffers smaller than this. */
        size_t bufsize = FUSE_MIN_READ_BUFFER + MAX_WRITE;
        char *buf = malloc(bufsize);
        if (!buf)
                err(1, "malloc");

        ssize_t n = read(fd, buf, bufsize);
        if (n < 0)
                err(1, "read /dev/fuse");
        struct fuse_in_header *in = (struct fuse_in_header *) buf;
        struct fuse_init_in *init = (struct fuse_init_in *) (in + 1);
        if ((size_t) n < sizeof *in + 2 * sizeof(uint32_t) ||
            in->opcode != FUSE_INIT)
                errx(1, "expected FUSE_INIT, got %zd bytes", n);
        if (init->major != FUSE_KERNEL_VERSION)
                errx(1, "kernel speaks FUSE %u.%u, not 7", init->major,
                    init->minor);

        struct fuse_init_out out = {
                .major = FUSE_KERNEL_VERSION,
                .minor = init->minor < FUSE_KERNEL_MINOR_VERSION ?
                    init->minor : FUSE_KERNEL_MINOR_VERSION,
                .max_write = MAX_WRITE,
                /* Slow: each lookup a request of its own, not one at a
                 * time behind the directory's lock, so each killed process
                 * waits for its own answer. */
                .flags = slow_ms > 0 ? (init->flags & FUSE_PARALLEL_DIROPS) : 0,
        };
        struct fuse_out_header hdr = {
                .len = sizeof hdr + sizeof out,
                .unique = in->unique,
        };
        struct iovec iov[] = {
                { &hdr, sizeof hdr },
                { &out, sizeof out },
        };
        if (writev(fd, iov, 2) != (ssize_t) hdr.len)
                err(1, "FUSE_INIT reply");

        /* Signals only get through while we wait in ppoll, so none is lost
         * between checking the flag and waiting. */
        sigset_t block, orig;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &block, &orig) < 0)
                err(1, "sigprocmask");
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
            sigaction(SIGUSR1, &sa, NULL) < 0)
                err(1, "sigaction");

        printf("ready\n");
        if (fflush(stdout) == EOF)
                err(1, "stdout");

        /* Take every request off the queue, FUSE_INTERRUPT and FUSE_FORGET
         * too, and answer none (or, slow, one at a time). */
        uint64_t next_answer = 0;
        while (!stop) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                struct timespec tick = { 0, 10 * 1000000 };
                bool timed = slow_ms > 0 && answering;
                if (ppoll(&pfd, 1, timed ? &tick : NULL, &orig) < 0) {
                        if (errno == EINTR)
                                continue;
                        err(1, "ppoll");
                }
                if (pfd.revents & (POLLERR | POLLHUP))
                        errx(1, "connection to the kernel went away");
                if (pfd.revents & POLLIN) {
                        n = read(fd, buf, bufsize);
                        if (n < 0 && errno != EINTR && errno != EAGAIN && errno != ENOENT)
                                err(1, "read /dev/fuse");
                        if (n >= (ssize_t) sizeof *in && slow_ms > 0 && in->opcode != FUSE_INTERRUPT &&
                            in->opcode != FUSE_FORGET && in->opcode != FUSE_BATCH_FORGET && n_held < MAX_HELD)
                                held[n_held++] = in->unique;
                }
                if (timed && n_held > 0) {
                        uint64_t now = now_ms();
                        if (next_answer == 0)
                                next_answer = now + (uint64_t) slow_ms;
                        if (now >= next_answer) {
                                answer_oldest(fd);
                                next_answer = now + (uint64_t) slow_ms;
                        }
                }
        }

        free(buf);
        if (close(fd) < 0)
                err(1, "close /dev/fuse");
        if (umount2(mnt, MNT_DETACH) < 0)
                err(1, "umount %s", mnt);
        return 0;
}
