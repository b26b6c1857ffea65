/* SPDX-License-Identifier: MIT */
#include "membership.h"

#include "procscan.h"
#include "util.h"

void membership_done(struct membership *m) {
        free(m->cgroup);
        free(m->cgroup_hierarchy);
        *m = (struct membership) { .audit_id = AUDIT_SESSION_UNSET };
}

/* "name=elogind" in "4:cpu,name=elogind:/path" (a named hierarchy may share
 * its line with controllers); "" only in the unified "0::/path". */
static bool hierarchy_matches(const char *controllers, size_t len, const char *hierarchy) {
        size_t hlen = strlen(hierarchy);
        if (hlen == 0)
                return len == 0;
        for (const char *p = controllers, *end = controllers + len; p < end;) {
                const char *comma = memchr(p, ',', (size_t) (end - p));
                size_t item = (size_t) ((comma ? comma : end) - p);
                if (item == hlen && memcmp(p, hierarchy, hlen) == 0)
                        return true;
                p += item + 1;
        }
        return false;
}

int cgroup_path_in(const char *text, const char *hierarchy, char **ret) {
        for (const char *line = text; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t) (eol - line) : strlen(line);
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line)) : NULL;
                if (c2 && hierarchy_matches(c1 + 1, (size_t) (c2 - c1 - 1), hierarchy) &&
                    (hierarchy[0] || (c1 - line == 1 && line[0] == '0'))) {
                        char *v = strndup(c2 + 1, len - (size_t) (c2 + 1 - line));
                        if (!v)
                                return -ENOMEM;
                        *ret = v;
                        return 0;
                }
                line = eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

bool cgroup_path_under(const char *path, const char *dir) {
        size_t len = strlen(dir);
        if (len > 0 && dir[len - 1] == '/')
                len--; /* "/" contains everything */
        return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

int membership_contains_at(const struct membership *m, int procdir_fd) {
        uint32_t audit_id = AUDIT_SESSION_UNSET;
        if (m->audit_id != AUDIT_SESSION_UNSET) {
                int r = proc_session_id_at(procdir_fd, &audit_id);
                if (r < 0)
                        return r;
        }
        return membership_contains_known_at(m, procdir_fd, audit_id);
}

int membership_contains_known_at(const struct membership *m, int procdir_fd, uint32_t audit_id) {
        int r;
        if (m->audit_id != AUDIT_SESSION_UNSET && audit_id == m->audit_id)
                return 1;
        /* The root holds every process: never a session's own. */
        if (!m->cgroup || streq(m->cgroup, "/") || !m->cgroup[0])
                return 0;

        _cleanup_free_ char *text = NULL, *path = NULL;
        r = read_small_file_at(procdir_fd, "cgroup", &text, NULL);
        if (r < 0)
                return r;
        r = cgroup_path_in(text, m->cgroup_hierarchy ? m->cgroup_hierarchy : "", &path);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return cgroup_path_under(path, m->cgroup);
}
