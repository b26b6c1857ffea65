/* SPDX-License-Identifier: MIT */
/* A child in an audit session of its own, made the way pam_loginuid does it:
 * root writes /proc/self/loginuid and gets a fresh session ID. */
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include "procscan.h"

static inline pid_t spawn_session_child(uint32_t *ret_sid) {
        int p[2];
        *ret_sid = AUDIT_SESSION_UNSET;
        if (pipe(p) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                int fd = open("/proc/self/loginuid", O_WRONLY);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(1);
                close(fd);
                uint32_t sid = AUDIT_SESSION_UNSET;
                proc_session_id(getpid(), &sid);
                if (write(p[1], &sid, sizeof(sid)) != (ssize_t) sizeof(sid))
                        _exit(1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (pid > 0 && read(p[0], ret_sid, sizeof(*ret_sid)) != (ssize_t) sizeof(*ret_sid))
                *ret_sid = AUDIT_SESSION_UNSET;
        close(p[0]);
        return pid;
}
