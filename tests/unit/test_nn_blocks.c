/* Unit tests for namenode/nn_blocks: the block map records blocks, accepts replicas of the
 * right generation (and committed length), refuses unknown and stale ones, returns a removed
 * block's locations so they can be deleted, forgets a datanode's locations, and asserts on a
 * duplicate block id. Pure. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>

#include "nn_blocks.h"

static struct nn_blocks bm;

static void setup(void)
{
    nn_blocks_init(&bm);
}

static void teardown(void)
{
    nn_blocks_fini(&bm);
}

static struct wire_blk blk(uint64_t id, uint64_t gen)
{
    return (struct wire_blk){ id, gen };
}

static int has_loc(const struct nn_blk *b, uint16_t dn)
{
    for (uint8_t i = 0; i < b->loc_count; i++) {
        if (b->locs[i] == dn)
            return 1;
    }
    return 0;
}

START_TEST(test_nn_blocks_add_then_get)
{
    struct nn_blk *b = nn_blocks_add(&bm, blk(5, 3), 77, 2);

    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_eq(nn_blocks_get(&bm, 5), b);
    ck_assert_uint_eq(b->id, 5);
    ck_assert_uint_eq(b->gen, 3);
    ck_assert_uint_eq(b->ino, 77);
    ck_assert_uint_eq(b->replication, 2);
    ck_assert_uint_eq(b->loc_count, 0);
    ck_assert_uint_eq(b->is_committed, 0);
    ck_assert_ptr_null(nn_blocks_get(&bm, 6));
    ck_assert_ptr_null(nn_blocks_get(&bm, 0));
}
END_TEST

START_TEST(test_nn_blocks_remove_returns_locations)
{
    uint16_t locs[NN_LOCS_MAX];

    nn_blocks_add(&bm, blk(1, 1), 10, 3);
    nn_blocks_add(&bm, blk(2, 1), 10, 3);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 4, blk(1, 1), 100), 1);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 9, blk(1, 1), 100), 1);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, blk(1, 1), 100), 1);
    ck_assert_uint_eq(nn_blocks_remove(&bm, 1, locs), 3);
    unsigned mask = 0;
    for (size_t i = 0; i < 3; i++)
        mask |= 1u << locs[i];
    ck_assert_uint_eq(mask, (1u << 4) | (1u << 9) | (1u << 2));
    ck_assert_ptr_null(nn_blocks_get(&bm, 1));
    ck_assert_ptr_nonnull(nn_blocks_get(&bm, 2));
    ck_assert_uint_eq(nn_blocks_remove(&bm, 1, locs), 0); /* already gone */
    ck_assert_uint_eq(nn_blocks_remove(&bm, 2, locs), 0); /* no locations */
    ck_assert_ptr_null(nn_blocks_get(&bm, 2));
}
END_TEST

START_TEST(test_nn_blocks_on_replica_accepts_matching_gen_once)
{
    struct nn_blk *b = nn_blocks_add(&bm, blk(7, 2), 10, 3);

    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(7, 2), 12345), 1);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(7, 2), 12345), 1);
    ck_assert_uint_eq(b->loc_count, 1);
    ck_assert(has_loc(b, 1));
}
END_TEST

START_TEST(test_nn_blocks_on_replica_rejects_unknown_stale_and_wrong_length)
{
    struct nn_blk *b = nn_blocks_add(&bm, blk(7, 2), 10, 3);

    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(8, 2), 0), 0);  /* unknown */
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(7, 1), 0), 0);  /* stale gen */
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(7, 3), 0), 0);  /* future gen */
    ck_assert_uint_eq(b->loc_count, 0);
    /* Under construction any length is fine; once committed it must match. */
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 1, blk(7, 2), 5), 1);
    b->is_committed = 1;
    b->len = 4096;
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, blk(7, 2), 4095), 0);
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, blk(7, 2), 4097), 0);
    ck_assert(!has_loc(b, 2));
    ck_assert_int_eq(nn_blocks_on_replica(&bm, 2, blk(7, 2), 4096), 1);
    ck_assert(has_loc(b, 2));
}
END_TEST

START_TEST(test_nn_blocks_locations_are_capped)
{
    struct nn_blk *b = nn_blocks_add(&bm, blk(3, 1), 10, 3);

    for (uint16_t dn = 0; dn < NN_LOCS_MAX + 3; dn++)
        ck_assert_int_eq(nn_blocks_on_replica(&bm, dn, blk(3, 1), 1), 1);
    ck_assert_uint_eq(b->loc_count, NN_LOCS_MAX);
}
END_TEST

START_TEST(test_nn_blocks_drop_loc_and_drop_dn_and_count_on)
{
    for (uint64_t id = 1; id <= 10; id++) {
        nn_blocks_add(&bm, blk(id, 1), 10, 3);
        nn_blocks_on_replica(&bm, 0, blk(id, 1), 1);
        if (id % 2 == 0)
            nn_blocks_on_replica(&bm, 1, blk(id, 1), 1);
        if (id <= 3)
            nn_blocks_on_replica(&bm, 2, blk(id, 1), 1);
    }
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 0), 10);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 1), 5);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 2), 3);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 3), 0);

    nn_blocks_drop_loc(&bm, 1, 2);
    nn_blocks_drop_loc(&bm, 1, 3);  /* not there: no change */
    nn_blocks_drop_loc(&bm, 1, 99); /* unknown block */
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 1), 4);
    ck_assert(!has_loc(nn_blocks_get(&bm, 2), 1));
    ck_assert(has_loc(nn_blocks_get(&bm, 2), 0));

    nn_blocks_drop_dn(&bm, 0);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 0), 0);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 1), 4);
    ck_assert_uint_eq(nn_blocks_count_on(&bm, 2), 3);
    ck_assert_uint_eq(nn_blocks_get(&bm, 1)->loc_count, 1);
    ck_assert_uint_eq(nn_blocks_get(&bm, 5)->loc_count, 0);
    /* The blocks themselves stay: only locations are soft state. */
    ck_assert_ptr_nonnull(nn_blocks_get(&bm, 5));
}
END_TEST

START_TEST(test_nn_blocks_add_duplicate_id_aborts)
{
    nn_blocks_add(&bm, blk(1, 1), 10, 3);
    nn_blocks_add(&bm, blk(1, 2), 11, 3);
}
END_TEST

START_TEST(test_nn_blocks_add_id_zero_aborts)
{
    nn_blocks_add(&bm, blk(0, 1), 10, 3);
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
    tcase_add_test_raise_signal(tc, test_nn_blocks_add_duplicate_id_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_nn_blocks_add_id_zero_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nn_blocks_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
