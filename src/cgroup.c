/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include <dirent.h>
#include <poll.h>

#include "util.h"

/* ---- cgroup paths, as /proc/PID/cgroup tells them ------------------------ */

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

int cgroup_path_of_pid(pid_t pid, const char *hierarchy, char **ret) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *s = NULL;
        int r = read_small_file_at(AT_FDCWD, path, &s, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        return cgroup_path_in(s, hierarchy, ret);
}

/* ---- cgroup v2 directories ---------------------------------------------- */

/* Where a cgroup file system is mounted: of type fstype ("cgroup2"), and,
 * when controller is not NULL, with that controller among its options. */
static int find_cgroup_mount(const char *fstype, const char *controller, char **ret) {
        _cleanup_free_ char *info = NULL;
        int r = read_small_file_at(AT_FDCWD, "/proc/self/mountinfo", &info, NULL);
        if (r < 0)
                return r;
        size_t tlen = strlen(fstype);
        char *save = NULL;
        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* "... - cgroup SOURCE OPTIONS": the paths before " - " are escaped. */
                const char *sep = strstr(line, " - ");
                if (!sep || strncmp(sep + 3, fstype, tlen) != 0 || sep[3 + tlen] != ' ')
                        continue;
                bool has = !controller;
                const char *opts = strrchr(sep + 3, ' ');
                for (const char *o = opts ? opts + 1 : ""; *o && !has;) {
                        size_t len = strcspn(o, ",");
                        has = len == strlen(controller) && strncmp(o, controller, len) == 0;
                        o += len + (o[len] == ',');
                }
                if (!has)
                        continue;
                char *m = NULL;
                if (sscanf(line, "%*s %*s %*s %*s %ms", &m) != 1)
                        return -ENOMEM;
                *ret = m;
                return 0;
        }
        return -ENOENT;
}

/* Where the unified hierarchy is mounted does not change while logoff
 * runs: read mountinfo once. */
int cgroup2_mount(char **ret) {
        static char *cached;
        if (!cached) {
                int r = find_cgroup_mount("cgroup2", NULL, &cached);
                if (r < 0)
                        return r;
        }
        *ret = strdup(cached);
        return *ret ? 0 : -ENOMEM;
}

int cgroup_v1_frozen(pid_t pid) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *text = NULL, *state = NULL, *state_path = NULL;
        int r = read_small_file_at(AT_FDCWD, path, &text, NULL);
        if (r < 0)
                return r;
        const char *where = NULL;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && !where; line = strtok_r(NULL, "\n", &save)) {
                char *c = strchr(line, ':');
                char *p = c ? strchr(c + 1, ':') : NULL;
                if (!p)
                        continue;
                *p = '\0';
                for (char *ctl = c + 1, *tok_save = NULL, *t = strtok_r(ctl, ",", &tok_save); t;
                     t = strtok_r(NULL, ",", &tok_save))
                        if (streq(t, "freezer"))
                                where = p + 1;
        }
        if (!where || streq(where, "/"))
                return 0; /* the root of the hierarchy cannot be frozen */
        /* Mounted or not, it stays so while logoff runs: looked up once. */
        static int found = 1;
        static char *freezer_mount;
        if (found > 0)
                found = find_cgroup_mount("cgroup", "freezer", &freezer_mount);
        if (found == -ENOENT)
                return 0;
        if (found < 0)
                return found;
        if (asprintf(&state_path, "%s%s/freezer.state", freezer_mount, where) < 0) {
                state_path = NULL;
                return -ENOMEM;
        }
        r = read_small_file_at(AT_FDCWD, state_path, &state, NULL);
        if (r < 0)
                return r;
        return strncmp(state, "FROZEN", 6) == 0 || strncmp(state, "FREEZING", 8) == 0;
}

int cgroup_dir_of(const char *cgroup, const char *hierarchy, char **ret_dir) {
        if (!cgroup || (hierarchy && hierarchy[0]) || streq(cgroup, "/"))
                return -ENOENT;
        _cleanup_free_ char *mount = NULL, *dir = NULL;
        int r = cgroup2_mount(&mount);
        if (r < 0)
                return r;
        if (asprintf(&dir, "%s%s", mount, cgroup) < 0) {
                dir = NULL;
                return -ENOMEM;
        }
        if (access(dir, F_OK) < 0)
                return -errno;
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

/* Calls fn with the text of cgroup.procs of dir and of every cgroup below. */
typedef int (*procs_fn)(const char *procs, void *userdata);

static int walk_tree(const char *dir, unsigned depth, procs_fn fn, void *userdata) {
        if (depth > 32)
                return -ELOOP;
        _cleanup_free_ char *path = NULL, *procs = NULL;
        if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        int r = read_small_file_at(AT_FDCWD, path, &procs, NULL);
        if (r < 0)
                return r;
        r = fn(procs, userdata);
        if (r < 0)
                return r;

        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = walk_tree(sub, depth + 1, fn, userdata);
        }
        closedir(d);
        return r;
}

/* -EEXIST when a process of the list is no member. */
static int only_members(const char *procs, void *userdata) {
        const struct proc_filter *members = userdata;
        char *save = NULL;
        _cleanup_free_ char *copy = strdup(procs);
        if (!copy)
                return -ENOMEM;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                uint32_t pid;
                if (parse_u32(l, &pid) < 0)
                        return -EINVAL;
                char path[32];
                snprintf(path, sizeof(path), "/proc/%u", pid);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT || errno == ESRCH)
                                continue;
                        return -errno;
                }
                uint32_t audit_id;
                int r = proc_session_id_at(fd, &audit_id);
                if (r >= 0)
                        r = members->contains(fd, audit_id, members->data);
                if (vanished(r))
                        continue;
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EEXIST;
        }
        return 0;
}

struct pid_list {
        pid_t *pids;
        size_t n, alloc;
};

static int collect_pids(const char *procs, void *userdata) {
        struct pid_list *l = userdata;
        for (const char *p = procs; *p;) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(p, &end, 10);
                if (errno || end == p || v == 0 || v > INT32_MAX)
                        return -EINVAL;
                if (ARRAY_RESERVE(l->pids, l->alloc, l->n, 256) < 0)
                        return -ENOMEM;
                l->pids[l->n++] = (pid_t) v;
                p = end + (*end == '\n');
        }
        return 0;
}

int cgroup_procs(const char *dir, pid_t **ret, size_t *ret_n) {
        struct pid_list l = { 0 };
        int r = walk_tree(dir, 0, collect_pids, &l);
        if (r < 0) {
                free(l.pids);
                return r;
        }
        *ret = l.pids;
        *ret_n = l.n;
        return 0;
}
static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int cgroup_find_own(const struct proc_filter *members, const struct proc_info *procs, size_t n, pid_t self,
                    char **ret_dir) {
        _cleanup_free_ char *mount = NULL, *dir = NULL;
        int r = cgroup2_mount(&mount);
        if (r < 0)
                return r;

        char **paths = calloc(n ? n : 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        size_t n_paths = 0;
        const char *common = NULL;
        for (size_t i = 0; i < n; i++) {
                if (!proc_is_alive(&procs[i]) || procs[i].pid == self)
                        continue;
                r = cgroup_path_of_pid(procs[i].pid, "", &paths[n_paths]);
                if (r == -ESRCH)
                        continue;
                if (r < 0)
                        goto out;
                if (!common || strlen(paths[n_paths]) < strlen(common))
                        common = paths[n_paths];
                n_paths++;
        }

        /* The session's cgroup is the shortest one its processes are in;
         * every other one must lie below it. */
        r = -ENOENT;
        if (!common || streq(common, "/"))
                goto out;
        for (size_t i = 0; i < n_paths; i++)
                if (!cgroup_path_under(paths[i], common))
                        goto out;

        if (asprintf(&dir, "%s%s", mount, common) < 0) {
                dir = NULL;
                r = -ENOMEM;
                goto out;
        }
        r = walk_tree(dir, 0, only_members, (void *) members);
        if (r == -EEXIST)
                r = -ENOENT; /* shared with processes of other sessions */
        if (r == 0)
                *ret_dir = TAKE_PTR(dir);
out:
        strv_free(paths, n_paths);
        return r;
}

bool cgroup_holds_self(const char *dir) {
        _cleanup_free_ char *mount = NULL, *path = NULL, *full = NULL;
        if (cgroup2_mount(&mount) < 0 || cgroup_path_of_pid(getpid(), "", &path) < 0)
                return true; /* cannot tell: do not risk it */
        if (asprintf(&full, "%s%s", mount, path) < 0) {
                full = NULL;
                return true;
        }
        return cgroup_path_under(full, dir);
}

static int write_cgroup_file(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                return -errno;
        return 0;
}

/* Whether the text of cgroup.events has the line "key value". */
static bool events_have(const char *events, const char *key, const char *value) {
        size_t klen = strlen(key), vlen = strlen(value);
        for (const char *l = events; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, key, klen) == 0 && l[klen] == ' ' && strncmp(l + klen + 1, value, vlen) == 0 &&
                    (l[klen + 1 + vlen] == '\n' || l[klen + 1 + vlen] == '\0'))
                        return true;
        return false;
}

static int read_events(int fd, char *buf, size_t size) {
        ssize_t k = pread(fd, buf, size - 1, 0);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        return 0;
}

static int open_events(const char *dir) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/cgroup.events", dir) < 0)
                return -ENOMEM;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

bool cgroup_event_is(const char *dir, const char *key, const char *value) {
        _cleanup_close_ int fd = open_events(dir);
        char buf[256]; /* the kernel's own few short lines, never outside input */
        return fd >= 0 && read_events(fd, buf, sizeof(buf)) == 0 && events_have(buf, key, value);
}

/* The kernel wakes pollers of cgroup.events (POLLPRI) whenever it changes:
 * no sleeping in between, so logoff sees the end as soon as it happens. */
static bool wait_event(const char *dir, const char *key, const char *value, uint64_t timeout_usec) {
        _cleanup_close_ int fd = open_events(dir);
        if (fd < 0)
                return false;
        uint64_t until = now_monotonic_usec() + timeout_usec;
        for (;;) {
                char buf[256];
                if (read_events(fd, buf, sizeof(buf)) < 0)
                        return false;
                if (events_have(buf, key, value))
                        return true;
                uint64_t now = now_monotonic_usec();
                if (now >= until)
                        return false;
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                uint64_t left_ms = (until - now + 999) / 1000;
                /* Bounded too, in case a notification is missed. */
                if (poll(&p, 1, (int) (left_ms < 10 ? left_ms : 10)) < 0 && errno != EINTR)
                        return false;
        }
}

int cgroup_freeze(const char *dir, uint64_t timeout_usec) {
        int r = write_cgroup_file(dir, "cgroup.freeze", "1");
        if (r < 0)
                return r;
        return wait_event(dir, "frozen", "1", timeout_usec);
}

int cgroup_thaw(const char *dir) { return write_cgroup_file(dir, "cgroup.freeze", "0"); }

int cgroup_freeze_requested(const char *dir) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/cgroup.freeze", dir) < 0)
                return -ENOMEM;
        int r = read_small_file_at(AT_FDCWD, path, &text, NULL);
        if (r < 0)
                return r;
        return text[0] == '1';
}

int cgroup_kill(const char *dir) { return write_cgroup_file(dir, "cgroup.kill", "1"); }

int cgroup_wait_empty(const char *dir, uint64_t timeout_usec) {
        return wait_event(dir, "populated", "0", timeout_usec);
}
