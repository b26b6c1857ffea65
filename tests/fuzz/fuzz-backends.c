/* SPDX-License-Identifier: MIT */
/* What the backends read that a user can shape: an agent's or X server's
 * command line, X2Go's DISPLAY, /proc/PID/cgroup and its paths, the
 * answer of the child that asked the desktop as the user.  The first byte
 * picks the parser; a NUL in the rest splits it in two where one needs two
 * strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend-logind.h"
#include "backend-x2go.h"
#include "backend-xrdp.h"
#include "desktop.h"
#include "text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        size_t len = size - 1;
        char *buf = malloc(len + 1);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, len);
        buf[len] = '\0';
        /* The second string: after the first NUL, or empty. */
        size_t first = strlen(buf);
        const char *second = first < len ? buf + first + 1 : "";
        char *id = NULL, *v = NULL;
        unsigned display;
        struct desktop_report rep = { 0 };
        switch (data[0] % 6) {
        case 0:
                if (x2go_parse_agent_cmdline(buf, len, &id, &display) == 0 && (!id || !x2go_id_is_valid(id)))
                        abort(); /* only a valid ID is passed on to X2Go's tools */
                break;
        case 1:
                if (x2go_id_is_valid(second) && x2go_state_path(buf, second, &v) == 0 && (!v || v[0] != '/'))
                        abort();
                break;
        case 2:
                if (xrdp_parse_x_display(buf, len, &display) == 0 && display >= 65536 - 5900)
                        abort();
                break;
        case 3: {
                char *cgroup = strdup(second);
                if (cgroup && logind_hierarchy_of(buf, cgroup, &v) == 0 && !v)
                        abort();
                free(cgroup);
                break;
        }
        case 4:
                if (buf[0] == '/' && second[0] == '/') {
                        logind_common_ancestor(buf, second);
                        if (buf[0] != '/' || strncmp(buf, second, strlen(buf)) != 0)
                                abort(); /* the ancestor is a prefix of both */
                }
                logind_cut_at_scope(buf, second[0] ? second : NULL);
                (void) logind_cgroup_names_session(buf, second, second);
                break;
        case 5:
                (void) desktop_parse_answer(buf, &rep);
                for (size_t i = 0; i < rep.n_inhibitors; i++)
                        if (!text_is_valid_utf8(rep.inhibitors[i].app_id) || has_control_chars(rep.inhibitors[i].reason))
                                abort(); /* cleaned where they enter */
                if ((rep.error_name && has_control_chars(rep.error_name)) ||
                    (rep.error_message && has_control_chars(rep.error_message)))
                        abort();
                desktop_report_done(&rep);
                break;
        }
        free(id);
        free(v);
        free(buf);
        return 0;
}
