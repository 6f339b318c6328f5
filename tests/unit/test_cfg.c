/* Unit tests for common/cfg: defaults, set and override, unknown keys, bad values, sizes with
 * suffixes, host:port parsing, file loading with comments and error line numbers; and a check
 * that docs/OPERATIONS.md lists every key of CFG_KEYS with its default (and no other key).
 * The doc is found through $DFS_OPERATIONS_MD, else relative to this source file. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "check_run.h"

static struct cfg cfg;
static char err[512];

static void setup(void)
{
    cfg_init(&cfg);
    err[0] = '\0';
}

static void teardown(void)
{
    cfg_fini(&cfg);
}

/* ---- defaults, set, override ---- */

START_TEST(test_defaults)
{
    for (int k = 0; k < CFG_KEY_COUNT; k++) {
        const struct cfg_key_info *ki = cfg_key_info((enum cfg_key)k);
        ck_assert_ptr_nonnull(ki->key);
        ck_assert_ptr_nonnull(ki->desc);
        ck_assert_str_eq(cfg_str(&cfg, (enum cfg_key)k), ki->def);
    }
    ck_assert_str_eq(cfg_str(&cfg, CFG_CLUSTER_ID), "dfs");
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_BLOCK_SIZE), 64ULL << 20);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_REPLICATION), 3);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_HEARTBEAT_MS), 3000);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_DN_CAPACITY), 0);
}
END_TEST

START_TEST(test_every_default_is_valid)
{
    /* A default that its own type rejects would make cfg_u64() abort at run time. */
    for (int k = 0; k < CFG_KEY_COUNT; k++) {
        const struct cfg_key_info *ki = cfg_key_info((enum cfg_key)k);
        char kv[512];
        snprintf(kv, sizeof(kv), "%s=%s", ki->key, ki->def);
        ck_assert_msg(cfg_set(&cfg, kv, err, sizeof(err)) == 0, "%s: %s", ki->key, err);
    }
}
END_TEST

START_TEST(test_keys_unique)
{
    for (int i = 0; i < CFG_KEY_COUNT; i++)
        for (int j = i + 1; j < CFG_KEY_COUNT; j++)
            ck_assert_str_ne(cfg_key_info((enum cfg_key)i)->key,
                             cfg_key_info((enum cfg_key)j)->key);
}
END_TEST

START_TEST(test_set_and_override)
{
    ck_assert_int_eq(cfg_set(&cfg, "cluster.id=alpha", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg_str(&cfg, CFG_CLUSTER_ID), "alpha");
    ck_assert_int_eq(cfg_set(&cfg, "  cluster.id   =   beta  ", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg_str(&cfg, CFG_CLUSTER_ID), "beta");
    ck_assert_int_eq(cfg_set(&cfg, "dfs.replication = 2", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_REPLICATION), 2);
    ck_assert_int_eq(cfg_set(&cfg, "dfs.block_size=4M", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_BLOCK_SIZE), 4ULL << 20);
    ck_assert_int_eq(cfg_set(&cfg, "dn.advertise=", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg_str(&cfg, CFG_DN_ADVERTISE), "");
    /* A value may itself contain '='. */
    ck_assert_int_eq(cfg_set(&cfg, "nn.dir=/tmp/a=b", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg_str(&cfg, CFG_NN_DIR), "/tmp/a=b");
}
END_TEST

START_TEST(test_unknown_key)
{
    ck_assert_int_eq(cfg_set(&cfg, "no.such.key=1", err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "no.such.key"));
    ck_assert_int_eq(cfg_set(&cfg, "Cluster.ID=x", err, sizeof(err)), -ENOENT);
}
END_TEST

START_TEST(test_bad_values_rejected_and_value_kept)
{
    static const char *const bad[] = {
        "dfs.replication=",        "dfs.replication=abc",   "dfs.replication=-1",
        "dfs.replication=3x",      "dfs.replication= 1 2",  "dfs.heartbeat_ms=1.5",
        "dfs.block_size=",         "dfs.block_size=M",      "dfs.block_size=10Q",
        "dfs.block_size=-4M",      "dfs.block_size=1.5M",   "dfs.block_size=4MM",
        "dfs.block_size=99999999999999999999", "dfs.block_size=17179869184T",
        "dfs.replication=99999999999999999999", "dfs.replication=+3",
        "cluster.id",              "",                      "=value",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = cfg_set(&cfg, bad[i], err, sizeof(err));
        ck_assert_msg(rc == -EINVAL || rc == -ENOENT, "'%s' accepted (rc %d)", bad[i], rc);
        ck_assert_msg(err[0] != '\0', "'%s': no message", bad[i]);
    }
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_REPLICATION), 3);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_BLOCK_SIZE), 64ULL << 20);
}
END_TEST

START_TEST(test_overlong_line_rejected)
{
    char kv[2048];
    memset(kv, 'a', sizeof(kv) - 1);
    kv[sizeof(kv) - 1] = '\0';
    memcpy(kv, "nn.dir=", 7);
    ck_assert_int_eq(cfg_set(&cfg, kv, err, sizeof(err)), -EINVAL);
}
END_TEST

/* ---- sizes ---- */

START_TEST(test_parse_size)
{
    static const struct {
        const char *s;
        uint64_t want;
    } ok[] = {
        { "0", 0 },
        { "123", 123 },
        { "64K", 64ULL << 10 },
        { "64k", 64ULL << 10 },
        { "64KB", 64ULL << 10 },
        { "4M", 4ULL << 20 },
        { "64m", 64ULL << 20 },
        { "1G", 1ULL << 30 },
        { "2T", 2ULL << 40 },
        { "16777215T", 16777215ULL << 40 },
        { "18446744073709551615", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 1;
        ck_assert_msg(cfg_parse_size(ok[i].s, &v) == 0, "'%s' rejected", ok[i].s);
        ck_assert_msg(v == ok[i].want, "'%s' = %llu", ok[i].s, (unsigned long long)v);
    }
    static const char *const bad[] = { "", "K", " 1", "-1", "+1", "1.5", "1P", "1KK", "1 K",
                                       "16777216T", "18446744073709551616", "0x10" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 42;
        ck_assert_msg(cfg_parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
        ck_assert_uint_eq(v, 42); /* out-param untouched on failure */
    }
}
END_TEST

/* ---- host:port ---- */

START_TEST(test_parse_hostport_ok)
{
    static const struct {
        const char *s, *host;
        uint16_t port;
    } ok[] = {
        { "127.0.0.1:9000", "127.0.0.1", 9000 },
        { "localhost:1", "localhost", 1 },
        { "dn-3.example.com:65535", "dn-3.example.com", 65535 },
        { "[::1]:9000", "::1", 9000 },
        { "[fe80::1%eth0]:80", "fe80::1%eth0", 80 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char host[256];
        uint16_t port = 0;
        ck_assert_msg(cfg_parse_hostport(ok[i].s, host, sizeof(host), &port) == 0,
                      "'%s' rejected", ok[i].s);
        ck_assert_str_eq(host, ok[i].host);
        ck_assert_uint_eq(port, ok[i].port);
    }
}
END_TEST

START_TEST(test_parse_hostport_bad)
{
    static const char *const bad[] = { "",          "host",      ":9000",    "host:",
                                       "host:abc",  "host:65536", "host:1x", "[]:80",
                                       "host:99999999999999999999", "host: 80",
                                       "host:+80", "[::1:80",   "::1:9000", "host]:80",
                                       "[::1]x:80" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char host[64] = "untouched";
        uint16_t port = 7;
        ck_assert_msg(cfg_parse_hostport(bad[i], host, sizeof(host), &port) == -EINVAL,
                      "'%s' accepted", bad[i]);
        ck_assert_uint_eq(port, 7);
    }
    /* A host longer than the caller's buffer is an error, not a truncation. */
    char small[4];
    uint16_t port;
    ck_assert_int_eq(cfg_parse_hostport("abcd:80", small, sizeof(small), &port), -EINVAL);
    ck_assert_int_eq(cfg_parse_hostport("abc:80", small, sizeof(small), &port), 0);
    ck_assert_str_eq(small, "abc");
}
END_TEST

/* ---- files ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static char tmp_path[64];

static void tmp_file(const char *text)
{
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/dfs_test_cfg_XXXXXX");
    int fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(tmp_path, text);
}

START_TEST(test_load_file)
{
    tmp_file("# a dfs config\n"
             "\n"
             "cluster.id = filecluster   # trailing comment\n"
             "   dfs.block_size=4M\n"
             "\t# indented comment\n"
             "dfs.replication = 2\n"
             "dfs.replication = 1\n"); /* later lines override earlier ones */
    ck_assert_int_eq(cfg_load_file(&cfg, tmp_path, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg_str(&cfg, CFG_CLUSTER_ID), "filecluster");
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_BLOCK_SIZE), 4ULL << 20);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_REPLICATION), 1);
    /* -o flags are applied after the file and win. */
    ck_assert_int_eq(cfg_set(&cfg, "dfs.replication=3", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg_u64(&cfg, CFG_REPLICATION), 3);
    unlink(tmp_path);
}
END_TEST

START_TEST(test_load_file_error_line)
{
    tmp_file("# comment\n"
             "cluster.id = x\n"
             "\n"
             "dfs.replication = 2\n"
             "dfs.block_size = lots\n"
             "nn.dir = /never/applied\n");
    ck_assert_int_eq(cfg_load_file(&cfg, tmp_path, err, sizeof(err)), -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:5:", tmp_path);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    ck_assert_ptr_nonnull(strstr(err, "dfs.block_size"));
    ck_assert_str_ne(cfg_str(&cfg, CFG_NN_DIR), "/never/applied");
    unlink(tmp_path);

    tmp_file("cluster.id = x\nbogus.key = 1\n");
    ck_assert_int_eq(cfg_load_file(&cfg, tmp_path, err, sizeof(err)), -ENOENT);
    snprintf(want, sizeof(want), "%s:2:", tmp_path);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    unlink(tmp_path);

    tmp_file("just some words\n");
    ck_assert_int_eq(cfg_load_file(&cfg, tmp_path, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:1:", tmp_path);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    unlink(tmp_path);
}
END_TEST

START_TEST(test_load_missing_file)
{
    ck_assert_int_eq(cfg_load_file(&cfg, "/nonexistent/dfs.conf", err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dfs.conf"));
}
END_TEST

/* ---- docs/OPERATIONS.md lists every key with its default ---- */

static char *doc_read(void)
{
    char path[4096];
    const char *env = getenv("DFS_OPERATIONS_MD");
    if (env && *env) {
        snprintf(path, sizeof(path), "%s", env);
    } else {
        /* __FILE__ is ".../tests/unit/test_cfg.c", relative to the build dir or absolute. */
        const char *suffix = "tests/unit/test_cfg.c";
        size_t n = strlen(__FILE__) - strlen(suffix);
        ck_assert_msg(strcmp(__FILE__ + n, suffix) == 0, "unexpected __FILE__ %s", __FILE__);
        snprintf(path, sizeof(path), "%.*sdocs/OPERATIONS.md", (int)n, __FILE__);
    }
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s (set DFS_OPERATIONS_MD)", path);
    char *text = calloc(1, 1 << 20);
    ck_assert_ptr_nonnull(text);
    size_t len = fread(text, 1, (1 << 20) - 1, f);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* Copies table cell idx (0 = first after the leading '|') of a "| a | b | c |" row, trimmed. */
static int row_cell(const char *row, int idx, char *out, size_t cap)
{
    const char *p = strchr(row, '|');
    for (int i = 0; p && i < idx; i++)
        p = strchr(p + 1, '|');
    if (!p)
        return -1;
    p++;
    const char *end = strchr(p, '|');
    if (!end)
        return -1;
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    snprintf(out, cap, "%.*s", (int)(end - p), p);
    return 0;
}

START_TEST(test_operations_doc_lists_every_key)
{
    char *doc = doc_read();
    for (int k = 0; k < CFG_KEY_COUNT; k++) {
        const struct cfg_key_info *ki = cfg_key_info((enum cfg_key)k);
        char needle[128], cell[256], want[256];
        snprintf(needle, sizeof(needle), "\n| `%s` |", ki->key);
        const char *row = strstr(doc, needle);
        ck_assert_msg(row != NULL, "docs/OPERATIONS.md has no row for `%s`", ki->key);
        ck_assert_int_eq(row_cell(row + 1, 1, cell, sizeof(cell)), 0);
        if (ki->def[0])
            snprintf(want, sizeof(want), "`%s`", ki->def);
        else
            snprintf(want, sizeof(want), "(empty)");
        ck_assert_msg(strcmp(cell, want) == 0, "`%s`: doc default %s, CFG_KEYS default %s",
                      ki->key, cell, want);
    }
    free(doc);
}
END_TEST

START_TEST(test_operations_doc_lists_no_other_key)
{
    char *doc = doc_read();
    for (const char *row = strstr(doc, "\n| `"); row; row = strstr(row + 1, "\n| `")) {
        char cell[256];
        ck_assert_int_eq(row_cell(row + 1, 0, cell, sizeof(cell)), 0);
        size_t n = strlen(cell);
        if (n < 3 || cell[n - 1] != '`' || !strchr(cell, '.'))
            continue; /* not a key row */
        cell[n - 1] = '\0';
        int found = 0;
        for (int k = 0; k < CFG_KEY_COUNT && !found; k++)
            found = strcmp(cfg_key_info((enum cfg_key)k)->key, cell + 1) == 0;
        ck_assert_msg(found, "docs/OPERATIONS.md lists `%s`, which is not in CFG_KEYS", cell + 1);
    }
    free(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_every_default_is_valid);
    tcase_add_test(tc, test_keys_unique);
    tcase_add_test(tc, test_set_and_override);
    tcase_add_test(tc, test_unknown_key);
    tcase_add_test(tc, test_bad_values_rejected_and_value_kept);
    tcase_add_test(tc, test_overlong_line_rejected);
    tcase_add_test(tc, test_parse_size);
    tcase_add_test(tc, test_parse_hostport_ok);
    tcase_add_test(tc, test_parse_hostport_bad);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_load_file_error_line);
    tcase_add_test(tc, test_load_missing_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("docs");
    tcase_add_test(tc, test_operations_doc_lists_every_key);
    tcase_add_test(tc, test_operations_doc_lists_no_other_key);
    suite_add_tcase(s, tc);
    return check_run(s);
}
