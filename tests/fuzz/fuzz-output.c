/* SPDX-License-Identifier: MIT */
/* Sessions whose names come from a hostile source (NUL-separated: name,
 * user, host, id), cleaned as discovery cleans them, then written as the
 * table and as JSON: both are valid UTF-8 without control characters but
 * the newline, whatever went in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "session.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *out, size_t len) {
        if (strlen(out) != len || !text_is_valid_utf8(out))
                abort();
        for (size_t i = 0; i < len; i++)
                if (((unsigned char) out[i] < 0x20 && out[i] != '\n') || out[i] == 0x7f)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        const char *field[4] = { "", "", "", "1" };
        size_t k = 0;
        for (size_t i = 0; i <= size && k < 4; k++) {
                field[k] = buf + i;
                i += strlen(buf + i) + 1;
        }
        struct session_list l = { 0 };
        struct session *s = session_list_append(&l);
        if (s && (s->name = strdup(field[0])) && (s->user = strdup(field[1])) && (s->remote_host = strdup(field[2])) &&
            (s->id = strdup(field[3])) && session_clean_text(s) == 0) {
                for (int json = 0; json < 2; json++) {
                        char *out = NULL;
                        size_t len = 0;
                        FILE *f = open_memstream(&out, &len);
                        if (!f)
                                break;
                        struct column_list cols;
                        const char *bad;
                        size_t bad_len;
                        if (json)
                                columns_all(&cols);
                        else
                                (void) columns_parse(COLUMNS_DEFAULT "," "IDLE,LOGON-TIME,CGROUP", &cols, &bad,
                                                     &bad_len);
                        int r = json ? output_sessions_json(f, &l, NULL, &cols)
                                     : output_sessions_table(f, &l, NULL, &cols, true, field[3][0] == 'r');
                        fclose(f);
                        if (r == 0)
                                check(out, len);
                        free(out);
                }
        }
        session_list_done(&l);
        free(buf);
        return 0;
}
