/* Unit tests of datanode/dn_spare against a temporary directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "dn_spare.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dn_spare.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* Writes a file of len bytes at tmpdir/name; returns its inode number. */
static ino_t write_file(const char *name, size_t len)
{
    char path[512], buf[100] = { 0 };
    struct stat st;

    path_of(path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    for (size_t done = 0; done < len; done += sizeof(buf))
        ck_assert_int_gt(write(fd, buf, len - done < sizeof(buf) ? len - done : sizeof(buf)), 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    close(fd);
    return st.st_ino;
}

static bool exists(const char *name)
{
    char path[512];
    struct stat st;

    path_of(path, sizeof(path), name);
    return stat(path, &st) == 0;
}

START_TEST(test_dn_spare_put_file_is_reused_empty)
{
    struct dn_spare sp;
    char path[512];
    struct stat st;

    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0);
    ino_t ino = write_file("old", 5000);
    path_of(path, sizeof(path), "old");
    ck_assert_int_eq(dn_spare_put(&sp, path), 0);
    ck_assert(!exists("old"));
    ck_assert_uint_eq(dn_spare_count(&sp), 1);
    path_of(path, sizeof(path), "spare/s_0");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 0); /* emptied when put */

    path_of(path, sizeof(path), "new");
    int fd = dn_spare_create(&sp, path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_uint_eq(st.st_ino, ino); /* the same inode: nothing was allocated */
    ck_assert_int_eq(st.st_size, 0);
    ck_assert_int_eq(write(fd, "abc", 3), 3);
    close(fd);
    ck_assert_uint_eq(dn_spare_count(&sp), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 3);
    dn_spare_close(&sp);
}
END_TEST

START_TEST(test_dn_spare_create_without_spares_and_over_existing_name)
{
    struct dn_spare sp;
    char path[512];
    struct stat st;

    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0);
    path_of(path, sizeof(path), "a");
    int fd = dn_spare_create(&sp, path); /* empty pool: a new file */
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(dn_spare_create(&sp, path), -EEXIST);

    write_file("b", 10);
    path_of(path, sizeof(path), "b");
    ck_assert_int_eq(dn_spare_put(&sp, path), 0);
    write_file("c", 7);
    path_of(path, sizeof(path), "c");
    ck_assert_int_eq(dn_spare_create(&sp, path), -EEXIST); /* never replaces */
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 7);
    ck_assert_uint_eq(dn_spare_count(&sp), 1); /* the spare stays */

    path_of(path, sizeof(path), "missing");
    ck_assert_int_eq(dn_spare_put(&sp, path), -ENOENT);
    ck_assert_uint_eq(dn_spare_count(&sp), 1);
    path_of(path, sizeof(path), "no-such-dir/x");
    ck_assert_int_eq(dn_spare_create(&sp, path), -ENOENT);
    ck_assert_uint_eq(dn_spare_count(&sp), 1);
    dn_spare_close(&sp);
}
END_TEST

START_TEST(test_dn_spare_full_pool_unlinks)
{
    struct dn_spare sp;
    char path[512], name[32];

    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 2), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        write_file(name, 1);
        path_of(path, sizeof(path), name);
        ck_assert_int_eq(dn_spare_put(&sp, path), 0);
        ck_assert(!exists(name));
    }
    ck_assert_uint_eq(dn_spare_count(&sp), 2);
    dn_spare_close(&sp);
}
END_TEST

/* Reopening adopts s_<n> files (a put after it never reuses a name), removes anything else,
 * and empties a spare that a crash left with data in it when it is taken. */
START_TEST(test_dn_spare_reopen_adopts_and_cleans)
{
    struct dn_spare sp;
    char path[512];
    struct stat st;

    ck_assert_int_eq(mkdir(strcat(strcpy(path, tmpdir), "/spare"), 0755), 0);
    ino_t ino = write_file("spare/s_41", 300);
    write_file("spare/junk", 1);
    write_file("spare/s_", 1);
    write_file("spare/s_12x", 1);
    write_file("spare/s_041", 1); /* not canonical: would be another name for s_41 */
    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0);
    ck_assert_uint_eq(dn_spare_count(&sp), 1);
    ck_assert(!exists("spare/junk"));
    ck_assert(!exists("spare/s_"));
    ck_assert(!exists("spare/s_12x"));
    ck_assert(!exists("spare/s_041"));

    write_file("x", 1);
    path_of(path, sizeof(path), "x");
    ck_assert_int_eq(dn_spare_put(&sp, path), 0);
    ck_assert(exists("spare/s_42"));
    ck_assert(exists("spare/s_41"));

    path_of(path, sizeof(path), "y");
    int fd = dn_spare_create(&sp, path); /* the last put comes out first */
    ck_assert_int_ge(fd, 0);
    close(fd);
    path_of(path, sizeof(path), "z");
    fd = dn_spare_create(&sp, path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_uint_eq(st.st_ino, ino);
    ck_assert_int_eq(st.st_size, 0);
    close(fd);
    dn_spare_close(&sp);
}
END_TEST

START_TEST(test_dn_spare_vanished_spare_falls_back_to_create)
{
    struct dn_spare sp;
    char path[512];

    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0);
    write_file("a", 1);
    path_of(path, sizeof(path), "a");
    ck_assert_int_eq(dn_spare_put(&sp, path), 0);
    path_of(path, sizeof(path), "spare/s_0");
    ck_assert_int_eq(unlink(path), 0); /* removed by hand */
    path_of(path, sizeof(path), "b");
    int fd = dn_spare_create(&sp, path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(exists("b"));
    ck_assert_uint_eq(dn_spare_count(&sp), 0);
    dn_spare_close(&sp);
}
END_TEST

/* Filling makes new empty spares up to the reserve, never past max_count, and they serve
 * creates like any other. */
START_TEST(test_dn_spare_fill_up_to_reserve)
{
    struct dn_spare sp;
    char path[512];
    struct stat st;

    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 3), 0);
    ck_assert_int_eq(dn_spare_fill(&sp, 2), 1); /* made one, one more wanted */
    ck_assert_int_eq(dn_spare_fill(&sp, 2), 0); /* made the last one wanted */
    ck_assert_int_eq(dn_spare_fill(&sp, 2), 0); /* nothing to make */
    ck_assert_uint_eq(dn_spare_count(&sp), 2);
    ck_assert(exists("spare/s_0"));
    ck_assert(exists("spare/s_1"));
    ck_assert_int_eq(dn_spare_fill(&sp, 10), 0); /* capped at max_count = 3: full now */
    ck_assert(exists("spare/s_2"));
    ck_assert_int_eq(dn_spare_fill(&sp, 10), 0);
    ck_assert_uint_eq(dn_spare_count(&sp), 3);
    path_of(path, sizeof(path), "new");
    int fd = dn_spare_create(&sp, path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    ck_assert_uint_eq(st.st_nlink, 1);
    close(fd);
    ck_assert(!exists("spare/s_2"));
    dn_spare_close(&sp);
    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0); /* the made ones are adopted */
    ck_assert_uint_eq(dn_spare_count(&sp), 2);
    dn_spare_close(&sp);
}
END_TEST

/* After a power cut a spare's name and a replica's name can both survive for one file: the
 * spare name is then dropped, never emptied, at start-up and when a put finds it. */
START_TEST(test_dn_spare_never_empties_a_file_with_another_name)
{
    struct dn_spare sp;
    char path[512], other[512];
    struct stat st;

    ck_assert_int_eq(mkdir(strcat(strcpy(path, tmpdir), "/spare"), 0755), 0);
    write_file("replica", 500);
    path_of(path, sizeof(path), "replica");
    path_of(other, sizeof(other), "spare/s_3");
    ck_assert_int_eq(link(path, other), 0);
    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0);
    ck_assert_uint_eq(dn_spare_count(&sp), 0);
    ck_assert(!exists("spare/s_3"));
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 500);

    path_of(other, sizeof(other), "old-name");
    ck_assert_int_eq(link(path, other), 0);
    ck_assert_int_eq(dn_spare_put(&sp, other), 0); /* removed, but not into the pool */
    ck_assert(!exists("old-name"));
    ck_assert_uint_eq(dn_spare_count(&sp), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 500);
    ck_assert_uint_eq(st.st_nlink, 1);
    dn_spare_close(&sp);
}
END_TEST

/* A spare that fails with a lasting error (here: it became a directory) is dropped from the
 * pool instead of coming back at every create; a passing one (EMFILE) is kept. */
START_TEST(test_dn_spare_bad_spare_is_dropped_and_busy_one_kept)
{
    struct dn_spare sp;
    char path[512];
    struct rlimit lim, low;

    ck_assert_int_eq(dn_spare_open(&sp, tmpdir, 8), 0);
    write_file("a", 1);
    path_of(path, sizeof(path), "a");
    ck_assert_int_eq(dn_spare_put(&sp, path), 0);
    path_of(path, sizeof(path), "spare/s_0");
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    path_of(path, sizeof(path), "b");
    int fd = dn_spare_create(&sp, path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_uint_eq(dn_spare_count(&sp), 0);

    write_file("c", 1);
    path_of(path, sizeof(path), "c");
    ck_assert_int_eq(dn_spare_put(&sp, path), 0);
    ck_assert_uint_eq(dn_spare_count(&sp), 1);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
    int lowest = dup(0);
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    low = lim;
    low.rlim_cur = (rlim_t)lowest; /* no descriptor left to open */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    path_of(path, sizeof(path), "d");
    ck_assert_int_eq(dn_spare_create(&sp, path), -EMFILE);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    ck_assert_uint_eq(dn_spare_count(&sp), 1);
    fd = dn_spare_create(&sp, path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_uint_eq(dn_spare_count(&sp), 0);
    dn_spare_close(&sp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dn_spare");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dn_spare_put_file_is_reused_empty);
    tcase_add_test(tc, test_dn_spare_create_without_spares_and_over_existing_name);
    tcase_add_test(tc, test_dn_spare_full_pool_unlinks);
    tcase_add_test(tc, test_dn_spare_reopen_adopts_and_cleans);
    tcase_add_test(tc, test_dn_spare_vanished_spare_falls_back_to_create);
    tcase_add_test(tc, test_dn_spare_fill_up_to_reserve);
    tcase_add_test(tc, test_dn_spare_never_empties_a_file_with_another_name);
    tcase_add_test(tc, test_dn_spare_bad_spare_is_dropped_and_busy_one_kept);
    suite_add_tcase(s, tc);
    return check_run(s);
}
