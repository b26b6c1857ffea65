/* SPDX-License-Identifier: MIT */
#include "membership.h"

#include "procscan.h"
#include "util.h"

void membership_done(struct membership *m) {
        free(m->cgroup);
        free(m->cgroup_hierarchy);
        free(m->tree.env_marker);
        *m = (struct membership) { .audit_id = AUDIT_SESSION_UNSET };
}

bool membership_is_tree_only(const struct membership *m) {
        return m->tree.root > 0 && m->audit_id == AUDIT_SESSION_UNSET && !m->cgroup;
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
        /* A process tree takes only processes outside every audit session. */
        if (m->audit_id != AUDIT_SESSION_UNSET || m->tree.root > 0) {
                int r = proc_session_id_at(procdir_fd, &audit_id);
                if (r < 0)
                        return r;
        }
        return membership_contains_known_at(m, procdir_fd, audit_id);
}

static bool is_tree_root(const struct proc_info *a, void *userdata) {
        const struct process_tree *t = userdata;
        return a->pid == t->root;
}

static bool tree_descends_from_root(const struct process_tree *t, const struct proc_info *p) {
        if (p->pid == t->root)
                return p->start_ticks == t->root_start;
        struct proc_info root;
        return proc_find_ancestor(p->ppid, is_tree_root, (void *) t, &root) > 0 &&
               root.start_ticks == t->root_start;
}

/* DISPLAY=:N or :N.S */
static bool display_is(const char *v, unsigned n) {
        uint32_t got;
        if (!v || v[0] != ':')
                return false;
        const char *dot = strchr(v + 1, '.');
        _cleanup_free_ char *num = strndup(v + 1, dot ? (size_t) (dot - v - 1) : strlen(v + 1));
        return num && parse_u32(num, &got) == 0 && got == n;
}

int membership_tree_relation_at(const struct process_tree *t, int procdir_fd, uint32_t audit_id,
                                enum tree_relation *ret) {
        *ret = TREE_NONE;
        if (t->root <= 0 || audit_id != AUDIT_SESSION_UNSET)
                return 0;
        struct proc_info p = { 0 };
        int r = proc_read_stat_at(procdir_fd, &p);
        if (r < 0)
                return r;
        if (tree_descends_from_root(t, &p)) {
                *ret = TREE_ROOT_OR_DESCENDANT;
                return 0;
        }
        r = proc_read_uids_at(procdir_fd, &p);
        if (r < 0)
                return r;
        if (p.ruid != t->owner || p.start_ticks < t->root_start)
                return 0;
        if (t->env_marker) {
                _cleanup_free_ char *marker = NULL, *display = NULL;
                r = proc_getenv_at(procdir_fd, t->env_marker, &marker);
                if (r < 0 && r != -ENOENT && r != -EACCES)
                        return r;
                if (r == 0) {
                        r = proc_getenv_at(procdir_fd, "DISPLAY", &display);
                        if (r < 0 && r != -ENOENT && r != -EACCES)
                                return r;
                        if (r == 0 && display_is(display, t->display)) {
                                *ret = TREE_ENVIRONMENT;
                                return 0;
                        }
                        return 0; /* another display's: another session */
                }
        }
        if (t->orphans)
                *ret = TREE_ORPHAN;
        return 0;
}

int membership_contains_known_at(const struct membership *m, int procdir_fd, uint32_t audit_id) {
        int r;
        if (m->audit_id != AUDIT_SESSION_UNSET && audit_id == m->audit_id)
                return 1;
        if (m->audit_id_also && m->audit_id_also != AUDIT_SESSION_UNSET && audit_id == m->audit_id_also)
                return 1;
        if (m->tree.root > 0) {
                enum tree_relation rel;
                r = membership_tree_relation_at(&m->tree, procdir_fd, audit_id, &rel);
                if (r < 0)
                        return r;
                if (rel != TREE_NONE)
                        return 1;
        }
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
