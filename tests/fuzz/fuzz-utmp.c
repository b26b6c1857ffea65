/* SPDX-License-Identifier: MIT */
/* A utmp file's bytes, truncated, corrupt or hostile: the logins read from
 * it are whole, and what is shown of them is clean. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utmpx.h>

#include "records.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t n = size / sizeof(struct utmpx);
        struct utmpx *records = calloc(n ? n : 1, sizeof(*records));
        if (!records)
                return 0;
        memcpy(records, data, n * sizeof(*records));
        struct utmp_login *logins = NULL;
        size_t n_logins = 0;
        if (utmp_logins_from_records(records, n, &logins, &n_logins) == 0) {
                for (size_t i = 0; i < n_logins; i++) {
                        if (logins[i].pid <= 0 || strlen(logins[i].line) > sizeof(records->ut_line) ||
                            strlen(logins[i].host) > sizeof(records->ut_host))
                                abort();
                        char *c = text_clean(logins[i].host);
                        if (c && !text_is_valid_utf8(c))
                                abort();
                        free(c);
                }
                utmp_logins_free(logins, n_logins);
        }
        free(records);
        return 0;
}
