/* Unit tests for common/fileio: whole-buffer writes and reads at offsets, and a read past the
 * end of the file reported as -EIO rather than as a short count. */
#include "check_run.h"
#include "fileio.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/dfs-test-fileio-XXXXXX";
static int fd = -1;

static void setup(void)
{
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
}

static void teardown(void)
{
    close(fd);
    unlink(path);
    memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}

START_TEST(test_fileio_write_then_pread_back)
{
    static uint8_t data[300000], back[300000];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131);
    ck_assert_int_eq(fileio_write_all(fd, data, 1000), 0);
    ck_assert_int_eq(fileio_pwrite_all(fd, data + 1000, sizeof(data) - 1000, 1000), 0);
    ck_assert_int_eq(lseek(fd, 0, SEEK_END), (off_t)sizeof(data));
    ck_assert_int_eq(fileio_pread_all(fd, back, sizeof(back), 0), 0);
    ck_assert_mem_eq(back, data, sizeof(data));
    ck_assert_int_eq(fileio_pread_all(fd, back, 10, sizeof(data) - 10), 0);
    ck_assert_mem_eq(back, data + sizeof(data) - 10, 10);
}
END_TEST

START_TEST(test_fileio_read_past_the_end_is_eio)
{
    uint8_t b[16] = { 0 };

    ck_assert_int_eq(fileio_write_all(fd, b, sizeof(b)), 0);
    ck_assert_int_eq(fileio_pread_all(fd, b, sizeof(b), 8), -EIO);
}
END_TEST

START_TEST(test_fileio_errors_are_negative_errno)
{
    uint8_t b[4] = { 0 };

    ck_assert_int_eq(fileio_write_all(-1, b, sizeof(b)), -EBADF);
    ck_assert_int_eq(fileio_pwrite_all(-1, b, sizeof(b), 0), -EBADF);
    ck_assert_int_eq(fileio_pread_all(-1, b, sizeof(b), 0), -EBADF);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileio");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fileio_write_then_pread_back);
    tcase_add_test(tc, test_fileio_read_past_the_end_is_eio);
    tcase_add_test(tc, test_fileio_errors_are_negative_errno);
    suite_add_tcase(s, tc);
    return check_run(s);
}
