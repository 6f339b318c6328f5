#include "nn_repl.h"

#include <stdlib.h>

#include "nn_place.h"
#include "panic.h"
#include "xmalloc.h"

/* A copy ordered and not yet reported. */
struct nn_repl_copy {
    uint64_t blk_id;
    uint16_t source;
    uint16_t target;
    uint64_t deadline_ms;
};

/* One doomed replica: corrupt, or ordered deleted as excess. */
struct nn_repl_doomed_one {
    uint16_t dn;
    uint8_t is_corrupt;
    uint8_t is_ordered;      /* its delete was ordered ... */
    uint32_t ordered_epoch;  /* ... in this registration of the datanode (nn_dn.h) */
};

/* The doomed replicas of one block. */
struct nn_repl_doomed {
    uint64_t blk_id;
    uint8_t count;
    struct nn_repl_doomed_one v[NN_LOCS_MAX];
};

/* What one tick sees of the cluster: the live datanodes as placement candidates. */
struct nn_repl_view {
    struct nn_blocks *bm;
    struct nn_dns *dns;
    uint64_t now_ms;
    struct nn_place_cand *live; /* the live datanodes, then scratch (struct nn_repl's cands) */
    size_t live_count;
};

void nn_repl_init(struct nn_repl *r, const struct nn_repl_opts *opts)
{
    ASSERT(opts->streams_per_dn >= 1 && opts->streams_per_dn <= NN_REPL_STREAMS_MAX);
    ASSERT(opts->scan_per_tick >= 1);
    r->opts = *opts;
    u64map_init(&r->copies);
    u64map_init(&r->doomed);
    r->in_flight = xcalloc(NN_DN_MAX, sizeof(*r->in_flight));
    r->cands = xmalloc(2 * (size_t)NN_DN_MAX * sizeof(*r->cands));
    r->cursor = 0;
    r->last_tick_ms = 0;
    r->totals = (struct nn_repl_stats){ 0 };
}

static void nn_repl_free_values(struct u64map *m)
{
    size_t pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(m, &pos)) != NULL)
        free(s->val);
    u64map_fini(m);
}

void nn_repl_fini(struct nn_repl *r)
{
    nn_repl_free_values(&r->copies);
    nn_repl_free_values(&r->doomed);
    free(r->in_flight);
    free(r->cands);
    r->in_flight = NULL;
    r->cands = NULL;
}

size_t nn_repl_in_flight(const struct nn_repl *r)
{
    return r->copies.count;
}

/* ---- copies in flight ---- */

static void nn_repl_forget(struct nn_repl *r, struct nn_repl_copy *c)
{
    ASSERT(r->in_flight[c->source] > 0);
    r->in_flight[c->source]--;
    u64map_del(&r->copies, c->blk_id);
    free(c);
}

void nn_repl_on_replica(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    /* Reports name any id; 0 is never a block (and no key of the maps). */
    struct nn_repl_copy *c = blk_id ? u64map_get(&r->copies, blk_id) : NULL;

    if (c && c->target == dn) {
        nn_repl_forget(r, c);
        r->totals.copies_done++;
    }
}

/* ---- doomed replicas ---- */

/* dn's entry in the block's list d (NULL: none). */
static struct nn_repl_doomed_one *nn_repl_doomed_in(struct nn_repl_doomed *d, uint16_t dn)
{
    for (uint8_t i = 0; d && i < d->count; i++) {
        if (d->v[i].dn == dn)
            return &d->v[i];
    }
    return NULL;
}

static struct nn_repl_doomed_one *nn_repl_doomed_find(const struct nn_repl *r, uint64_t blk_id,
                                                      uint16_t dn)
{
    return nn_repl_doomed_in(blk_id ? u64map_get(&r->doomed, blk_id) : NULL, dn);
}

/* Dooms dn's replica of blk_id; NULL if the block's list is full (the caller then leaves the
 * replica alone: a replica not recorded here would come back with the next report). */
static struct nn_repl_doomed_one *nn_repl_doom(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    struct nn_repl_doomed *d = u64map_get(&r->doomed, blk_id);
    struct nn_repl_doomed_one *one = nn_repl_doomed_in(d, dn);

    if (one)
        return one;
    if (!d) {
        d = xcalloc(1, sizeof(*d));
        d->blk_id = blk_id;
        u64map_put(&r->doomed, blk_id, d);
    }
    if (d->count == NN_LOCS_MAX)
        return NULL;
    d->v[d->count] = (struct nn_repl_doomed_one){ .dn = dn };
    return &d->v[d->count++];
}

void nn_repl_note_corrupt(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    struct nn_repl_doomed_one *one = nn_repl_doom(r, blk_id, dn);
    struct nn_repl_copy *c = u64map_get(&r->copies, blk_id);

    if (one)
        one->is_corrupt = 1;
    if (c && c->source == dn) { /* that copy has failed (the source found the bad chunk) */
        nn_repl_forget(r, c);
        r->totals.copies_dropped++;
    }
}

int nn_repl_is_doomed(const struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    return nn_repl_doomed_find(r, blk_id, dn) != NULL;
}

void nn_repl_on_deleted(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    struct nn_repl_doomed *d = blk_id ? u64map_get(&r->doomed, blk_id) : NULL;
    struct nn_repl_doomed_one *one = nn_repl_doomed_in(d, dn);

    if (!one)
        return;
    *one = d->v[--d->count];
    if (d->count == 0)
        free(u64map_del(&r->doomed, blk_id));
}

size_t nn_repl_doomed_locs(const struct nn_repl *r, uint64_t blk_id, int only_corrupt,
                           uint16_t *out)
{
    const struct nn_repl_doomed *d = blk_id ? u64map_get(&r->doomed, blk_id) : NULL;
    size_t n = 0;

    for (uint8_t i = 0; d && i < d->count; i++) {
        if (d->v[i].is_corrupt || !only_corrupt)
            out[n++] = d->v[i].dn;
    }
    return n;
}

static void nn_repl_order_delete(const struct nn_repl_view *v, const struct nn_blk *b,
                                 struct nn_repl_doomed_one *one)
{
    nn_dns_queue_delete(v->dns, one->dn, (struct wire_blk){ b->id, b->gen });
    one->is_ordered = 1;
    one->ordered_epoch = v->dns->v[one->dn].epoch;
}

/* Orders deletes of b's doomed replicas on live datanodes: the corrupt ones when
 * is_corrupt_due (the block has its replication in good replicas, or they are in the way of
 * a copy), and again any whose datanode registered anew since (its queue was dropped, or the
 * order lost with its old process). Never twice in one registration: a second delete could
 * hit a copy made there after the first. */
static void nn_repl_delete_doomed(struct nn_repl *r, const struct nn_repl_view *v,
                                  const struct nn_blk *b, int is_corrupt_due)
{
    struct nn_repl_doomed *d = u64map_get(&r->doomed, b->id);

    for (uint8_t i = 0; d && i < d->count; i++) {
        struct nn_repl_doomed_one *one = &d->v[i];
        if (!nn_dns_is_live(v->dns, one->dn, v->now_ms))
            continue;
        if (one->is_ordered ? one->ordered_epoch == v->dns->v[one->dn].epoch : !is_corrupt_due)
            continue;
        if (one->is_corrupt && !one->is_ordered)
            r->totals.corrupt_deletes_ordered++;
        nn_repl_order_delete(v, b, one);
    }
}

/* Removes the entries of map that is_gone picks, with drop. Collected first: deleting from a
 * map during its iteration could skip entries. Returns how many. */
typedef int nn_repl_gone_fn(const struct nn_repl *r, const struct nn_repl_view *v,
                            const struct u64map_slot *s);

static size_t nn_repl_sweep(struct nn_repl *r, const struct nn_repl_view *v, struct u64map *map,
                            nn_repl_gone_fn *is_gone, void (*drop)(struct nn_repl *, void *))
{
    void **gone = xmalloc((map->count + 1) * sizeof(*gone));
    size_t n = 0, pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(map, &pos)) != NULL) {
        if (is_gone(r, v, s))
            gone[n++] = s->val;
    }
    for (size_t i = 0; i < n; i++)
        drop(r, gone[i]);
    free(gone);
    return n;
}

static int nn_repl_copy_failed(const struct nn_repl *r, const struct nn_repl_view *v,
                               const struct u64map_slot *s)
{
    const struct nn_repl_copy *c = s->val;

    (void)r;
    return v->now_ms >= c->deadline_ms || !nn_dns_is_live(v->dns, c->source, v->now_ms) ||
           !nn_dns_is_live(v->dns, c->target, v->now_ms) || !nn_blocks_has(v->bm, c->blk_id);
}

static void nn_repl_drop_copy(struct nn_repl *r, void *c)
{
    nn_repl_forget(r, c);
}

static int nn_repl_doomed_gone(const struct nn_repl *r, const struct nn_repl_view *v,
                               const struct u64map_slot *s)
{
    (void)r;
    return !nn_blocks_has(v->bm, s->key);
}

static void nn_repl_drop_doomed(struct nn_repl *r, void *d)
{
    free(u64map_del(&r->doomed, ((struct nn_repl_doomed *)d)->blk_id));
}

/* ---- datanodes ---- */

/* Drops the locations of datanodes found dead since the last tick, and their queued copies
 * (the monitor forgets those copies itself). Not after a gap of more than half the dead time
 * since the last tick: the namenode itself stalled (a long checkpoint, a slow disk) and has
 * not read the heartbeats that came meanwhile; the next tick decides. */
static void nn_repl_drop_dead(struct nn_repl *r, const struct nn_repl_view *v)
{
    uint64_t last = r->last_tick_ms;

    r->last_tick_ms = v->now_ms;
    if (last != 0 && v->now_ms - last > v->dns->dead_ms / 2)
        return;
    for (uint32_t i = 0; i < v->dns->count; i++) {
        struct nn_dn *dn = &v->dns->v[i];
        if (dn->is_dropped || nn_dns_is_live(v->dns, i, v->now_ms))
            continue;
        nn_blocks_drop_dn(v->bm, (uint16_t)i);
        nn_dns_drop_copies(v->dns, i);
        dn->is_dropped = 1;
        dn->is_reported = 0;
        r->totals.dns_dropped++;
    }
}

/* Whether every live datanode has finished a full report since it registered. */
static int nn_repl_all_reported(const struct nn_repl_view *v)
{
    for (size_t i = 0; i < v->live_count; i++) {
        if (!v->dns->v[v->live[i].idx].is_reported)
            return 0;
    }
    return 1;
}

static size_t nn_repl_live_locs(const struct nn_repl_view *v, const struct nn_blk *b,
                                uint16_t *out)
{
    size_t n = 0;

    for (uint8_t i = 0; i < b->loc_count; i++) {
        if (nn_dns_is_live(v->dns, b->locs[i], v->now_ms))
            out[n++] = b->locs[i];
    }
    return n;
}

/* Whether dn holds a replica of b: a location, or a doomed one still on its disk. */
static int nn_repl_holds(const struct nn_repl *r, const struct nn_blk *b, uint32_t dn)
{
    return nn_blk_has_loc(b, (uint16_t)dn) || nn_repl_is_doomed(r, b->id, (uint16_t)dn);
}

/* ---- copies ---- */

/* The live holder with the fewest copies in flight, below the limit; -1 if all are busy.
 * Ties go to the first from a position drawn from the block and the time, so that the work
 * spreads and a copy ordered again after a failure (a corrupt source) can come from another
 * holder. */
static int nn_repl_pick_source(const struct nn_repl *r, const struct nn_repl_view *v,
                               uint64_t blk_id, const uint16_t *live, size_t n)
{
    uint64_t start = u64map_mix(blk_id ^ v->now_ms);
    int best = -1;

    for (size_t k = 0; k < n; k++) {
        uint16_t dn = live[(start + k) % n];
        if (r->in_flight[dn] >= r->opts.streams_per_dn)
            continue;
        if (best < 0 || r->in_flight[dn] < r->in_flight[best])
            best = dn;
    }
    return best;
}

/* A live datanode holding no replica of b, with room for it, weighted by free space; -1 if
 * there is none. The hash is salted with the time: a copy ordered again after a failure
 * draws again. */
static int nn_repl_pick_target(const struct nn_repl *r, const struct nn_repl_view *v,
                               const struct nn_blk *b)
{
    struct nn_place_cand *c = v->live + v->live_count; /* scratch after the live list */
    size_t n = 0;
    uint32_t chosen;

    for (size_t i = 0; i < v->live_count; i++) {
        if (v->live[i].weight >= b->len && !nn_repl_holds(r, b, v->live[i].idx))
            c[n++] = v->live[i];
    }
    if (n == 0 || nn_place_choose(c, n, u64map_mix(b->id ^ v->now_ms), 1, &chosen) == 0)
        return -1;
    return (int)chosen;
}

static void nn_repl_order_copy(struct nn_repl *r, const struct nn_repl_view *v,
                               const struct nn_blk *b, const uint16_t *live, size_t n)
{
    int source = nn_repl_pick_source(r, v, b->id, live, n);
    int target = source < 0 ? -1 : nn_repl_pick_target(r, v, b);
    struct wire_blk blk = { b->id, b->gen };

    /* A corrupt replica may hold the only target. Deleted only while two good replicas
     * remain: a replica counts as good until a read finds it bad, and with one left, the
     * corrupt ones may hold the only good copy of some chunk. */
    if (source >= 0 && target < 0 && n >= 2)
        nn_repl_delete_doomed(r, v, b, 1);
    if (target < 0 || nn_dns_queue_copy(v->dns, (uint32_t)source, blk, b->len,
                                        (uint32_t)target) < 0)
        return;
    struct nn_repl_copy *c = xmalloc(sizeof(*c));
    *c = (struct nn_repl_copy){ .blk_id = b->id, .source = (uint16_t)source,
                                .target = (uint16_t)target,
                                .deadline_ms = v->now_ms + r->opts.timeout_ms };
    u64map_put(&r->copies, b->id, c);
    r->in_flight[source]++;
    r->totals.copies_ordered++;
}

/* ---- excess ---- */

static int nn_repl_is_busy(const struct nn_repl_copy *c, uint16_t dn)
{
    return c && (c->source == dn || c->target == dn);
}

/* Ranked by node id and block alone (not free space, which moves with every heartbeat), so
 * that the same replicas rank lowest at every look. */
static double nn_repl_rank(const struct nn_repl_view *v, uint16_t dn, uint64_t blk_id)
{
    struct nn_place_cand cand = { .node_id = v->dns->v[dn].node_id, .weight = 1, .idx = dn };

    return nn_place_score(&cand, blk_id);
}

/* Dooms live replicas of b past its replication, the lowest ranked first, and orders them
 * deleted. */
static void nn_repl_order_excess_deletes(struct nn_repl *r, const struct nn_repl_view *v,
                                         const struct nn_blk *b, uint16_t *live, size_t n)
{
    const struct nn_repl_copy *c = u64map_get(&r->copies, b->id);

    for (; n > b->replication; n--) {
        size_t victim = n;
        for (size_t i = 0; i < n; i++) {
            if (nn_repl_is_busy(c, live[i]))
                continue;
            if (victim == n || nn_repl_rank(v, live[i], b->id) < nn_repl_rank(v, live[victim], b->id))
                victim = i;
        }
        struct nn_repl_doomed_one *one = victim == n ? NULL : nn_repl_doom(r, b->id, live[victim]);
        if (!one)
            return;
        nn_repl_order_delete(v, b, one);
        nn_blocks_drop_loc(v->bm, live[victim], b->id);
        live[victim] = live[n - 1];
        r->totals.deletes_ordered++;
    }
}

/* ---- the scan ---- */

static void nn_repl_check(struct nn_repl *r, const struct nn_repl_view *v, const struct nn_blk *b)
{
    uint16_t live[NN_LOCS_MAX];

    if (!b->is_committed)
        return; /* its pipeline is still writing it */
    size_t n = nn_repl_live_locs(v, b, live);
    nn_repl_delete_doomed(r, v, b, n >= b->replication);
    if (n > b->replication)
        nn_repl_order_excess_deletes(r, v, b, live, n);
    else if (n > 0 && n < b->replication && !u64map_get(&r->copies, b->id))
        nn_repl_order_copy(r, v, b, live, n);
}

void nn_repl_tick(struct nn_repl *r, struct nn_blocks *bm, struct nn_dns *dns, uint64_t now_ms)
{
    struct nn_repl_view v = { .bm = bm, .dns = dns, .now_ms = now_ms, .live = r->cands };
    uint64_t budget = bm->ns->blk_count < r->opts.scan_per_tick ? bm->ns->blk_count
                                                                 : r->opts.scan_per_tick;
    struct nn_blk b;

    nn_repl_drop_dead(r, &v);
    r->totals.copies_dropped += nn_repl_sweep(r, &v, &r->copies, nn_repl_copy_failed,
                                              nn_repl_drop_copy);
    nn_repl_sweep(r, &v, &r->doomed, nn_repl_doomed_gone, nn_repl_drop_doomed);
    v.live_count = nn_dns_live_candidates(dns, now_ms, v.live);
    if (now_ms < r->opts.not_before_ms || !nn_repl_all_reported(&v))
        return;
    for (uint64_t i = 0; i < budget; i++) {
        if (!nn_blocks_next(bm, &r->cursor, &b)) {
            r->cursor = 0; /* the end of one pass: the next starts over */
            if (!nn_blocks_next(bm, &r->cursor, &b))
                break;
        }
        nn_repl_check(r, &v, &b);
    }
}
