/* SPDX-License-Identifier: MIT */
#include "pidref.h"

#include <sys/pidfd.h>

#include "util.h"

int pidfd_supported(void) {
        _cleanup_close_ int fd = pidfd_open(getpid(), 0);
        return fd < 0 ? -errno : 0;
}

/* The directory is bound to one process and its reads fail once that one
 * is reaped, so a successful read after pidfd_open() proves it held the pid
 * when the pidfd was opened: the pidfd is that process, not a newcomer that
 * reused the pid. */
int pin_at(int procdir_fd, pid_t pid, const struct membership *m) {
        _cleanup_close_ int pidfd = pidfd_open(pid, 0);
        if (pidfd < 0)
                return -errno;
        int r = membership_contains_at(m, procdir_fd);
        if (r < 0)
                return vanished(r) ? -ESRCH : r;
        if (r == 0)
                return -ESRCH;
        return TAKE_FD(pidfd);
}

int pidfd_send_signals(int pidfd, const int *sigs, size_t n_sigs) {
        for (size_t i = 0; i < n_sigs; i++)
                if (pidfd_send_signal(pidfd, sigs[i], NULL, 0) < 0)
                        return -errno;
        return 0;
}

int signal_pinned(const struct proc_info *p, const struct membership *m, const int *sigs, size_t n_sigs) {
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

        _cleanup_close_ int pidfd = pin_at(dirfd, p->pid, m);
        if (pidfd < 0)
                return pidfd;
        return pidfd_send_signals(pidfd, sigs, n_sigs);
}
