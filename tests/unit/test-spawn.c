/* SPDX-License-Identifier: MIT */
/* spawn.h: a user's file read by a child that never follows a link, and a
 * tool run as a user that has nothing of the caller's: no descriptor, no
 * audit session, no cgroup (the last two need root). */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "procscan.h"
#include "spawn.h"
#include "userfile.h"
#include "tap.h"
#include "util.h"

static char dir[64];

static char *in_dir(const char *name) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

static int read_user(const char *path, char *buf, size_t size) {
        return user_file_read(path, getuid(), NULL, 1000000, buf, size);
}

static void test_read_user_file(void) {
        char buf[32];
        _cleanup_free_ char *state = in_dir("state"), *sub = in_dir("sub"), *link = in_dir("link"),
                            *via_link = in_dir("link/state"), *link_last = in_dir("sub/last"),
                            *fifo = in_dir("fifo"), *dotdot = in_dir("sub/../state"), *in_file = in_dir("state/x"),
                            *sub_state = in_dir("sub/state");
        write_file(state, "RUNNING\n");
        if (mkdir(sub, 0755) < 0 || symlink(dir, link) < 0 || symlink(state, link_last) < 0 || mkfifo(fifo, 0644) < 0)
                abort();
        write_file(sub_state, "0123456789012345678901234567890123456789");

        CHECK(read_user(state, buf, sizeof(buf)) == 0 && streq(buf, "RUNNING\n"), "a regular file of the user's");
        CHECK(read_user(sub_state, buf, 8) == 0 && streq(buf, "0123456"), "at most size - 1 bytes");
        CHECK(read_user(via_link, buf, sizeof(buf)) == -ELOOP, "not through a symbolic link on the way");
        CHECK(read_user(link_last, buf, sizeof(buf)) == -ELOOP, "not a symbolic link itself");
        CHECK(read_user(fifo, buf, sizeof(buf)) == -EPERM, "not a FIFO (nor does it block on one)");
        CHECK(read_user(sub, buf, sizeof(buf)) == -EPERM, "not a directory");
        CHECK(read_user(dotdot, buf, sizeof(buf)) == -EINVAL, "no .. in the path");
        CHECK(read_user(in_file, buf, sizeof(buf)) == -ENOTDIR, "no file on the way");
        CHECK(read_user("state", buf, sizeof(buf)) == -EINVAL, "only an absolute path");
        CHECK(user_file_read(state, getuid() + 1, NULL, 1000000, buf, sizeof(buf)) == -EPERM,
              "only a file of the owner's");
        buf[0] = 'x';
        CHECK(read_user("/nonexistent/state", buf, sizeof(buf)) == -ENOENT && buf[0] == '\0', "a missing file");
        /* /proc is neither /, /tmp nor the home. */
        CHECK(user_file_read("/proc/self/stat", getuid(), NULL, 1000000, buf, sizeof(buf)) == -EXDEV,
              "no file system but those of /, /tmp and the home");

        /* Nothing is left behind: every reader was reaped. */
        CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child left");

        unlink(state);
        unlink(sub_state);
        unlink(link);
        unlink(link_last);
        unlink(fifo);
        rmdir(sub);
}

/* Runs the shell script as the calling user (root: as root) and returns
 * what it wrote to the file out. */
static int run_script(const char *cgroup_parent, const char *script, const char *out, char **ret) {
        char *argv[] = { "/bin/sh", "-c", (char *) script, NULL };
        int status = -1;
        int r = spawn_as_user(getuid(), cgroup_parent, argv, 10 * 1000000ull, &status);
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EPROTO;
        return read_small_file_at(AT_FDCWD, out, ret, NULL);
}

/* What the script wrote, on one line of TAP. */
static const char *oneline(char *text) {
        if (!text)
                return "(nothing)";
        for (char *p = text; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        return text;
}

static bool has_line(const char *text, const char *line) {
        size_t len = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
                        return true;
        return false;
}

static void test_spawn_fds(void) {
        _cleanup_free_ char *out = in_dir("spawn.out"), *script = NULL;
        /* A descriptor without O_CLOEXEC, as a caller may hold one. */
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0 || dup2(fd, 37) < 0)
                abort();
        close(fd);
        if (asprintf(&script, "exec > %s; [ -e /proc/$$/fd/37 ] && echo fd37=open || echo fd37=closed; "
                              "[ -e /proc/$$/fd/0 ] && echo fd0=open", out) < 0)
                abort();
        _cleanup_free_ char *text = NULL;
        CHECK(run_script(NULL, script, out, &text) == 0 && has_line(text, "fd37=closed") && has_line(text, "fd0=open"),
              "the tool gets none of the caller's descriptors beyond 2: %s", oneline(text));
        close(37);
        unlink(out);
}

static int write_text(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        return fd >= 0 && write(fd, text, strlen(text)) == (ssize_t) strlen(text) ? 0 : -errno;
}

static void test_spawn_as_root(void) {
        if (getuid() != 0) {
                CHECK(false, "this test needs root (it sets loginuids and makes cgroups)");
                return;
        }
        _cleanup_free_ char *mount = NULL;
        if (cgroup2_mount(&mount) < 0) {
                CHECK(false, "this test needs cgroup v2");
                return;
        }
        /* The caller in an audit session and a cgroup of its own, as an
         * admin's logoff is. */
        CHECK(write_text("/proc/self/loginuid", "0") == 0, "the caller has an audit session");
        uint32_t own_sid = AUDIT_SESSION_UNSET;
        (void) proc_session_id(getpid(), &own_sid);
        _cleanup_free_ char *own = NULL, *own_procs = NULL, *parent = NULL, *parent_path = NULL, *orig = NULL;
        if (asprintf(&own, "%s/logoff-unit-%d", mount, (int) getpid()) < 0 ||
            asprintf(&own_procs, "%s/cgroup.procs", own) < 0 || asprintf(&parent, "/logoff-unit-slice-%d", (int) getpid()) < 0 ||
            asprintf(&parent_path, "%s%s", mount, parent) < 0)
                abort();
        (void) cgroup_path_of_pid(getpid(), "", &orig);
        CHECK(mkdir(own, 0755) == 0 && write_text(own_procs, "0") == 0, "the caller in a cgroup of its own");

        _cleanup_free_ char *out = in_dir("spawn.out"), *pidfile = in_dir("spawn.pid"), *script = NULL;
        if (asprintf(&script, "exec > %s; echo sessionid=$(cat /proc/self/sessionid); "
                              "echo loginuid=$(cat /proc/self/loginuid); grep '^0::' /proc/self/cgroup; "
                              "sleep 1000 & echo $! > %s", out, pidfile) < 0)
                abort();
        _cleanup_free_ char *text = NULL, *want_cgroup = NULL;
        if (asprintf(&want_cgroup, "0::/logoff-sh-%d", (int) getpid()) < 0)
                abort();
        CHECK(run_script(NULL, script, out, &text) == 0, "the tool ran");
        CHECK(text && has_line(text, "sessionid=4294967295") && has_line(text, "loginuid=4294967295"),
              "in no audit session (the caller's is %u)", own_sid);
        CHECK(text && has_line(text, want_cgroup), "in a cgroup of its own, %s: %s", want_cgroup, oneline(text));
        _cleanup_free_ char *pid_text = NULL, *cg_dir = NULL;
        uint32_t left = 0;
        if (read_small_file_at(AT_FDCWD, pidfile, &pid_text, NULL) == 0)
                pid_text[strcspn(pid_text, "\n")] = '\0';
        CHECK(pid_text && parse_u32(pid_text, &left) == 0 && left > 0, "what it left running: pid %u", left);
        /* Our own grandchild, reparented to init: gone, or a zombie init
         * has not reaped yet. */
        struct proc_info p = { 0 };
        _cleanup_close_ int pfd = left ? proc_open_dir((pid_t) left) : -1;
        CHECK(pfd < 0 || proc_read_stat_at(pfd, &p) < 0 || p.state == 'Z' || p.state == 'X',
              "what it left running is killed with its cgroup (state %c)", p.state ? p.state : '-');
        if (asprintf(&cg_dir, "%s/logoff-sh-%d", mount, (int) getpid()) < 0)
                abort();
        CHECK(access(cg_dir, F_OK) < 0 && errno == ENOENT, "its cgroup is removed after it");
        uint32_t sid_after = AUDIT_SESSION_UNSET;
        (void) proc_session_id(getpid(), &sid_after);
        CHECK(sid_after == own_sid && sid_after != AUDIT_SESSION_UNSET, "the caller keeps its own audit session");
        _cleanup_free_ char *self_cg = NULL, *want_self = NULL;
        (void) cgroup_path_of_pid(getpid(), "", &self_cg);
        if (asprintf(&want_self, "/logoff-unit-%d", (int) getpid()) < 0)
                abort();
        CHECK(self_cg && streq(self_cg, want_self), "the caller keeps its own cgroup");
        unlink(out);
        unlink(pidfile);

        /* Under a slice where there is one; at the root where the one
         * named is missing. */
        free(script);
        if (asprintf(&script, "exec > %s; grep '^0::' /proc/self/cgroup", out) < 0)
                abort();
        CHECK(mkdir(parent_path, 0755) == 0, "a slice");
        free(text);
        text = NULL;
        free(want_cgroup);
        if (asprintf(&want_cgroup, "0::%s/logoff-sh-%d", parent, (int) getpid()) < 0)
                abort();
        CHECK(run_script(parent, script, out, &text) == 0 && has_line(text, want_cgroup), "below the slice: %s",
              oneline(text));
        CHECK(rmdir(parent_path) == 0, "and nothing left in it");
        free(text);
        text = NULL;
        free(want_cgroup);
        if (asprintf(&want_cgroup, "0::/logoff-sh-%d", (int) getpid()) < 0)
                abort();
        CHECK(run_script(parent, script, out, &text) == 0 && has_line(text, want_cgroup),
              "at the root where the slice is missing: %s", oneline(text));
        unlink(out);

        /* Back where the caller was. */
        _cleanup_free_ char *orig_procs = NULL;
        if (orig && asprintf(&orig_procs, "%s%s/cgroup.procs", mount, orig) >= 0)
                (void) write_text(orig_procs, "0");
        (void) rmdir(own);
}

int main(void) {
        snprintf(dir, sizeof(dir), "/tmp/logoff-test-spawn-XXXXXX");
        if (!mkdtemp(dir))
                abort();
        signal(SIGPIPE, SIG_IGN);
        test_read_user_file();
        test_spawn_fds();
        test_spawn_as_root();
        rmdir(dir);
        return tap_done();
}
