/* Unit tests of fuse/mnt_dattr: the attributes of directories this mount just changed,
 * served until they expire, never replaced by an older answer, forgotten on demand. */
#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check_run.h"
#include "mnt_dattr.h"

static struct wire_attr dir_attr(uint64_t ino, uint64_t ctime_ms, uint32_t nlink)
{
    return (struct wire_attr){ .ino = ino, .mode = S_IFDIR | 0755, .nlink = nlink,
                               .mtime_ms = ctime_ms, .ctime_ms = ctime_ms };
}

START_TEST(test_mnt_dattr_serves_until_expiry)
{
    struct mnt_dattr d;
    struct wire_attr a = dir_attr(7, 1000, 2), got;
    uint64_t left = 0;

    mnt_dattr_init(&d, 1000);
    ck_assert(!mnt_dattr_get(&d, 7, 50, &got, &left));
    mnt_dattr_put(&d, &a, 100);
    ck_assert(mnt_dattr_get(&d, 7, 100, &got, &left));
    ck_assert_uint_eq(left, 1000);
    ck_assert_uint_eq(got.ctime_ms, 1000);
    ck_assert_uint_eq(got.nlink, 2);
    ck_assert(mnt_dattr_get(&d, 7, 1099, &got, &left));
    ck_assert_uint_eq(left, 1); /* the kernel may keep it only for what is left */
    ck_assert(!mnt_dattr_get(&d, 7, 1100, &got, &left)); /* the kernel's own timeout */
    ck_assert(!mnt_dattr_get(&d, 8, 100, &got, &left));
    mnt_dattr_fini(&d);
}
END_TEST

START_TEST(test_mnt_dattr_keeps_only_directories)
{
    struct mnt_dattr d;
    uint64_t left;
    struct wire_attr f = { .ino = 9, .mode = S_IFREG | 0644, .ctime_ms = 5 }, got;
    struct wire_attr none = dir_attr(0, 5, 2);

    mnt_dattr_init(&d, 1000);
    mnt_dattr_put(&d, &f, 0);
    ck_assert(!mnt_dattr_get(&d, 9, 0, &got, &left));
    mnt_dattr_put(&d, &none, 0);
    ck_assert(!mnt_dattr_get(&d, 0, 0, &got, &left));
    mnt_dattr_fini(&d);
}
END_TEST

/* Two creates in one directory answered out of order: the later change's attributes stay. */
START_TEST(test_mnt_dattr_older_answer_does_not_replace_newer)
{
    struct mnt_dattr d;
    uint64_t left;
    struct wire_attr newer = dir_attr(7, 2000, 3), older = dir_attr(7, 1500, 2), got;

    mnt_dattr_init(&d, 1000);
    mnt_dattr_put(&d, &newer, 10);
    mnt_dattr_put(&d, &older, 20);
    ck_assert(mnt_dattr_get(&d, 7, 20, &got, &left));
    ck_assert_uint_eq(got.ctime_ms, 2000);
    ck_assert_uint_eq(got.nlink, 3);
    struct wire_attr same_ms = dir_attr(7, 2000, 4); /* same millisecond: the later answer */
    mnt_dattr_put(&d, &same_ms, 30);
    ck_assert(mnt_dattr_get(&d, 7, 30, &got, &left));
    ck_assert_uint_eq(got.nlink, 4);
    mnt_dattr_fini(&d);
}
END_TEST

START_TEST(test_mnt_dattr_forget_and_collisions)
{
    struct mnt_dattr d;
    uint64_t left;
    struct wire_attr a = dir_attr(7, 1000, 2), got;

    mnt_dattr_init(&d, 1000);
    mnt_dattr_put(&d, &a, 0);
    mnt_dattr_forget(&d, 8); /* another inode: no effect */
    ck_assert(mnt_dattr_get(&d, 7, 0, &got, &left));
    mnt_dattr_forget(&d, 7);
    ck_assert(!mnt_dattr_get(&d, 7, 0, &got, &left));
    /* More directories than slots: each lookup returns its own inode's attributes or none. */
    for (uint64_t ino = 1; ino <= 3 * MNT_DATTR_SLOTS; ino++) {
        struct wire_attr x = dir_attr(ino, ino, 2);
        mnt_dattr_put(&d, &x, 0);
    }
    for (uint64_t ino = 1; ino <= 3 * MNT_DATTR_SLOTS; ino++) {
        if (mnt_dattr_get(&d, ino, 0, &got, &left))
            ck_assert_uint_eq(got.ino, ino);
    }
    mnt_dattr_fini(&d);
}
END_TEST

START_TEST(test_mnt_dattr_any_keeps_files_in_its_slots)
{
    struct mnt_dattr d;
    uint64_t left;
    struct wire_attr f = { .ino = 9, .mode = S_IFREG | 0600, .uid = 7, .ctime_ms = 5 }, got;
    struct wire_attr dir = dir_attr(10, 5, 2);

    mnt_dattr_init_any(&d, 1000, 3);
    mnt_dattr_put(&d, &f, 0);
    mnt_dattr_put(&d, &dir, 0);
    ck_assert(mnt_dattr_get(&d, 9, 999, &got, &left));
    ck_assert_uint_eq(got.mode, S_IFREG | 0600);
    ck_assert_uint_eq(got.uid, 7);
    ck_assert(!mnt_dattr_get(&d, 9, 1000, &got, &left));
    /* Three slots: of seven inodes put, a later one evicts an earlier one at the same slot. */
    for (uint64_t ino = 100; ino < 107; ino++) {
        struct wire_attr a = { .ino = ino, .mode = S_IFREG | 0644, .ctime_ms = 5 };
        mnt_dattr_put(&d, &a, 2000);
    }
    int kept = 0;
    for (uint64_t ino = 100; ino < 107; ino++)
        kept += mnt_dattr_get(&d, ino, 2000, &got, &left);
    ck_assert_int_le(kept, 3);
    ck_assert_int_ge(kept, 1);
    mnt_dattr_fini(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mnt_dattr");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_mnt_dattr_serves_until_expiry);
    tcase_add_test(tc, test_mnt_dattr_keeps_only_directories);
    tcase_add_test(tc, test_mnt_dattr_older_answer_does_not_replace_newer);
    tcase_add_test(tc, test_mnt_dattr_forget_and_collisions);
    tcase_add_test(tc, test_mnt_dattr_any_keeps_files_in_its_slots);
    suite_add_tcase(s, tc);
    return check_run(s);
}
