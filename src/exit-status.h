/* SPDX-License-Identifier: MIT */
#pragma once

/* Documented in logoff(1); scripts depend on them, never renumber. */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_GENERIC = 1,
        EXIT_USAGE = 2,
        EXIT_NOT_FOUND = 3,
        EXIT_ACCESS_DENIED = 4,
        EXIT_CONSOLE = 5,
        EXIT_SURVIVORS = 6,
        EXIT_UNREACHABLE = 7,
        /* Not a status: the grace period was interrupted, and logoff ends
         * by the signal that did it. */
        EXIT_BY_SIGNAL = -1,
};
