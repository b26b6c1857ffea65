/* SPDX-License-Identifier: MIT */
/* The command line: NUL-separated words, parsed as logoff's argv.  Whatever
 * they are, the parser returns, and what it accepts is consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size + 1);
        char *argv[65] = { "logoff" };
        int argc = 1;
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        for (size_t i = 0; i <= size && argc < 64;) {
                argv[argc++] = buf + i;
                i += strlen(buf + i) + 1;
        }
        argv[argc] = NULL;
        struct options o;
        enum parse_error e;
        if (parse_args(argc, argv, &o, &e) == 0) {
                if (o.target && o.target_is_id && o.target_id == UINT32_MAX)
                        abort(); /* the kernel's "no audit session" is never an ID */
                if (o.select.given && o.target)
                        abort(); /* a name means one session, never a selection too */
                if (o.select.idle_given && o.select.idle_usec > MAX_IDLE_USEC)
                        abort();
                if (o.select.users && !o.select.users[0])
                        abort(); /* --user= is refused, never "everyone" */
        }
        free(buf);
        return 0;
}
