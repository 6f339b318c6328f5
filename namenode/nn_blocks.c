#include "nn_blocks.h"

#include <stdlib.h>

#include "panic.h"
#include "xmalloc.h"

void nn_blocks_init(struct nn_blocks *bm)
{
    u64map_init(&bm->map);
}

void nn_blocks_fini(struct nn_blocks *bm)
{
    size_t pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(&bm->map, &pos)) != NULL)
        free(s->val);
    u64map_fini(&bm->map);
}

struct nn_blk *nn_blocks_get(const struct nn_blocks *bm, uint64_t id)
{
    return id ? u64map_get(&bm->map, id) : NULL;
}

struct nn_blk *nn_blocks_add(struct nn_blocks *bm, struct wire_blk blk, uint64_t ino,
                             uint8_t replication)
{
    ASSERT(blk.id != 0);
    ASSERT(nn_blocks_get(bm, blk.id) == NULL);
    struct nn_blk *b = xcalloc(1, sizeof(*b));
    b->id = blk.id;
    b->gen = blk.gen;
    b->ino = ino;
    b->replication = replication;
    u64map_put(&bm->map, blk.id, b);
    return b;
}

size_t nn_blocks_remove(struct nn_blocks *bm, uint64_t id, uint16_t *locs_out)
{
    struct nn_blk *b = u64map_del(&bm->map, id);
    size_t n = 0;

    if (!b)
        return 0;
    for (; n < b->loc_count; n++)
        locs_out[n] = b->locs[n];
    free(b);
    return n;
}

static int has_loc(const struct nn_blk *b, uint16_t dn)
{
    for (uint8_t i = 0; i < b->loc_count; i++) {
        if (b->locs[i] == dn)
            return 1;
    }
    return 0;
}

int nn_blocks_on_replica(struct nn_blocks *bm, uint16_t dn, struct wire_blk blk, uint64_t len)
{
    struct nn_blk *b = nn_blocks_get(bm, blk.id);

    if (!b || b->gen != blk.gen || (b->is_committed && b->len != len))
        return 0;
    if (!has_loc(b, dn) && b->loc_count < NN_LOCS_MAX)
        b->locs[b->loc_count++] = dn;
    return 1;
}

static void drop_loc(struct nn_blk *b, uint16_t dn)
{
    for (uint8_t i = 0; i < b->loc_count; i++) {
        if (b->locs[i] == dn) {
            b->locs[i] = b->locs[--b->loc_count];
            return;
        }
    }
}

void nn_blocks_drop_loc(struct nn_blocks *bm, uint16_t dn, uint64_t id)
{
    struct nn_blk *b = nn_blocks_get(bm, id);

    if (b)
        drop_loc(b, dn);
}

void nn_blocks_drop_dn(struct nn_blocks *bm, uint16_t dn)
{
    size_t pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(&bm->map, &pos)) != NULL)
        drop_loc(s->val, dn);
}

uint64_t nn_blocks_count_on(const struct nn_blocks *bm, uint16_t dn)
{
    size_t pos = 0;
    uint64_t n = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(&bm->map, &pos)) != NULL)
        n += has_loc(s->val, dn);
    return n;
}
