/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include <dirent.h>

#include "util.h"

int cgroup2_mount(char **ret) {
        _cleanup_free_ char *info = NULL;
        int r = read_small_file_at(AT_FDCWD, "/proc/self/mountinfo", &info, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *sep = strstr(line, " - ");
                if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
                        continue;
                char *m = NULL;
                if (sscanf(line, "%*s %*s %*s %*s %ms", &m) != 1)
                        return -ENOMEM;
                *ret = m;
                return 0;
        }
        return -ENOENT;
}

int cgroup_dir_of_membership(const struct membership *m, char **ret_dir) {
        if (!m->cgroup || (m->cgroup_hierarchy && m->cgroup_hierarchy[0]) || streq(m->cgroup, "/"))
                return -ENOENT;
        _cleanup_free_ char *mount = NULL, *dir = NULL;
        int r = cgroup2_mount(&mount);
        if (r < 0)
                return r;
        if (asprintf(&dir, "%s%s", mount, m->cgroup) < 0) {
                dir = NULL;
                return -ENOMEM;
        }
        if (access(dir, F_OK) < 0)
                return -errno;
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

/* Every process in the cgroup and below is a member. */
static int cgroup_only_members(const char *dir, const struct membership *m, unsigned depth) {
        if (depth > 32)
                return -ELOOP;
        _cleanup_free_ char *procs_path = NULL, *procs = NULL;
        if (asprintf(&procs_path, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        int r = read_small_file_at(AT_FDCWD, procs_path, &procs, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *l = strtok_r(procs, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                uint32_t pid;
                if (parse_u32(l, &pid) < 0)
                        return -EINVAL;
                char path[64];
                snprintf(path, sizeof(path), "/proc/%u", pid);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT || errno == ESRCH)
                                continue;
                        return -errno;
                }
                r = membership_contains_at(m, fd, AUDIT_SESSION_UNSET);
                if (vanished(r))
                        continue;
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EEXIST;
        }

        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        struct dirent *de;
        r = 0;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = cgroup_only_members(sub, m, depth + 1);
        }
        closedir(d);
        return r;
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int cgroup_find_own(const struct membership *m, const struct proc_info *procs, size_t n, pid_t self,
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
                r = proc_cgroup_path(procs[i].pid, "", &paths[n_paths]);
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
        r = cgroup_only_members(dir, m, 0);
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
        if (cgroup2_mount(&mount) < 0 || proc_cgroup_path(getpid(), "", &path) < 0)
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

bool cgroup_event_is(const char *dir, const char *key, const char *value) {
        _cleanup_free_ char *path = NULL, *events = NULL;
        if (asprintf(&path, "%s/cgroup.events", dir) < 0)
                return false;
        if (read_small_file_at(AT_FDCWD, path, &events, NULL) < 0)
                return false;
        /* One "key value" pair per line. */
        _cleanup_free_ char *want = NULL;
        if (asprintf(&want, "%s %s\n", key, value) < 0)
                return false;
        size_t len = strlen(want);
        for (const char *l = events; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, want, len) == 0)
                        return true;
        return false;
}

static bool wait_event(const char *dir, const char *key, const char *value, uint64_t timeout_usec) {
        uint64_t until = now_monotonic_usec() + timeout_usec;
        for (;;) {
                if (cgroup_event_is(dir, key, value))
                        return true;
                if (now_monotonic_usec() >= until)
                        return false;
                sleep_usec(1000);
        }
}

int cgroup_freeze(const char *dir, uint64_t timeout_usec) {
        int r = write_cgroup_file(dir, "cgroup.freeze", "1");
        if (r < 0)
                return r;
        return wait_event(dir, "frozen", "1", timeout_usec);
}

int cgroup_thaw(const char *dir) { return write_cgroup_file(dir, "cgroup.freeze", "0"); }

int cgroup_kill(const char *dir, uint64_t wait_usec) {
        int r = write_cgroup_file(dir, "cgroup.kill", "1");
        if (r < 0)
                return r;
        (void) wait_event(dir, "populated", "0", wait_usec);
        return 0;
}
