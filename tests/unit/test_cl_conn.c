/* Unit tests of client/cl_conn's pure parts: the client (lease holder) name and the
 * bookkeeping of idle datanode connections (take, give, limits, expiry; the clock is a
 * parameter). fds are plain numbers here: nothing is opened or closed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "cl_conn.h"

START_TEST(test_cl_conn_client_name_format)
{
    char name[WIRE_ID_MAX + 1];

    cl_conn_client_name("host1", 1234, 0xabcdef01u, name);
    ck_assert_str_eq(name, "host1-1234-abcdef01");
}
END_TEST

START_TEST(test_cl_conn_client_name_truncates_long_host)
{
    char name[WIRE_ID_MAX + 1], host[200];

    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    cl_conn_client_name(host, 99999, 1, name);
    ck_assert_uint_eq(strlen(name), WIRE_ID_MAX);
    ck_assert_str_eq(name + strlen(name) - 15, "-99999-00000001");
}
END_TEST

START_TEST(test_cl_dn_idle_take_empty_and_other_addr)
{
    struct cl_dn_idle d = { .count = 0 };

    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), -1);
    ck_assert_int_eq(cl_dn_idle_give(&d, "a", 1, 10, 0), -1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 2), -1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "b", 1), -1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), 10);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), -1);
    ck_assert_uint_eq(d.count, 0);
}
END_TEST

START_TEST(test_cl_dn_idle_take_is_most_recent_first)
{
    struct cl_dn_idle d = { .count = 0 };

    cl_dn_idle_give(&d, "a", 1, 10, 0);
    cl_dn_idle_give(&d, "b", 1, 20, 1);
    cl_dn_idle_give(&d, "a", 1, 11, 2);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), 11);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), 10);
    ck_assert_int_eq(cl_dn_idle_take(&d, "b", 1), 20);
}
END_TEST

START_TEST(test_cl_dn_idle_per_addr_limit_evicts_oldest)
{
    struct cl_dn_idle d = { .count = 0 };

    for (int i = 0; i < CL_DN_IDLE_PER_ADDR_MAX; i++)
        ck_assert_int_eq(cl_dn_idle_give(&d, "a", 1, 100 + i, (uint64_t)i), -1);
    cl_dn_idle_give(&d, "b", 1, 7, 50);
    ck_assert_int_eq(cl_dn_idle_give(&d, "a", 1, 200, 60), 100);
    ck_assert_uint_eq(d.count, CL_DN_IDLE_PER_ADDR_MAX + 1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), 200);
    ck_assert_int_eq(cl_dn_idle_take(&d, "b", 1), 7);
}
END_TEST

START_TEST(test_cl_dn_idle_total_limit_evicts_oldest)
{
    struct cl_dn_idle d = { .count = 0 };
    char host[32];

    for (int i = 0; i < CL_DN_IDLE_MAX; i++) {
        snprintf(host, sizeof(host), "h%d", i);
        ck_assert_int_eq(cl_dn_idle_give(&d, host, 1, i, (uint64_t)i), -1);
    }
    ck_assert_int_eq(cl_dn_idle_give(&d, "new", 1, 1000, 100), 0);
    ck_assert_uint_eq(d.count, CL_DN_IDLE_MAX);
    ck_assert_int_eq(cl_dn_idle_take(&d, "h0", 1), -1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "h1", 1), 1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "new", 1), 1000);
}
END_TEST

START_TEST(test_cl_dn_idle_expire)
{
    struct cl_dn_idle d = { .count = 0 };
    int fds[CL_DN_IDLE_MAX];

    cl_dn_idle_give(&d, "a", 1, 10, 1000);
    cl_dn_idle_give(&d, "b", 1, 20, 2000);
    cl_dn_idle_give(&d, "a", 1, 11, 3000);
    ck_assert_uint_eq(cl_dn_idle_expire(&d, 1000 + CL_DN_IDLE_MS - 1, fds), 0);
    ck_assert_uint_eq(cl_dn_idle_expire(&d, 2000 + CL_DN_IDLE_MS, fds), 2);
    ck_assert_int_eq(fds[0], 10);
    ck_assert_int_eq(fds[1], 20);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_int_eq(cl_dn_idle_take(&d, "a", 1), 11);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_conn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cl_conn_client_name_format);
    tcase_add_test(tc, test_cl_conn_client_name_truncates_long_host);
    tcase_add_test(tc, test_cl_dn_idle_take_empty_and_other_addr);
    tcase_add_test(tc, test_cl_dn_idle_take_is_most_recent_first);
    tcase_add_test(tc, test_cl_dn_idle_per_addr_limit_evicts_oldest);
    tcase_add_test(tc, test_cl_dn_idle_total_limit_evicts_oldest);
    tcase_add_test(tc, test_cl_dn_idle_expire);
    suite_add_tcase(s, tc);
    return check_run(s);
}
