/* SPDX-License-Identifier: MIT */
/* hashmap.c: keys to indices, through growth and replacement. */
#include "hashmap.h"
#include "tap.h"

static void test_pids(void) {
        struct hashmap m = HASHMAP_INIT;
        size_t v = 0;
        CHECK(!hashmap_get(&m, 1, &v), "an empty map has nothing");
        /* Dense keys as pids are, far past the first size: every one is
         * kept through each growth. */
        bool put_ok = true;
        for (uint64_t pid = 1; pid <= 100000; pid++)
                put_ok = put_ok && hashmap_put(&m, pid, (size_t) pid * 3) == 0;
        CHECK(put_ok && hashmap_size(&m) == 100000, "100,000 keys put (size %zu)", hashmap_size(&m));
        bool all = true;
        for (uint64_t pid = 1; pid <= 100000; pid++)
                all = all && hashmap_get(&m, pid, &v) && v == (size_t) pid * 3;
        CHECK(all, "each maps to its own value");
        CHECK(!hashmap_get(&m, 0, &v) && !hashmap_get(&m, 100001, &v), "keys never put are not found");
        CHECK(hashmap_put(&m, 42, 7) == 0 && hashmap_get(&m, 42, &v) && v == 7 && hashmap_size(&m) == 100000,
              "putting a key again replaces its value");
        hashmap_done(&m);
        CHECK(m.size == 0 && !hashmap_get(&m, 42, &v), "done empties it");
}

static void test_texts(void) {
        CHECK(hash_text("") == UINT64_C(14695981039346656037), "FNV-1a's offset basis for nothing");
        CHECK(hash_text("a") == UINT64_C(0xaf63dc4c8601ec8c), "FNV-1a of \"a\"");
        CHECK(hash_text("0::/user.slice/session-1.scope") != hash_text("0::/user.slice/session-2.scope"),
              "two cgroups differ");
        /* Keys that share their low bits land in the same slot first. */
        struct hashmap m = HASHMAP_INIT;
        bool ok = true;
        for (uint64_t k = 0; k < 64; k++)
                ok = ok && hashmap_put(&m, k << 40, (size_t) k) == 0;
        size_t v;
        for (uint64_t k = 0; k < 64; k++)
                ok = ok && hashmap_get(&m, k << 40, &v) && v == k;
        CHECK(ok, "keys alike in their low 40 bits are told apart");
        hashmap_done(&m);
}

int main(void) {
        test_pids();
        test_texts();
        return tap_done();
}
