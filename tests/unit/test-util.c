/* SPDX-License-Identifier: MIT */
/* util.c: parsing numbers, reading small files. */
#include "tap.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>

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

static void test_array_reserve(void) {
        int *a = NULL;
        size_t alloc = 0, n = 0;
        for (int i = 0; i < 1000; i++) {
                if (ARRAY_RESERVE(a, alloc, n, 4) < 0)
                        break;
                a[n++] = i;
        }
        CHECK(n == 1000 && alloc >= 1000 && alloc <= 2048, "1000 elements, room doubled from 4 (alloc %zu)", alloc);
        bool kept = true;
        for (size_t i = 0; i < n; i++)
                kept &= a[i] == (int) i;
        CHECK(kept, "every element kept across the growth");
        CHECK(ARRAY_RESERVE(a, alloc, alloc - 1, 4) == 0, "no growth while there is room (alloc %zu)", alloc);
        free(a);
        char *big = NULL;
        size_t big_alloc = 0;
        CHECK(array_reserve((void **) &big, &big_alloc, SIZE_MAX / 2, 4, 1) == -ENOMEM && !big,
              "an impossible size is -ENOMEM and leaves the array as it was");
}

int main(void) {
        test_array_reserve();
        test_parse_u32();
        test_read_file();
        return tap_done();
}
