/* Unit tests for namenode/nn_blocks: the block map records blocks, accepts replicas of the
 * right generation (and committed length), refuses unknown and stale ones, returns a removed
 * block's locations so they can be deleted, forgets a datanode's locations, and asserts on a
 * duplicate block id or one the namespace does not hold. Blocks are made through the
 * namespace (nn_ns_apply), which owns their generation, length and commit state. Pure. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_run.h"
#include "nn_blocks.h"
#include "nn_ns.h"

enum { BS = 1 << 20, T0 = 1000 };

static struct nn_ns ns;
static struct nn_blocks bm;

static void setup(void)
{
    nn_ns_init(&ns, T0);
    nn_blocks_init(&bm, &ns);
}

static void teardown(void)
{
    nn_blocks_fini(&bm);
    nn_ns_fini(&ns);
}

static struct wire_blk blk(uint64_t id, uint64_t gen)
{
    return (struct wire_blk){ id, gen };
}

static void apply_ok(const struct nn_op *op, struct nn_op_result *res)
{
    *res = (struct nn_op_result){ 0 };
    ck_assert_int_eq(nn_ns_apply(&ns, op, res), 0);
    nn_blk_list_fini(&res->freed);
}

/* A new open file `name` (replication rep) with one uncommitted block, also added to the map
 * as the namenode does; *ino_out gets the file. */
static struct wire_blk file_with_block(const char *name, uint16_t rep, uint64_t *ino_out)
{
    struct nn_op op = { .kind = NN_OP_CREATE, .now_ms = T0, .parent = NN_ROOT_INO,
                        .mode = 0644, .block_size = BS, .replication = rep };
    struct nn_op_result res;

    snprintf(op.name, sizeof(op.name), "%s", name);
    snprintf(op.client, sizeof(op.client), "c1");
    apply_ok(&op, &res);
    uint64_t ino = res.ino;
    op = (struct nn_op){ .kind = NN_OP_ADD_BLOCK, .now_ms = T0, .ino = ino };
    snprintf(op.client, sizeof(op.client), "c1");
    apply_ok(&op, &res);
    nn_blocks_add(&bm, res.blk.id, ino);
    if (ino_out)
        *ino_out = ino;
    return res.blk;
}

/* Commits file ino's last block b with len and closes the file. */
static void complete(uint64_t ino, struct wire_blk b, uint64_t len)
{
    struct nn_op op = { .kind = NN_OP_COMPLETE, .now_ms = T0, .ino = ino, .blk = b,
                        .blk_len = len };
    struct nn_op_result res;

    snprintf(op.client, sizeof(op.client), "c1");
    apply_ok(&op, &res);
}

static struct nn_blk get(uint64_t id)
{
    struct nn_blk b;

    ck_assert_int_eq(nn_blocks_get(&bm, id, &b), 0);
    return b;
}

static int has_loc(uint64_t id, uint16_t dn)
{
    struct nn_blk b = get(id);

    return nn_blk_has_loc(&b, dn);
}

START_TEST(test_nn_blocks_add_then_get)
{
    uint64_t ino;
    struct wire_blk b1 = file_with_block("f", 2, &ino);
    struct nn_blk b;

    ck_assert_int_eq(nn_blocks_get(&bm, b1.id, &b), 0);
    ck_assert_uint_eq(b.id, b1.id);
    ck_assert_uint_eq(b.gen, b1.gen);
    ck_assert_uint_eq(b.ino, ino);
    ck_assert_uint_eq(b.replication, 2);
    ck_assert_uint_eq(b.loc_count, 0);
    ck_assert_uint_eq(b.is_committed, 0);
    ck_assert(nn_blocks_has(&bm, b1.id));
    ck_assert_int_eq(nn_blocks_get(&bm, b1.id + 1, &b), -ENOENT);
    ck_assert_int_eq(nn_blocks_get(&bm, 0, &b), -ENOENT);
    ck_assert(!nn_blocks_has(&bm, 0));
    nn_blocks_assert_valid(&bm);
}
END_TEST

START_TEST(test_nn_blocks_remove_returns_locations)
{
    uint16_t locs[NN_LOCS_MAX];
    struct wire_blk b1 = file_with_block("f1", 3, NULL), b2 = file_with_block("f2", 3, NULL);

    ck_assert_int_eq(nn_blocks_on_replica(&bm, 4, b1, 100), 1);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 9, b1, 100), 1);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, b1, 100), 1);
    ck_assert_uint_eq(nn_blocks_remove(&bm, b1.id, locs), 3);
    unsigned mask = 0;
    for (size_t i = 0; i < 3; i++)
        mask |= 1u << locs[i];
    ck_assert_uint_eq(mask, (1u << 4) | (1u << 9) | (1u << 2));
    ck_assert(!nn_blocks_has(&bm, b1.id));
    ck_assert(nn_blocks_has(&bm, b2.id));
    ck_assert_uint_eq(nn_blocks_remove(&bm, b1.id, locs), 0); /* already gone */
    ck_assert_uint_eq(nn_blocks_remove(&bm, b2.id, locs), 0); /* no locations */
    ck_assert(!nn_blocks_has(&bm, b2.id));
}
END_TEST

START_TEST(test_nn_blocks_on_replica_accepts_matching_gen_once)
{
    struct wire_blk b1 = file_with_block("f", 3, NULL);

    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, b1, 12345), 1);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, b1, 12345), 1);
    ck_assert_uint_eq(get(b1.id).loc_count, 1);
    ck_assert(has_loc(b1.id, 1));
}
END_TEST

START_TEST(test_nn_blocks_on_replica_rejects_unknown_stale_and_wrong_length)
{
    uint64_t ino;
    struct wire_blk b1 = file_with_block("f", 3, &ino);

    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(b1.id + 1, b1.gen), 0), 0); /* unknown */
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(b1.id, b1.gen - 1), 0), 0); /* stale */
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(b1.id, b1.gen + 1), 0), 0); /* future */
    ck_assert_uint_eq(get(b1.id).loc_count, 0);
    /* Under construction any length is fine; once committed it must match. */
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, b1, 5), 1);
    complete(ino, b1, 4096);
    ck_assert_uint_eq(get(b1.id).is_committed, 1);
    ck_assert_uint_eq(get(b1.id).len, 4096);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, b1, 4095), 0);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, b1, 4097), 0);
    ck_assert(!has_loc(b1.id, 2));
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, b1, 4096), 1);
    ck_assert(has_loc(b1.id, 2));
}
END_TEST

START_TEST(test_nn_blocks_locations_are_capped)
{
    struct wire_blk b1 = file_with_block("f", 3, NULL);
    uint16_t locs[NN_LOCS_MAX];

    for (uint16_t dn = 0; dn < NN_LOCS_MAX + 3; dn++)
        ck_assert_int_eq(nn_blocks_on_replica(&bm, dn, b1, 1), 1);
    ck_assert_uint_eq(get(b1.id).loc_count, NN_LOCS_MAX);
    for (uint16_t dn = 0; dn < NN_LOCS_MAX; dn++)
        ck_assert(has_loc(b1.id, dn));
    nn_blocks_assert_valid(&bm);
    /* Locations past the inline ones survive drops in any order. */
    nn_blocks_drop_loc(&bm, 0, b1.id);
    nn_blocks_drop_loc(&bm, NN_LOCS_MAX - 1, b1.id);
    ck_assert_uint_eq(get(b1.id).loc_count, NN_LOCS_MAX - 2);
    for (uint16_t dn = 1; dn < NN_LOCS_MAX - 1; dn++)
        ck_assert(has_loc(b1.id, dn));
    nn_blocks_assert_valid(&bm);
    for (uint16_t dn = 1; dn < 4; dn++)
        nn_blocks_drop_loc(&bm, dn, b1.id);
    ck_assert_uint_eq(get(b1.id).loc_count, NN_LOCS_MAX - 5);
    nn_blocks_assert_valid(&bm);
    ck_assert_uint_eq(nn_blocks_remove(&bm, b1.id, locs), NN_LOCS_MAX - 5);
}
END_TEST

START_TEST(test_nn_blocks_drop_loc_and_drop_dn_and_count_on)
{
    struct wire_blk b[11];
    char name[16];
    uint64_t ino;

    for (uint64_t i = 1; i <= 10; i++) {
        snprintf(name, sizeof(name), "f%u", (unsigned)i);
        b[i] = file_with_block(name, 3, &ino);
        complete(ino, b[i], 1);
        nn_blocks_on_replica(&bm, 0, b[i], 1);
        if (i % 2 == 0)
            nn_blocks_on_replica(&bm, 1, b[i], 1);
        if (i <= 3)
            nn_blocks_on_replica(&bm, 2, b[i], 1);
    }
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 0), 10);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 1), 5);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 2), 3);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 3), 0);

    nn_blocks_drop_loc(&bm, 1, b[2].id);
    nn_blocks_drop_loc(&bm, 1, b[3].id); /* not there: no change */
    nn_blocks_drop_loc(&bm, 1, 99);      /* unknown block */
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 1), 4);
    ck_assert(!has_loc(b[2].id, 1));
    ck_assert(has_loc(b[2].id, 0));

    struct wire_blk open_blk = file_with_block("open", 3, NULL); /* being written */
    uint32_t target = 0;
    nn_blocks_expect(&bm, open_blk.id, &target, 1);
    nn_blocks_drop_dn(&bm, 0);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 0), 1); /* a full report cannot list it */
    ck_assert(has_loc(open_blk.id, 0));
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 1), 4);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 2), 3);
    ck_assert_uint_eq(get(b[1].id).loc_count, 1);
    ck_assert_uint_eq(get(b[5].id).loc_count, 0);
    /* The blocks themselves stay: only locations are soft state. */
    ck_assert(nn_blocks_has(&bm, b[5].id));
    nn_blocks_assert_valid(&bm);
}
END_TEST

START_TEST(test_nn_blocks_next_visits_every_block_once)
{
    char name[16];
    uint64_t seen = 0;
    size_t pos = 0;
    struct nn_blk b;

    for (unsigned i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "f%u", i);
        file_with_block(name, 3, NULL);
    }
    while (nn_blocks_next(&bm, &pos, &b)) {
        ck_assert_uint_ge(b.id, 1);
        ck_assert_uint_le(b.id, 40);
        ck_assert_uint_eq(seen & (1ULL << b.id), 0);
        seen |= 1ULL << b.id;
    }
    ck_assert_uint_eq(seen, ((1ULL << 41) - 1) & ~1ULL);
}
END_TEST

START_TEST(test_nn_blocks_add_duplicate_id_aborts)
{
    uint64_t ino;
    struct wire_blk b1 = file_with_block("f", 3, &ino);

    nn_blocks_add(&bm, b1.id, ino);
}
END_TEST

START_TEST(test_nn_blocks_add_id_zero_aborts)
{
    nn_blocks_add(&bm, 0, NN_ROOT_INO);
}
END_TEST

START_TEST(test_nn_blocks_add_of_block_unknown_to_namespace_aborts)
{
    uint64_t ino;
    struct wire_blk b1 = file_with_block("f", 3, &ino);

    nn_blocks_add(&bm, b1.id + 1, ino);
}
END_TEST

static Suite *nn_blocks_suite(void)
{
    Suite *s = suite_create("nn_blocks");
    TCase *tc = tcase_create("blocks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_blocks_add_then_get);
    tcase_add_test(tc, test_nn_blocks_remove_returns_locations);
    tcase_add_test(tc, test_nn_blocks_on_replica_accepts_matching_gen_once);
    tcase_add_test(tc, test_nn_blocks_on_replica_rejects_unknown_stale_and_wrong_length);
    tcase_add_test(tc, test_nn_blocks_locations_are_capped);
    tcase_add_test(tc, test_nn_blocks_drop_loc_and_drop_dn_and_count_on);
    tcase_add_test(tc, test_nn_blocks_next_visits_every_block_once);
    tcase_add_test_raise_signal(tc, test_nn_blocks_add_duplicate_id_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_nn_blocks_add_id_zero_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_nn_blocks_add_of_block_unknown_to_namespace_aborts,
                                SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nn_blocks_suite());
}
