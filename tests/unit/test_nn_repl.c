/* Unit tests for namenode/nn_repl, the replication monitor, seen the way the datanodes see
 * it: through their heartbeats' commands, with the namenode driven by nn_rpc_dispatch() (the
 * harness of test_nn_harness.h) and the monitor by nn_repl_tick() at a clock the test moves.
 * Copies of under-replicated blocks (one per block, a limit per source, deadlines, dead ends),
 * excess replicas deleted (never below the replication, never a copy's source or target, not
 * while a holder's report is outstanding, not twice after a stale report), corrupt replicas
 * (dropped, replaced, then deleted), and the copy queue. */

#include "test_nn_harness.h"

/* A scene: a file is written while some datanodes are registered, so that its holders are
 * known (a pipeline's targets are its block's locations), and the others join afterwards as
 * spare targets. The clock moves only in advance() and the monitor runs only in tick(), so
 * every command a datanode is given is accounted for. Masks of datanodes name them by bit. */
enum { DN_A = 1, DN_B = 2, DN_C = 4, DN_D = 8, DN_E = 16 };
enum { REPL_LEN = 4096 }; /* every block's length: any datanode has room for a copy */

static void tick(void)
{
    nn_repl_tick(&st.repl, &st.blocks, &st.dns, st.now_ms);
}

static unsigned bit(int dn)
{
    return 1u << dn;
}

static void full_report(struct nn_session *s, const struct wire_blk_len *e, uint32_t n)
{
    ck_assert_uint_eq(
        dn_blocks(s, WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST | WIRE_REPORT_LAST, e, n), 0);
}

/* A datanode reports one replica, as it does once a write or a copy has finalized it. */
static void received(struct nn_session *s, struct wire_blk blk, uint64_t len)
{
    struct wire_blk_len e = { .blk = blk, .len = len };

    ck_assert_uint_eq(dn_blocks(s, WIRE_DN_BLOCK_RECEIVED, 0, &e, 1), 0);
}

/* The datanodes in mask register and send their full report (an empty disk), so that their
 * locations are trusted for excess deletion. */
static void join(struct nn_session *dn, unsigned mask)
{
    for (int i = 0; i < DN_COUNT; i++) {
        if (mask & bit(i)) {
            datanode(&dn[i], i);
            full_report(&dn[i], NULL, 0);
        }
    }
}

/* cl writes file name of count blocks of REPL_LEN bytes to the live datanodes and commits
 * it; its blocks go to blks. Returns its inode. */
static uint64_t write_file(struct nn_session *cl, const char *name, uint32_t count,
                           struct wire_blk *blks)
{
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;
    struct wire_blk prev = no_blk;

    ck_assert_uint_eq(create(cl, NN_ROOT_INO, name, &ino), 0);
    for (uint32_t i = 0; i < count; i++) {
        ck_assert_uint_eq(add_block(cl, ino, prev, i ? REPL_LEN : 0, &r, &ab), 0);
        reply_fini(&r);
        blks[i] = prev = ab.blk;
    }
    ck_assert_uint_eq(complete(cl, ino, prev, REPL_LEN, &a), 0);
    return ino;
}

/* Moves the clock ms on in steps short enough for the datanodes in mask to stay live: each
 * heartbeats after every step and must be given nothing (no tick ran). The others are
 * silent, and dead once DEAD_MS has passed since their last heartbeat. */
static void advance(struct nn_session *dn, unsigned mask, uint64_t ms)
{
    struct wire_blk cmds[1];

    while (ms > 0) {
        uint64_t step = ms < DEAD_MS / 2 ? ms : DEAD_MS / 2;
        st.now_ms += step;
        ms -= step;
        for (int i = 0; i < DN_COUNT; i++) {
            if (mask & bit(i))
                ck_assert_uint_eq(heartbeat(&dn[i], cmds, 1), 0);
        }
    }
}

/* The live locations a reader of ino's first block is given (NN_GET_BLOCKS), each once. */
static unsigned located_on(struct nn_session *cl, uint64_t ino)
{
    struct reply r;
    struct wire_nn_get_blocks_ok gb;
    struct wire_located_blk lb;
    unsigned mask = 0;

    get_blocks(cl, ino, &r, &gb);
    ck_assert_uint_ge(gb.count, 1);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    for (uint32_t i = 0; i < lb.loc_count; i++)
        mask |= bit(dn_of(&lb.locs[i]));
    ck_assert_int_eq(__builtin_popcount(mask), lb.loc_count);
    reply_fini(&r);
    return mask;
}

/* Heartbeats every datanode in mask: exactly one of them must be given exactly one command,
 * returned; *from says which. */
static struct hb_cmd one_cmd(struct nn_session *dn, unsigned mask, int *from)
{
    struct hb_cmd got = { 0 }, c[8];
    uint32_t total = 0;

    for (int i = 0; i < DN_COUNT; i++) {
        uint32_t n = mask & bit(i) ? heartbeat_cmds(&dn[i], c, 8) : 0;
        if (n > 0) {
            got = c[0];
            *from = i;
        }
        total += n;
    }
    ck_assert_uint_eq(total, 1);
    return got;
}

/* Heartbeats every datanode in mask: each may be given one DELETE of blk, nothing else.
 * Returns the mask of those that were. */
static unsigned deletes_of(struct nn_session *dn, unsigned mask, struct wire_blk blk)
{
    struct hb_cmd c[8];
    unsigned got = 0;

    for (int i = 0; i < DN_COUNT; i++) {
        if (!(mask & bit(i)) || heartbeat_cmds(&dn[i], c, 8) == 0)
            continue;
        ck_assert_uint_eq(c[0].kind, WIRE_CMD_DELETE);
        ck_assert_uint_eq(c[0].blk.id, blk.id);
        ck_assert_uint_eq(c[0].blk.gen, blk.gen);
        got |= bit(i);
    }
    return got;
}

static void assert_replicate(struct hb_cmd c, struct wire_blk blk, int target)
{
    ck_assert_uint_eq(c.kind, WIRE_CMD_REPLICATE);
    ck_assert_uint_eq(c.blk.id, blk.id);
    ck_assert_uint_eq(c.blk.gen, blk.gen);
    ck_assert_uint_eq(c.len, blk_get(blk.id).len); /* the committed length */
    ck_assert_int_eq(c.target, target);
}

static void assert_repl(uint64_t ordered, uint64_t done, uint64_t dropped, uint64_t deletes,
                        size_t in_flight)
{
    ck_assert_uint_eq(st.repl.totals.copies_ordered, ordered);
    ck_assert_uint_eq(st.repl.totals.copies_done, done);
    ck_assert_uint_eq(st.repl.totals.copies_dropped, dropped);
    ck_assert_uint_eq(st.repl.totals.deletes_ordered, deletes);
    ck_assert_uint_eq(nn_repl_in_flight(&st.repl), in_flight);
}

/* The datanode of mask that excess deletion ranks lowest for block id: by nn_place's score of
 * node id and block alone (nn_repl.c), the same at every look. */
static int lowest_ranked(unsigned mask, uint64_t id)
{
    int low = -1;
    double low_score = 0;

    for (int i = 0; i < DN_COUNT; i++) {
        struct nn_place_cand c = { .node_id = st.dns.v[i].node_id, .weight = 1 };
        double score = nn_place_score(&c, id);
        if ((mask & bit(i)) && (low < 0 || score < low_score)) {
            low = i;
            low_score = score;
        }
    }
    ck_assert_int_ge(low, 0);
    return low;
}

/* dn-a, dn-b and dn-c hold the block (*blk) of file "f" (its inode is returned), and a
 * fourth replica turns up on dn-d (say, from an earlier pipeline): one too many. */
static uint64_t four_replicas(struct nn_session *dn, struct nn_session *cl, struct wire_blk *blk)
{
    join(dn, DN_A | DN_B | DN_C);
    client(cl, "c1");
    uint64_t ino = write_file(cl, "f", 1, blk);
    join(dn, DN_D);
    received(&dn[3], *blk, REPL_LEN);
    ck_assert_uint_eq(located_on(cl, ino), DN_A | DN_B | DN_C | DN_D);
    return ino;
}

/* The usual scene: dn-a, dn-b and dn-c hold the one block (*blk) of file "f" (its inode is
 * returned); the spares join; then dn-c dies. */
static uint64_t holder_dies(struct nn_session *dn, struct nn_session *cl, unsigned spares,
                            struct wire_blk *blk)
{
    join(dn, DN_A | DN_B | DN_C);
    client(cl, "c1");
    uint64_t ino = write_file(cl, "f", 1, blk);
    ck_assert_uint_eq(located_on(cl, ino), DN_A | DN_B | DN_C);
    join(dn, spares);
    advance(dn, DN_A | DN_B | spares, DEAD_MS + 1);
    return ino;
}

START_TEST(test_nn_repl_dead_holder_is_replaced_by_one_copy)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source;

    uint64_t ino = holder_dies(dn, &cl, DN_D, &blk);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B);
    tick();
    assert_repl(1, 0, 0, 0, 1);
    tick(); /* a block has one copy in flight at a time */
    assert_repl(1, 0, 0, 0, 1);
    /* The order goes to one live holder; dn-d, the only live node without a replica, is the
     * target. */
    struct hb_cmd c = one_cmd(dn, DN_A | DN_B | DN_D, &source);
    ck_assert(bit(source) & (DN_A | DN_B));
    assert_replicate(c, blk, 3);
    ck_assert_uint_eq(c.len, REPL_LEN);
    /* Only the target's report of the replica completes the copy, not the source's. */
    received(&dn[source], blk, REPL_LEN);
    assert_repl(1, 0, 0, 0, 1);
    received(&dn[3], blk, REPL_LEN);
    assert_repl(1, 1, 0, 0, 0);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_D);
    /* Whole again: nothing more is ordered, and nobody is given anything. */
    tick();
    assert_repl(1, 1, 0, 0, 0);
    advance(dn, DN_A | DN_B | DN_D, 1);
}
END_TEST

/* After a namenode start the locations are unknown until the datanodes report: before
 * not_before_ms a block that looks under-replicated is left alone. */
START_TEST(test_nn_repl_idle_before_not_before_ms)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;

    holder_dies(dn, &cl, DN_D, &blk);
    st.repl.opts.not_before_ms = st.now_ms + 1000;
    tick();
    advance(dn, DN_A | DN_B | DN_D, 999);
    tick();
    assert_repl(0, 0, 0, 0, 0);
    advance(dn, DN_A | DN_B | DN_D, 1);
    tick();
    assert_repl(1, 0, 0, 0, 1);
}
END_TEST

/* A block still being written is left to its writer: no copy, though a pipeline node died.
 * Once committed it is copied like any other. */
START_TEST(test_nn_repl_uncommitted_block_is_not_copied)
{
    struct nn_session dn[DN_COUNT], cl;
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    join(dn, DN_A | DN_B | DN_C);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    reply_fini(&r);
    join(dn, DN_D);
    advance(dn, DN_A | DN_B | DN_D, DEAD_MS + 1);
    tick();
    assert_repl(0, 0, 0, 0, 0);
    ck_assert_uint_eq(complete(&cl, ino, ab.blk, REPL_LEN, &a), 0);
    tick();
    assert_repl(1, 0, 0, 0, 1);
}
END_TEST

/* A source copies at most streams_per_dn (2) blocks at once: with five blocks on dn-a alone,
 * two copies are ordered, and a third only once one of them is done. */
START_TEST(test_nn_repl_copies_per_source_are_limited)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blks[5];
    struct hb_cmd c[8];
    const unsigned others = DN_B | DN_C | DN_D | DN_E;

    join(dn, DN_A);
    client(&cl, "c1");
    write_file(&cl, "f", 5, blks);
    join(dn, others);
    tick();
    tick(); /* the limit holds across ticks */
    assert_repl(2, 0, 0, 0, 2);
    ck_assert_uint_eq(st.repl.in_flight[0], 2);
    ck_assert_uint_eq(heartbeat_cmds(&dn[0], c, 8), 2);
    ck_assert_uint_ne(c[0].blk.id, c[1].blk.id);
    assert_replicate(c[0], c[0].blk, c[0].target);
    assert_replicate(c[1], c[1].blk, c[1].target);
    advance(dn, others, 1); /* only dn-a holds anything to copy */
    received(&dn[c[0].target], c[0].blk, REPL_LEN);
    assert_repl(2, 1, 0, 0, 1);
    ck_assert_uint_eq(st.repl.in_flight[0], 1);
    tick();
    ck_assert_uint_eq(st.repl.in_flight[0], 2); /* its freed stream is used again */
    for (int i = 0; i < DN_COUNT; i++)
        ck_assert_uint_le(st.repl.in_flight[i], 2);
    uint64_t in_flight_id = c[1].blk.id;
    ck_assert_uint_eq(heartbeat_cmds(&dn[0], c, 8), 1);
    ck_assert_uint_eq(c[0].kind, WIRE_CMD_REPLICATE);
    ck_assert_uint_ne(c[0].blk.id, in_flight_id); /* one copy per block at a time */
}
END_TEST

/* A copy not reported within timeout_ms is forgotten and ordered again. */
START_TEST(test_nn_repl_copy_not_reported_in_time_is_ordered_again)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source;
    const unsigned live = DN_A | DN_B | DN_D | DN_E;

    holder_dies(dn, &cl, DN_D | DN_E, &blk);
    tick();
    struct hb_cmd c = one_cmd(dn, live, &source);
    ck_assert(bit(c.target) & (DN_D | DN_E));
    advance(dn, live, 60000 - 1);
    tick();
    assert_repl(1, 0, 0, 0, 1);
    advance(dn, live, 1);
    tick();
    ck_assert_uint_eq(st.repl.totals.copies_dropped, 1);
    tick(); /* the block is ordered again (this tick or the one before) */
    assert_repl(2, 0, 1, 0, 1);
    c = one_cmd(dn, live, &source);
    ck_assert(bit(source) & (DN_A | DN_B));
    ck_assert(bit(c.target) & (DN_D | DN_E));
    assert_replicate(c, blk, c.target);
}
END_TEST

/* A copy whose target or source dies is forgotten at the next tick and ordered again between
 * live nodes; one whose block is gone is forgotten for good. */
START_TEST(test_nn_repl_copy_with_a_dead_end_is_ordered_again)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source;
    unsigned live = DN_A | DN_B | DN_D | DN_E;

    holder_dies(dn, &cl, DN_D | DN_E, &blk);
    tick();
    struct hb_cmd c = one_cmd(dn, live, &source);
    int spare = c.target == 3 ? 4 : 3;
    live &= ~bit(c.target);
    advance(dn, live, DEAD_MS + 1); /* the target dies */
    tick();
    ck_assert_uint_eq(st.repl.totals.copies_dropped, 1);
    tick();
    assert_repl(2, 0, 1, 0, 1);
    c = one_cmd(dn, live, &source);
    assert_replicate(c, blk, spare);
    live &= ~bit(source);
    advance(dn, live, DEAD_MS + 1); /* now the source dies */
    tick();
    ck_assert_uint_eq(st.repl.totals.copies_dropped, 2);
    tick();
    assert_repl(3, 0, 2, 0, 1);
    int holder = source == 0 ? 1 : 0;
    c = one_cmd(dn, live, &source);
    ck_assert_int_eq(source, holder);
    assert_replicate(c, blk, spare);
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_UNLINK, NN_ROOT_INO, "f"), 0);
    tick();
    assert_repl(3, 0, 3, 0, 0);
}
END_TEST

/* Nothing can be done for a block that every live node already holds, nor for one with no
 * live replica: no order, no crash. */
START_TEST(test_nn_repl_without_target_or_source_orders_nothing)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;

    join(dn, DN_A);
    client(&cl, "c1");
    ck_assert_uint_eq(located_on(&cl, write_file(&cl, "g", 1, &blk)), DN_A);
    join(dn, DN_B | DN_C);
    ck_assert_uint_eq(located_on(&cl, write_file(&cl, "f", 1, &blk)), DN_A | DN_B | DN_C);
    advance(dn, DN_B, DEAD_MS + 1); /* f: dn-b only live, nowhere to go; g: lost */
    tick();
    assert_repl(0, 0, 0, 0, 0);
    advance(dn, DN_B, 1);
}
END_TEST

/* The fourth live replica of a block is ordered deleted on the lowest-ranked holder and stops
 * being a location at once, so that no reader goes there. */
START_TEST(test_nn_repl_excess_replica_is_deleted_once)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    const unsigned all = DN_A | DN_B | DN_C | DN_D;

    uint64_t ino = four_replicas(dn, &cl, &blk);
    int victim = lowest_ranked(all, blk.id);
    tick();
    assert_repl(0, 0, 0, 1, 0);
    ck_assert_uint_eq(located_on(&cl, ino), all & ~bit(victim));
    ck_assert_uint_eq(deletes_of(dn, all, blk), bit(victim));
    tick();
    assert_repl(0, 0, 0, 1, 0);
    advance(dn, all, 1);
}
END_TEST

/* A holder that registered again may have lost replicas while away: until its full report
 * ends its locations are not trusted, and no excess replica is deleted on their strength. */
START_TEST(test_nn_repl_excess_waits_for_reregistered_holders_report)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    const unsigned all = DN_A | DN_B | DN_C | DN_D;

    uint64_t ino = four_replicas(dn, &cl, &blk);
    datanode(&dn[1], 1); /* dn-b registers again: its location stays, unconfirmed */
    tick();
    struct wire_blk_len e = { .blk = blk, .len = REPL_LEN };
    ck_assert_uint_eq(dn_blocks(&dn[1], WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST, &e, 1), 0);
    tick(); /* its report has begun, not ended */
    assert_repl(0, 0, 0, 0, 0);
    advance(dn, all, 1);
    ck_assert_uint_eq(dn_blocks(&dn[1], WIRE_DN_BLOCK_REPORT, WIRE_REPORT_LAST, NULL, 0), 0);
    tick();
    assert_repl(0, 0, 0, 1, 0);
    ck_assert_uint_eq(__builtin_popcount(located_on(&cl, ino)), 3);
    ck_assert_uint_eq(__builtin_popcount(deletes_of(dn, all, blk)), 1);
}
END_TEST

/* A replica ordered deleted as excess is not counted again when a full report that the datanode
 * sent before carrying out the delete lists it: no second replica is deleted. */
START_TEST(test_nn_repl_excess_delete_survives_a_stale_report)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    const unsigned all = DN_A | DN_B | DN_C | DN_D;
    uint64_t ino = four_replicas(dn, &cl, &blk);

    tick();
    int victim = __builtin_ctz(all & ~located_on(&cl, ino));
    struct wire_blk_len e = { .blk = blk, .len = REPL_LEN };
    full_report(&dn[victim], &e, 1); /* sent before it took the DELETE */
    for (int i = 0; i < 4; i++) /* free space moved meanwhile */
        st.dns.v[i].remaining = i == victim ? 1ull << 40 : 1000;
    tick();
    ck_assert_uint_eq(st.repl.totals.deletes_ordered, 1);
    ck_assert_uint_eq(deletes_of(dn, all, blk) & ~bit(victim), 0);
    ck_assert_uint_eq(located_on(&cl, ino), all & ~bit(victim));
}
END_TEST

/* Between the frames of a full report split in several (a datanode with more than
 * WIRE_BLOCKS_MAX replicas) its locations are missing: no copy is ordered on that basis. */
START_TEST(test_nn_repl_no_copy_in_the_middle_of_a_full_report)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk f, g;

    join(dn, DN_A | DN_B | DN_C);
    client(&cl, "c1");
    write_file(&cl, "f", 1, &f);
    write_file(&cl, "g", 1, &g);
    join(dn, DN_D);
    struct wire_blk_len e1 = { .blk = g, .len = REPL_LEN }, e2 = { .blk = f, .len = REPL_LEN };
    ck_assert_uint_eq(dn_blocks(&dn[0], WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST, &e1, 1), 0);
    tick();
    ck_assert_uint_eq(dn_blocks(&dn[0], WIRE_DN_BLOCK_REPORT, WIRE_REPORT_LAST, &e2, 1), 0);
    assert_repl(0, 0, 0, 0, 0);
}
END_TEST

/* Excess deletion never takes the source or the target of a copy in flight, even when they
 * rank lowest: the copy would fail, or leave fewer replicas than planned. */
START_TEST(test_nn_repl_excess_spares_the_copys_source_and_target)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source;
    const unsigned all = DN_A | DN_B | DN_C | DN_D | DN_E;

    uint64_t ino = holder_dies(dn, &cl, DN_D | DN_E, &blk);
    tick();
    struct hb_cmd c = one_cmd(dn, all & ~DN_C, &source);
    int target = c.target, other = target == 3 ? 4 : 3;
    /* dn-c comes back with its replica, and another turns up on the other spare: 4 live. */
    struct wire_blk_len e = { .blk = blk, .len = REPL_LEN };
    join(dn, DN_C);
    full_report(&dn[2], &e, 1);
    full_report(&dn[other], &e, 1);
    assert_repl(1, 0, 0, 0, 1);
    /* The target recorded as a holder while its copy is still in flight: no message does that
     * today (its report completes the copy); recorded directly to check the rule anyway. */
    ck_assert_int_eq(nn_blocks_on_replica(&st.blocks, (uint16_t)target, blk, REPL_LEN), 1);
    ck_assert_uint_eq(located_on(&cl, ino), all);
    /* Two of the five go. The scene is meant to have the source or the target among the two
     * lowest ranked, so that only the rule spares it. */
    int low = lowest_ranked(all, blk.id);
    unsigned two_lowest = bit(low) | bit(lowest_ranked(all & ~bit(low), blk.id));
    ck_assert_uint_ne(two_lowest & (bit(source) | bit(target)), 0);
    unsigned rest = all & ~bit(source) & ~bit(target);
    int first = lowest_ranked(rest, blk.id);
    int second = lowest_ranked(rest & ~bit(first), blk.id);
    tick();
    assert_repl(1, 0, 0, 2, 1);
    ck_assert_uint_eq(deletes_of(dn, all, blk), bit(first) | bit(second));
    ck_assert_uint_eq(located_on(&cl, ino), all & ~bit(first) & ~bit(second));
}
END_TEST

/* A datanode's queue of copies is bounded; copies are handed out before deletes, as they
 * restore a replica while deletes can wait. */
START_TEST(test_nn_repl_copy_queue_is_bounded_and_comes_first)
{
    struct nn_session dn[DN_COUNT];
    static struct hb_cmd c[NN_DN_COPIES_MAX + 8];
    struct wire_dn_cmd out[2];

    join(dn, DN_A | DN_B);
    nn_dns_queue_delete(&st.dns, 0, (struct wire_blk){ 999, 1 });
    for (uint64_t i = 1; i <= NN_DN_COPIES_MAX; i++)
        ck_assert_int_eq(nn_dns_queue_copy(&st.dns, 0, (struct wire_blk){ i, 1 }, 10 * i, 1), 0);
    ck_assert_int_eq(nn_dns_queue_copy(&st.dns, 0, (struct wire_blk){ 100, 1 }, 10, 1), -ENOSPC);
    ck_assert_uint_eq(heartbeat_cmds(&dn[0], c, NN_DN_COPIES_MAX + 8), NN_DN_COPIES_MAX + 1);
    for (uint32_t i = 0; i < NN_DN_COPIES_MAX; i++) {
        ck_assert_uint_eq(c[i].kind, WIRE_CMD_REPLICATE);
        ck_assert_uint_eq(c[i].blk.id, i + 1);
        ck_assert_uint_eq(c[i].len, 10 * (i + 1));
        ck_assert_int_eq(c[i].target, 1);
    }
    ck_assert_uint_eq(c[NN_DN_COPIES_MAX].kind, WIRE_CMD_DELETE);
    ck_assert_uint_eq(c[NN_DN_COPIES_MAX].blk.id, 999);
    /* Handed out, the queue has room again; a short take still gives the copy first. */
    nn_dns_queue_delete(&st.dns, 0, (struct wire_blk){ 7, 1 });
    ck_assert_int_eq(nn_dns_queue_copy(&st.dns, 0, (struct wire_blk){ 8, 1 }, 10, 1), 0);
    ck_assert_uint_eq(nn_dns_take_cmds(&st.dns, 0, out, 1), 1);
    ck_assert_uint_eq(out[0].kind, WIRE_CMD_REPLICATE);
    ck_assert_uint_eq(out[0].blk.id, 8);
    ck_assert(addr_is(&out[0].target, "dn-b"));
    ck_assert_uint_eq(nn_dns_take_cmds(&st.dns, 0, out, 2), 1);
    ck_assert_uint_eq(out[0].kind, WIRE_CMD_DELETE);
    ck_assert_uint_eq(out[0].blk.id, 7);
}
END_TEST

/* ---- corrupt replicas ---- */

/* A datanode reports a replica a read found a bad chunk in. */
static void corrupt(struct nn_session *s, struct wire_blk blk)
{
    struct wire_blk_len e = { .blk = blk, .len = REPL_LEN };

    ck_assert_uint_eq(dn_blocks(s, WIRE_DN_BLOCK_CORRUPT, 0, &e, 1), 0);
}

/* The datanode a reader of ino's first block is offered last. */
static int located_last(struct nn_session *cl, uint64_t ino)
{
    struct reply r;
    struct wire_nn_get_blocks_ok gb;
    struct wire_located_blk lb;

    get_blocks(cl, ino, &r, &gb);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    ck_assert_uint_ge(lb.loc_count, 1);
    int last = dn_of(&lb.locs[lb.loc_count - 1]);
    reply_fini(&r);
    return last;
}

/* dn-a, dn-b and dn-c hold the block (*blk) of file "f" (its inode is returned), the spares
 * in mask have joined, and every node has reported. */
static uint64_t three_replicas(struct nn_session *dn, struct nn_session *cl, unsigned spares,
                               struct wire_blk *blk)
{
    join(dn, DN_A | DN_B | DN_C);
    client(cl, "c1");
    uint64_t ino = write_file(cl, "f", 1, blk);
    join(dn, spares);
    ck_assert_uint_eq(located_on(cl, ino), DN_A | DN_B | DN_C);
    return ino;
}

/* A corrupt replica is offered to readers last at once (other chunks of it may still be
 * needed), is replaced by a copy from a good one (not onto its own node, which still has its
 * files), and is deleted once the block has its three good replicas; a report listing it
 * before the delete does not make it a good location again. */
START_TEST(test_nn_repl_corrupt_replica_is_replaced_then_deleted)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source;

    uint64_t ino = three_replicas(dn, &cl, DN_D, &blk);
    corrupt(&dn[0], blk);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C);
    ck_assert_int_eq(located_last(&cl, ino), 0);
    ck_assert(nn_repl_is_doomed(&st.repl, blk.id, 0));
    tick();
    struct hb_cmd c = one_cmd(dn, DN_A | DN_B | DN_C | DN_D, &source);
    ck_assert(bit(source) & (DN_B | DN_C));
    assert_replicate(c, blk, 3);
    ck_assert_uint_eq(st.repl.totals.corrupt_deletes_ordered, 0); /* not before the copy */
    received(&dn[3], blk, REPL_LEN);
    tick();
    ck_assert_uint_eq(deletes_of(dn, DN_A | DN_B | DN_C | DN_D, blk), DN_A);
    ck_assert_uint_eq(st.repl.totals.corrupt_deletes_ordered, 1);
    struct wire_blk_len e = { .blk = blk, .len = REPL_LEN };
    full_report(&dn[0], &e, 1); /* the delete has not run yet */
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C | DN_D);
    ck_assert_int_eq(located_last(&cl, ino), 0);
    tick();
    ck_assert_uint_eq(deletes_of(dn, DN_A | DN_B | DN_C | DN_D, blk), 0); /* once per timeout */
    ck_assert_uint_eq(dn_blocks(&dn[0], WIRE_DN_BLOCK_DELETED, 0, &e, 1), 0);
    ck_assert(!nn_repl_is_doomed(&st.repl, blk.id, 0));
    ck_assert_uint_eq(located_on(&cl, ino), DN_B | DN_C | DN_D);
    assert_repl(1, 1, 0, 0, 0);
}
END_TEST

/* With as many datanodes as replicas, the node with the corrupt replica is the only possible
 * target: its replica is deleted first, and a good one copied there once it confirms. */
START_TEST(test_nn_repl_corrupt_replica_in_the_way_is_deleted_first)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source;

    uint64_t ino = three_replicas(dn, &cl, 0, &blk);
    corrupt(&dn[2], blk);
    tick();
    ck_assert_uint_eq(deletes_of(dn, DN_A | DN_B | DN_C, blk), DN_C);
    assert_repl(0, 0, 0, 0, 0);
    struct wire_blk_len e = { .blk = blk, .len = 0 };
    ck_assert_uint_eq(dn_blocks(&dn[2], WIRE_DN_BLOCK_DELETED, 0, &e, 1), 0);
    tick();
    struct hb_cmd c = one_cmd(dn, DN_A | DN_B | DN_C, &source);
    ck_assert(bit(source) & (DN_A | DN_B));
    assert_replicate(c, blk, 2);
    received(&dn[2], blk, REPL_LEN);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C);
    assert_repl(1, 1, 0, 0, 0);
}
END_TEST

/* With one good replica left in a cluster of three datanodes, the corrupt replicas are in
 * the way of the only targets, but they stay: the good one is good only until a read finds
 * it bad, and then the corrupt ones may hold the only good copy of some chunk. */
START_TEST(test_nn_repl_corrupt_replicas_stay_while_one_good_one_is_left)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;

    uint64_t ino = three_replicas(dn, &cl, 0, &blk);
    corrupt(&dn[0], blk);
    corrupt(&dn[1], blk);
    tick();
    tick();
    ck_assert_uint_eq(deletes_of(dn, DN_A | DN_B | DN_C, blk), 0);
    assert_repl(0, 0, 0, 0, 0);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C);
    ck_assert_int_ne(located_last(&cl, ino), 2); /* the good one comes first */
}
END_TEST

/* A copy's source that finds its replica corrupt fails the copy: it is ordered again at
 * once from another holder, not after the copy's timeout. */
START_TEST(test_nn_repl_copy_from_a_corrupt_source_is_ordered_again)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    int source, source2;

    holder_dies(dn, &cl, DN_D, &blk);
    tick();
    assert_replicate(one_cmd(dn, DN_A | DN_B | DN_D, &source), blk, 3);
    corrupt(&dn[source], blk);
    assert_repl(1, 0, 1, 0, 0);
    tick();
    assert_replicate(one_cmd(dn, DN_A | DN_B | DN_D, &source2), blk, 3);
    ck_assert_int_ne(source2, source);
    assert_repl(2, 0, 1, 0, 1);
}
END_TEST

/* When every replica is corrupt, readers are still offered them (each may be good where the
 * others are not), and nothing is copied or deleted: there is no good source. */
START_TEST(test_nn_repl_corrupt_replicas_are_offered_when_no_good_one_is_left)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;

    uint64_t ino = three_replicas(dn, &cl, DN_D, &blk);
    corrupt(&dn[0], blk);
    corrupt(&dn[1], blk);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C);
    corrupt(&dn[2], blk);
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C);
    tick();
    tick();
    ck_assert_uint_eq(deletes_of(dn, DN_A | DN_B | DN_C | DN_D, blk), 0);
    assert_repl(0, 0, 0, 0, 0);
    ck_assert_uint_eq(st.repl.totals.corrupt_deletes_ordered, 0);
}
END_TEST

/* A corrupt report from a node that is no location, or of another generation, changes
 * nothing. */
START_TEST(test_nn_repl_corrupt_report_of_no_location_is_ignored)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;

    uint64_t ino = three_replicas(dn, &cl, DN_D, &blk);
    corrupt(&dn[3], blk);
    corrupt(&dn[0], (struct wire_blk){ blk.id, blk.gen + 1 });
    ck_assert(!nn_repl_is_doomed(&st.repl, blk.id, 3));
    ck_assert(!nn_repl_is_doomed(&st.repl, blk.id, 0));
    ck_assert_uint_eq(located_on(&cl, ino), DN_A | DN_B | DN_C);
    tick();
    assert_repl(0, 0, 0, 0, 0);
}
END_TEST

/* ---- registrations, stalls, removed blocks ---- */

/* A datanode that registers again loses the commands still queued for it (its full report
 * brings up what to delete again); a doomed replica's delete is ordered again then, and only
 * then: never twice to one registration, where a second delete could hit a copy made there
 * after the first. */
START_TEST(test_nn_repl_delete_ordered_again_only_after_a_new_registration)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    struct hb_cmd c[8];
    const unsigned all = DN_A | DN_B | DN_C | DN_D;

    four_replicas(dn, &cl, &blk);
    int victim = lowest_ranked(all, blk.id);
    tick();
    assert_repl(0, 0, 0, 1, 0);
    datanode(&dn[victim], victim); /* before its heartbeat took the delete */
    ck_assert_uint_eq(heartbeat_cmds(&dn[victim], c, 8), 0);
    tick(); /* its full report has not come: nothing is ordered meanwhile */
    ck_assert_uint_eq(heartbeat_cmds(&dn[victim], c, 8), 0);
    struct wire_blk_len e = { .blk = blk, .len = REPL_LEN };
    full_report(&dn[victim], &e, 1); /* still on its disk; doomed, so no location */
    tick();
    ck_assert_uint_eq(deletes_of(dn, all, blk), bit(victim));
    /* Not confirmed for long after: still not ordered a second time. */
    advance(dn, all, 3 * st.repl.opts.timeout_ms);
    tick();
    tick();
    ck_assert_uint_eq(deletes_of(dn, all, blk), 0);
}
END_TEST

/* The namenode's own stall (a long checkpoint) looks like every datanode's silence: the first
 * look after a gap of more than half the dead time drops nobody, the next one drops only the
 * nodes still silent, and a dropped node's heartbeat is refused so that it registers again. */
START_TEST(test_nn_repl_own_stall_drops_no_datanode)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;
    struct wire_blk none[1];

    three_replicas(dn, &cl, 0, &blk);
    tick();
    st.now_ms += DEAD_MS + 1; /* nothing read for that long */
    tick();
    ck_assert_uint_eq(st.repl.totals.dns_dropped, 0);
    ck_assert_uint_eq(heartbeat(&dn[0], none, 1), 0); /* what came meanwhile is read */
    ck_assert_uint_eq(heartbeat(&dn[1], none, 1), 0);
    st.now_ms += 1;
    tick();
    ck_assert_uint_eq(st.repl.totals.dns_dropped, 1); /* dn-c stayed silent */
    struct wire_dn_heartbeat m = { .capacity = 1000000, .remaining = 998000 };
    struct buf b;
    buf_init(&b);
    wire_dn_heartbeat_encode(&b, &m);
    ck_assert_uint_ne(call_status(&dn[2], WIRE_DN_HEARTBEAT, &b), 0);
    buf_fini(&b);
    datanode(&dn[2], 2);
    ck_assert_uint_eq(heartbeat(&dn[2], none, 1), 0);
}
END_TEST

/* Removing a file orders its block deleted on every node with a replica of it: the
 * locations, and the corrupt replica that was no location any more. */
START_TEST(test_nn_repl_removed_block_deletes_its_corrupt_replica_too)
{
    struct nn_session dn[DN_COUNT], cl;
    struct wire_blk blk;

    three_replicas(dn, &cl, 0, &blk);
    corrupt(&dn[0], blk);
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_UNLINK, NN_ROOT_INO, "f"), 0);
    ck_assert_uint_eq(deletes_of(dn, DN_A | DN_B | DN_C, blk), DN_A | DN_B | DN_C);
    tick(); /* the monitor forgets the gone block's doomed replica */
    ck_assert(!nn_repl_is_doomed(&st.repl, blk.id, 0));
}
END_TEST

static Suite *nn_repl_suite(void)
{
    Suite *s = suite_create("nn_repl");
    TCase *tc = tcase_create("replication");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_repl_dead_holder_is_replaced_by_one_copy);
    tcase_add_test(tc, test_nn_repl_idle_before_not_before_ms);
    tcase_add_test(tc, test_nn_repl_uncommitted_block_is_not_copied);
    tcase_add_test(tc, test_nn_repl_copies_per_source_are_limited);
    tcase_add_test(tc, test_nn_repl_copy_not_reported_in_time_is_ordered_again);
    tcase_add_test(tc, test_nn_repl_copy_with_a_dead_end_is_ordered_again);
    tcase_add_test(tc, test_nn_repl_without_target_or_source_orders_nothing);
    tcase_add_test(tc, test_nn_repl_excess_replica_is_deleted_once);
    tcase_add_test(tc, test_nn_repl_excess_waits_for_reregistered_holders_report);
    tcase_add_test(tc, test_nn_repl_excess_delete_survives_a_stale_report);
    tcase_add_test(tc, test_nn_repl_no_copy_in_the_middle_of_a_full_report);
    tcase_add_test(tc, test_nn_repl_excess_spares_the_copys_source_and_target);
    tcase_add_test(tc, test_nn_repl_copy_queue_is_bounded_and_comes_first);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_repl_corrupt_replica_is_replaced_then_deleted);
    tcase_add_test(tc, test_nn_repl_corrupt_replica_in_the_way_is_deleted_first);
    tcase_add_test(tc, test_nn_repl_corrupt_replicas_stay_while_one_good_one_is_left);
    tcase_add_test(tc, test_nn_repl_copy_from_a_corrupt_source_is_ordered_again);
    tcase_add_test(tc, test_nn_repl_corrupt_replicas_are_offered_when_no_good_one_is_left);
    tcase_add_test(tc, test_nn_repl_corrupt_report_of_no_location_is_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_create("registrations");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_repl_delete_ordered_again_only_after_a_new_registration);
    tcase_add_test(tc, test_nn_repl_own_stall_drops_no_datanode);
    tcase_add_test(tc, test_nn_repl_removed_block_deletes_its_corrupt_replica_too);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nn_repl_suite());
}
