/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A map from 64-bit keys (a pid, a text's hash) to indices into an array
 * the caller keeps, which may move as it grows.  Open addressing, grown
 * at half full.  Two texts may share a hash: a caller keyed by one keeps
 * the text beside its value and compares it. */
struct hashmap {
        struct hashmap_slot *slots;
        size_t size, used;
};

#define HASHMAP_INIT ((struct hashmap) { 0 })

/* Maps key to value, replacing what it mapped to.  0 or -ENOMEM (the map
 * as it was). */
int hashmap_put(struct hashmap *m, uint64_t key, size_t value);

/* What key maps to: true with *ret_value, or false. */
bool hashmap_get(const struct hashmap *m, uint64_t key, size_t *ret_value);

size_t hashmap_size(const struct hashmap *m);

void hashmap_done(struct hashmap *m);

/* FNV-1a of a NUL-terminated text. */
uint64_t hash_text(const char *s);
