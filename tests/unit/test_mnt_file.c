/* Unit tests of fuse/mnt_file, the per-inode shared writer table, against a fake libdfs writer
 * (the five dfs_writer functions mnt_file calls are defined below). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_run.h"
#include "err.h"
#include "mnt_file.h"

/* ---- fake libdfs ---- */

struct dfs_writer {
    uint64_t ino;
    uint64_t size;
    uint64_t committed;
};

static struct {
    uint64_t committed[16]; /* committed size per ino (the "namenode") */
    int open_count;
    int close_count;
    int flush_count;
    int sync_count;
    int open_rc;            /* next dfs_open_write result */
    uint32_t last_flags;
} fake;

int dfs_open_write(struct dfs_client *c, uint64_t ino, uint32_t flags, struct dfs_writer **out)
{
    struct dfs_writer *w;

    (void)c;
    fake.last_flags = flags;
    if (fake.open_rc < 0)
        return fake.open_rc;
    if (flags & WIRE_OPEN_TRUNC)
        fake.committed[ino] = 0;
    w = calloc(1, sizeof(*w));
    w->ino = ino;
    w->size = fake.committed[ino];
    fake.open_count++;
    *out = w;
    return 0;
}

ssize_t dfs_writer_write(struct dfs_writer *w, const void *data, size_t len, uint64_t offset)
{
    (void)data;
    if (offset != w->size)
        return -EOPNOTSUPP;
    w->size += len;
    return (ssize_t)len;
}

int dfs_writer_flush(struct dfs_writer *w)
{
    fake.flush_count++;
    fake.committed[w->ino] = w->size;
    return 0;
}

int dfs_writer_sync(struct dfs_writer *w)
{
    fake.sync_count++;
    fake.committed[w->ino] = w->size;
    return 0;
}

uint64_t dfs_writer_size(const struct dfs_writer *w)
{
    return w->size;
}

int dfs_writer_close(struct dfs_writer *w)
{
    int rc = dfs_writer_flush(w);

    fake.close_count++;
    free(w);
    return rc;
}

/* ---- tests ---- */

static struct mnt_files files;

static void setup(void)
{
    memset(&fake, 0, sizeof(fake));
    mnt_files_init(&files, NULL);
}

static void teardown(void)
{
    mnt_files_fini(&files);
}

START_TEST(test_mnt_file_handles_of_one_inode_share_one_writer)
{
    struct mnt_file *a;
    struct mnt_file *b;

    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &a), 0);
    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &b), 0);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(fake.open_count, 1);
    ck_assert_ptr_eq(mnt_files_get(&files, 4), NULL);
    ck_assert_int_eq(mnt_files_put(&files, a), 0);
    ck_assert_int_eq(fake.close_count, 0);
    ck_assert_int_eq(mnt_files_put(&files, b), 0);
    ck_assert_int_eq(fake.close_count, 1);
    ck_assert_ptr_eq(mnt_files_get(&files, 3), NULL);
}
END_TEST

START_TEST(test_mnt_file_writes_are_sequential_and_sync_commits)
{
    struct mnt_file *f;
    struct wire_attr a = {.ino = 3, .size = 0};
    char buf[100] = {0};
    uint64_t seq = mnt_files_flush_seq(&files);

    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &f), 0);
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 100, 0, false), 100);
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 10, 50, false), -EOPNOTSUPP);
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 10, 7, true), 10); /* append: at 100 */
    mnt_file_adjust_attr(f, &a);
    ck_assert_uint_eq(a.size, 110);
    ck_assert_uint_eq(fake.committed[3], 0);
    ck_assert_int_eq(mnt_file_sync(&files, f, false), 0);
    ck_assert_uint_eq(fake.committed[3], 110);
    ck_assert_uint_gt(mnt_files_flush_seq(&files), seq);
    ck_assert_int_eq(mnt_file_sync(&files, f, false), 0); /* clean: no second flush */
    ck_assert_int_eq(fake.flush_count, 1);
    /* fsync after close-style flushes still syncs once, then has nothing left to do. */
    ck_assert_int_eq(mnt_file_sync(&files, f, true), 0);
    ck_assert_int_eq(fake.sync_count, 1);
    ck_assert_int_eq(mnt_file_sync(&files, f, true), 0);
    ck_assert_int_eq(fake.sync_count, 1);
    mnt_files_put(&files, f);
}
END_TEST

START_TEST(test_mnt_file_truncate_to_zero_reopens_and_other_sizes_refuse)
{
    struct mnt_file *f;
    char buf[10] = {0};

    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &f), 0);
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 10, 0, false), 10);
    ck_assert_int_eq(mnt_file_truncate(&files, f, 10), 0); /* current size: no-op */
    ck_assert_int_eq(fake.open_count, 1);
    ck_assert_int_eq(mnt_file_truncate(&files, f, 4), -EOPNOTSUPP);
    ck_assert_int_eq(mnt_file_truncate(&files, f, 0), 0);
    ck_assert_int_eq(fake.open_count, 2);
    ck_assert_uint_eq(fake.last_flags, WIRE_OPEN_TRUNC);
    ck_assert_uint_eq(fake.committed[3], 0);
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 3, 0, false), 3);
    mnt_files_put(&files, f);
    ck_assert_uint_eq(fake.committed[3], 3);
}
END_TEST

START_TEST(test_mnt_file_open_trunc_on_a_shared_file_truncates_through_it)
{
    struct mnt_file *a;
    struct mnt_file *b;
    char buf[10] = {0};

    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &a), 0);
    ck_assert_int_eq(mnt_file_write(&files, a, buf, 10, 0, false), 10);
    ck_assert_int_eq(mnt_files_open_write(&files, 3, WIRE_OPEN_TRUNC, &b), 0);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(mnt_file_write(&files, a, buf, 5, 0, false), 5);
    mnt_files_put(&files, a);
    mnt_files_put(&files, b);
    ck_assert_uint_eq(fake.committed[3], 5);
}
END_TEST

START_TEST(test_mnt_file_failed_open_leaves_no_entry)
{
    struct mnt_file *f = NULL;

    fake.open_rc = -ERR_LEASE;
    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &f), -ERR_LEASE);
    ck_assert_ptr_eq(f, NULL);
    ck_assert_ptr_eq(mnt_files_get(&files, 3), NULL);
    fake.open_rc = 0;
    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &f), 0);
    mnt_files_put(&files, f);
}
END_TEST

START_TEST(test_mnt_file_adopt_takes_a_created_writer)
{
    struct dfs_writer *w;
    struct dfs_writer *w2;
    struct mnt_file *f;
    struct mnt_file *g;

    struct wire_attr a = {.ino = 5};

    ck_assert_int_eq(dfs_open_write(NULL, 5, 0, &w), 0);
    ck_assert_int_eq(mnt_files_adopt(&files, &a, w, &f), 0);
    ck_assert_int_eq(dfs_open_write(NULL, 5, 0, &w2), 0);
    ck_assert_int_eq(mnt_files_adopt(&files, &a, w2, &g), -EBUSY);
    ck_assert_int_eq(fake.close_count, 1); /* w2 closed on refusal */
    ck_assert_int_eq(mnt_file_sync(&files, f, false), 0); /* commits the created file */
    ck_assert_int_eq(fake.flush_count, 2);
    mnt_files_put(&files, f);
}
END_TEST

/* A SETATTR that sets what the create answered, in the create's millisecond, needs no round
 * trip; another value, another millisecond, or a write since, does. */
START_TEST(test_mnt_file_setattr_of_a_new_file_to_its_values_is_a_noop)
{
    struct wire_attr a = {.ino = 6, .mode = S_IFREG | 0644, .uid = 7, .gid = 8,
                          .atime_ms = 1000, .mtime_ms = 1000, .ctime_ms = 1000};
    struct wire_nn_setattr touch = {.ino = 6, .valid = WIRE_SET_ATIME | WIRE_SET_MTIME,
                                    .atime_ms = 1000, .mtime_ms = 1000};
    struct wire_nn_setattr chmod_same = {.ino = 6, .valid = WIRE_SET_MODE, .mode = 0644};
    struct wire_nn_setattr chmod_other = {.ino = 6, .valid = WIRE_SET_MODE, .mode = 0600};
    struct wire_nn_setattr later = touch;
    struct wire_attr out = {.ino = 0};
    struct dfs_writer *w;
    struct mnt_file *f;
    char buf[4] = {0};

    later.atime_ms = later.mtime_ms = 1001;
    ck_assert_int_eq(dfs_open_write(NULL, 6, 0, &w), 0);
    ck_assert_int_eq(mnt_files_adopt(&files, &a, w, &f), 0);
    ck_assert(mnt_file_setattr_is_noop(f, &touch, 1000, &out));
    ck_assert_uint_eq(out.ino, 6);
    ck_assert_uint_eq(out.uid, 7);
    ck_assert(mnt_file_setattr_is_noop(f, &chmod_same, 1000, &out));
    ck_assert(!mnt_file_setattr_is_noop(f, &chmod_other, 1000, &out));
    ck_assert(!mnt_file_setattr_is_noop(f, &touch, 1001, &out)); /* ctime would move */
    ck_assert(!mnt_file_setattr_is_noop(f, &later, 1001, &out));
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 4, 0, false), 4);
    ck_assert(!mnt_file_setattr_is_noop(f, &touch, 1000, &out)); /* written since */
    mnt_files_put(&files, f);

    ck_assert_int_eq(dfs_open_write(NULL, 6, 0, &w), 0);
    ck_assert_int_eq(mnt_files_adopt(&files, &a, w, &f), 0);
    mnt_file_forget_created(f); /* a SETATTR went to the namenode */
    ck_assert(!mnt_file_setattr_is_noop(f, &touch, 1000, &out));
    mnt_files_put(&files, f);
}
END_TEST

START_TEST(test_mnt_file_fini_closes_writers_left_open)
{
    struct mnt_file *f;
    char buf[4] = {0};

    ck_assert_int_eq(mnt_files_open_write(&files, 3, 0, &f), 0);
    ck_assert_int_eq(mnt_file_write(&files, f, buf, 4, 0, false), 4);
    mnt_files_fini(&files);
    ck_assert_uint_eq(fake.committed[3], 4);
    mnt_files_init(&files, NULL); /* for teardown */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mnt_file");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mnt_file_handles_of_one_inode_share_one_writer);
    tcase_add_test(tc, test_mnt_file_writes_are_sequential_and_sync_commits);
    tcase_add_test(tc, test_mnt_file_truncate_to_zero_reopens_and_other_sizes_refuse);
    tcase_add_test(tc, test_mnt_file_open_trunc_on_a_shared_file_truncates_through_it);
    tcase_add_test(tc, test_mnt_file_failed_open_leaves_no_entry);
    tcase_add_test(tc, test_mnt_file_adopt_takes_a_created_writer);
    tcase_add_test(tc, test_mnt_file_setattr_of_a_new_file_to_its_values_is_a_noop);
    tcase_add_test(tc, test_mnt_file_fini_closes_writers_left_open);
    suite_add_tcase(s, tc);
    return check_run(s);
}
