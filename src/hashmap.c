/* SPDX-License-Identifier: MIT */
#include "hashmap.h"

#include <errno.h>
#include <stdlib.h>

struct hashmap_slot {
        uint64_t key;
        size_t value;
        bool used;
};

/* Pids are dense and texts' hashes are not: Fibonacci hashing spreads
 * both over the table, by the product's top bits (size is a power of two,
 * at least 64). */
static size_t slot_of(uint64_t key, size_t size) {
        return (size_t) ((key * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - __builtin_ctzll(size)));
}

static struct hashmap_slot *find(struct hashmap_slot *slots, size_t size, uint64_t key) {
        size_t i = slot_of(key, size);
        while (slots[i].used && slots[i].key != key)
                i = (i + 1) & (size - 1);
        return &slots[i];
}

static int grow(struct hashmap *m) {
        if (m->size > SIZE_MAX / 2 / sizeof(struct hashmap_slot))
                return -ENOMEM;
        size_t size = m->size ? m->size * 2 : 64;
        struct hashmap_slot *slots = calloc(size, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->size; i++)
                if (m->slots[i].used)
                        *find(slots, size, m->slots[i].key) = m->slots[i];
        free(m->slots);
        m->slots = slots;
        m->size = size;
        return 0;
}

int hashmap_put(struct hashmap *m, uint64_t key, size_t value) {
        if ((m->used + 1) * 2 > m->size) {
                int r = grow(m);
                if (r < 0)
                        return r;
        }
        struct hashmap_slot *s = find(m->slots, m->size, key);
        if (!s->used)
                m->used++;
        *s = (struct hashmap_slot) { .key = key, .value = value, .used = true };
        return 0;
}

bool hashmap_get(const struct hashmap *m, uint64_t key, size_t *ret_value) {
        if (!m->size)
                return false;
        const struct hashmap_slot *s = find(m->slots, m->size, key);
        if (!s->used)
                return false;
        *ret_value = s->value;
        return true;
}

size_t hashmap_size(const struct hashmap *m) {
        return m->used;
}

void hashmap_done(struct hashmap *m) {
        free(m->slots);
        *m = HASHMAP_INIT;
}

uint64_t hash_text(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
        return h;
}
