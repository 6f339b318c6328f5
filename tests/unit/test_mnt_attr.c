/* Unit tests of fuse/mnt_attr: wire attr -> stat/entry, setattr, open and rename flags,
 * statfs. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "mnt_attr.h"

static struct wire_attr attr_sample(uint64_t size)
{
    return (struct wire_attr){.ino = 42, .mode = S_IFREG | 0640, .nlink = 1, .uid = 1000,
                              .gid = 100, .size = size, .atime_ms = 1700000000123ULL,
                              .mtime_ms = 1700000001999ULL, .ctime_ms = 5, .block_size = 64 << 20,
                              .replication = 3};
}

START_TEST(test_mnt_attr_to_stat_copies_identity_and_times)
{
    struct wire_attr a = attr_sample(10);
    struct stat st;

    mnt_attr_to_stat(&a, &st);
    ck_assert_uint_eq(st.st_ino, 42);
    ck_assert_uint_eq(st.st_mode, S_IFREG | 0640);
    ck_assert_uint_eq(st.st_nlink, 1);
    ck_assert_uint_eq(st.st_uid, 1000);
    ck_assert_uint_eq(st.st_gid, 100);
    ck_assert_int_eq(st.st_size, 10);
    ck_assert_int_eq(st.st_blksize, MNT_ATTR_BLKSIZE);
    ck_assert_int_eq(st.st_atim.tv_sec, 1700000000);
    ck_assert_int_eq(st.st_atim.tv_nsec, 123000000);
    ck_assert_int_eq(st.st_mtim.tv_sec, 1700000001);
    ck_assert_int_eq(st.st_mtim.tv_nsec, 999000000);
    ck_assert_int_eq(st.st_ctim.tv_sec, 0);
    ck_assert_int_eq(st.st_ctim.tv_nsec, 5000000);
}
END_TEST

static const struct {
    uint64_t size;
    int64_t blocks;
} blocks_cases[] = {{0, 0}, {1, 1}, {511, 1}, {512, 1}, {513, 2}, {1 << 20, 2048},
                    {(1ULL << 40) + 1, (1LL << 31) + 1}};

START_TEST(test_mnt_attr_to_stat_rounds_blocks_up)
{
    struct wire_attr a = attr_sample(blocks_cases[_i].size);
    struct stat st;

    mnt_attr_to_stat(&a, &st);
    ck_assert_int_eq(st.st_blocks, blocks_cases[_i].blocks);
}
END_TEST

START_TEST(test_mnt_attr_to_entry_uses_dfs_ino_and_timeout)
{
    struct wire_attr a = attr_sample(7);
    struct fuse_entry_param e;

    mnt_attr_to_entry(&a, 1.5, &e);
    ck_assert_uint_eq(e.ino, 42);
    ck_assert_uint_eq(e.generation, 0);
    ck_assert_double_eq(e.attr_timeout, 1.5);
    ck_assert_double_eq(e.entry_timeout, 1.5);
    ck_assert_uint_eq(e.attr.st_ino, 42);
    ck_assert_int_eq(e.attr.st_size, 7);
}
END_TEST

START_TEST(test_mnt_attr_ms_clamps_before_epoch)
{
    struct timespec ts = {.tv_sec = -5, .tv_nsec = 0};
    struct timespec ok = {.tv_sec = 3, .tv_nsec = 456789000};

    ck_assert_uint_eq(mnt_attr_ms(&ts), 0);
    ck_assert_uint_eq(mnt_attr_ms(&ok), 3456);
}
END_TEST

START_TEST(test_mnt_attr_setattr_maps_each_bit)
{
    struct stat st = {.st_mode = S_IFREG | 0600, .st_uid = 7, .st_gid = 8, .st_size = 0};
    struct wire_nn_setattr r;

    st.st_atim.tv_sec = 10;
    st.st_mtim.tv_sec = 20;
    mnt_attr_setattr_req(9, &st, FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |
                                     FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME |
                                     FUSE_SET_ATTR_MTIME,
                         999, &r);
    ck_assert_uint_eq(r.ino, 9);
    ck_assert_uint_eq(r.valid, WIRE_SET_MODE | WIRE_SET_UID | WIRE_SET_GID | WIRE_SET_SIZE |
                                   WIRE_SET_ATIME | WIRE_SET_MTIME);
    ck_assert_uint_eq(r.mode, S_IFREG | 0600);
    ck_assert_uint_eq(r.uid, 7);
    ck_assert_uint_eq(r.gid, 8);
    ck_assert_uint_eq(r.size, 0);
    ck_assert_uint_eq(r.atime_ms, 10000);
    ck_assert_uint_eq(r.mtime_ms, 20000);
}
END_TEST

START_TEST(test_mnt_attr_setattr_now_uses_now_ms)
{
    struct stat st;
    struct wire_nn_setattr r;

    memset(&st, 0, sizeof(st));
    mnt_attr_setattr_req(9, &st, FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW, 1234, &r);
    ck_assert_uint_eq(r.valid, WIRE_SET_ATIME | WIRE_SET_MTIME);
    ck_assert_uint_eq(r.atime_ms, 1234);
    ck_assert_uint_eq(r.mtime_ms, 1234);
}
END_TEST

START_TEST(test_mnt_attr_setattr_ignores_ctime_and_kill_bits)
{
    struct stat st;
    struct wire_nn_setattr r;

    memset(&st, 0, sizeof(st));
    mnt_attr_setattr_req(9, &st, FUSE_SET_ATTR_CTIME | FUSE_SET_ATTR_FORCE |
                                     FUSE_SET_ATTR_KILL_SUID,
                         1, &r);
    ck_assert_uint_eq(r.valid, 0);
}
END_TEST

static const struct {
    int flags;
    int rc;
    bool is_read, is_write, is_trunc, is_append;
    uint32_t wire_flags;
} open_cases[] = {
    {O_RDONLY, 0, true, false, false, false, 0},
    {O_WRONLY, 0, false, true, false, false, 0},
    {O_RDWR, 0, true, true, false, false, 0},
    {O_WRONLY | O_TRUNC | O_CREAT, 0, false, true, true, false, WIRE_OPEN_TRUNC},
    {O_RDWR | O_APPEND, 0, true, true, false, true, WIRE_OPEN_APPEND},
    {O_WRONLY | O_APPEND | O_TRUNC, 0, false, true, true, true, WIRE_OPEN_APPEND | WIRE_OPEN_TRUNC},
    {O_RDONLY | O_TRUNC, 0, true, false, true, false, WIRE_OPEN_TRUNC},
    {O_ACCMODE, -EINVAL, false, false, false, false, 0},
};

START_TEST(test_mnt_attr_open_mode_translates_flags)
{
    struct mnt_open_mode m = {.wire_flags = 77};
    int rc = mnt_attr_open_mode(open_cases[_i].flags, &m);

    ck_assert_int_eq(rc, open_cases[_i].rc);
    if (rc < 0) {
        ck_assert_uint_eq(m.wire_flags, 77); /* untouched on failure */
        return;
    }
    ck_assert_int_eq(m.is_read, open_cases[_i].is_read);
    ck_assert_int_eq(m.is_write, open_cases[_i].is_write);
    ck_assert_int_eq(m.is_trunc, open_cases[_i].is_trunc);
    ck_assert_int_eq(m.is_append, open_cases[_i].is_append);
    ck_assert_uint_eq(m.wire_flags, open_cases[_i].wire_flags);
}
END_TEST

START_TEST(test_mnt_attr_rename_flags_map_noreplace_and_refuse_exchange)
{
    uint32_t out = 99;

    ck_assert_int_eq(mnt_attr_rename_flags(0, &out), 0);
    ck_assert_uint_eq(out, 0);
    ck_assert_int_eq(mnt_attr_rename_flags(RENAME_NOREPLACE, &out), 0);
    ck_assert_uint_eq(out, WIRE_RENAME_NOREPLACE);
    out = 99;
    ck_assert_int_eq(mnt_attr_rename_flags(RENAME_EXCHANGE, &out), -EINVAL);
    ck_assert_int_eq(mnt_attr_rename_flags(RENAME_WHITEOUT, &out), -EINVAL);
    ck_assert_int_eq(mnt_attr_rename_flags(RENAME_NOREPLACE | RENAME_EXCHANGE, &out), -EINVAL);
    ck_assert_uint_eq(out, 99);
}
END_TEST

START_TEST(test_mnt_attr_statfs_converts_bytes_to_blocks)
{
    struct wire_nn_statfs_ok s = {.capacity = 10ULL << 30, .used = 1ULL << 30,
                                  .remaining = (9ULL << 30) + 100, .files = 1000};
    struct statvfs sv;

    mnt_attr_statfs(&s, &sv);
    ck_assert_uint_eq(sv.f_bsize, MNT_ATTR_BLKSIZE);
    ck_assert_uint_eq(sv.f_frsize, MNT_ATTR_BLKSIZE);
    ck_assert_uint_eq(sv.f_blocks, (10ULL << 30) / MNT_ATTR_BLKSIZE);
    ck_assert_uint_eq(sv.f_bfree, (9ULL << 30) / MNT_ATTR_BLKSIZE);
    ck_assert_uint_eq(sv.f_bavail, sv.f_bfree);
    ck_assert_uint_eq(sv.f_files, MNT_ATTR_FILES_MAX);
    ck_assert_uint_eq(sv.f_ffree, MNT_ATTR_FILES_MAX - 1000);
    ck_assert_uint_eq(sv.f_namemax, 255);
}
END_TEST

START_TEST(test_mnt_attr_statfs_never_reports_more_free_than_capacity)
{
    struct wire_nn_statfs_ok s = {.capacity = 1 << 20, .remaining = 5 << 20};
    struct statvfs sv;

    mnt_attr_statfs(&s, &sv);
    ck_assert_uint_le(sv.f_bfree, sv.f_blocks);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mnt_attr");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_mnt_attr_to_stat_copies_identity_and_times);
    tcase_add_loop_test(tc, test_mnt_attr_to_stat_rounds_blocks_up, 0,
                        sizeof(blocks_cases) / sizeof(blocks_cases[0]));
    tcase_add_test(tc, test_mnt_attr_to_entry_uses_dfs_ino_and_timeout);
    tcase_add_test(tc, test_mnt_attr_ms_clamps_before_epoch);
    tcase_add_test(tc, test_mnt_attr_setattr_maps_each_bit);
    tcase_add_test(tc, test_mnt_attr_setattr_now_uses_now_ms);
    tcase_add_test(tc, test_mnt_attr_setattr_ignores_ctime_and_kill_bits);
    tcase_add_loop_test(tc, test_mnt_attr_open_mode_translates_flags, 0,
                        sizeof(open_cases) / sizeof(open_cases[0]));
    tcase_add_test(tc, test_mnt_attr_rename_flags_map_noreplace_and_refuse_exchange);
    tcase_add_test(tc, test_mnt_attr_statfs_converts_bytes_to_blocks);
    tcase_add_test(tc, test_mnt_attr_statfs_never_reports_more_free_than_capacity);
    suite_add_tcase(s, tc);
    return check_run(s);
}
