/* Unit tests for namenode/nn_place: weighted rendezvous placement chooses distinct nodes,
 * min(want, candidates) of them, best score first, independent of candidate order; a node of
 * twice the weight is first choice about twice as often; and adding an 11th node to 10 moves
 * only about 1/11 of the first choices, all of them to the new node. Pure. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "nn_place.h"

enum { NODES = 11, BLOCKS = 20000 };

static char ids[NODES][16];
static struct nn_place_cand cands[NODES];

/* Candidates 0..n-1 with equal weight w; idx = 100 + i so idx is not confused with i. */
static void make_cands(size_t n, uint64_t w)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "dn-%02zu", i);
        cands[i] = (struct nn_place_cand){ .node_id = ids[i], .weight = w,
                                           .idx = (uint32_t)(100 + i) };
    }
}

static double score_of_idx(size_t n, uint32_t idx, uint64_t blk)
{
    for (size_t i = 0; i < n; i++) {
        if (cands[i].idx == idx)
            return nn_place_score(&cands[i], blk);
    }
    ck_abort_msg("idx %u is not a candidate", idx);
    return 0;
}

START_TEST(test_nn_place_chooses_distinct_nodes_best_first)
{
    uint32_t out[10];

    make_cands(10, 1000);
    for (uint64_t blk = 1; blk <= 500; blk++) {
        ck_assert_uint_eq(nn_place_choose(cands, 10, blk, 3, out), 3);
        for (size_t a = 0; a < 3; a++) {
            ck_assert_uint_ge(out[a], 100);
            ck_assert_uint_lt(out[a], 110);
            for (size_t b = a + 1; b < 3; b++)
                ck_assert_uint_ne(out[a], out[b]);
        }
        /* Best first, and no unchosen node beats the last chosen one. */
        double s0 = score_of_idx(10, out[0], blk), s1 = score_of_idx(10, out[1], blk);
        double s2 = score_of_idx(10, out[2], blk);
        ck_assert(s0 >= s1 && s1 >= s2);
        for (size_t i = 0; i < 10; i++) {
            uint32_t idx = cands[i].idx;
            if (idx != out[0] && idx != out[1] && idx != out[2])
                ck_assert(nn_place_score(&cands[i], blk) <= s2);
        }
    }
}
END_TEST

START_TEST(test_nn_place_count_is_min_of_want_and_candidates)
{
    uint32_t out[16];

    make_cands(5, 1);
    ck_assert_uint_eq(nn_place_choose(cands, 2, 7, 3, out), 2);
    ck_assert_uint_ne(out[0], out[1]);
    ck_assert_uint_eq(nn_place_choose(cands, 0, 7, 3, out), 0);
    ck_assert_uint_eq(nn_place_choose(cands, 5, 7, 0, out), 0);
    ck_assert_uint_eq(nn_place_choose(cands, 1, 7, 3, out), 1);
    ck_assert_uint_eq(out[0], 100);
    /* want = count: a permutation of every candidate. */
    ck_assert_uint_eq(nn_place_choose(cands, 5, 7, 5, out), 5);
    uint32_t seen = 0;
    for (size_t i = 0; i < 5; i++)
        seen |= 1u << (out[i] - 100);
    ck_assert_uint_eq(seen, 0x1f);
    ck_assert_uint_eq(nn_place_choose(cands, 5, 7, 16, out), 5);
}
END_TEST

START_TEST(test_nn_place_is_deterministic_and_order_independent)
{
    uint32_t a[3], b[3], c[3];
    struct nn_place_cand rev[10];

    make_cands(10, 12345);
    for (size_t i = 0; i < 10; i++)
        rev[i] = cands[9 - i];
    for (uint64_t blk = 1; blk <= 300; blk++) {
        nn_place_choose(cands, 10, blk, 3, a);
        nn_place_choose(cands, 10, blk, 3, b);
        nn_place_choose(rev, 10, blk, 3, c);
        ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
        ck_assert_int_eq(memcmp(a, c, sizeof(a)), 0);
    }
    /* Different blocks spread over different first choices. */
    uint32_t firsts = 0;
    for (uint64_t blk = 1; blk <= 300; blk++) {
        nn_place_choose(cands, 10, blk, 1, a);
        firsts |= 1u << (a[0] - 100);
    }
    ck_assert_uint_eq(firsts, 0x3ff);
}
END_TEST

START_TEST(test_nn_place_score_is_positive_and_zero_weight_counts_as_one)
{
    make_cands(2, 0);
    struct nn_place_cand one = cands[0];
    one.weight = 1;
    for (uint64_t blk = 1; blk <= 1000; blk++) {
        double s = nn_place_score(&cands[0], blk);
        ck_assert(s > 0 && isfinite(s));
        ck_assert(s == nn_place_score(&one, blk));
    }
}
END_TEST

START_TEST(test_nn_place_double_weight_is_first_choice_twice_as_often)
{
    uint32_t firsts[10] = { 0 }, out[1];

    make_cands(10, 1000);
    cands[3].weight = 2000;
    for (uint64_t blk = 1; blk <= BLOCKS; blk++) {
        nn_place_choose(cands, 10, blk, 1, out);
        firsts[out[0] - 100]++;
    }
    /* Expected share w_i / sum(w): 2/11 for node 3 and 1/11 for each other node. */
    double others = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i != 3)
            others += firsts[i];
    }
    others /= 9;
    double ratio = firsts[3] / others;
    ck_assert_msg(ratio > 1.7 && ratio < 2.3, "ratio %.3f (node 3: %u, others avg %.1f)", ratio,
                  firsts[3], others);
    double want = BLOCKS * 2.0 / 11;
    ck_assert_msg(fabs(firsts[3] - want) < want * 0.1, "node 3 first for %u blocks", firsts[3]);
}
END_TEST

START_TEST(test_nn_place_adding_node_moves_about_one_eleventh)
{
    uint32_t before, after;
    unsigned moved = 0;

    make_cands(NODES, 1000);
    for (uint64_t blk = 1; blk <= BLOCKS; blk++) {
        nn_place_choose(cands, NODES - 1, blk, 1, &before);
        nn_place_choose(cands, NODES, blk, 1, &after);
        if (before != after) {
            moved++;
            ck_assert_uint_eq(after, 100 + NODES - 1); /* only ever to the new node */
        }
    }
    double frac = (double)moved / BLOCKS;
    ck_assert_msg(frac > 0.05 && frac < 0.15, "moved fraction %.4f", frac);
}
END_TEST

START_TEST(test_nn_place_want_above_64_aborts)
{
    uint32_t out[65];

    make_cands(10, 1);
    nn_place_choose(cands, 10, 1, 65, out);
}
END_TEST

static Suite *nn_place_suite(void)
{
    Suite *s = suite_create("nn_place");
    TCase *tc = tcase_create("place");
    tcase_add_test(tc, test_nn_place_chooses_distinct_nodes_best_first);
    tcase_add_test(tc, test_nn_place_count_is_min_of_want_and_candidates);
    tcase_add_test(tc, test_nn_place_is_deterministic_and_order_independent);
    tcase_add_test(tc, test_nn_place_score_is_positive_and_zero_weight_counts_as_one);
    tcase_add_test(tc, test_nn_place_double_weight_is_first_choice_twice_as_often);
    tcase_add_test(tc, test_nn_place_adding_node_moves_about_one_eleventh);
    tcase_add_test_raise_signal(tc, test_nn_place_want_above_64_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nn_place_suite());
}
