/* SPDX-License-Identifier: MIT */
#include "output.h"
#include "policy.h"
#include "remote.h"
#include "session.h"
#include "tap.h"
#include "util.h"

#include <sys/sysmacros.h>

static void test_parse_u32(void) {
        uint32_t v = 0;
        CHECK(parse_u32("0", &v) == 0 && v == 0, "parse_u32 0");
        CHECK(parse_u32("4294967295", &v) == 0 && v == UINT32_MAX, "parse_u32 max");
        CHECK(parse_u32("4294967296", &v) == -ERANGE, "parse_u32 overflow");
        CHECK(parse_u32("18446744073709551617", &v) == -ERANGE, "parse_u32 64-bit overflow");
        CHECK(parse_u32("", &v) == -EINVAL, "parse_u32 empty");
        CHECK(parse_u32("12a", &v) == -EINVAL, "parse_u32 trailing garbage");
        CHECK(parse_u32(" 1", &v) == -EINVAL, "parse_u32 leading space");
        CHECK(parse_u32("+1", &v) == -EINVAL, "parse_u32 sign");
}

static void test_read_file(void) {
        char *s = NULL;
        size_t len = 0;
        CHECK(read_small_file_at(AT_FDCWD, "/proc/self/stat", &s, &len) == 0 && len > 0 && strlen(s) == len,
              "read /proc/self/stat");
        free(s);
        CHECK(read_small_file_at(AT_FDCWD, "/nonexistent/file", &s, NULL) == -ENOENT, "missing file is -ENOENT");

        /* Longer than the first buffer: the loop must grow it. */
        char path[] = "/tmp/logoff-test-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0, "mkstemp");
        char block[1000];
        memset(block, 'x', sizeof(block));
        for (int i = 0; i < 10; i++)
                CHECK(write(fd, block, sizeof(block)) == (ssize_t) sizeof(block), "write block %d", i);
        close(fd);
        s = NULL;
        CHECK(read_small_file_at(AT_FDCWD, path, &s, &len) == 0 && len == 10000, "read a 10000-byte file");
        free(s);
        unlink(path);
}

static void test_tty_names(void) {
        char *s = NULL;
        CHECK(tty_name_from_dev(makedev(136, 3), &s) == 0 && streq(s, "pts/3"), "pts/3");
        free(s);
        CHECK(tty_name_from_dev(makedev(137, 1), &s) == 0 && streq(s, "pts/257"), "pts/257");
        free(s);
        CHECK(tty_name_from_dev(makedev(4, 2), &s) == 0 && streq(s, "tty2"), "tty2");
        free(s);
        CHECK(tty_name_from_dev(makedev(4, 64), &s) == 0 && streq(s, "ttyS0"), "ttyS0");
        free(s);
        CHECK(tty_name_from_dev(makedev(5, 1), &s) == 0 && streq(s, "console"), "console");
        free(s);
        CHECK(tty_line_is_console("console") && tty_line_is_console("/dev/console"), "console line");
        CHECK(!tty_line_is_console("pts/0") && !tty_line_is_console(NULL), "pts is not the console");
}

static void test_output_helpers(void) {
        char *buf = NULL;
        CHECK_STREQ(printable_or_dash(NULL, &buf), "-", "NULL prints as -");
        CHECK_STREQ(printable_or_dash("", &buf), "-", "empty prints as -");
        CHECK_STREQ(printable_or_dash("pts/1", &buf), "pts/1", "plain string unchanged");
        CHECK_STREQ(printable_or_dash("a\033b\n", &buf), "a?b?", "control characters replaced");
        free(buf);

        char d[32];
        format_duration(d, sizeof(d), 42u * 1000000u);
        CHECK_STREQ(d, "42s", "42 seconds");
        format_duration(d, sizeof(d), 307u * 1000000u);
        CHECK_STREQ(d, "5:07", "5 minutes 7 seconds");
        format_duration(d, sizeof(d), 3723ull * 1000000u);
        CHECK_STREQ(d, "1:02:03", "1 hour 2 minutes 3 seconds");
}

static void test_remote_quoting(void) {
        struct options o = { .action = ACTION_LOGOFF, .target = "it's", .verbose = true, .timeout_usec = 2500000 };
        char *line = NULL;
        unsetenv("LOGOFF_REMOTE_COMMAND");
        CHECK(remote_command_line(&o, &line) == 0, "remote command line");
        CHECK_STREQ(line, "'logoff' '--verbose' '--timeout=2.500000' '--' 'it'\\''s'", "quoted for the remote shell");
        free(line);

        o = (struct options) { .action = ACTION_LIST, .json = true };
        setenv("LOGOFF_REMOTE_COMMAND", "/opt/x/logoff", 1);
        CHECK(remote_command_line(&o, &line) == 0, "remote list command line");
        CHECK_STREQ(line, "'/opt/x/logoff' '--list' '--json'", "list forwarded");
        free(line);
        unsetenv("LOGOFF_REMOTE_COMMAND");
}

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
        test_parse_u32();
        test_read_file();
        test_tty_names();
        test_output_helpers();
        test_remote_quoting();
        return tap_done();
}
