/* SPDX-License-Identifier: MIT */
/* policy.c: who may log off what. */
#include "policy.h"
#include "session.h"
#include "tap.h"

static void test_policy(void) {
        struct session mine = { .uid = 1000 }, theirs = { .uid = 1001 }, console = { .uid = 1000, .console = true };
        struct session current = { .uid = 1001, .current = true };
        struct caller root = { .ruid = 0, .euid = 0, .cap_kill = true };
        struct caller user = { .ruid = 1000, .euid = 1000 };
        struct caller user_file_caps = { .ruid = 1000, .euid = 1000, .cap_kill = true, .secure = true };
        struct caller user_given_cap = { .ruid = 1000, .euid = 1000, .cap_kill = true };
        CHECK(policy_check(&theirs, &root) == POLICY_ALLOW, "root ends anyone's session");
        CHECK(policy_check(&console, &root) == POLICY_DENY_CONSOLE, "never the console");
        CHECK(policy_check(&current, &user) == POLICY_ALLOW, "one's current session");
        CHECK(policy_check(&theirs, &user) == POLICY_DENY_NOT_ALLOWED, "not another user's");
        CHECK(policy_check(&theirs, &user_given_cap) == POLICY_ALLOW, "CAP_KILL the admin gave the caller");
        CHECK(policy_check(&theirs, &user_file_caps) == POLICY_DENY_NOT_ALLOWED,
              "the binary's file capability does not make a user an admin");
        CHECK(policy_check(&mine, &user_file_caps) == POLICY_ALLOW, "but ends the user's own sessions");
}

int main(void) {
        test_policy();
        return tap_done();
}
