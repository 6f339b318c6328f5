/* Unit tests of fuse/mnt_dir: the bounded listing window and its stable cookies. A fake
 * directory of sorted names stands in for dfs_readdir(). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "mnt_dir.h"

enum { FAKE_MAX = 1000 };

struct fake_dir {
    char names[FAKE_MAX][16]; /* sorted */
    uint32_t count;
    uint32_t fetches;
};

static void fake_fill(struct fake_dir *f, uint32_t count)
{
    memset(f, 0, sizeof(*f));
    for (uint32_t i = 0; i < count; i++)
        snprintf(f->names[i], sizeof(f->names[i]), "n%05u", i);
    f->count = count;
}

static void fake_remove(struct fake_dir *f, uint32_t idx)
{
    memmove(f->names[idx], f->names[idx + 1], (f->count - idx - 1) * sizeof(f->names[0]));
    f->count--;
}

/* dfs_readdir() semantics: names after `after`, at most max, stop when fn says so. */
static void fake_fetch(struct fake_dir *f, struct mnt_dir *d)
{
    const char *after = mnt_dir_fetch_after(d);
    uint32_t i = 0;
    uint32_t sent = 0;
    bool is_stopped = false;

    f->fetches++;
    mnt_dir_page_begin(d);
    while (i < f->count && strcmp(f->names[i], after) <= 0)
        i++;
    for (; i < f->count && sent < MNT_DIR_PAGE && !is_stopped; i++, sent++) {
        struct wire_nn_dirent e = {.name = wire_str_c(f->names[i])};

        e.attr.ino = 100 + i;
        e.attr.mode = 0100644;
        is_stopped = mnt_dir_page_add(d, &e) != 0;
    }
    mnt_dir_page_end(d, 0, i >= f->count);
}

/* The name at listing index idx, or NULL at the end. */
static const char *name_at(struct fake_dir *f, struct mnt_dir *d, uint64_t idx)
{
    const struct mnt_dirent *e;

    for (int guard = 0; guard < 100; guard++) {
        switch (mnt_dir_locate(d, idx, &e)) {
        case MNT_DIR_HAVE:
            return e->name;
        case MNT_DIR_END:
            return NULL;
        case MNT_DIR_FETCH:
            fake_fetch(f, d);
            break;
        }
    }
    ck_abort_msg("no progress at idx %u", (unsigned)idx);
    return NULL;
}

static struct fake_dir fake;
static struct mnt_dir dir;

START_TEST(test_mnt_dir_lists_every_name_once_in_order)
{
    uint32_t sizes[] = {0, 1, MNT_DIR_PAGE - 1, MNT_DIR_PAGE, MNT_DIR_PAGE + 1, 3 * MNT_DIR_PAGE,
                        FAKE_MAX};
    uint32_t n = sizes[_i];
    uint64_t idx = MNT_DIR_FIRST;
    const char *name;

    fake_fill(&fake, n);
    mnt_dir_init(&dir, 7);
    while ((name = name_at(&fake, &dir, idx)) != NULL) {
        ck_assert_str_eq(name, fake.names[idx - MNT_DIR_FIRST]);
        idx++;
    }
    ck_assert_uint_eq(idx - MNT_DIR_FIRST, n);
    ck_assert_uint_le(fake.fetches, n / MNT_DIR_PAGE + 1);
    mnt_dir_assert_valid(&dir);
}
END_TEST

START_TEST(test_mnt_dir_resumes_after_deleted_names_without_repeats)
{
    uint64_t idx = MNT_DIR_FIRST;
    const char *name;
    char last[16] = "";
    uint32_t seen = 0;

    fake_fill(&fake, 300);
    mnt_dir_init(&dir, 7);
    for (; idx < MNT_DIR_FIRST + MNT_DIR_PAGE; idx++)
        ck_assert_ptr_nonnull(name_at(&fake, &dir, idx));
    /* Others delete names around the page boundary before the next readdir call. */
    fake_remove(&fake, MNT_DIR_PAGE - 1);
    fake_remove(&fake, 10);
    while ((name = name_at(&fake, &dir, idx)) != NULL) {
        ck_assert_str_gt(name, last);
        snprintf(last, sizeof(last), "%s", name);
        idx++;
        seen++;
    }
    ck_assert_uint_eq(seen, 300 - MNT_DIR_PAGE - 0); /* names after the page: all still there */
}
END_TEST

START_TEST(test_mnt_dir_seek_back_restarts_and_walks_forward)
{
    fake_fill(&fake, 3 * MNT_DIR_PAGE);
    mnt_dir_init(&dir, 7);
    ck_assert_str_eq(name_at(&fake, &dir, MNT_DIR_FIRST + 2 * MNT_DIR_PAGE + 5),
                     fake.names[2 * MNT_DIR_PAGE + 5]);
    ck_assert_str_eq(name_at(&fake, &dir, MNT_DIR_FIRST + 3), fake.names[3]);
    ck_assert_str_eq(name_at(&fake, &dir, MNT_DIR_FIRST + MNT_DIR_PAGE + 1),
                     fake.names[MNT_DIR_PAGE + 1]);
}
END_TEST

START_TEST(test_mnt_dir_rewind_fetches_a_fresh_listing)
{
    fake_fill(&fake, 5);
    mnt_dir_init(&dir, 7);
    ck_assert_str_eq(name_at(&fake, &dir, MNT_DIR_FIRST), "n00000");
    fake_remove(&fake, 0);
    ck_assert_str_eq(name_at(&fake, &dir, MNT_DIR_FIRST), "n00000"); /* cached window */
    mnt_dir_rewind(&dir);
    ck_assert_str_eq(name_at(&fake, &dir, MNT_DIR_FIRST), "n00001");
}
END_TEST

START_TEST(test_mnt_dir_failed_fetch_drops_the_window)
{
    const struct mnt_dirent *e;

    fake_fill(&fake, 5);
    mnt_dir_init(&dir, 7);
    ck_assert_int_eq(mnt_dir_locate(&dir, MNT_DIR_FIRST, &e), MNT_DIR_FETCH);
    mnt_dir_page_begin(&dir);
    mnt_dir_page_end(&dir, -5, false);
    ck_assert_int_eq(mnt_dir_locate(&dir, MNT_DIR_FIRST, &e), MNT_DIR_FETCH);
    ck_assert_str_eq(mnt_dir_fetch_after(&dir), "");
}
END_TEST

START_TEST(test_mnt_dir_empty_page_ends_the_listing)
{
    const struct mnt_dirent *e;

    mnt_dir_init(&dir, 7);
    ck_assert_int_eq(mnt_dir_locate(&dir, MNT_DIR_FIRST, &e), MNT_DIR_FETCH);
    mnt_dir_page_begin(&dir);
    mnt_dir_page_end(&dir, 0, false); /* not eof, but nothing came: must not loop */
    ck_assert_int_eq(mnt_dir_locate(&dir, MNT_DIR_FIRST, &e), MNT_DIR_END);
}
END_TEST

START_TEST(test_mnt_dir_locate_of_a_dot_index_aborts)
{
    const struct mnt_dirent *e;

    mnt_dir_init(&dir, 7);
    mnt_dir_locate(&dir, 1, &e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mnt_dir");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_mnt_dir_lists_every_name_once_in_order, 0, 7);
    tcase_add_test(tc, test_mnt_dir_resumes_after_deleted_names_without_repeats);
    tcase_add_test(tc, test_mnt_dir_seek_back_restarts_and_walks_forward);
    tcase_add_test(tc, test_mnt_dir_rewind_fetches_a_fresh_listing);
    tcase_add_test(tc, test_mnt_dir_failed_fetch_drops_the_window);
    tcase_add_test(tc, test_mnt_dir_empty_page_ends_the_listing);
    tcase_add_test_raise_signal(tc, test_mnt_dir_locate_of_a_dot_index_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return check_run(s);
}
