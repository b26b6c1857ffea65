/* SPDX-License-Identifier: MIT */
/* What /proc says about a process, as a hostile one could shape it: the
 * first byte picks the parser (stat, status, cgroup, environ). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "membership.h"
#include "procscan.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        char *buf = malloc(size);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, size - 1);
        buf[size - 1] = '\0';
        struct proc_info p = { 0 };
        char *v = NULL;
        switch (data[0] % 4) {
        case 0:
                if (proc_parse_stat(buf, &p) == 0 &&
                    (strlen(p.comm) >= sizeof(p.comm) || !text_is_valid_utf8(p.comm)))
                        abort(); /* a process name is always clean text */
                break;
        case 1:
                (void) proc_parse_status_uids(buf, &p);
                break;
        case 2:
                if (cgroup_path_in(buf, data[0] & 4 ? "name=elogind" : "", &v) == 0 && !v)
                        abort();
                break;
        case 3:
                /* environ is not NUL-terminated as a whole: use the raw bytes */
                if (environ_lookup(buf, size - 1, "DISPLAY", &v) == 0 && !v)
                        abort();
                break;
        }
        free(v);
        free(buf);
        return 0;
}
