/* u64map: an open-addressing hash map from non-zero u64 keys to pointers (linear probing,
 * backward-shift deletion, power-of-two capacity, load <= 1/2). The map does not own the
 * values. Pure; not thread-safe. Iteration order is unspecified but stable between changes. */
#ifndef DFS_U64MAP_H
#define DFS_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
    uint64_t key; /* 0 = empty */
    void *val;
};

struct u64map {
    struct u64map_slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

/* The key mixer the map hashes with (a 64-bit finalizer: every input bit affects every output
 * bit), for other tables keyed by u64. Pure. */
uint64_t u64map_mix(uint64_t key);
void u64map_init(struct u64map *m);
void u64map_fini(struct u64map *m);
void *u64map_get(const struct u64map *m, uint64_t key);
/* Inserts or replaces; key must be non-zero. */
void u64map_put(struct u64map *m, uint64_t key, void *val);
/* Removes key; returns its value or NULL. */
void *u64map_del(struct u64map *m, uint64_t key);
/* Iteration: start with *pos = 0; returns the next occupied slot or NULL at the end. The map
 * must not change during an iteration. */
struct u64map_slot *u64map_next(const struct u64map *m, size_t *pos);

#endif
