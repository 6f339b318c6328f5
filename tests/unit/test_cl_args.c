/* Unit tests of client/cl_args: global options, command flags, address/config rules. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "cl_args.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) cl_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), a, err, sizeof(err))

START_TEST(test_cl_args_global_options_then_command)
{
    struct cl_args a;
    char err[128];

    char *argv[] = { "dfs", "-n", "h:1", "-o", "a=b", "-cfile", "-o", "c=d", "ls", "-l", "/x" };
    int rc = cl_args_parse(11, argv, &a, err, sizeof(err)); /* argv outlives the asserts */

    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(a.nn_addr, "h:1");
    ck_assert_str_eq(a.conf_path, "file");
    ck_assert_uint_eq(a.opt_count, 2);
    ck_assert_str_eq(a.opts[1], "c=d");
    ck_assert_str_eq(a.cmd, "ls");
    ck_assert_int_eq(a.argc, 2);
    ck_assert_str_eq(a.argv[1], "/x");
}
END_TEST

START_TEST(test_cl_args_errors_and_edge_cases)
{
    struct cl_args a;
    char err[128];

    ck_assert_int_eq(PARSE(&a, err, "dfs", "-n"), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "-n"));
    ck_assert_int_eq(PARSE(&a, err, "dfs", "-o", "novalue", "ls"), -EINVAL);
    ck_assert_int_eq(PARSE(&a, err, "dfs"), 0);
    ck_assert_ptr_null(a.cmd);
    char *admin[] = { "dfsadmin", "-report" }, *dashes[] = { "dfs", "--", "-n" };
    ck_assert_int_eq(cl_args_parse(2, admin, &a, err, sizeof(err)), 0);
    ck_assert_str_eq(a.cmd, "-report");
    ck_assert_int_eq(cl_args_parse(3, dashes, &a, err, sizeof(err)), 0);
    ck_assert_str_eq(a.cmd, "-n");
}
END_TEST

START_TEST(test_cl_args_command_flags)
{
    uint32_t flags;
    int first;
    char err[128];

    ck_assert_int_eq(cl_args_flags(2, ARGV("-l", "/x"), "l", &flags, &first, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(flags, cl_args_flag('l'));
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(cl_args_flags(2, ARGV("-rf", "/x"), "rf", &flags, &first, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(flags, cl_args_flag('r') | cl_args_flag('f'));
    ck_assert_int_eq(cl_args_flags(2, ARGV("-", "/x"), "", &flags, &first, err, sizeof(err)), 0);
    ck_assert_int_eq(first, 0);
    ck_assert_int_eq(cl_args_flags(2, ARGV("--", "-x"), "", &flags, &first, err, sizeof(err)),
                     0);
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(cl_args_flags(1, ARGV("-x"), "l", &flags, &first, err, sizeof(err)),
                     -EINVAL);
    ck_assert_str_eq(err, "unknown flag -x");
}
END_TEST

START_TEST(test_cl_args_namenode_and_config_precedence)
{
    struct cl_args a;
    char err[128];

    ck_assert_int_eq(PARSE(&a, err, "dfs", "ls"), 0);
    ck_assert_ptr_null(cl_args_nn_override(&a, NULL));
    ck_assert_ptr_null(cl_args_nn_override(&a, ""));
    ck_assert_str_eq(cl_args_nn_override(&a, "env:1"), "env:1");
    ck_assert_ptr_null(cl_args_conf_file(&a, NULL, 0));
    ck_assert_str_eq(cl_args_conf_file(&a, NULL, 1), CL_ARGS_DEFAULT_CONF);
    ck_assert_str_eq(cl_args_conf_file(&a, "/env.conf", 1), "/env.conf");
    char *argv[] = { "dfs", "-n", "flag:2", "-c", "/c.conf", "ls" };
    ck_assert_int_eq(cl_args_parse(6, argv, &a, err, sizeof(err)), 0);
    ck_assert_str_eq(cl_args_nn_override(&a, "env:1"), "flag:2");
    ck_assert_str_eq(cl_args_conf_file(&a, "/env.conf", 1), "/c.conf");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_args");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cl_args_global_options_then_command);
    tcase_add_test(tc, test_cl_args_errors_and_edge_cases);
    tcase_add_test(tc, test_cl_args_command_flags);
    tcase_add_test(tc, test_cl_args_namenode_and_config_precedence);
    suite_add_tcase(s, tc);
    return check_run(s);
}
