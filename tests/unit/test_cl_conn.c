/* Unit tests of client/cl_conn's pure part: the client (lease holder) name. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    Suite *s = suite_create("cl_conn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cl_conn_client_name_format);
    tcase_add_test(tc, test_cl_conn_client_name_truncates_long_host);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
