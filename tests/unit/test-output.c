/* SPDX-License-Identifier: MIT */
/* output.c: the printers' helpers. */
#include "output.h"
#include "tap.h"
#include "util.h"

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

int main(void) {
        test_output_helpers();
        return tap_done();
}
