/* SPDX-License-Identifier: MIT */
/* backend-logind.c: which hierarchy and which cgroup are a session's. */
#include "backend-logind.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

static int hierarchy(const char *text, const char *cgroup, char **ret) {
        char *copy = strdup(text);
        *ret = NULL;
        int r = copy ? logind_hierarchy_of(copy, cgroup, ret) : -ENOMEM;
        free(copy);
        return r;
}

static void test_hierarchy(void) {
        char *h = NULL;
        CHECK(hierarchy("0::/user.slice/user-1000.slice/session-3.scope\n", "/user.slice/user-1000.slice/session-3.scope",
                        &h) == 0 && h && streq(h, ""),
              "systemd's unified hierarchy is \"\"");
        free(h);
        CHECK(hierarchy("12:pids:/\n1:name=elogind:/3\n0::/\n", "/3", &h) == 0 && h && streq(h, "name=elogind"),
              "elogind's named hierarchy (got %s)", h ? h : "(null)");
        free(h);
        CHECK(hierarchy("1:name=elogind,other:/3\n", "/3", &h) == 0 && h && streq(h, "name=elogind"),
              "a named hierarchy among several names (got %s)", h ? h : "(null)");
        free(h);
        CHECK(hierarchy("0::/user.slice\n", "/user.slice/x", &h) == -ENOENT && !h, "a path the process is not in");
        CHECK(hierarchy("3:cpu:/3\n", "/3", &h) == -ENOENT, "a v1 controller is not logind's");
        CHECK(hierarchy("::/3\n", "/3", &h) == -ENOENT, "a line without a hierarchy");
        CHECK(hierarchy("", "/", &h) == -ENOENT, "nothing");
}

static void test_ancestor_and_scope(void) {
        char acc[] = "/user.slice/user-1000.slice/session-3.scope/a";
        logind_common_ancestor(acc, "/user.slice/user-1000.slice/session-3.scope/b");
        CHECK_STREQ(acc, "/user.slice/user-1000.slice/session-3.scope", "siblings meet at their parent");
        logind_common_ancestor(acc, "/user.slice/user-1000.slice/session-3.scopeX");
        CHECK_STREQ(acc, "/user.slice/user-1000.slice", "a longer name is not a child");
        logind_common_ancestor(acc, "/user.slice/user-1000.slice");
        CHECK_STREQ(acc, "/user.slice/user-1000.slice", "the same path");
        logind_common_ancestor(acc, "/system.slice");
        CHECK_STREQ(acc, "/", "nothing in common but the root");

        char cg[] = "/user.slice/user-1000.slice/session-3.scope/sub/deeper";
        logind_cut_at_scope(cg, "session-3.scope");
        CHECK_STREQ(cg, "/user.slice/user-1000.slice/session-3.scope", "cut after the scope");
        char other[] = "/user.slice/session-3.scopes/x";
        logind_cut_at_scope(other, "session-3.scope");
        CHECK_STREQ(other, "/user.slice/session-3.scopes/x", "a component that only starts with it is not it");
        logind_cut_at_scope(other, NULL);
        CHECK_STREQ(other, "/user.slice/session-3.scopes/x", "no scope: unchanged");

        CHECK(logind_cgroup_names_session("/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "3"),
              "its scope");
        CHECK(logind_cgroup_names_session("/3", NULL, "3"), "elogind's cgroup named by the ID");
        CHECK(!logind_cgroup_names_session("/user.slice/user-1000.slice", "session-3.scope", "3"),
              "a parent shared with other sessions");
        CHECK(!logind_cgroup_names_session("/", "session-3.scope", "3"), "the root");
        CHECK(!logind_cgroup_names_session("no-slash", NULL, "no-slash"), "not a path");
}

int main(void) {
        test_hierarchy();
        test_ancestor_and_scope();
        return tap_done();
}
