#include "nn_blocks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "panic.h"
#include "xmalloc.h"

/* What the map stores per block; everything else about it is in the namespace. */
struct nn_blocks_entry {
    uint64_t id; /* first: the table's key; never 0 */
    uint64_t ino;
    uint16_t locs[NN_LOCS_INLINE];
    uint8_t loc_count; /* every location; those past NN_LOCS_INLINE are in bm->more */
    uint8_t reserved;
};
STATIC_ASSERT(sizeof(struct nn_blocks_entry) == 24);

enum { NN_LOCS_MORE = NN_LOCS_MAX - NN_LOCS_INLINE };

static uint64_t entry_key(const void *entry)
{
    uint64_t id;

    memcpy(&id, entry, sizeof(id));
    return id;
}

void nn_blocks_init(struct nn_blocks *bm, const struct nn_ns *ns)
{
    bm->ns = ns;
    nn_otab_init(&bm->map, sizeof(struct nn_blocks_entry), entry_key);
    u64map_init(&bm->more);
}

void nn_blocks_fini(struct nn_blocks *bm)
{
    size_t pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(&bm->more, &pos)) != NULL)
        free(s->val);
    u64map_fini(&bm->more);
    nn_otab_fini(&bm->map);
}

static struct nn_blocks_entry *entry_get(const struct nn_blocks *bm, uint64_t id)
{
    return id ? nn_otab_get(&bm->map, id) : NULL;
}

static uint16_t loc_get(const struct nn_blocks *bm, const struct nn_blocks_entry *e, uint8_t i)
{
    ASSERT(i < e->loc_count);
    if (i < NN_LOCS_INLINE)
        return e->locs[i];
    const uint16_t *more = u64map_get(&bm->more, e->id);
    ASSERT(more != NULL);
    return more[i - NN_LOCS_INLINE];
}

static void loc_set(struct nn_blocks *bm, struct nn_blocks_entry *e, uint8_t i, uint16_t dn)
{
    ASSERT(i < NN_LOCS_MAX);
    if (i < NN_LOCS_INLINE) {
        e->locs[i] = dn;
        return;
    }
    uint16_t *more = u64map_get(&bm->more, e->id);
    if (!more) {
        more = xcalloc(NN_LOCS_MORE, sizeof(*more));
        u64map_put(&bm->more, e->id, more);
    }
    more[i - NN_LOCS_INLINE] = dn;
}

/* Frees the overflow locations of e once they are no longer needed. */
static void more_trim(struct nn_blocks *bm, const struct nn_blocks_entry *e)
{
    if (e->loc_count <= NN_LOCS_INLINE)
        free(u64map_del(&bm->more, e->id));
}

static void entry_view(const struct nn_blocks *bm, const struct nn_blocks_entry *e,
                       struct nn_blk *out)
{
    struct nn_blkref r;
    int rc = nn_ns_find_blk(bm->ns, e->ino, e->id, &r);

    ASSERT(rc == 0); /* the map and the namespace agree on every block */
    *out = (struct nn_blk){ .id = e->id, .gen = r.gen, .ino = e->ino, .len = r.len,
                            .is_committed = r.is_committed, .loc_count = e->loc_count };
    out->replication = (uint8_t)nn_ns_get(bm->ns, e->ino)->replication;
    for (uint8_t i = 0; i < e->loc_count; i++)
        out->locs[i] = loc_get(bm, e, i);
}

int nn_blk_has_loc(const struct nn_blk *b, uint16_t dn)
{
    for (uint8_t i = 0; i < b->loc_count; i++) {
        if (b->locs[i] == dn)
            return 1;
    }
    return 0;
}

int nn_blocks_get(const struct nn_blocks *bm, uint64_t id, struct nn_blk *out)
{
    const struct nn_blocks_entry *e = entry_get(bm, id);

    if (!e)
        return -ENOENT;
    entry_view(bm, e, out);
    return 0;
}

int nn_blocks_has(const struct nn_blocks *bm, uint64_t id)
{
    return entry_get(bm, id) != NULL;
}

void nn_blocks_add(struct nn_blocks *bm, uint64_t id, uint64_t ino)
{
    struct nn_blkref r;

    ASSERT(id != 0);
    ASSERT(entry_get(bm, id) == NULL);
    ASSERT(nn_ns_find_blk(bm->ns, ino, id, &r) == 0);
    struct nn_blocks_entry e = { .id = id, .ino = ino };
    nn_otab_put(&bm->map, &e);
}

size_t nn_blocks_remove(struct nn_blocks *bm, uint64_t id, uint16_t *locs_out)
{
    struct nn_blocks_entry *e = entry_get(bm, id);
    size_t n = 0;

    if (!e)
        return 0;
    for (; n < e->loc_count; n++)
        locs_out[n] = loc_get(bm, e, (uint8_t)n);
    free(u64map_del(&bm->more, id));
    nn_otab_del(&bm->map, id, NULL);
    return n;
}

static int has_loc(const struct nn_blocks *bm, const struct nn_blocks_entry *e, uint16_t dn)
{
    for (uint8_t i = 0; i < e->loc_count; i++) {
        if (loc_get(bm, e, i) == dn)
            return 1;
    }
    return 0;
}

static void add_loc(struct nn_blocks *bm, struct nn_blocks_entry *e, uint16_t dn)
{
    if (!has_loc(bm, e, dn) && e->loc_count < NN_LOCS_MAX) {
        loc_set(bm, e, e->loc_count, dn);
        e->loc_count++;
    }
}

static void drop_loc(struct nn_blocks *bm, struct nn_blocks_entry *e, uint16_t dn);

void nn_blocks_expect(struct nn_blocks *bm, uint64_t id, const uint32_t *dns, uint32_t count)
{
    struct nn_blocks_entry *e = entry_get(bm, id);

    ASSERT(e != NULL);
    for (uint32_t i = 0; i < count; i++)
        add_loc(bm, e, (uint16_t)dns[i]);
}

int nn_blocks_on_replica(struct nn_blocks *bm, uint16_t dn, struct wire_blk blk, uint64_t len)
{
    struct nn_blocks_entry *e = entry_get(bm, blk.id);
    struct nn_blkref r;

    if (!e)
        return 0;
    int rc = nn_ns_find_blk(bm->ns, e->ino, e->id, &r);
    ASSERT(rc == 0);
    if (r.gen != blk.gen)
        return 0;
    if (r.is_committed && r.len != len) {
        drop_loc(bm, e, dn); /* expected there, but what is there is not the block */
        return 0;
    }
    add_loc(bm, e, dn);
    return 1;
}

static void drop_loc(struct nn_blocks *bm, struct nn_blocks_entry *e, uint16_t dn)
{
    for (uint8_t i = 0; i < e->loc_count; i++) {
        if (loc_get(bm, e, i) == dn) {
            loc_set(bm, e, i, loc_get(bm, e, e->loc_count - 1));
            e->loc_count--;
            more_trim(bm, e);
            return;
        }
    }
}

void nn_blocks_drop_loc(struct nn_blocks *bm, uint16_t dn, uint64_t id)
{
    struct nn_blocks_entry *e = entry_get(bm, id);

    if (e)
        drop_loc(bm, e, dn);
}

void nn_blocks_drop_dn(struct nn_blocks *bm, uint16_t dn)
{
    size_t pos = 0;
    struct nn_blocks_entry *e;

    while ((e = nn_otab_next(&bm->map, &pos)) != NULL) {
        struct nn_blkref r;
        int rc = nn_ns_find_blk(bm->ns, e->ino, e->id, &r);
        ASSERT(rc == 0);
        if (r.is_committed) /* a block being written is in no report of finalized replicas */
            drop_loc(bm, e, dn);
    }
}

uint64_t nn_blocks_count_on(const struct nn_blocks *bm, uint16_t dn)
{
    size_t pos = 0;
    uint64_t n = 0;
    const struct nn_blocks_entry *e;

    while ((e = nn_otab_next(&bm->map, &pos)) != NULL)
        n += (uint64_t)has_loc(bm, e, dn);
    return n;
}

int nn_blocks_next(const struct nn_blocks *bm, size_t *pos, struct nn_blk *out)
{
    const struct nn_blocks_entry *e = nn_otab_next(&bm->map, pos);

    if (!e)
        return 0;
    entry_view(bm, e, out);
    return 1;
}

void nn_blocks_assert_valid(const struct nn_blocks *bm)
{
    size_t pos = 0, more = 0;
    const struct nn_blocks_entry *e;
    struct nn_blkref r;

    while ((e = nn_otab_next(&bm->map, &pos)) != NULL) {
        ASSERT(nn_ns_find_blk(bm->ns, e->ino, e->id, &r) == 0);
        ASSERT(e->loc_count <= NN_LOCS_MAX);
        ASSERT((u64map_get(&bm->more, e->id) != NULL) == (e->loc_count > NN_LOCS_INLINE));
        more += e->loc_count > NN_LOCS_INLINE;
    }
    ASSERT(more == bm->more.count);
}
