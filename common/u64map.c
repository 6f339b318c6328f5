#include "u64map.h"

#include <stdlib.h>

#include "panic.h"
#include "xmalloc.h"

uint64_t u64map_mix(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return key;
}

static size_t u64map_hash(uint64_t key)
{
    return (size_t)u64map_mix(key);
}

void u64map_init(struct u64map *m)
{
    m->cap = 16;
    m->count = 0;
    m->slots = xcalloc(m->cap, sizeof(*m->slots));
}

void u64map_fini(struct u64map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static struct u64map_slot *u64map_find(const struct u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1;

    for (size_t i = u64map_hash(key) & mask;; i = (i + 1) & mask) {
        if (m->slots[i].key == key || m->slots[i].key == 0)
            return &m->slots[i];
    }
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
    ASSERT(key != 0);
    struct u64map_slot *s = u64map_find(m, key);
    return s->key ? s->val : NULL;
}

static void u64map_grow(struct u64map *m)
{
    struct u64map_slot *old = m->slots;
    size_t old_cap = m->cap;

    m->cap *= 2;
    m->slots = xcalloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key)
            *u64map_find(m, old[i].key) = old[i];
    }
    free(old);
}

void u64map_put(struct u64map *m, uint64_t key, void *val)
{
    ASSERT(key != 0);
    if ((m->count + 1) * 2 > m->cap)
        u64map_grow(m);
    struct u64map_slot *s = u64map_find(m, key);
    if (!s->key)
        m->count++;
    s->key = key;
    s->val = val;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    struct u64map_slot *s = u64map_find(m, key);

    if (!s->key)
        return NULL;
    void *val = s->val;
    size_t i = (size_t)(s - m->slots);
    /* Backward-shift: pull later entries of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = u64map_hash(m->slots[j].key) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    m->slots[i].val = NULL;
    m->count--;
    return val;
}

struct u64map_slot *u64map_next(const struct u64map *m, size_t *pos)
{
    while (*pos < m->cap) {
        struct u64map_slot *s = &m->slots[(*pos)++];
        if (s->key)
            return s;
    }
    return NULL;
}
