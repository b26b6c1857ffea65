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
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_WRITE 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s MOUNTPOINT\n", program_invocation_short_name);
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
        if (sigprocmask(SIG_BLOCK, &block, &orig) < 0)
                err(1, "sigprocmask");
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
                err(1, "sigaction");

        printf("ready\n");
        if (fflush(stdout) == EOF)
                err(1, "stdout");

        /* Take every request off the queue, FUSE_INTERRUPT and FUSE_FORGET
         * too, and answer none. */
        while (!stop) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (ppoll(&pfd, 1, NULL, &orig) < 0) {
                        if (errno == EINTR)
                                continue;
                        err(1, "ppoll");
                }
                if (pfd.revents & (POLLERR | POLLHUP))
                        errx(1, "connection to the kernel went away");
                if (read(fd, buf, bufsize) < 0 && errno != EINTR &&
                    errno != EAGAIN && errno != ENOENT)
                        err(1, "read /dev/fuse");
        }

        if (close(fd) < 0)
                err(1, "close /dev/fuse");
        if (umount2(mnt, MNT_DETACH) < 0)
                err(1, "umount %s", mnt);
        return 0;
}
