/* SPDX-License-Identifier: MIT */
#include "tap.h"
#include "text.h"
#include "util.h"

static void check_clean(const char *in, const char *want, const char *what) {
        char *got = text_clean(in);
        CHECK_STREQ(got, want, "clean: %s", what);
        CHECK(got && text_is_valid_utf8(got), "clean is valid UTF-8: %s", what);
        free(got);
}

static void test_clean(void) {
        check_clean("alice", "alice", "plain ASCII stays");
        check_clean("김철수", "김철수", "Korean stays");
        check_clean("evil\xff\xfe", "evil\\xff\\xfe", "invalid bytes");
        check_clean("red\x1b[31m", "red\\x1b[31m", "an escape sequence");
        check_clean("a\tb\nc\x7f", "a\\x09b\\x0ac\\x7f", "C0 and DEL");
        check_clean("\xc2\x9b" "2J", "\\xc2\\x9b2J", "C1 CSI");
        check_clean("back\\slash", "back\\x5cslash", "the backslash itself");
        check_clean("\xe2\x80\xae" "gpj.exe", "\\xe2\\x80\\xaegpj.exe", "right-to-left override");
        check_clean("\xd8\x9c" "abc", "\\xd8\\x9cabc", "U+061C, the Arabic letter mark");
        check_clean("a\xe2\x80\x8e" "b\xe2\x80\x8f", "a\\xe2\\x80\\x8eb\\xe2\\x80\\x8f", "U+200E and U+200F, LRM and RLM");
        check_clean("one\xe2\x80\xa8two", "one\\xe2\\x80\\xa8two", "U+2028, the line separator");
        check_clean("one\xe2\x80\xa9two", "one\\xe2\\x80\\xa9two", "U+2029, the paragraph separator");
        check_clean("\xe2\x80\xa7\xe2\x80\xaa", "\xe2\x80\xa7\\xe2\\x80\\xaa", "U+2027 stays, U+202A (LRE) does not");
        check_clean("\xd8\x9b\xd8\x9d", "\xd8\x9b\xd8\x9d", "U+061B and U+061D, beside the mark, stay");
        check_clean("\xc0\xaf", "\\xc0\\xaf", "overlong /");
        check_clean("\xed\xa0\x80", "\\xed\\xa0\\x80", "a surrogate");
        check_clean("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "past U+10FFFF");
        check_clean("\xe2\x82", "\\xe2\\x82", "a truncated sequence at the end");
        check_clean("", "", "empty");

        char *twice = text_clean("x\xff");
        char *again = twice ? text_clean(twice) : NULL;
        CHECK_STREQ(again, "x\\x5cxff", "cleaning twice escapes the escape (done once, at entry)");
        free(twice);
        free(again);
}

static void test_clean_into(void) {
        char out[8];
        text_clean_into("abc\xff", 4, out, sizeof(out));
        CHECK_STREQ(out, "abc\\xff", "into a buffer");
        text_clean_into("\xff\xff", 2, out, sizeof(out));
        CHECK_STREQ(out, "\\xff", "cut at a whole escape's end");
        text_clean_into("가나다", strlen("가나다"), out, sizeof(out));
        CHECK_STREQ(out, "가나", "cut at a character boundary");
        text_clean_into(") S 1 1 1 (x", 12, out, sizeof(out));
        CHECK_STREQ(out, ") S 1 1", "a comm that looks like stat fields is only text");
}

static void test_width(void) {
        CHECK(text_width("alice") == 5, "ASCII: one column each");
        CHECK(text_width("김철수") == 6, "Hangul: two columns each");
        CHECK(text_width("漢字") == 4, "CJK: two columns each");
        CHECK(text_width("e\xcc\x81") == 1, "a combining mark takes none");
        CHECK(text_width("ｆｕｌｌ") == 8, "fullwidth forms");
        CHECK(text_width(":한글") == 5, "a display named in Korean");
        CHECK(text_width("evil\\xff") == 8, "an escape is as wide as it is written");
}

int main(void) {
        test_clean();
        test_clean_into();
        test_width();
        return tap_done();
}
