/* Unit tests of client/cl_path: normalization, iteration, split, basename. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "cl_path.h"

static const struct {
    const char *in;
    const char *out;
} norm_cases[] = {
    { "/", "/" }, { "a/b", "/a/b" }, { "//a//b/", "/a/b" }, { "/a/./b/../c", "/a/c" },
    { "/..", "/" }, { "/a/b/../../..", "/" }, { ".", "/" }, { "/x/y/.", "/x/y" },
    { "/a/..b", "/a/..b" },
};

START_TEST(test_cl_path_normalize_table)
{
    char out[CL_PATH_MAX];

    ck_assert_int_eq(cl_path_normalize(norm_cases[_i].in, out, sizeof(out)), 0);
    ck_assert_str_eq(out, norm_cases[_i].out);
}
END_TEST

START_TEST(test_cl_path_normalize_errors)
{
    char out[CL_PATH_MAX], small[8], longname[WIRE_NAME_MAX + 3];

    ck_assert_int_eq(cl_path_normalize("", out, sizeof(out)), -EINVAL);
    memset(longname, 'x', sizeof(longname));
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(cl_path_normalize(longname, out, sizeof(out)), -ENAMETOOLONG);
    longname[WIRE_NAME_MAX + 1] = '\0'; /* exactly WIRE_NAME_MAX */
    ck_assert_int_eq(cl_path_normalize(longname, out, sizeof(out)), 0);
    ck_assert_int_eq(cl_path_normalize("/abc/defgh", small, sizeof(small)), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_cl_path_next_walks_components)
{
    char name[WIRE_NAME_MAX + 1];
    size_t pos = 0;

    ck_assert_int_eq(cl_path_next("/a/bc/d", &pos, name), 1);
    ck_assert_str_eq(name, "a");
    ck_assert_int_eq(cl_path_next("/a/bc/d", &pos, name), 1);
    ck_assert_str_eq(name, "bc");
    ck_assert_int_eq(cl_path_next("/a/bc/d", &pos, name), 1);
    ck_assert_str_eq(name, "d");
    ck_assert_int_eq(cl_path_next("/a/bc/d", &pos, name), 0);
    pos = 0;
    ck_assert_int_eq(cl_path_next("/", &pos, name), 0);
}
END_TEST

START_TEST(test_cl_path_split_parent_and_name)
{
    char parent[CL_PATH_MAX], name[WIRE_NAME_MAX + 1];

    ck_assert_int_eq(cl_path_split("/a/b", parent, sizeof(parent), name), 0);
    ck_assert_str_eq(parent, "/a");
    ck_assert_str_eq(name, "b");
    ck_assert_int_eq(cl_path_split("/a", parent, sizeof(parent), name), 0);
    ck_assert_str_eq(parent, "/");
    ck_assert_str_eq(name, "a");
    ck_assert_int_eq(cl_path_split("/", parent, sizeof(parent), name), -EINVAL);
}
END_TEST

START_TEST(test_cl_path_basename)
{
    char name[WIRE_NAME_MAX + 1];

    ck_assert_int_eq(cl_path_basename("/tmp/x.txt", name), 0);
    ck_assert_str_eq(name, "x.txt");
    ck_assert_int_eq(cl_path_basename("dir/sub/", name), 0);
    ck_assert_str_eq(name, "sub");
    ck_assert_int_eq(cl_path_basename("plain", name), 0);
    ck_assert_str_eq(name, "plain");
    ck_assert_int_eq(cl_path_basename("/", name), -EINVAL);
    ck_assert_int_eq(cl_path_basename("a/..", name), -EINVAL);
    ck_assert_int_eq(cl_path_basename("", name), -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_path");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_cl_path_normalize_table, 0,
                        (int)(sizeof(norm_cases) / sizeof(norm_cases[0])));
    tcase_add_test(tc, test_cl_path_normalize_errors);
    tcase_add_test(tc, test_cl_path_next_walks_components);
    tcase_add_test(tc, test_cl_path_split_parent_and_name);
    tcase_add_test(tc, test_cl_path_basename);
    suite_add_tcase(s, tc);
    return check_run(s);
}
