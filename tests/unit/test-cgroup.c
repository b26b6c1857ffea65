/* SPDX-License-Identifier: MIT */
/* cgroup.c: cgroup paths as /proc/PID/cgroup gives them. */
#include "cgroup.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>

static void test_paths(void) {
        const char *hybrid = "12:pids:/user.slice/user-1000.slice/session-3.scope\n"
                             "1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n"
                             "0::/user.slice/user-1000.slice/session-3.scope\n";
        const char *elogind = "2:cpu,name=elogind:/3\n1:name=systemd:/\n0::/init.scope\n";
        char *p = NULL;
        CHECK(cgroup_path_in(hybrid, "", &p) == 0 && streq(p, "/user.slice/user-1000.slice/session-3.scope"),
              "unified line");
        free(p);
        p = NULL;
        CHECK(cgroup_path_in(elogind, "name=elogind", &p) == 0 && streq(p, "/3"),
              "a named hierarchy sharing its line with a controller");
        free(p);
        p = NULL;
        CHECK(cgroup_path_in(elogind, "name=elo", &p) == -ENOENT, "no prefix match of hierarchy names");
        CHECK(cgroup_path_in("1:name=systemd:/x\n", "", &p) == -ENOENT, "no unified line: not found");
        CHECK(cgroup_path_in("", "", &p) == -ENOENT, "empty file");
        CHECK(cgroup_path_in("0::/a:b\n", "", &p) == 0 && streq(p, "/a:b"), "a colon inside the path");
        free(p);

        CHECK(cgroup_path_under("/a/session-3.scope", "/a/session-3.scope"), "the cgroup itself");
        CHECK(cgroup_path_under("/a/session-3.scope/sub", "/a/session-3.scope"), "below it");
        CHECK(!cgroup_path_under("/a/session-3.scope2", "/a/session-3.scope"), "a sibling with a longer name");
        CHECK(!cgroup_path_under("/a", "/a/session-3.scope"), "its parent");
        CHECK(cgroup_path_under("/anything", "/"), "the root holds everything");
}

int main(void) {
        test_paths();
        return tap_done();
}
