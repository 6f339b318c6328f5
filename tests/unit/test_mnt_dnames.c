/* Unit tests of fuse/mnt_dnames: every name of directories this mount made, kept while the
 * namenode's answers show this mount's changes were the only ones, and answering "absent" only
 * within the timeout since the last answer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check_run.h"
#include "mnt_dnames.h"

enum { TTL = 1000 };

static struct wire_attr dir_at(uint64_t ino, uint64_t change)
{
    return (struct wire_attr){ .ino = ino, .mode = S_IFDIR | 0755, .nlink = 2,
                               .change = change };
}

static bool absent(struct mnt_dnames *d, uint64_t dir, const char *name, uint64_t now)
{
    uint64_t left = 0;

    return mnt_dnames_is_absent(d, dir, name, now, &left);
}

START_TEST(test_mnt_dnames_made_dir_is_empty_until_the_timeout)
{
    struct mnt_dnames d;
    struct wire_attr made = dir_at(10, 500);
    struct wire_attr file = { .ino = 11, .mode = S_IFREG | 0644 };
    uint64_t left = 0;

    mnt_dnames_init(&d, TTL);
    ck_assert(!absent(&d, 10, "a", 100)); /* not made here: unknown */
    mnt_dnames_made(&d, &made, 100);
    ck_assert(mnt_dnames_is_absent(&d, 10, "a", 100, &left));
    ck_assert_uint_eq(left, TTL);
    ck_assert(mnt_dnames_is_absent(&d, 10, "b", 100 + TTL - 1, &left));
    ck_assert_uint_eq(left, 1); /* the kernel may keep the negative entry only that long */
    ck_assert(!absent(&d, 10, "a", 100 + TTL)); /* unconfirmed for a whole timeout */
    ck_assert(!absent(&d, 10, "a", 99));        /* a clock before the answer: no guess */
    mnt_dnames_made(&d, &file, 100);            /* not a directory: ignored */
    ck_assert(!absent(&d, 11, "a", 100));
    mnt_dnames_fini(&d);
}
END_TEST

START_TEST(test_mnt_dnames_own_changes_keep_the_list)
{
    struct mnt_dnames d;
    struct wire_attr made = dir_at(10, 500);
    struct wire_attr after1 = dir_at(10, 501), after2 = dir_at(10, 502);
    struct wire_attr after3 = dir_at(10, 503);

    mnt_dnames_init(&d, TTL);
    mnt_dnames_made(&d, &made, 100);
    mnt_dnames_added(&d, &after1, "a", 200);
    mnt_dnames_added(&d, &after2, "b", 900);
    ck_assert(!absent(&d, 10, "a", 900));
    ck_assert(!absent(&d, 10, "b", 900));
    ck_assert(absent(&d, 10, "c", 1899)); /* the last answer (at 900) confirmed the list */
    mnt_dnames_removed(&d, &after3, "a", 1000);
    ck_assert(absent(&d, 10, "a", 1000));
    ck_assert(!absent(&d, 10, "b", 1000));
    mnt_dnames_fini(&d);
}
END_TEST

START_TEST(test_mnt_dnames_someone_elses_change_drops_the_dir)
{
    struct mnt_dnames d;
    struct wire_attr made = dir_at(10, 500), skipped = dir_at(10, 502);
    struct wire_attr restarted = dir_at(10, 7);

    mnt_dnames_init(&d, TTL);
    mnt_dnames_made(&d, &made, 100);
    mnt_dnames_added(&d, &skipped, "a", 200); /* another change came in between */
    ck_assert(!absent(&d, 10, "b", 200));
    mnt_dnames_made(&d, &made, 300);
    mnt_dnames_removed(&d, &restarted, "x", 400); /* the counter went elsewhere */
    ck_assert(!absent(&d, 10, "b", 400));
    mnt_dnames_made(&d, &made, 500);
    mnt_dnames_forget(&d, 10); /* a rename, or a refused or failed change */
    ck_assert(!absent(&d, 10, "b", 500));
    mnt_dnames_fini(&d);
}
END_TEST

/* A getattr or opendir answer confirms the list when the counter is unchanged, and drops it
 * when someone else changed the directory. */
START_TEST(test_mnt_dnames_seen_confirms_or_drops)
{
    struct mnt_dnames d;
    struct wire_attr made = dir_at(10, 500), other = dir_at(10, 501);

    mnt_dnames_init(&d, TTL);
    mnt_dnames_made(&d, &made, 100);
    mnt_dnames_seen(&d, &made, 900);
    ck_assert(absent(&d, 10, "a", 1899)); /* confirmed at 900 */
    mnt_dnames_seen(&d, &other, 1000);
    ck_assert(!absent(&d, 10, "a", 1000));
    mnt_dnames_seen(&d, &other, 1000); /* not kept: nothing to confirm */
    ck_assert(!absent(&d, 10, "a", 1000));
    mnt_dnames_fini(&d);
}
END_TEST

START_TEST(test_mnt_dnames_many_names_and_the_cap)
{
    struct mnt_dnames d;
    struct wire_attr a = dir_at(10, 0);
    char name[32];

    mnt_dnames_init(&d, TTL);
    mnt_dnames_made(&d, &a, 100);
    for (uint32_t i = 0; i < MNT_DNAMES_NAMES_MAX; i++) {
        snprintf(name, sizeof(name), "f%u", i);
        a.change++;
        mnt_dnames_added(&d, &a, name, 100);
    }
    for (uint32_t i = 0; i < MNT_DNAMES_NAMES_MAX; i += 997) {
        snprintf(name, sizeof(name), "f%u", i);
        ck_assert_msg(!absent(&d, 10, name, 100), "%s listed", name);
    }
    ck_assert(absent(&d, 10, "g1", 100));
    a.change++;
    mnt_dnames_added(&d, &a, "one-too-many", 100); /* past the cap: the dir is dropped */
    ck_assert(!absent(&d, 10, "g1", 100));
    mnt_dnames_fini(&d);
}
END_TEST

START_TEST(test_mnt_dnames_collisions_evict)
{
    struct mnt_dnames d;
    uint64_t kept = 0;

    mnt_dnames_init(&d, TTL);
    for (uint64_t ino = 1; ino <= 4 * MNT_DNAMES_SLOTS; ino++) {
        struct wire_attr a = dir_at(ino, 0);
        mnt_dnames_made(&d, &a, 100);
    }
    for (uint64_t ino = 1; ino <= 4 * MNT_DNAMES_SLOTS; ino++)
        kept += absent(&d, ino, "a", 100);
    ck_assert_uint_le(kept, MNT_DNAMES_SLOTS);
    ck_assert(absent(&d, 4 * MNT_DNAMES_SLOTS, "a", 100)); /* the last made is kept */
    mnt_dnames_fini(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mnt_dnames");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_mnt_dnames_made_dir_is_empty_until_the_timeout);
    tcase_add_test(tc, test_mnt_dnames_own_changes_keep_the_list);
    tcase_add_test(tc, test_mnt_dnames_someone_elses_change_drops_the_dir);
    tcase_add_test(tc, test_mnt_dnames_seen_confirms_or_drops);
    tcase_add_test(tc, test_mnt_dnames_many_names_and_the_cap);
    tcase_add_test(tc, test_mnt_dnames_collisions_evict);
    suite_add_tcase(s, tc);
    return check_run(s);
}
