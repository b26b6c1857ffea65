/* SPDX-License-Identifier: MIT */
/* Test helper: a process whose main thread has exited while another thread
 * runs on.  /proc/PID/stat then says state Z for the whole process, yet it is
 * alive: logoff must not mistake it for a zombie. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void *run(void *arg) {
        (void) arg;
        for (;;)
                pause();
        return NULL;
}

int main(int argc, char **argv) {
        /* Ignoring HUP and TERM forces logoff past the graceful phase. */
        if (argc > 1 && argv[1][0] == 'i') {
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
        }
        pthread_t t;
        if (pthread_create(&t, NULL, run, NULL) != 0) {
                perror("pthread_create");
                return 1;
        }
        pthread_exit(NULL);
}
