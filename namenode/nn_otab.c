#include "nn_otab.h"

#include <stdlib.h>
#include <string.h>

#include "panic.h"
#include "u64map.h"
#include "xmalloc.h"

enum { NN_OTAB_CAP_MIN = 16 };


/* Home slot: the high 32 bits of the hash scaled to cap (cap < 2^32). */
static size_t otab_home(const struct nn_otab *t, uint64_t key)
{
    return (size_t)(((u64map_mix(key) >> 32) * (uint64_t)t->cap) >> 32);
}

static uint8_t *otab_slot(const struct nn_otab *t, size_t i)
{
    return t->slots + i * t->entry_size;
}

static int otab_is_empty(const uint8_t *slot)
{
    uint64_t head;

    memcpy(&head, slot, sizeof(head));
    return head == 0;
}

static size_t otab_step(const struct nn_otab *t, size_t i)
{
    return i + 1 == t->cap ? 0 : i + 1;
}

void nn_otab_init(struct nn_otab *t, size_t entry_size, nn_otab_key_fn *key)
{
    ASSERT(entry_size >= sizeof(uint64_t));
    t->entry_size = entry_size;
    t->key = key;
    t->cap = NN_OTAB_CAP_MIN;
    t->count = 0;
    t->slots = xcalloc(t->cap, entry_size);
}

void nn_otab_fini(struct nn_otab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* The slot holding key, or the empty slot where its probe run ends. */
static uint8_t *otab_find(const struct nn_otab *t, uint64_t key)
{
    for (size_t i = otab_home(t, key);; i = otab_step(t, i)) {
        uint8_t *s = otab_slot(t, i);
        if (otab_is_empty(s) || t->key(s) == key)
            return s;
    }
}

void *nn_otab_get(const struct nn_otab *t, uint64_t key)
{
    ASSERT(key != 0);
    uint8_t *s = otab_find(t, key);
    return otab_is_empty(s) ? NULL : s;
}

static void otab_grow(struct nn_otab *t)
{
    uint8_t *old = t->slots;
    size_t old_cap = t->cap;

    ASSERT(t->cap < (1ULL << 31));
    t->cap += t->cap / 2;
    t->slots = xcalloc(t->cap, t->entry_size);
    for (size_t i = 0; i < old_cap; i++) {
        const uint8_t *e = old + i * t->entry_size;
        if (!otab_is_empty(e))
            memcpy(otab_find(t, t->key(e)), e, t->entry_size);
    }
    free(old);
}

void *nn_otab_put(struct nn_otab *t, const void *entry)
{
    ASSERT(!otab_is_empty(entry));
    uint64_t key = t->key(entry);
    ASSERT(key != 0);
    if ((t->count + 1) * 5 > t->cap * 4)
        otab_grow(t);
    uint8_t *s = otab_find(t, key);
    ASSERT(otab_is_empty(s));
    memcpy(s, entry, t->entry_size);
    t->count++;
    return s;
}

int nn_otab_del(struct nn_otab *t, uint64_t key, void *out)
{
    uint8_t *s = otab_find(t, key);

    if (otab_is_empty(s))
        return 0;
    if (out)
        memcpy(out, s, t->entry_size);
    size_t i = (size_t)(s - t->slots) / t->entry_size;
    /* Backward shift: pull later entries of the probe run into the hole unless that would
     * move them before their home slot. Distances are taken modulo the capacity. */
    for (size_t j = otab_step(t, i); !otab_is_empty(otab_slot(t, j)); j = otab_step(t, j)) {
        size_t home = otab_home(t, t->key(otab_slot(t, j)));
        size_t dist_home = (j + t->cap - home) % t->cap, dist_hole = (j + t->cap - i) % t->cap;
        if (dist_home >= dist_hole) {
            memcpy(otab_slot(t, i), otab_slot(t, j), t->entry_size);
            i = j;
        }
    }
    memset(otab_slot(t, i), 0, t->entry_size);
    t->count--;
    return 1;
}

void *nn_otab_next(const struct nn_otab *t, size_t *pos)
{
    while (*pos < t->cap) {
        uint8_t *s = otab_slot(t, (*pos)++);
        if (!otab_is_empty(s))
            return s;
    }
    return NULL;
}
