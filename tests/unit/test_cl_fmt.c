/* Unit tests of client/cl_fmt: mode strings, sizes, JSON escaping, ls/stat lines, reports. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "check_run.h"
#include "cl_fmt.h"

static const char *str(struct buf *b)
{
    buf_put_u8(b, 0);
    b->len--;
    return (const char *)b->data;
}

static const struct {
    uint32_t mode;
    const char *s;
} mode_cases[] = {
    { S_IFDIR | 0755, "drwxr-xr-x" }, { S_IFREG | 0644, "-rw-r--r--" },
    { S_IFREG | 04755, "-rwsr-xr-x" }, { S_IFREG | 02644, "-rw-r-Sr--" },
    { S_IFDIR | 01777, "drwxrwxrwt" }, { S_IFLNK | 0777, "lrwxrwxrwx" },
    { S_IFREG | 01000, "---------T" },
};

START_TEST(test_cl_fmt_mode_table)
{
    char out[11];

    cl_fmt_mode(mode_cases[_i].mode, out);
    ck_assert_str_eq(out, mode_cases[_i].s);
}
END_TEST

START_TEST(test_cl_fmt_human_sizes)
{
    char out[32];

    cl_fmt_human(0, out, sizeof(out));
    ck_assert_str_eq(out, "0 B");
    cl_fmt_human(1023, out, sizeof(out));
    ck_assert_str_eq(out, "1023 B");
    cl_fmt_human(1536, out, sizeof(out));
    ck_assert_str_eq(out, "1.5 KiB");
    cl_fmt_human(64ull << 20, out, sizeof(out));
    ck_assert_str_eq(out, "64.0 MiB");
    cl_fmt_human(UINT64_MAX, out, sizeof(out));
    ck_assert_str_eq(out, "16.0 EiB");
}
END_TEST

START_TEST(test_cl_fmt_json_escapes_specials_and_controls)
{
    static const char in[] = "a\"b\\c\n\t\x01\x7f\xc3\xa9/";
    struct buf b;

    buf_init(&b);
    cl_fmt_json_str(&b, in, sizeof(in) - 1);
    ck_assert_str_eq(str(&b), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9/\"");
    buf_reset(&b);
    cl_fmt_json_str(&b, "", 0);
    ck_assert_str_eq(str(&b), "\"\"");
    buf_fini(&b);
}
END_TEST

static void report(struct buf *body, struct wire_nn_report_ok *rep)
{
    struct wire_nn_report_ok totals = { .capacity = 3000, .used = 1000, .remaining = 2000,
                                        .files = 5, .dirs = 2, .blocks = 7,
                                        .under_replicated = 1 };
    struct wire_dn_row live = {
        .addr = { wire_str_c("dn\"1"), wire_str_c("10.0.0.1"), 9100 }, .state = WIRE_DN_LIVE,
        .capacity = 1000, .used = 400, .remaining = 600, .blocks = 4,
        .last_heartbeat_age_ms = 2500,
    };
    struct wire_dn_row dead = {
        .addr = { wire_str_c("dn2"), wire_str_c("10.0.0.2"), 9101 }, .state = WIRE_DN_DEAD,
        .capacity = 2000, .last_heartbeat_age_ms = 61000,
    };

    wire_nn_report_ok_begin(body, &totals);
    wire_nn_report_ok_put(body, 0, &live);
    wire_nn_report_ok_put(body, 0, &dead);
    ck_assert_int_eq(wire_nn_report_ok_decode(body->data, body->len, rep), 0);
}

START_TEST(test_cl_fmt_report_json_golden)
{
    struct wire_nn_report_ok rep;
    struct buf body, out;

    buf_init(&body);
    buf_init(&out);
    report(&body, &rep);
    cl_fmt_report_json(&out, &rep);
    ck_assert_str_eq(str(&out),
        "{\"capacity\":3000,\"used\":1000,\"remaining\":2000,\"files\":5,\"dirs\":2,"
        "\"blocks\":7,\"under_replicated\":1,\"live\":1,\"dead\":1,\"datanodes\":["
        "{\"node_id\":\"dn\\\"1\",\"address\":\"10.0.0.1:9100\",\"state\":\"live\","
        "\"capacity\":1000,\"used\":400,\"remaining\":600,\"blocks\":4,\"last_heartbeat_s\":2},"
        "{\"node_id\":\"dn2\",\"address\":\"10.0.0.2:9101\",\"state\":\"dead\","
        "\"capacity\":2000,\"used\":0,\"remaining\":0,\"blocks\":0,\"last_heartbeat_s\":61}]}\n");
    /* The caller's cursor is untouched: formatting twice gives the same text. */
    size_t len = out.len;
    cl_fmt_report_json(&out, &rep);
    ck_assert_uint_eq(out.len, 2 * len);
    buf_fini(&out);
    buf_fini(&body);
}
END_TEST

START_TEST(test_cl_fmt_report_text_has_totals_and_sections)
{
    struct wire_nn_report_ok rep;
    struct buf body, out;

    buf_init(&body);
    buf_init(&out);
    report(&body, &rep);
    cl_fmt_report_text(&out, &rep);
    const char *s = str(&out);
    ck_assert_ptr_nonnull(strstr(s, "Configured capacity:   3000 (2.9 KiB)\n"));
    ck_assert_ptr_nonnull(strstr(s, "Under-replicated:      1\n"));
    ck_assert_ptr_nonnull(strstr(s, "Live datanodes:        1\n"));
    ck_assert_ptr_nonnull(strstr(s, "Dead datanodes:        1\n"));
    ck_assert_ptr_nonnull(strstr(s, "Node: dn\"1\nAddress:               10.0.0.1:9100\n"));
    ck_assert_ptr_nonnull(strstr(s, "State:                 dead\n"));
    ck_assert_ptr_nonnull(strstr(s, "Last heartbeat:        61 s ago\n"));
    buf_fini(&out);
    buf_fini(&body);
}
END_TEST

START_TEST(test_cl_fmt_ls_long_and_stat)
{
    struct wire_attr a = { .ino = 5, .mode = S_IFREG | 0640, .nlink = 1, .uid = 1000,
                           .gid = 100, .size = 123456, .block_size = 64 << 20,
                           .replication = 3 };
    struct tm tm = { .tm_year = 124, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4 };
    struct buf out;

    buf_init(&out);
    cl_fmt_ls_long(&out, &a, &tm, "f.txt", 5);
    ck_assert_str_eq(str(&out), "-rw-r-----   1  1000   100       123456 2024-01-02 03:04 f.txt\n");
    buf_reset(&out);
    cl_fmt_stat(&out, "/f.txt", &a);
    ck_assert_ptr_nonnull(strstr(str(&out), "block_size: 67108864\nreplication: 3\n"));
    ck_assert_ptr_nonnull(strstr(str(&out), "mode: 0640 (-rw-r-----)\n"));
    buf_fini(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_fmt");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_cl_fmt_mode_table, 0,
                        (int)(sizeof(mode_cases) / sizeof(mode_cases[0])));
    tcase_add_test(tc, test_cl_fmt_human_sizes);
    tcase_add_test(tc, test_cl_fmt_json_escapes_specials_and_controls);
    tcase_add_test(tc, test_cl_fmt_report_json_golden);
    tcase_add_test(tc, test_cl_fmt_report_text_has_totals_and_sections);
    tcase_add_test(tc, test_cl_fmt_ls_long_and_stat);
    suite_add_tcase(s, tc);
    return check_run(s);
}
