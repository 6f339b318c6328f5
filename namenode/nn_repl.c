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

/* The corrupt replicas of one block. */
struct nn_repl_bad {
    uint64_t delete_after_ms; /* when their deletion may be ordered (again) */
    uint8_t count;
    uint16_t dns[NN_LOCS_MAX];
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
    u64map_init(&r->bad);
    r->in_flight = xcalloc(NN_DN_MAX, sizeof(*r->in_flight));
    r->cands = xmalloc(2 * (size_t)NN_DN_MAX * sizeof(*r->cands));
    r->cursor = 0;
}

static void nn_repl_forget(struct nn_repl *r, struct nn_repl_copy *c)
{
    ASSERT(r->in_flight[c->source] > 0);
    r->in_flight[c->source]--;
    u64map_del(&r->copies, c->blk_id);
    free(c);
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
    nn_repl_free_values(&r->bad);
    free(r->in_flight);
    free(r->cands);
    r->in_flight = NULL;
    r->cands = NULL;
}

size_t nn_repl_in_flight(const struct nn_repl *r)
{
    return r->copies.count;
}

void nn_repl_on_replica(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    struct nn_repl_copy *c = blk_id ? u64map_get(&r->copies, blk_id) : NULL;

    if (c && c->target == dn) {
        nn_repl_forget(r, c);
        r->totals.copies_done++;
    }
}

void nn_repl_note_corrupt(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    struct nn_repl_bad *bad = u64map_get(&r->bad, blk_id);

    if (!bad) {
        bad = xcalloc(1, sizeof(*bad));
        u64map_put(&r->bad, blk_id, bad);
    }
    if (!nn_repl_is_corrupt(r, blk_id, dn) && bad->count < NN_LOCS_MAX)
        bad->dns[bad->count++] = dn;
}

int nn_repl_is_corrupt(const struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    /* Reports name any id; 0 is never a block (and no key of the map). */
    const struct nn_repl_bad *bad = blk_id ? u64map_get(&r->bad, blk_id) : NULL;

    for (uint8_t i = 0; bad && i < bad->count; i++) {
        if (bad->dns[i] == dn)
            return 1;
    }
    return 0;
}

void nn_repl_forget_corrupt(struct nn_repl *r, uint64_t blk_id, uint16_t dn)
{
    struct nn_repl_bad *bad = blk_id ? u64map_get(&r->bad, blk_id) : NULL;

    for (uint8_t i = 0; bad && i < bad->count; i++) {
        if (bad->dns[i] == dn) {
            bad->dns[i] = bad->dns[--bad->count];
            break;
        }
    }
    if (bad && bad->count == 0)
        free(u64map_del(&r->bad, blk_id));
}

size_t nn_repl_corrupt_locs(const struct nn_repl *r, uint64_t blk_id, uint16_t *out)
{
    const struct nn_repl_bad *bad = u64map_get(&r->bad, blk_id);
    size_t n = bad ? bad->count : 0;

    for (size_t i = 0; i < n; i++)
        out[i] = bad->dns[i];
    return n;
}

static int nn_repl_copy_failed(const struct nn_repl_copy *c, const struct nn_repl_view *v)
{
    return v->now_ms >= c->deadline_ms || !nn_dns_is_live(v->dns, c->source, v->now_ms) ||
           !nn_dns_is_live(v->dns, c->target, v->now_ms) || !nn_blocks_has(v->bm, c->blk_id);
}

/* Forgets the copies that will not be reported: the block is looked at again by the scan. */
static void nn_repl_drop_failed(struct nn_repl *r, const struct nn_repl_view *v)
{
    struct nn_repl_copy **failed = xmalloc((r->copies.count + 1) * sizeof(*failed));
    size_t n = 0, pos = 0;
    struct u64map_slot *s;

    /* Collected first: deleting from the map during its iteration could skip entries. */
    while ((s = u64map_next(&r->copies, &pos)) != NULL) {
        if (nn_repl_copy_failed(s->val, v))
            failed[n++] = s->val;
    }
    for (size_t i = 0; i < n; i++)
        nn_repl_forget(r, failed[i]);
    r->totals.copies_dropped += n;
    free(failed);
}

/* Forgets the corrupt replicas of blocks that are gone (their files' deletes took them). */
static void nn_repl_drop_gone_bad(struct nn_repl *r, const struct nn_repl_view *v)
{
    uint64_t *gone = xmalloc((r->bad.count + 1) * sizeof(*gone));
    size_t n = 0, pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(&r->bad, &pos)) != NULL) {
        if (!nn_blocks_has(v->bm, s->key))
            gone[n++] = s->key;
    }
    for (size_t i = 0; i < n; i++)
        free(u64map_del(&r->bad, gone[i]));
    free(gone);
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

/* Whether dn holds a replica of b, good or corrupt. */
static int nn_repl_holds(const struct nn_repl *r, const struct nn_blk *b, uint32_t dn)
{
    for (uint8_t i = 0; i < b->loc_count; i++) {
        if (b->locs[i] == dn)
            return 1;
    }
    return nn_repl_is_corrupt(r, b->id, (uint16_t)dn);
}

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

/* A live datanode holding no replica of b (not even a dead one's), weighted by free space;
 * -1 if there is none. The hash is salted with the time so that a copy ordered again after a
 * failure can go elsewhere: like HDFS, a weighted random choice. */
static int nn_repl_pick_target(const struct nn_repl *r, const struct nn_repl_view *v,
                               const struct nn_blk *b)
{
    struct nn_place_cand *c = v->live + v->live_count; /* scratch after the live list */
    size_t n = 0;
    uint32_t chosen;

    for (size_t i = 0; i < v->live_count; i++) {
        if (!nn_repl_holds(r, b, v->live[i].idx))
            c[n++] = v->live[i];
    }
    if (n == 0 || nn_place_choose(c, n, u64map_mix(b->id ^ v->now_ms), 1, &chosen) == 0)
        return -1;
    return (int)chosen;
}

/* Orders the corrupt replicas of b deleted, at most once per timeout (the datanode's report
 * of the delete forgets them). */
static void nn_repl_delete_bad(struct nn_repl *r, const struct nn_repl_view *v,
                               const struct nn_blk *b)
{
    struct nn_repl_bad *bad = u64map_get(&r->bad, b->id);

    if (!bad || v->now_ms < bad->delete_after_ms)
        return;
    for (uint8_t i = 0; i < bad->count; i++)
        nn_dns_queue_delete(v->dns, bad->dns[i], (struct wire_blk){ b->id, b->gen });
    bad->delete_after_ms = v->now_ms + r->opts.timeout_ms;
    r->totals.corrupt_deletes_ordered += bad->count;
}

static void nn_repl_order_copy(struct nn_repl *r, const struct nn_repl_view *v,
                               const struct nn_blk *b, const uint16_t *live, size_t n)
{
    int source = nn_repl_pick_source(r, v, b->id, live, n);
    int target = source < 0 ? -1 : nn_repl_pick_target(r, v, b);
    struct wire_blk blk = { b->id, b->gen };

    if (source >= 0 && target < 0)
        nn_repl_delete_bad(r, v, b); /* a node with a corrupt replica may be the only target */
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

static int nn_repl_is_busy(const struct nn_repl_copy *c, uint16_t dn)
{
    return c && (c->source == dn || c->target == dn);
}

static double nn_repl_rank(const struct nn_repl_view *v, uint16_t dn, uint64_t blk_id)
{
    const struct nn_dn *d = &v->dns->v[dn];
    struct nn_place_cand cand = { .node_id = d->node_id, .weight = d->remaining, .idx = dn };

    return nn_place_score(&cand, blk_id);
}

static int nn_repl_all_reported(const struct nn_repl_view *v, const uint16_t *live, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v->dns->v[live[i]].is_reported)
            return 0;
    }
    return 1;
}

/* Deletes live replicas of b past its replication, the lowest ranked first. Not while a
 * holder's locations may be stale (it registered again and its full report has not ended):
 * a replica it lost would count, and a good one elsewhere would go. */
static void nn_repl_order_deletes(struct nn_repl *r, const struct nn_repl_view *v,
                                  const struct nn_blk *b, uint16_t *live, size_t n)
{
    const struct nn_repl_copy *c = u64map_get(&r->copies, b->id);

    if (!nn_repl_all_reported(v, live, n))
        return;
    for (; n > b->replication; n--) {
        size_t victim = n;
        for (size_t i = 0; i < n; i++) {
            if (nn_repl_is_busy(c, live[i]))
                continue;
            if (victim == n || nn_repl_rank(v, live[i], b->id) < nn_repl_rank(v, live[victim], b->id))
                victim = i;
        }
        if (victim == n)
            return;
        nn_dns_queue_delete(v->dns, live[victim], (struct wire_blk){ b->id, b->gen });
        nn_blocks_drop_loc(v->bm, live[victim], b->id);
        live[victim] = live[n - 1];
        r->totals.deletes_ordered++;
    }
}

static void nn_repl_check(struct nn_repl *r, const struct nn_repl_view *v, const struct nn_blk *b)
{
    uint16_t live[NN_LOCS_MAX];

    if (!b->is_committed)
        return; /* its pipeline is still writing it */
    size_t n = nn_repl_live_locs(v, b, live);
    if (n >= b->replication)
        nn_repl_delete_bad(r, v, b);
    if (n > b->replication)
        nn_repl_order_deletes(r, v, b, live, n);
    else if (n > 0 && n < b->replication && !u64map_get(&r->copies, b->id))
        nn_repl_order_copy(r, v, b, live, n);
}

void nn_repl_tick(struct nn_repl *r, struct nn_blocks *bm, struct nn_dns *dns, uint64_t now_ms)
{
    struct nn_repl_view v = { .bm = bm, .dns = dns, .now_ms = now_ms, .live = r->cands };
    uint64_t budget = bm->ns->blk_count < r->opts.scan_per_tick ? bm->ns->blk_count
                                                                 : r->opts.scan_per_tick;
    struct nn_blk b;

    if (now_ms < r->opts.not_before_ms)
        return;
    nn_repl_drop_failed(r, &v);
    nn_repl_drop_gone_bad(r, &v);
    v.live_count = nn_dns_live_candidates(dns, now_ms, v.live);
    for (uint64_t i = 0; i < budget; i++) {
        if (!nn_blocks_next(bm, &r->cursor, &b)) {
            r->cursor = 0; /* the end of one pass: the next starts over */
            if (!nn_blocks_next(bm, &r->cursor, &b))
                break;
        }
        nn_repl_check(r, &v, &b);
    }
}
