/* Unit tests for namenode/nn_otab: inline entries and pointer entries keyed through the key
 * function, growth past many capacities, backward-shift deletion (checked against a plain
 * reference array after every step of a random sequence), iteration, and asserts on a
 * duplicate key or an empty entry. Pure. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "nn_otab.h"

struct pair {
    uint64_t key;
    uint64_t val;
};

static uint64_t pair_key(const void *e)
{
    const struct pair *p = e;
    return p->key;
}

static uint64_t ptr_key(const void *e)
{
    const struct pair *p;

    memcpy(&p, e, sizeof(p));
    return p->key;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

START_TEST(test_nn_otab_put_get_del_inline)
{
    struct nn_otab t;
    struct pair out;

    nn_otab_init(&t, sizeof(struct pair), pair_key);
    for (uint64_t k = 1; k <= 1000; k++) {
        struct pair p = { k, k * 10 };
        struct pair *stored = nn_otab_put(&t, &p);
        ck_assert_uint_eq(stored->val, k * 10);
    }
    ck_assert_uint_eq(t.count, 1000);
    ck_assert_uint_le(t.count * 5, t.cap * 4); /* load stays at most 4/5 */
    for (uint64_t k = 1; k <= 1000; k++)
        ck_assert_uint_eq(((struct pair *)nn_otab_get(&t, k))->val, k * 10);
    ck_assert_ptr_null(nn_otab_get(&t, 1001));
    ck_assert_int_eq(nn_otab_del(&t, 500, &out), 1);
    ck_assert_uint_eq(out.val, 5000);
    ck_assert_int_eq(nn_otab_del(&t, 500, &out), 0);
    ck_assert_ptr_null(nn_otab_get(&t, 500));
    ck_assert_uint_eq(t.count, 999);
    nn_otab_fini(&t);
}
END_TEST

/* Random puts and deletes over a small key range (long probe runs, many wrap-arounds) agree
 * with a reference presence array at every step. */
START_TEST(test_nn_otab_random_ops_match_reference)
{
    enum { KEYS = 300, STEPS = 20000 };
    static struct pair objs[KEYS + 1];
    uint8_t present[KEYS + 1] = { 0 };
    struct nn_otab t;
    size_t n = 0;

    nn_otab_init(&t, sizeof(struct pair *), ptr_key);
    for (uint64_t k = 1; k <= KEYS; k++)
        objs[k] = (struct pair){ k, k + 7 };
    for (int step = 0; step < STEPS; step++) {
        uint64_t k = 1 + rng_next() % KEYS;
        struct pair *p = &objs[k];
        if (present[k]) {
            ck_assert_int_eq(nn_otab_del(&t, k, NULL), 1);
            n--;
        } else {
            nn_otab_put(&t, &p);
            n++;
        }
        present[k] ^= 1;
        ck_assert_uint_eq(t.count, n);
        uint64_t probe = 1 + rng_next() % KEYS;
        struct pair **got = nn_otab_get(&t, probe);
        ck_assert_int_eq(got != NULL, present[probe]);
        if (got)
            ck_assert_ptr_eq(*got, &objs[probe]);
    }
    for (uint64_t k = 1; k <= KEYS; k++)
        ck_assert_int_eq(nn_otab_get(&t, k) != NULL, present[k]);
    nn_otab_fini(&t);
}
END_TEST

START_TEST(test_nn_otab_next_visits_each_entry_once)
{
    struct nn_otab t;
    uint8_t seen[201] = { 0 };
    size_t pos = 0, visits = 0;
    struct pair *e;

    nn_otab_init(&t, sizeof(struct pair), pair_key);
    for (uint64_t k = 1; k <= 200; k++)
        nn_otab_put(&t, &(struct pair){ k, 0 });
    while ((e = nn_otab_next(&t, &pos)) != NULL) {
        ck_assert_uint_eq(seen[e->key], 0);
        seen[e->key] = 1;
        visits++;
    }
    ck_assert_uint_eq(visits, 200);
    nn_otab_fini(&t);
}
END_TEST

START_TEST(test_nn_otab_put_duplicate_aborts)
{
    struct nn_otab t;

    nn_otab_init(&t, sizeof(struct pair), pair_key);
    nn_otab_put(&t, &(struct pair){ 3, 1 });
    nn_otab_put(&t, &(struct pair){ 3, 2 });
}
END_TEST

START_TEST(test_nn_otab_put_empty_entry_aborts)
{
    struct nn_otab t;

    nn_otab_init(&t, sizeof(struct pair), pair_key);
    nn_otab_put(&t, &(struct pair){ 0, 1 });
}
END_TEST

static Suite *nn_otab_suite(void)
{
    Suite *s = suite_create("nn_otab");
    TCase *tc = tcase_create("otab");
    tcase_add_test(tc, test_nn_otab_put_get_del_inline);
    tcase_add_test(tc, test_nn_otab_random_ops_match_reference);
    tcase_add_test(tc, test_nn_otab_next_visits_each_entry_once);
    tcase_add_test_raise_signal(tc, test_nn_otab_put_duplicate_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_nn_otab_put_empty_entry_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nn_otab_suite());
}
