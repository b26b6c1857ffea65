/* SPDX-License-Identifier: MIT */
#include "interrupt.h"

#include <signal.h>

#include "util.h"

static volatile sig_atomic_t pending;

static void note(int sig) {
        if (!pending)
                pending = sig;
}

int interrupt_catch(bool term_ignored) {
        /* No SA_RESTART: a sleep between rounds ends early, and the round
         * loop sees the signal at once. */
        struct sigaction sa = { .sa_handler = note };
        sigemptyset(&sa.sa_mask);
        const int caught[] = { SIGINT, SIGQUIT, SIGTERM };
        for (size_t i = 0; i < ARRAY_SIZE(caught); i++) {
                if (caught[i] == SIGTERM && term_ignored)
                        continue;
                if (sigaction(caught[i], &sa, NULL) < 0)
                        return -errno;
        }
        const int ignored[] = { SIGHUP, SIGPIPE };
        for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
                if (signal(ignored[i], SIG_IGN) == SIG_ERR)
                        return -errno;
        return 0;
}

int interrupt_pending(void) { return pending; }

void interrupt_reraise(int sig) {
        fflush(NULL);
        signal(sig, SIG_DFL);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, sig);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        raise(sig);
}
