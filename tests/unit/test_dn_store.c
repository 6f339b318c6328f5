/* Unit tests of datanode/dn_store against a temporary directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "check_run.h"
#include "csum.h"
#include "dn_chunk.h"
#include "dn_deleter.h"
#include "dn_spare.h"
#include "dn_store.h"
#include "err.h"
#include "xmalloc.h"

enum { DATA_LEN = 2 * CSUM_CHUNK_SIZE + 1234 };

static char tmpdir[256];
static uint8_t data[DATA_LEN];
static uint8_t csums[8 * 3];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dn_store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    for (size_t i = 0; i < DATA_LEN; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    uint64_t c[3];
    csum_chunks(data, DATA_LEN, c);
    for (int i = 0; i < 3; i++)
        le_put_u64(csums + 8 * i, c[i]);
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void open_store(struct dn_store *s)
{
    char err[256] = "";
    int rc = dn_store_open(s, tmpdir, "test", 0, err, sizeof(err));
    ck_assert_msg(rc == 0, "open: %s", err);
}

/* Writes blk in two calls (two full chunks, then the partial tail) and finalizes it. */
static void put_replica(struct dn_store *s, struct wire_blk blk)
{
    struct dn_rbw r;
    ck_assert_int_eq(dn_store_rbw_create(s, blk, &r), 0);
    ck_assert_int_eq(dn_store_rbw_write(&r, 0, data, 2 * CSUM_CHUNK_SIZE, csums, 2), 0);
    ck_assert_int_eq(dn_store_rbw_write(&r, 2 * CSUM_CHUNK_SIZE, data + 2 * CSUM_CHUNK_SIZE,
                                        DATA_LEN - 2 * CSUM_CHUNK_SIZE, csums + 16, 1),
                     0);
    ck_assert_int_eq(dn_store_rbw_finalize(s, &r), 0);
}

static void replica_path(char *out, size_t cap, struct wire_blk blk, const char *ext)
{
    snprintf(out, cap, "%s/finalized/subdir%02x/blk_%016llx_%llu.%s", tmpdir,
             (unsigned)(blk.id & 0xff), (unsigned long long)blk.id,
             (unsigned long long)blk.gen, ext);
}

START_TEST(test_dn_store_version_keeps_node_id_and_refuses_other_cluster)
{
    struct dn_store s;
    char id[DN_STORE_NODE_ID_LEN + 1], err[256];

    open_store(&s);
    ck_assert_uint_eq(strlen(s.node_id), DN_STORE_NODE_ID_LEN);
    memcpy(id, s.node_id, sizeof(id));
    dn_store_close(&s);
    open_store(&s);
    ck_assert_str_eq(s.node_id, id);
    dn_store_close(&s);
    ck_assert_int_eq(dn_store_open(&s, tmpdir, "other", 0, err, sizeof(err)), -ERR_CLUSTER);
    ck_assert_ptr_nonnull(strstr(err, "other"));
}
END_TEST

START_TEST(test_dn_store_write_finalize_read_back)
{
    struct dn_store s;
    struct dn_reader rd;
    struct wire_blk blk = { 0x1234, 1 };
    static uint8_t got[DATA_LEN];
    uint8_t got_csums[24];
    char path[512];
    struct stat st;

    open_store(&s);
    put_replica(&s, blk);
    replica_path(path, sizeof(path), blk, "data");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, DATA_LEN);
    ck_assert_int_eq(dn_store_read_open(&s, blk, 0, 0, &rd), 0);
    ck_assert_uint_eq(rd.len, DATA_LEN);
    ck_assert_int_eq(dn_store_read(&rd, 0, DATA_LEN, got, got_csums), 0);
    ck_assert_mem_eq(got, data, DATA_LEN);
    ck_assert_mem_eq(got_csums, csums, sizeof(csums));
    ck_assert_int_eq(dn_store_read(&rd, CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, got, got_csums), 0);
    ck_assert_mem_eq(got, data + CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE);
    dn_store_read_close(&rd);
    ck_assert_uint_eq(s.used_bytes, DATA_LEN);
    ck_assert_uint_eq(s.replica_count, 1);
    dn_store_close(&s);
}
END_TEST

START_TEST(test_dn_store_flipped_byte_is_detected_on_read)
{
    struct dn_store s;
    struct dn_reader rd;
    struct wire_blk blk = { 77, 3 };
    static uint8_t got[DATA_LEN];
    uint8_t got_csums[24], b;
    char path[512];

    open_store(&s);
    put_replica(&s, blk);
    replica_path(path, sizeof(path), blk, "data");
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &b, 1, CSUM_CHUNK_SIZE + 9), 1);
    b ^= 0x01;
    ck_assert_int_eq(pwrite(fd, &b, 1, CSUM_CHUNK_SIZE + 9), 1);
    close(fd);
    ck_assert_int_eq(dn_store_read_open(&s, blk, 0, 0, &rd), 0);
    ck_assert_int_eq(dn_store_read(&rd, 0, CSUM_CHUNK_SIZE, got, got_csums), 0);
    ck_assert_int_eq(dn_store_read(&rd, 0, DATA_LEN, got, got_csums), -ERR_CHECKSUM);
    dn_store_read_close(&rd);
    dn_store_close(&s);
}
END_TEST

static void collect_cb(void *arg, const struct wire_blk_len *e)
{
    struct wire_blk_len *seen = arg;
    ck_assert_uint_eq(seen->len, 0); /* exactly one replica expected */
    *seen = *e;
}

START_TEST(test_dn_store_restart_drops_rbw_and_quarantines_garbage)
{
    struct dn_store s;
    struct dn_rbw r;
    struct wire_blk good = { 5, 1 }, bad = { 6, 1 }, open_blk = { 7, 1 };
    struct wire_blk_len seen = { { 0, 0 }, 0 };
    char path[512];

    open_store(&s);
    put_replica(&s, good);
    put_replica(&s, bad);
    ck_assert_int_eq(dn_store_rbw_create(&s, open_blk, &r), 0);
    ck_assert_int_eq(dn_store_rbw_write(&r, 0, data, CSUM_CHUNK_SIZE, csums, 1), 0);
    replica_path(path, sizeof(path), bad, "csum");
    ck_assert_int_eq(truncate(path, 40), 0); /* inconsistent with the data length */
    dn_store_close(&s);
    close(r.data_fd);
    close(r.csum_fd);

    open_store(&s);
    ck_assert_uint_eq(s.replica_count, 1);
    ck_assert_int_eq(dn_store_scan(&s, collect_cb, &seen), 0);
    ck_assert_uint_eq(seen.blk.id, 5);
    ck_assert_uint_eq(seen.len, DATA_LEN);
    snprintf(path, sizeof(path), "%s/rbw/blk_%016x_1.data", tmpdir, 7);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/quarantine/blk_%016x_1.csum", tmpdir, 6);
    ck_assert_int_eq(access(path, F_OK), 0);
    dn_store_close(&s);
}
END_TEST

START_TEST(test_dn_store_delete_and_generations)
{
    struct dn_store s;
    struct dn_reader rd;
    struct wire_blk blk = { 0x501, 2 };

    open_store(&s);
    put_replica(&s, blk);
    ck_assert_int_eq(dn_store_read_open(&s, (struct wire_blk){ 0x501, 3 }, 0, 0, &rd), -ERR_STALE_GEN);
    ck_assert_int_eq(dn_store_read_open(&s, (struct wire_blk){ 0x502, 2 }, 0, 0, &rd), -ERR_NO_BLOCK);
    ck_assert_int_eq(dn_store_delete(&s, (struct wire_blk){ 0x501, 1 }), -ERR_NO_BLOCK);
    ck_assert_int_eq(dn_store_delete(&s, blk), 0);
    ck_assert_int_eq(dn_store_read_open(&s, blk, 0, 0, &rd), -ERR_NO_BLOCK);
    ck_assert_uint_eq(s.used_bytes, 0);
    /* A delete of a newer generation removes an older one stored here. */
    put_replica(&s, (struct wire_blk){ 0x503, 1 });
    ck_assert_int_eq(dn_store_delete(&s, (struct wire_blk){ 0x503, 4 }), 0);
    ck_assert_int_eq(dn_store_read_open(&s, (struct wire_blk){ 0x503, 1 }, 0, 0, &rd), -ERR_NO_BLOCK);
    ck_assert_int_eq(dn_store_delete(&s, (struct wire_blk){ 0x503, 4 }), -ERR_NO_BLOCK);
    ck_assert_uint_eq(s.used_bytes, 0);
    dn_store_close(&s);
}
END_TEST

/* A deleted replica's files are kept as spares (dn_spare.h) and the next replica written is
 * stored in them: the same inodes, emptied, with the new replica's bytes read back intact. */
START_TEST(test_dn_store_new_replica_reuses_deleted_files)
{
    struct dn_store s;
    struct dn_reader rd;
    struct stat old_data, old_csum, st;
    char path[512];
    uint8_t back[DATA_LEN], back_csums[sizeof(csums)];

    open_store(&s);
    put_replica(&s, (struct wire_blk){ 0x701, 1 });
    replica_path(path, sizeof(path), (struct wire_blk){ 0x701, 1 }, "data");
    ck_assert_int_eq(stat(path, &old_data), 0);
    replica_path(path, sizeof(path), (struct wire_blk){ 0x701, 1 }, "csum");
    ck_assert_int_eq(stat(path, &old_csum), 0);
    ck_assert_int_eq(dn_store_delete(&s, (struct wire_blk){ 0x701, 1 }), 0);
    ck_assert_uint_eq(dn_spare_count(s.spare), 2);

    put_replica(&s, (struct wire_blk){ 0x702, 1 });
    ck_assert_uint_eq(dn_spare_count(s.spare), 0);
    replica_path(path, sizeof(path), (struct wire_blk){ 0x702, 1 }, "data");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(st.st_ino == old_data.st_ino || st.st_ino == old_csum.st_ino);
    ck_assert_int_eq(st.st_size, DATA_LEN);
    ck_assert_int_eq(dn_store_read_open(&s, (struct wire_blk){ 0x702, 1 }, 0, 0, &rd), 0);
    ck_assert_int_eq(dn_store_read(&rd, 0, DATA_LEN, back, back_csums), 0);
    ck_assert_mem_eq(back, data, DATA_LEN);
    dn_store_read_close(&rd);

    /* A reader opened before a removal refuses what it reads after it. */
    ck_assert_int_eq(dn_store_read_open(&s, (struct wire_blk){ 0x702, 1 }, 0, 0, &rd), 0);
    ck_assert_int_eq(dn_store_delete(&s, (struct wire_blk){ 0x702, 1 }), 0);
    ck_assert_int_eq(dn_store_read(&rd, 0, DATA_LEN, back, back_csums), -ERR_NO_BLOCK);
    dn_store_read_close(&rd);
    put_replica(&s, (struct wire_blk){ 0x702, 1 });
    ck_assert_uint_eq(dn_spare_count(s.spare), 0);

    /* An aborted write gives its files back too, and a restart keeps them. */
    struct dn_rbw r;
    ck_assert_int_eq(dn_store_rbw_create(&s, (struct wire_blk){ 0x703, 1 }, &r), 0);
    dn_store_rbw_abort(&s, &r);
    ck_assert_uint_eq(dn_spare_count(s.spare), 2);
    dn_store_close(&s);
    open_store(&s);
    ck_assert_uint_eq(dn_spare_count(s.spare), 2);
    ck_assert_uint_eq(s.replica_count, 1);
    dn_store_close(&s);
}
END_TEST

/* Finalizing a replica replaces what finalized/ holds of its id, whether the same gen (an
 * earlier write of it) or an older one, and counts it once. */
START_TEST(test_dn_store_finalize_replaces_stored_replica)
{
    struct dn_store s;
    char path[512];

    open_store(&s);
    put_replica(&s, (struct wire_blk){ 0x601, 1 });
    put_replica(&s, (struct wire_blk){ 0x601, 1 });
    ck_assert_uint_eq(s.used_bytes, DATA_LEN);
    ck_assert_uint_eq(s.replica_count, 1);
    put_replica(&s, (struct wire_blk){ 0x601, 2 });
    ck_assert_uint_eq(s.used_bytes, DATA_LEN);
    ck_assert_uint_eq(s.replica_count, 1);
    replica_path(path, sizeof(path), (struct wire_blk){ 0x601, 1 }, "data");
    ck_assert_int_eq(access(path, F_OK), -1);
    replica_path(path, sizeof(path), (struct wire_blk){ 0x601, 1 }, "csum");
    ck_assert_int_eq(access(path, F_OK), -1);
    replica_path(path, sizeof(path), (struct wire_blk){ 0x601, 2 }, "data");
    ck_assert_int_eq(access(path, F_OK), 0);
    dn_store_close(&s);
}
END_TEST

/* Writeback starts once DN_STORE_FLUSH_AHEAD bytes are written, not for a small replica. */
START_TEST(test_dn_store_writeback_starts_after_flush_ahead)
{
    struct dn_store s;
    struct dn_rbw r;
    uint32_t chunks = DN_STORE_FLUSH_AHEAD / CSUM_CHUNK_SIZE;
    uint8_t *big = xcalloc(DN_STORE_FLUSH_AHEAD, 1);
    uint8_t *big_csums = xcalloc(chunks, DN_CHUNK_CSUM_LEN);

    open_store(&s);
    ck_assert_int_eq(dn_store_rbw_create(&s, (struct wire_blk){ 0x701, 1 }, &r), 0);
    ck_assert_int_eq(dn_store_rbw_write(&r, 0, data, CSUM_CHUNK_SIZE, csums, 1), 0);
    ck_assert_uint_eq(r.flushed, 0);
    ck_assert_int_eq(dn_store_rbw_write(&r, CSUM_CHUNK_SIZE, big, DN_STORE_FLUSH_AHEAD,
                                        big_csums, chunks),
                     0);
    ck_assert_uint_eq(r.flushed, CSUM_CHUNK_SIZE + DN_STORE_FLUSH_AHEAD);
    ck_assert_int_eq(dn_store_rbw_finalize(&s, &r), 0);
    dn_store_close(&s);
    free(big);
    free(big_csums);
}
END_TEST

START_TEST(test_dn_store_abort_removes_rbw_files)
{
    struct dn_store s;
    struct dn_rbw r;
    struct wire_blk blk = { 9, 1 };

    open_store(&s);
    ck_assert_int_eq(dn_store_rbw_create(&s, blk, &r), 0);
    struct dn_rbw r2;
    ck_assert_int_eq(dn_store_rbw_create(&s, blk, &r2), -EEXIST);
    dn_store_rbw_abort(&s, &r);
    ck_assert_int_eq(dn_store_rbw_create(&s, blk, &r), 0);
    dn_store_rbw_abort(&s, &r);
    dn_store_close(&s);
}
END_TEST

/* A replica finalized without SYNC is readable at once; DN_SYNC fsyncs exactly that gen. */
START_TEST(test_dn_store_sync_of_a_finalized_replica)
{
    struct dn_store s;
    struct dn_reader rd;
    struct wire_blk blk = { 0x55, 4 };

    open_store(&s);
    put_replica(&s, blk); /* put_replica finalizes without is_sync */
    ck_assert_int_eq(dn_store_read_open(&s, blk, 0, 0, &rd), 0);
    dn_store_read_close(&rd);
    ck_assert_int_eq(dn_store_sync(&s, blk), 0);
    ck_assert_int_eq(dn_store_sync(&s, (struct wire_blk){ 0x55, 5 }), -ERR_STALE_GEN);
    ck_assert_int_eq(dn_store_sync(&s, (struct wire_blk){ 0x55, 3 }), -ERR_NO_BLOCK);
    ck_assert_int_eq(dn_store_sync(&s, (struct wire_blk){ 0x56, 4 }), -ERR_NO_BLOCK);
    dn_store_close(&s);
}
END_TEST

START_TEST(test_dn_store_capacity_override)
{
    struct dn_store s;
    struct dn_space sp;
    char err[256];

    ck_assert_int_eq(dn_store_open(&s, tmpdir, "test", 1u << 20, err, sizeof(err)), 0);
    put_replica(&s, (struct wire_blk){ 1, 1 });
    ck_assert_int_eq(dn_store_space(&s, &sp), 0);
    ck_assert_uint_eq(sp.capacity, 1u << 20);
    ck_assert_uint_eq(sp.used, DATA_LEN);
    ck_assert_uint_eq(sp.remaining, (1u << 20) - DATA_LEN);
    dn_store_close(&s);
}
END_TEST

/* Collects outcomes until want of them arrived (the thread works meanwhile). */
static uint32_t collect_all(struct dn_deleter *d, struct dn_deleted *out, uint32_t want)
{
    uint32_t got = 0;

    for (int tries = 0; got < want && tries < 10000; tries++) {
        got += dn_deleter_collect(d, out + got, want - got);
        if (got < want)
            usleep(1000);
    }
    return got;
}

/* The deleter unlinks on its own thread and hands back, in order, what it did: the bytes
 * freed for each replica it removed, -ERR_NO_BLOCK for one that is not here; the store's
 * counters change only when the caller applies them. */
START_TEST(test_dn_deleter_deletes_on_its_thread_and_reports_in_order)
{
    enum { N = 20 };
    struct dn_store s;
    struct dn_deleter d;
    struct dn_deleted done[N + 1];
    char path[512];

    open_store(&s);
    for (uint64_t i = 0; i < N; i++)
        put_replica(&s, (struct wire_blk){ 0x700 + i, 1 });
    ck_assert_uint_eq(s.replica_count, N);
    ck_assert_int_eq(dn_deleter_start(&d, &s, 0), 0);
    for (uint64_t i = 0; i < N; i++)
        ck_assert(dn_deleter_push(&d, (struct wire_blk){ 0x700 + i, 1 }));
    ck_assert(dn_deleter_push(&d, (struct wire_blk){ 0x7ff, 1 })); /* never stored */
    ck_assert_uint_eq(collect_all(&d, done, N + 1), N + 1);
    for (uint64_t i = 0; i < N; i++) {
        ck_assert_uint_eq(done[i].blk.id, 0x700 + i);
        ck_assert_int_eq(done[i].rc, 0);
        ck_assert_uint_eq(done[i].len, DATA_LEN);
        replica_path(path, sizeof(path), done[i].blk, "data");
        ck_assert_int_ne(access(path, F_OK), 0);
        replica_path(path, sizeof(path), done[i].blk, "csum");
        ck_assert_int_ne(access(path, F_OK), 0);
        ck_assert_uint_eq(s.replica_count, N - i);
        dn_store_note_deleted(&s, done[i].len);
    }
    ck_assert_int_eq(done[N].rc, -ERR_NO_BLOCK);
    ck_assert(dn_deleter_is_idle(&d));
    ck_assert_uint_eq(s.used_bytes, 0);
    ck_assert_uint_eq(s.replica_count, 0);
    dn_deleter_stop(&d);
    dn_store_close(&s);
}
END_TEST

/* Stopping with work queued lets the delete in progress finish and drops the rest (the next
 * block report brings those replicas back to the namenode); stopping twice is harmless. */
START_TEST(test_dn_deleter_stop_with_work_queued)
{
    struct dn_store s;
    struct dn_deleter d;

    open_store(&s);
    for (uint64_t i = 0; i < 50; i++)
        put_replica(&s, (struct wire_blk){ 0x800 + i, 1 });
    ck_assert_int_eq(dn_deleter_start(&d, &s, 0), 0);
    for (uint64_t i = 0; i < 50; i++)
        ck_assert(dn_deleter_push(&d, (struct wire_blk){ 0x800 + i, 1 }));
    dn_deleter_stop(&d);
    dn_deleter_stop(&d);
    dn_store_close(&s);
}
END_TEST

/* With nothing to delete the deleter makes spare files up to the reserve: at start, and again
 * after deletes once the pool was drawn from. */
START_TEST(test_dn_deleter_fills_the_spare_pool_when_idle)
{
    struct dn_store s;
    struct dn_deleter d;
    struct dn_deleted done[1];

    open_store(&s);
    ck_assert_uint_eq(dn_spare_count(s.spare), 0);
    ck_assert_int_eq(dn_deleter_start(&d, &s, 6), 0);
    for (int i = 0; i < 5000 && dn_spare_count(s.spare) < 6; i++)
        usleep(1000);
    ck_assert_uint_eq(dn_spare_count(s.spare), 6);
    for (uint64_t i = 0; i < 4; i++) /* 8 files taken */
        put_replica(&s, (struct wire_blk){ 0x900 + i, 1 });
    ck_assert_uint_eq(dn_spare_count(s.spare), 0);
    ck_assert(dn_deleter_push(&d, (struct wire_blk){ 0x900, 1 }));
    ck_assert_uint_eq(collect_all(&d, done, 1), 1);
    ck_assert_int_eq(done[0].rc, 0);
    for (int i = 0; i < 5000 && dn_spare_count(s.spare) < 6; i++)
        usleep(1000);
    ck_assert_uint_eq(dn_spare_count(s.spare), 6); /* 2 given back, 4 made */
    usleep(20000);
    ck_assert_uint_eq(dn_spare_count(s.spare), 6); /* and no more */
    dn_deleter_stop(&d);
    dn_store_close(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dn_store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dn_store_version_keeps_node_id_and_refuses_other_cluster);
    tcase_add_test(tc, test_dn_store_write_finalize_read_back);
    tcase_add_test(tc, test_dn_store_flipped_byte_is_detected_on_read);
    tcase_add_test(tc, test_dn_store_restart_drops_rbw_and_quarantines_garbage);
    tcase_add_test(tc, test_dn_store_delete_and_generations);
    tcase_add_test(tc, test_dn_store_finalize_replaces_stored_replica);
    tcase_add_test(tc, test_dn_store_new_replica_reuses_deleted_files);
    tcase_add_test(tc, test_dn_store_writeback_starts_after_flush_ahead);
    tcase_add_test(tc, test_dn_store_abort_removes_rbw_files);
    tcase_add_test(tc, test_dn_store_capacity_override);
    tcase_add_test(tc, test_dn_store_sync_of_a_finalized_replica);
    tcase_add_test(tc, test_dn_deleter_deletes_on_its_thread_and_reports_in_order);
    tcase_add_test(tc, test_dn_deleter_stop_with_work_queued);
    tcase_add_test(tc, test_dn_deleter_fills_the_spare_pool_when_idle);
    suite_add_tcase(s, tc);
    return check_run(s);
}
