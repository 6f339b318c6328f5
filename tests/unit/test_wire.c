/* Unit tests for common/wire: every message codec round-trips, every truncated prefix and a
 * trailing byte are rejected, seeded mutants of every message decode to 0 or -ERR_PROTO (and,
 * when accepted, walk their lists and re-encode to the same bytes), the frame header matches
 * golden bytes and rejects bad magic, checksums, versions and oversize bodies, and names are
 * validated. Pure: no I/O. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_run.h"
#include "test_mutate.h"
#include "test_rng.h"
#include "csum.h"
#include "err.h"
#include "wire.h"

/* ---- helpers ---- */

static void assert_str_eq(struct wire_str got, const char *want)
{
    ck_assert_uint_eq(got.len, strlen(want));
    if (got.len)
        ck_assert_int_eq(memcmp(got.p, want, got.len), 0);
}

static void assert_attr_eq(const struct wire_attr *a, const struct wire_attr *b)
{
    ck_assert_uint_eq(a->ino, b->ino);
    ck_assert_uint_eq(a->mode, b->mode);
    ck_assert_uint_eq(a->nlink, b->nlink);
    ck_assert_uint_eq(a->uid, b->uid);
    ck_assert_uint_eq(a->gid, b->gid);
    ck_assert_uint_eq(a->size, b->size);
    ck_assert_uint_eq(a->atime_ms, b->atime_ms);
    ck_assert_uint_eq(a->mtime_ms, b->mtime_ms);
    ck_assert_uint_eq(a->ctime_ms, b->ctime_ms);
    ck_assert_uint_eq(a->block_size, b->block_size);
    ck_assert_uint_eq(a->replication, b->replication);
    ck_assert_uint_eq(a->is_open, b->is_open);
    ck_assert_uint_eq(a->change, b->change);
}

static void assert_addr_eq(const struct wire_dn_addr *a, const char *node_id, const char *host,
                           uint16_t port)
{
    assert_str_eq(a->node_id, node_id);
    assert_str_eq(a->host, host);
    ck_assert_uint_eq(a->port, port);
}

/* Every field distinct and wider than one byte, so a swapped or narrowed field shows. */
static const struct wire_attr sample_attr = {
    .ino = 0x1122334455667788ULL,
    .mode = 0100644,
    .nlink = 0x01020304,
    .uid = 0x0a0b0c0d,
    .gid = 0x10203040,
    .size = 0x0102030405060708ULL,
    .atime_ms = 1700000000001ULL,
    .mtime_ms = 1700000000002ULL,
    .ctime_ms = 1700000000003ULL,
    .block_size = 64ULL << 20,
    .replication = 0x0203,
    .is_open = 1,
    .change = 0x0f1e2d3c4b5a6978ULL,
};

static const char *const addr_ids[] = { "dn-aaaa", "dn-bbbb", "dn-cccc" };
static const char *const addr_hosts[] = { "10.0.0.1", "host-b.example", "::1" };
static const uint16_t addr_ports[] = { 9001, 9002, 65535 };

static void fill_addrs(struct wire_dn_addr *addrs, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        addrs[i].node_id = wire_str_c(addr_ids[i % 3]);
        addrs[i].host = wire_str_c(addr_hosts[i % 3]);
        addrs[i].port = addr_ports[i % 3];
    }
}

static void assert_addrs(const struct wire_dn_addr *addrs, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        assert_addr_eq(&addrs[i], addr_ids[i % 3], addr_hosts[i % 3], addr_ports[i % 3]);
}

/* ---- one entry per codec: encode a sample; decode and (if verify) compare with it ---- */

typedef void enc_fn(struct buf *b);
typedef int dec_fn(const void *p, size_t n, int verify);
/* Decodes p and appends the re-encoding of what it decoded to out; returns the decoder's rc. */
typedef int recode_fn(const void *p, size_t n, struct buf *out);

struct codec {
    const char *name;
    enc_fn *enc;
    dec_fn *dec;
    /* List messages: walks every entry with wire_*_next() (checking each) and re-encodes them
     * with _begin/_put. NULL for the others, which have reenc instead. */
    recode_fn *walk;
    recode_fn *reenc;
};

static void enc_hello(struct buf *b)
{
    struct wire_hello m = { .version = 0x0102,
                            .node_kind = WIRE_NODE_DATANODE,
                            .cluster_id = wire_str_c("cluster-x"),
                            .node_id = wire_str_c("node-42") };
    wire_hello_encode(b, &m);
}
static int dec_hello(const void *p, size_t n, int verify)
{
    struct wire_hello m;
    int rc = wire_hello_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.version, 0x0102);
        ck_assert_uint_eq(m.node_kind, WIRE_NODE_DATANODE);
        assert_str_eq(m.cluster_id, "cluster-x");
        assert_str_eq(m.node_id, "node-42");
    }
    return rc;
}

static void enc_attr(struct buf *b)
{
    wire_attr_encode(b, &sample_attr);
}
static int dec_attr(const void *p, size_t n, int verify)
{
    struct wire_attr m;
    int rc = wire_attr_decode(p, n, &m);
    if (rc == 0 && verify)
        assert_attr_eq(&m, &sample_attr);
    return rc;
}

/* The parent differs from the new inode in every field, so swapping the two shows. */
static struct wire_attr sample_parent(void)
{
    struct wire_attr a = sample_attr;
    a.ino = 1;
    a.mode = 040755;
    a.nlink = 7;
    a.uid = 11;
    a.gid = 12;
    a.size = 4096;
    a.atime_ms += 10;
    a.mtime_ms += 20;
    a.ctime_ms += 30;
    a.block_size = 0;
    a.replication = 0;
    a.is_open = 0;
    a.change = 41;
    return a;
}

static void enc_nn_entry_ok(struct buf *b)
{
    struct wire_nn_entry_ok m = { .attr = sample_attr, .parent = sample_parent() };
    wire_nn_entry_ok_encode(b, &m);
}
static int dec_nn_entry_ok(const void *p, size_t n, int verify)
{
    struct wire_nn_entry_ok m;
    int rc = wire_nn_entry_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        struct wire_attr want = sample_parent();
        assert_attr_eq(&m.attr, &sample_attr);
        assert_attr_eq(&m.parent, &want);
    }
    return rc;
}

static void enc_nn_ino(struct buf *b)
{
    struct wire_nn_ino m = { .ino = 0xfedcba9876543210ULL };
    wire_nn_ino_encode(b, &m);
}
static int dec_nn_ino(const void *p, size_t n, int verify)
{
    struct wire_nn_ino m;
    int rc = wire_nn_ino_decode(p, n, &m);
    if (rc == 0 && verify)
        ck_assert_uint_eq(m.ino, 0xfedcba9876543210ULL);
    return rc;
}

static void enc_nn_name(struct buf *b)
{
    struct wire_nn_name m = { .parent = 77, .name = wire_str_c("hello.txt") };
    wire_nn_name_encode(b, &m);
}
static int dec_nn_name(const void *p, size_t n, int verify)
{
    struct wire_nn_name m;
    int rc = wire_nn_name_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.parent, 77);
        assert_str_eq(m.name, "hello.txt");
    }
    return rc;
}

static void enc_nn_setattr(struct buf *b)
{
    struct wire_nn_setattr m = { .ino = 5,
                                 .valid = WIRE_SET_MODE | WIRE_SET_SIZE | WIRE_SET_MTIME,
                                 .mode = 0755,
                                 .uid = 1000,
                                 .gid = 1001,
                                 .size = 1ULL << 40,
                                 .atime_ms = 11,
                                 .mtime_ms = 12 };
    wire_nn_setattr_encode(b, &m);
}
static int dec_nn_setattr(const void *p, size_t n, int verify)
{
    struct wire_nn_setattr m;
    int rc = wire_nn_setattr_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.ino, 5);
        ck_assert_uint_eq(m.valid, WIRE_SET_MODE | WIRE_SET_SIZE | WIRE_SET_MTIME);
        ck_assert_uint_eq(m.mode, 0755);
        ck_assert_uint_eq(m.uid, 1000);
        ck_assert_uint_eq(m.gid, 1001);
        ck_assert_uint_eq(m.size, 1ULL << 40);
        ck_assert_uint_eq(m.atime_ms, 11);
        ck_assert_uint_eq(m.mtime_ms, 12);
    }
    return rc;
}

static void enc_nn_mkdir(struct buf *b)
{
    struct wire_nn_mkdir m = {
        .parent = 1, .name = wire_str_c("dir"), .mode = 040755, .uid = 7, .gid = 8
    };
    wire_nn_mkdir_encode(b, &m);
}
static int dec_nn_mkdir(const void *p, size_t n, int verify)
{
    struct wire_nn_mkdir m;
    int rc = wire_nn_mkdir_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.parent, 1);
        assert_str_eq(m.name, "dir");
        ck_assert_uint_eq(m.mode, 040755);
        ck_assert_uint_eq(m.uid, 7);
        ck_assert_uint_eq(m.gid, 8);
    }
    return rc;
}

static void enc_nn_create(struct buf *b)
{
    struct wire_nn_create m = { .parent = 9,
                                .name = wire_str_c("f.bin"),
                                .mode = 0100600,
                                .uid = 3,
                                .gid = 4,
                                .block_size = 4ULL << 20,
                                .replication = 3,
                                .flags = WIRE_CREATE_EXCL };
    wire_nn_create_encode(b, &m);
}
static int dec_nn_create(const void *p, size_t n, int verify)
{
    struct wire_nn_create m;
    int rc = wire_nn_create_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.parent, 9);
        assert_str_eq(m.name, "f.bin");
        ck_assert_uint_eq(m.mode, 0100600);
        ck_assert_uint_eq(m.uid, 3);
        ck_assert_uint_eq(m.gid, 4);
        ck_assert_uint_eq(m.block_size, 4ULL << 20);
        ck_assert_uint_eq(m.replication, 3);
        ck_assert_uint_eq(m.flags, WIRE_CREATE_EXCL);
    }
    return rc;
}

static void enc_nn_open(struct buf *b)
{
    struct wire_nn_open m = { .ino = 12, .flags = WIRE_OPEN_WRITE | WIRE_OPEN_TRUNC };
    wire_nn_open_encode(b, &m);
}
static int dec_nn_open(const void *p, size_t n, int verify)
{
    struct wire_nn_open m;
    int rc = wire_nn_open_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.ino, 12);
        ck_assert_uint_eq(m.flags, WIRE_OPEN_WRITE | WIRE_OPEN_TRUNC);
    }
    return rc;
}

static void enc_nn_rename(struct buf *b)
{
    struct wire_nn_rename m = { .parent = 2,
                                .name = wire_str_c("old"),
                                .new_parent = 3,
                                .new_name = wire_str_c("new name"),
                                .flags = WIRE_RENAME_NOREPLACE };
    wire_nn_rename_encode(b, &m);
}
static int dec_nn_rename(const void *p, size_t n, int verify)
{
    struct wire_nn_rename m;
    int rc = wire_nn_rename_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.parent, 2);
        assert_str_eq(m.name, "old");
        ck_assert_uint_eq(m.new_parent, 3);
        assert_str_eq(m.new_name, "new name");
        ck_assert_uint_eq(m.flags, WIRE_RENAME_NOREPLACE);
    }
    return rc;
}

static void enc_nn_readdir(struct buf *b)
{
    struct wire_nn_readdir m = { .ino = 1, .after = wire_str_c("b"), .max = 100 };
    wire_nn_readdir_encode(b, &m);
}
static int dec_nn_readdir(const void *p, size_t n, int verify)
{
    struct wire_nn_readdir m;
    int rc = wire_nn_readdir_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.ino, 1);
        assert_str_eq(m.after, "b");
        ck_assert_uint_eq(m.max, 100);
    }
    return rc;
}

static void enc_nn_statfs_ok(struct buf *b)
{
    struct wire_nn_statfs_ok m = { .capacity = 1ULL << 50,
                                   .used = 1ULL << 33,
                                   .remaining = (1ULL << 50) - (1ULL << 33),
                                   .files = 123456,
                                   .blocks = 654321,
                                   .block_size = 64ULL << 20,
                                   .live_datanodes = 3 };
    wire_nn_statfs_ok_encode(b, &m);
}
static int dec_nn_statfs_ok(const void *p, size_t n, int verify)
{
    struct wire_nn_statfs_ok m;
    int rc = wire_nn_statfs_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.capacity, 1ULL << 50);
        ck_assert_uint_eq(m.used, 1ULL << 33);
        ck_assert_uint_eq(m.remaining, (1ULL << 50) - (1ULL << 33));
        ck_assert_uint_eq(m.files, 123456);
        ck_assert_uint_eq(m.blocks, 654321);
        ck_assert_uint_eq(m.block_size, 64ULL << 20);
        ck_assert_uint_eq(m.live_datanodes, 3);
    }
    return rc;
}

static void enc_nn_add_block(struct buf *b)
{
    struct wire_nn_add_block m = { .ino = 4, .prev = { .id = 99, .gen = 2 }, .prev_len = 4096 };
    wire_nn_add_block_encode(b, &m);
}
static int dec_nn_add_block(const void *p, size_t n, int verify)
{
    struct wire_nn_add_block m;
    int rc = wire_nn_add_block_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.ino, 4);
        ck_assert_uint_eq(m.prev.id, 99);
        ck_assert_uint_eq(m.prev.gen, 2);
        ck_assert_uint_eq(m.prev_len, 4096);
    }
    return rc;
}

static void enc_nn_add_block_ok(struct buf *b)
{
    struct wire_nn_add_block_ok m = {
        .blk = { .id = 0x0102030405060708ULL, .gen = 1 }, .offset = 128ULL << 20, .target_count = 3
    };
    fill_addrs(m.targets, 3);
    wire_nn_add_block_ok_encode(b, &m);
}
static int dec_nn_add_block_ok(const void *p, size_t n, int verify)
{
    struct wire_nn_add_block_ok m;
    int rc = wire_nn_add_block_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.blk.id, 0x0102030405060708ULL);
        ck_assert_uint_eq(m.blk.gen, 1);
        ck_assert_uint_eq(m.offset, 128ULL << 20);
        ck_assert_uint_eq(m.target_count, 3);
        assert_addrs(m.targets, 3);
    }
    return rc;
}

static void enc_nn_complete(struct buf *b)
{
    struct wire_nn_complete m = { .ino = 6, .last = { .id = 31, .gen = 5 }, .last_len = 17 };
    wire_nn_complete_encode(b, &m);
}
static int dec_nn_complete(const void *p, size_t n, int verify)
{
    struct wire_nn_complete m;
    int rc = wire_nn_complete_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.ino, 6);
        ck_assert_uint_eq(m.last.id, 31);
        ck_assert_uint_eq(m.last.gen, 5);
        ck_assert_uint_eq(m.last_len, 17);
    }
    return rc;
}

static void enc_nn_get_blocks(struct buf *b)
{
    struct wire_nn_get_blocks m = { .ino = 8, .offset = 1ULL << 32, .len = UINT64_MAX };
    wire_nn_get_blocks_encode(b, &m);
}
static int dec_nn_get_blocks(const void *p, size_t n, int verify)
{
    struct wire_nn_get_blocks m;
    int rc = wire_nn_get_blocks_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.ino, 8);
        ck_assert_uint_eq(m.offset, 1ULL << 32);
        ck_assert_uint_eq(m.len, UINT64_MAX);
    }
    return rc;
}

static void enc_dn_register(struct buf *b)
{
    struct wire_dn_register m = { .capacity = 1000, .used = 300, .remaining = 700 };
    fill_addrs(&m.self, 1);
    wire_dn_register_encode(b, &m);
}
static int dec_dn_register(const void *p, size_t n, int verify)
{
    struct wire_dn_register m;
    int rc = wire_dn_register_decode(p, n, &m);
    if (rc == 0 && verify) {
        assert_addrs(&m.self, 1);
        ck_assert_uint_eq(m.capacity, 1000);
        ck_assert_uint_eq(m.used, 300);
        ck_assert_uint_eq(m.remaining, 700);
    }
    return rc;
}

static void enc_dn_register_ok(struct buf *b)
{
    struct wire_dn_register_ok m = { .heartbeat_ms = 3000 };
    wire_dn_register_ok_encode(b, &m);
}
static int dec_dn_register_ok(const void *p, size_t n, int verify)
{
    struct wire_dn_register_ok m;
    int rc = wire_dn_register_ok_decode(p, n, &m);
    if (rc == 0 && verify)
        ck_assert_uint_eq(m.heartbeat_ms, 3000);
    return rc;
}

static void enc_dn_heartbeat(struct buf *b)
{
    struct wire_dn_heartbeat m = {
        .capacity = 5ULL << 40, .used = 1ULL << 40, .remaining = 4ULL << 40, .active_writes = 9
    };
    wire_dn_heartbeat_encode(b, &m);
}
static int dec_dn_heartbeat(const void *p, size_t n, int verify)
{
    struct wire_dn_heartbeat m;
    int rc = wire_dn_heartbeat_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.capacity, 5ULL << 40);
        ck_assert_uint_eq(m.used, 1ULL << 40);
        ck_assert_uint_eq(m.remaining, 4ULL << 40);
        ck_assert_uint_eq(m.active_writes, 9);
    }
    return rc;
}

static void enc_dn_write_open(struct buf *b)
{
    struct wire_dn_write_open m = { .blk = { .id = 500, .gen = 3 }, .target_count = 2 };
    fill_addrs(m.targets, 2);
    wire_dn_write_open_encode(b, &m);
}
static int dec_dn_write_open(const void *p, size_t n, int verify)
{
    struct wire_dn_write_open m;
    int rc = wire_dn_write_open_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.blk.id, 500);
        ck_assert_uint_eq(m.blk.gen, 3);
        ck_assert_uint_eq(m.target_count, 2);
        assert_addrs(m.targets, 2);
    }
    return rc;
}

/* A small packet (one partial chunk) keeps the all-prefixes loop fast; the multi-chunk case
 * has its own test below. */
static const uint8_t pkt_data[100] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, [99] = 0xee };

static void csums_raw_of(const uint8_t *data, size_t len, uint8_t *raw)
{
    for (uint32_t i = 0; i < csum_chunk_count(len); i++) {
        size_t off = (size_t)i * CSUM_CHUNK_SIZE;
        size_t n = len - off < CSUM_CHUNK_SIZE ? len - off : CSUM_CHUNK_SIZE;
        le_put_u64(raw + 8 * (size_t)i, csum_chunk(data + off, n));
    }
}

static void enc_dn_write_pkt(struct buf *b)
{
    uint8_t raw[8];
    csums_raw_of(pkt_data, sizeof(pkt_data), raw);
    struct wire_dn_write_pkt m = { .seq = 7,
                                   .offset = 3 * CSUM_CHUNK_SIZE,
                                   .flags = WIRE_PKT_LAST,
                                   .data_len = sizeof(pkt_data),
                                   .data = pkt_data,
                                   .csum_count = 1,
                                   .csums_raw = raw };
    wire_dn_write_pkt_encode(b, &m);
}
static int dec_dn_write_pkt(const void *p, size_t n, int verify)
{
    struct wire_dn_write_pkt m;
    int rc = wire_dn_write_pkt_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.seq, 7);
        ck_assert_uint_eq(m.offset, 3 * CSUM_CHUNK_SIZE);
        ck_assert_uint_eq(m.flags, WIRE_PKT_LAST);
        ck_assert_uint_eq(m.data_len, sizeof(pkt_data));
        ck_assert_int_eq(memcmp(m.data, pkt_data, sizeof(pkt_data)), 0);
        ck_assert_uint_eq(m.csum_count, 1);
        ck_assert_uint_eq(wire_csum_at(m.csums_raw, 0), csum_chunk(pkt_data, sizeof(pkt_data)));
    }
    return rc;
}

static void enc_dn_write_ack(struct buf *b)
{
    struct wire_dn_write_ack m = { .seq = 1ULL << 60, .status = 201, .failed_idx = 2 };
    wire_dn_write_ack_encode(b, &m);
}
static int dec_dn_write_ack(const void *p, size_t n, int verify)
{
    struct wire_dn_write_ack m;
    int rc = wire_dn_write_ack_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.seq, 1ULL << 60);
        ck_assert_uint_eq(m.status, 201);
        ck_assert_uint_eq(m.failed_idx, 2);
    }
    return rc;
}

static void enc_dn_read(struct buf *b)
{
    struct wire_dn_read m = {
        .blk = { .id = 42, .gen = 9 }, .offset = 2 * CSUM_CHUNK_SIZE, .len = 1 << 20
    };
    wire_dn_read_encode(b, &m);
}
static int dec_dn_read(const void *p, size_t n, int verify)
{
    struct wire_dn_read m;
    int rc = wire_dn_read_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.blk.id, 42);
        ck_assert_uint_eq(m.blk.gen, 9);
        ck_assert_uint_eq(m.offset, 2 * CSUM_CHUNK_SIZE);
        ck_assert_uint_eq(m.len, 1 << 20);
    }
    return rc;
}

static void enc_dn_read_data(struct buf *b)
{
    uint8_t raw[8];
    csums_raw_of(pkt_data, sizeof(pkt_data), raw);
    struct wire_dn_read_data m = { .offset = CSUM_CHUNK_SIZE,
                                   .flags = WIRE_READ_EOF,
                                   .data_len = sizeof(pkt_data),
                                   .data = pkt_data,
                                   .csum_count = 1,
                                   .csums_raw = raw };
    wire_dn_read_data_encode(b, &m);
}
static int dec_dn_read_data(const void *p, size_t n, int verify)
{
    struct wire_dn_read_data m;
    int rc = wire_dn_read_data_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.offset, CSUM_CHUNK_SIZE);
        ck_assert_uint_eq(m.flags, WIRE_READ_EOF);
        ck_assert_uint_eq(m.data_len, sizeof(pkt_data));
        ck_assert_int_eq(memcmp(m.data, pkt_data, sizeof(pkt_data)), 0);
        ck_assert_uint_eq(m.csum_count, 1);
        ck_assert_uint_eq(wire_csum_at(m.csums_raw, 0), csum_chunk(pkt_data, sizeof(pkt_data)));
    }
    return rc;
}

static void enc_dn_sync(struct buf *b)
{
    struct wire_dn_sync m = { .blk = { .id = 77, .gen = 3 } };
    wire_dn_sync_encode(b, &m);
}
static int dec_dn_sync(const void *p, size_t n, int verify)
{
    struct wire_dn_sync m;
    int rc = wire_dn_sync_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.blk.id, 77);
        ck_assert_uint_eq(m.blk.gen, 3);
    }
    return rc;
}

/* ---- list messages: _begin, several _put, _decode, _next ---- */

static const char *const dirent_names[] = { "a", "bb", "name with spaces" };

static void enc_nn_readdir_ok(struct buf *b)
{
    size_t start = b->len;
    wire_nn_readdir_ok_begin(b, 1);
    for (int i = 0; i < 3; i++) {
        struct wire_nn_dirent e = { .name = wire_str_c(dirent_names[i]), .attr = sample_attr };
        e.attr.ino += (uint64_t)i;
        wire_nn_readdir_ok_put(b, start, &e);
    }
}
static int dec_nn_readdir_ok(const void *p, size_t n, int verify)
{
    struct wire_nn_readdir_ok m;
    int rc = wire_nn_readdir_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.is_eof, 1);
        ck_assert_uint_eq(m.count, 3);
        for (int i = 0; i < 3; i++) {
            struct wire_nn_dirent e;
            struct wire_attr want = sample_attr;
            want.ino += (uint64_t)i;
            wire_nn_readdir_ok_next(&m, &e);
            assert_str_eq(e.name, dirent_names[i]);
            assert_attr_eq(&e.attr, &want);
        }
    }
    return rc;
}

static void enc_nn_get_blocks_ok(struct buf *b)
{
    size_t start = b->len;
    wire_nn_get_blocks_ok_begin(b, 300ULL << 20);
    for (uint32_t i = 0; i < 3; i++) {
        struct wire_located_blk e = { .blk = { .id = 100 + i, .gen = 1 + i },
                                      .offset = (uint64_t)i << 26,
                                      .len = 1ULL << 26,
                                      .loc_count = i + 1 };
        fill_addrs(e.locs, i + 1);
        wire_nn_get_blocks_ok_put(b, start, &e);
    }
}
static int dec_nn_get_blocks_ok(const void *p, size_t n, int verify)
{
    struct wire_nn_get_blocks_ok m;
    int rc = wire_nn_get_blocks_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.file_size, 300ULL << 20);
        ck_assert_uint_eq(m.count, 3);
        for (uint32_t i = 0; i < 3; i++) {
            struct wire_located_blk e;
            wire_nn_get_blocks_ok_next(&m, &e);
            ck_assert_uint_eq(e.blk.id, 100 + i);
            ck_assert_uint_eq(e.blk.gen, 1 + i);
            ck_assert_uint_eq(e.offset, (uint64_t)i << 26);
            ck_assert_uint_eq(e.len, 1ULL << 26);
            ck_assert_uint_eq(e.loc_count, i + 1);
            assert_addrs(e.locs, i + 1);
        }
    }
    return rc;
}

static const struct wire_nn_report_ok sample_totals = {
    .capacity = 3000, .used = 600, .remaining = 2400, .files = 11, .dirs = 12, .blocks = 13,
    .under_replicated = 14,
};

static void enc_nn_report_ok(struct buf *b)
{
    size_t start = b->len;
    wire_nn_report_ok_begin(b, &sample_totals);
    for (uint32_t i = 0; i < 3; i++) {
        struct wire_dn_row e = { .state = i == 2 ? WIRE_DN_DEAD : WIRE_DN_LIVE,
                                 .capacity = 1000 + i,
                                 .used = 200 + i,
                                 .remaining = 800 + i,
                                 .blocks = 50 + i,
                                 .last_heartbeat_age_ms = 1500 + i };
        e.addr.node_id = wire_str_c(addr_ids[i]);
        e.addr.host = wire_str_c(addr_hosts[i]);
        e.addr.port = addr_ports[i];
        wire_nn_report_ok_put(b, start, &e);
    }
}
static int dec_nn_report_ok(const void *p, size_t n, int verify)
{
    struct wire_nn_report_ok m;
    int rc = wire_nn_report_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.capacity, sample_totals.capacity);
        ck_assert_uint_eq(m.used, sample_totals.used);
        ck_assert_uint_eq(m.remaining, sample_totals.remaining);
        ck_assert_uint_eq(m.files, sample_totals.files);
        ck_assert_uint_eq(m.dirs, sample_totals.dirs);
        ck_assert_uint_eq(m.blocks, sample_totals.blocks);
        ck_assert_uint_eq(m.under_replicated, sample_totals.under_replicated);
        ck_assert_uint_eq(m.count, 3);
        for (uint32_t i = 0; i < 3; i++) {
            struct wire_dn_row e;
            wire_nn_report_ok_next(&m, &e);
            assert_addr_eq(&e.addr, addr_ids[i], addr_hosts[i], addr_ports[i]);
            ck_assert_uint_eq(e.state, i == 2 ? WIRE_DN_DEAD : WIRE_DN_LIVE);
            ck_assert_uint_eq(e.capacity, 1000 + i);
            ck_assert_uint_eq(e.used, 200 + i);
            ck_assert_uint_eq(e.remaining, 800 + i);
            ck_assert_uint_eq(e.blocks, 50 + i);
            ck_assert_uint_eq(e.last_heartbeat_age_ms, 1500 + i);
        }
    }
    return rc;
}

/* Commands 0 and 2 are DELETEs, 1 a REPLICATE (which alone carries a length and a target). */
static void enc_dn_heartbeat_ok(struct buf *b)
{
    size_t start = b->len;
    wire_dn_heartbeat_ok_begin(b);
    for (uint32_t i = 0; i < 3; i++) {
        struct wire_dn_cmd e = { .kind = WIRE_CMD_DELETE, .blk = { .id = 70 + i, .gen = 4 } };
        if (i == 1)
            e = (struct wire_dn_cmd){ .kind = WIRE_CMD_REPLICATE, .blk = { .id = 71, .gen = 4 },
                                      .len = 65537,
                                      .target = { .node_id = wire_str_c("dn-x"),
                                                  .host = wire_str_c("10.0.0.9"), .port = 9102 } };
        wire_dn_heartbeat_ok_put(b, start, &e);
    }
}
static int dec_dn_heartbeat_ok(const void *p, size_t n, int verify)
{
    struct wire_dn_heartbeat_ok m;
    int rc = wire_dn_heartbeat_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.count, 3);
        for (uint32_t i = 0; i < 3; i++) {
            struct wire_dn_cmd e;
            wire_dn_heartbeat_ok_next(&m, &e);
            ck_assert_uint_eq(e.kind, i == 1 ? WIRE_CMD_REPLICATE : WIRE_CMD_DELETE);
            ck_assert_uint_eq(e.blk.id, 70 + i);
            ck_assert_uint_eq(e.blk.gen, 4);
        }
    }
    return rc;
}

static void enc_dn_blocks(struct buf *b)
{
    size_t start = b->len;
    wire_dn_blocks_begin(b, WIRE_REPORT_FIRST | WIRE_REPORT_LAST);
    for (uint32_t i = 0; i < 3; i++) {
        struct wire_blk_len e = { .blk = { .id = 1000 + i, .gen = 2 }, .len = 4096ULL * (i + 1) };
        wire_dn_blocks_put(b, start, &e);
    }
}
static int dec_dn_blocks(const void *p, size_t n, int verify)
{
    struct wire_dn_blocks m;
    int rc = wire_dn_blocks_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.flags, WIRE_REPORT_FIRST | WIRE_REPORT_LAST);
        ck_assert_uint_eq(m.count, 3);
        for (uint32_t i = 0; i < 3; i++) {
            struct wire_blk_len e;
            wire_dn_blocks_next(&m, &e);
            ck_assert_uint_eq(e.blk.id, 1000 + i);
            ck_assert_uint_eq(e.blk.gen, 2);
            ck_assert_uint_eq(e.len, 4096ULL * (i + 1));
        }
    }
    return rc;
}

/* ---- for the mutation fuzz: re-encoders and list walks ---- */

/* The mutant being decoded, so that a failure deep in a walk can name it. */
static struct {
    const char *codec;
    unsigned idx;
    const uint8_t *body;
    size_t n;
} fuzz_at;

enum { FUZZ_CAP = 1024 }; /* mutant bytes; the hex of a full one still fits a check message */

static void fuzz_fail(const char *what, int line)
{
    char hex[2 * FUZZ_CAP + 1] = "";
    for (size_t i = 0; i < fuzz_at.n && i < FUZZ_CAP; i++)
        snprintf(hex + 2 * i, 3, "%02x", fuzz_at.body[i]);
    ck_abort_msg("line %d: %s: %s mutant %u (%zu bytes): %s", line, what, fuzz_at.codec,
                 fuzz_at.idx, fuzz_at.n, hex);
}

/* ck_assert records every check that passes (a write to the parent in fork mode); the fuzz
 * makes hundreds of thousands, so it calls into check only on a failure. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(#cond, __LINE__);                                                            \
    } while (0)

/* Decoded strings borrow from the body: one that points outside it is a decoder bug even
 * when the bytes it points at happen to be readable. */
static void check_in_body(struct wire_str s, uint32_t max, const void *body, size_t n)
{
    uintptr_t lo = (uintptr_t)body, at = (uintptr_t)s.p;
    FUZZ_CHECK(s.len <= max);
    FUZZ_CHECK(s.len == 0 || (at >= lo && at - lo <= n && s.len <= n - (at - lo)));
}

static void check_name(struct wire_str s, const void *body, size_t n)
{
    check_in_body(s, WIRE_NAME_MAX, body, n);
    FUZZ_CHECK(s.len > 0);
    FUZZ_CHECK(!memchr(s.p, '/', s.len) && !memchr(s.p, '\0', s.len));
}

static void check_addr(const struct wire_dn_addr *a, const void *body, size_t n)
{
    check_in_body(a->node_id, WIRE_ID_MAX, body, n);
    check_in_body(a->host, WIRE_HOST_MAX, body, n);
    FUZZ_CHECK(a->host.len > 0 && a->port != 0);
}

/* Every message without a list re-encodes with its plain encoder, since each field is decoded
 * as written and the struct holds all a message carries; list messages re-encode in their
 * walks below, with _begin/_put, as a list has no one-call encoder. */
#define REENC(name)                                                                                \
    static int reenc_##name(const void *p, size_t n, struct buf *out)                              \
    {                                                                                              \
        struct wire_##name m;                                                                      \
        int rc = wire_##name##_decode(p, n, &m);                                                   \
        if (rc == 0)                                                                               \
            wire_##name##_encode(out, &m);                                                         \
        return rc;                                                                                 \
    }
REENC(hello)
REENC(attr)
REENC(nn_ino)
REENC(nn_name)
REENC(nn_setattr)
REENC(nn_mkdir)
REENC(nn_create)
REENC(nn_open)
REENC(nn_rename)
REENC(nn_entry_ok)
REENC(nn_readdir)
REENC(nn_statfs_ok)
REENC(nn_add_block)
REENC(nn_add_block_ok)
REENC(nn_complete)
REENC(nn_get_blocks)
REENC(dn_register)
REENC(dn_register_ok)
REENC(dn_heartbeat)
REENC(dn_write_open)
REENC(dn_write_pkt)
REENC(dn_write_ack)
REENC(dn_read)
REENC(dn_read_data)
REENC(dn_sync)
#undef REENC

/* Where the entries of the last list walked start and end: mut_reshape() rebuilds a list
 * from them with another count, which random bytes almost never produce together with the
 * entries to match. */
enum { SHAPE_ENTRIES = 8 };
struct shape {
    size_t count_at;
    size_t bound[SHAPE_ENTRIES + 1];
    unsigned entries;
};
static struct shape walked;

static void shape_begin(const struct cur *entries)
{
    walked.count_at = entries->off - 4; /* every list's u32 count comes just before it */
    walked.bound[0] = entries->off;
    walked.entries = 0;
}

static void shape_entry(const struct cur *entries)
{
    if (walked.entries < SHAPE_ENTRIES)
        walked.bound[++walked.entries] = entries->off;
}

/* After count entries the walk must stand exactly at the end of the body: the decoder
 * validated the same bytes _next() reads. */
static void check_walked(const struct cur *entries)
{
    FUZZ_CHECK(cur_finish(entries) == 0);
}

static int walk_nn_readdir_ok(const void *p, size_t n, struct buf *out)
{
    struct wire_nn_readdir_ok m;
    int rc = wire_nn_readdir_ok_decode(p, n, &m);
    if (rc)
        return rc;
    FUZZ_CHECK(m.count <= WIRE_READDIR_MAX);
    size_t start = out->len;
    wire_nn_readdir_ok_begin(out, m.is_eof);
    shape_begin(&m.entries);
    for (uint32_t i = 0; i < m.count; i++) {
        struct wire_nn_dirent e;
        wire_nn_readdir_ok_next(&m, &e);
        shape_entry(&m.entries);
        check_name(e.name, p, n);
        wire_nn_readdir_ok_put(out, start, &e);
    }
    check_walked(&m.entries);
    return 0;
}

static int walk_nn_get_blocks_ok(const void *p, size_t n, struct buf *out)
{
    struct wire_nn_get_blocks_ok m;
    int rc = wire_nn_get_blocks_ok_decode(p, n, &m);
    if (rc)
        return rc;
    FUZZ_CHECK(m.count <= WIRE_LOCATED_MAX);
    size_t start = out->len;
    wire_nn_get_blocks_ok_begin(out, m.file_size);
    shape_begin(&m.entries);
    for (uint32_t i = 0; i < m.count; i++) {
        struct wire_located_blk e;
        wire_nn_get_blocks_ok_next(&m, &e);
        shape_entry(&m.entries);
        FUZZ_CHECK(e.loc_count <= WIRE_TARGETS_MAX);
        for (uint32_t j = 0; j < e.loc_count; j++)
            check_addr(&e.locs[j], p, n);
        wire_nn_get_blocks_ok_put(out, start, &e);
    }
    check_walked(&m.entries);
    return 0;
}

static int walk_nn_report_ok(const void *p, size_t n, struct buf *out)
{
    struct wire_nn_report_ok m;
    int rc = wire_nn_report_ok_decode(p, n, &m);
    if (rc)
        return rc;
    FUZZ_CHECK(m.count <= WIRE_DN_ROWS_MAX);
    size_t start = out->len;
    wire_nn_report_ok_begin(out, &m);
    shape_begin(&m.rows);
    for (uint32_t i = 0; i < m.count; i++) {
        struct wire_dn_row e;
        wire_nn_report_ok_next(&m, &e);
        shape_entry(&m.rows);
        check_addr(&e.addr, p, n);
        wire_nn_report_ok_put(out, start, &e);
    }
    check_walked(&m.rows);
    return 0;
}

static int walk_dn_heartbeat_ok(const void *p, size_t n, struct buf *out)
{
    struct wire_dn_heartbeat_ok m;
    int rc = wire_dn_heartbeat_ok_decode(p, n, &m);
    if (rc)
        return rc;
    FUZZ_CHECK(m.count <= WIRE_CMDS_MAX);
    size_t start = out->len;
    wire_dn_heartbeat_ok_begin(out);
    shape_begin(&m.cmds);
    for (uint32_t i = 0; i < m.count; i++) {
        struct wire_dn_cmd e;
        wire_dn_heartbeat_ok_next(&m, &e);
        shape_entry(&m.cmds);
        wire_dn_heartbeat_ok_put(out, start, &e);
    }
    check_walked(&m.cmds);
    return 0;
}

static int walk_dn_blocks(const void *p, size_t n, struct buf *out)
{
    struct wire_dn_blocks m;
    int rc = wire_dn_blocks_decode(p, n, &m);
    if (rc)
        return rc;
    FUZZ_CHECK(m.count <= WIRE_BLOCKS_MAX);
    size_t start = out->len;
    wire_dn_blocks_begin(out, m.flags);
    shape_begin(&m.entries);
    for (uint32_t i = 0; i < m.count; i++) {
        struct wire_blk_len e;
        wire_dn_blocks_next(&m, &e);
        shape_entry(&m.entries);
        wire_dn_blocks_put(out, start, &e);
    }
    check_walked(&m.entries);
    return 0;
}

#define CODEC(name) { #name, enc_##name, dec_##name, NULL, reenc_##name }
#define LIST_CODEC(name) { #name, enc_##name, dec_##name, walk_##name, NULL }
static const struct codec codecs[] = {
    CODEC(hello),           CODEC(attr),          CODEC(nn_ino),
    CODEC(nn_name),         CODEC(nn_setattr),    CODEC(nn_mkdir),
    CODEC(nn_create),       CODEC(nn_open),       CODEC(nn_rename),
    CODEC(nn_entry_ok),     CODEC(nn_readdir),    CODEC(nn_statfs_ok),
    CODEC(nn_add_block),    CODEC(nn_add_block_ok), CODEC(nn_complete),
    CODEC(nn_get_blocks),   CODEC(dn_register),   CODEC(dn_register_ok),
    CODEC(dn_heartbeat),    CODEC(dn_write_open), CODEC(dn_write_pkt),
    CODEC(dn_write_ack),    CODEC(dn_read),       CODEC(dn_read_data),
    CODEC(dn_sync),         LIST_CODEC(nn_readdir_ok), LIST_CODEC(nn_get_blocks_ok),
    LIST_CODEC(nn_report_ok), LIST_CODEC(dn_heartbeat_ok), LIST_CODEC(dn_blocks),
};
#undef LIST_CODEC
#undef CODEC
enum { CODEC_COUNT = sizeof(codecs) / sizeof(codecs[0]) };

/* Decodes an exact-size heap copy so ASan flags any read past the end. */
static int decode_copy(const struct codec *cd, const uint8_t *p, size_t n, int verify)
{
    uint8_t *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    if (n)
        memcpy(copy, p, n);
    int rc = cd->dec(copy, n, verify);
    free(copy);
    return rc;
}

START_TEST(test_roundtrip)
{
    const struct codec *cd = &codecs[_i];
    struct buf b;
    buf_init(&b);
    cd->enc(&b);
    ck_assert_msg(b.len > 0, "%s encoded nothing", cd->name);
    ck_assert_msg(decode_copy(cd, b.data, b.len, 1) == 0, "%s round trip failed", cd->name);
    buf_fini(&b);
}
END_TEST

START_TEST(test_every_truncation_rejected)
{
    const struct codec *cd = &codecs[_i];
    struct buf b;
    buf_init(&b);
    cd->enc(&b);
    for (size_t n = 0; n < b.len; n++) {
        int rc = decode_copy(cd, b.data, n, 0);
        ck_assert_msg(rc == -ERR_PROTO, "%s: prefix %zu of %zu gave %d", cd->name, n, b.len, rc);
    }
    buf_fini(&b);
}
END_TEST

START_TEST(test_trailing_byte_rejected)
{
    const struct codec *cd = &codecs[_i];
    struct buf b;
    buf_init(&b);
    cd->enc(&b);
    buf_put_u8(&b, 0);
    ck_assert_int_eq(decode_copy(cd, b.data, b.len, 0), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

/* ---- mutation fuzz: every decoder, many damaged copies of its sample ---- */

enum { FUZZ_MUTANTS = 4096 };

/* The fuzz's randomness (test_rng.h), seeded per codec, so a failing mutant recurs. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    return test_rng_next(&rng_state);
}

static uint64_t rng_below(uint64_t n)
{
    return test_rng_below(&rng_state, n);
}

struct mutant {
    uint8_t b[FUZZ_CAP];
    size_t n;
};

/* Makes room for k bytes at at; NULL (and no change) when the mutant is full. */
static uint8_t *open_gap(struct mutant *m, size_t at, size_t k)
{
    if (m->n + k > FUZZ_CAP)
        return NULL;
    memmove(m->b + at + k, m->b + at, m->n - at);
    m->n += k;
    return m->b + at;
}

/* The edges of a width-byte integer, and the caps that decoders compare counts and lengths
 * with, on both sides: these are where a missing or off-by-one check lets a value through. */
static uint64_t word_value(unsigned width)
{
    uint64_t top = test_width_top(width), max = test_width_max(width);
    const uint64_t v[] = {
        0, 1, 2, 3, max, max - 1, top, top - 1,
        WIRE_TARGETS_MAX, WIRE_TARGETS_MAX + 1, WIRE_ID_MAX, WIRE_ID_MAX + 1,
        WIRE_NAME_MAX, WIRE_NAME_MAX + 1, WIRE_LOCATED_MAX + 1, WIRE_READDIR_MAX + 1,
        WIRE_BLOCKS_MAX + 1, WIRE_PKT_DATA_MAX, WIRE_PKT_DATA_MAX + 1, CSUM_CHUNK_SIZE,
    };
    return v[rng_below(sizeof(v) / sizeof(v[0]))] & max;
}

static void mut_flip_bit(struct mutant *m)
{
    if (m->n)
        m->b[rng_below(m->n)] ^= (uint8_t)(1u << rng_below(8));
}

static void mut_byte(struct mutant *m)
{
    static const uint8_t v[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };
    if (m->n)
        m->b[rng_below(m->n)] = v[rng_below(sizeof(v))];
}

/* Half the words are aligned; the rest are not, because fields follow u8s and strings and
 * sit at any offset (a list's count is at offset 1 after its flags). A quarter step the old
 * value by one, which turns a count or a length into its neighbour. */
static void mut_word(struct mutant *m)
{
    unsigned width = 2u << rng_below(3);
    if (m->n < width)
        return;
    size_t at = rng_below(m->n - width + 1);
    if (rng_below(2))
        at -= at % width;
    uint64_t v = word_value(width);
    if (rng_below(4) == 0)
        v = test_le_get(m->b + at, width) + (rng_below(2) ? 1 : (uint64_t)-1);
    test_le_put(m->b + at, width, v);
}

static void mut_insert(struct mutant *m)
{
    size_t k = 1 + rng_below(4);
    uint8_t *p = open_gap(m, rng_below(m->n + 1), k);
    for (size_t i = 0; p && i < k; i++)
        p[i] = (uint8_t)rng();
}

static void mut_delete(struct mutant *m)
{
    size_t k = 1 + rng_below(4);
    if (k > m->n)
        k = m->n;
    size_t at = rng_below(m->n - k + 1);
    memmove(m->b + at, m->b + at + k, m->n - at - k);
    m->n -= k;
}

static void mut_truncate(struct mutant *m)
{
    if (m->n)
        m->n = rng_below(m->n);
}

static void mut_append(struct mutant *m)
{
    size_t k = 1 + rng_below(16);
    uint8_t *p = open_gap(m, m->n, k);
    for (size_t i = 0; p && i < k; i++)
        p[i] = (uint8_t)rng();
}

/* A copy of a span of the body elsewhere in it: a duplicated entry or string, which random
 * bytes almost never produce. */
static void mut_splice(struct mutant *m)
{
    uint8_t span[64];
    if (!m->n)
        return;
    size_t k = 1 + rng_below(m->n < sizeof(span) ? m->n : sizeof(span));
    memcpy(span, m->b + rng_below(m->n - k + 1), k);
    uint8_t *p = open_gap(m, rng_below(m->n + 1), k);
    if (p)
        memcpy(p, span, k);
}

/* Any u32 whose bytes could be a string's length prefix, chosen uniformly (reservoir). */
static size_t pick_len_prefix(const struct mutant *m)
{
    size_t pick = SIZE_MAX, seen = 0;
    for (size_t at = 0; at + 4 <= m->n; at++) {
        uint64_t len = test_le_get(m->b + at, 4);
        if (len <= WIRE_HOST_MAX && len <= m->n - at - 4 && rng_below(++seen) == 0)
            pick = at;
    }
    return pick;
}

/* Gives a string another length and grows or shrinks it to match, so that when the guessed
 * prefix is a real one the message stays well formed: names, ids and hosts of other lengths
 * (up to and past their caps) reach the checks behind them. */
static void mut_resize_str(struct mutant *m)
{
    static const uint32_t lens[] = { 0, 1, 2, WIRE_ID_MAX, WIRE_ID_MAX + 1, WIRE_NAME_MAX,
                                     WIRE_NAME_MAX + 1 };
    static const uint8_t fill[] = { 'x', 'x', 'x', 'x', 'x', '.', '/', 0 };
    size_t at = pick_len_prefix(m);
    if (at == SIZE_MAX)
        return;
    size_t old = (size_t)test_le_get(m->b + at, 4), end = at + 4 + old, len = old + 1;
    if (rng_below(2))
        len = lens[rng_below(sizeof(lens) / sizeof(lens[0]))];
    else if (old && rng_below(2))
        len = old - 1;
    if (len > old) {
        uint8_t *p = open_gap(m, end, len - old);
        if (!p)
            return;
        memset(p, fill[rng_below(sizeof(fill))], len - old);
    } else {
        memmove(m->b + at + 4 + len, m->b + end, m->n - end);
        m->n -= old - len;
    }
    test_le_put(m->b + at, 4, len);
}

typedef void mut_fn(struct mutant *m);
static mut_fn *const mutations[] = {
    mut_flip_bit, mut_byte,     mut_word,   mut_insert,     mut_delete,
    mut_truncate, mut_append,   mut_splice, mut_resize_str,
};

/* Rebuilds the sample's list with zero to four entries, each a copy of one of its own, and
 * the count to match. */
static void mut_reshape(struct mutant *m, const struct shape *sh)
{
    uint8_t old[FUZZ_CAP];
    uint32_t want = (uint32_t)rng_below(5), put = 0;

    memcpy(old, m->b, m->n);
    m->n = sh->bound[0];
    for (; put < want; put++) {
        uint64_t j = rng_below(sh->entries);
        size_t len = sh->bound[j + 1] - sh->bound[j];
        if (m->n + len > FUZZ_CAP)
            break;
        memcpy(m->b + m->n, old + sh->bound[j], len);
        m->n += len;
    }
    test_le_put(m->b + sh->count_at, 4, put);
}

/* Mostly one mutation, so most mutants stay near enough to valid to reach the fields behind
 * the one damaged; a quarter stack two to four. Half the mutants of a list (sh) are first
 * reshaped, and then get at most one more mutation, so that many still decode and the walk
 * sees other counts. */
static void mutate(struct mutant *m, const struct shape *sh)
{
    unsigned ops = rng_below(4) ? 1 : 2 + (unsigned)rng_below(3);
    if (sh && rng_below(2)) {
        mut_reshape(m, sh);
        ops = (unsigned)rng_below(2);
    }
    for (unsigned i = 0; i < ops; i++)
        mutations[rng_below(sizeof(mutations) / sizeof(mutations[0]))](m);
}

/* The encoding is canonical (fixed-width fields, length-prefixed strings, every byte
 * consumed), so an accepted body must re-encode to exactly its own bytes, and those decode. */
static void check_recode(const struct codec *cd, const uint8_t *body, size_t n)
{
    struct buf out;
    buf_init(&out);
    FUZZ_CHECK((cd->walk ? cd->walk : cd->reenc)(body, n, &out) == 0);
    FUZZ_CHECK(out.len == n && (n == 0 || memcmp(out.data, body, n) == 0));
    FUZZ_CHECK(decode_copy(cd, out.data, out.len, 0) == 0);
    buf_fini(&out);
}

/* Decodes from an exact-size heap copy, as decode_copy() does, so ASan sees any over-read;
 * returns whether the mutant was accepted. */
static int fuzz_one(const struct codec *cd, unsigned idx, const struct mutant *m)
{
    fuzz_at.codec = cd->name;
    fuzz_at.idx = idx;
    fuzz_at.body = m->b;
    fuzz_at.n = m->n;
    uint8_t *copy = malloc(m->n ? m->n : 1);
    FUZZ_CHECK(copy != NULL);
    if (m->n)
        memcpy(copy, m->b, m->n);
    int rc = cd->dec(copy, m->n, 0);
    FUZZ_CHECK(rc == 0 || rc == -ERR_PROTO);
    if (rc == 0)
        check_recode(cd, copy, m->n);
    free(copy);
    return rc == 0;
}

/* The sample's list layout, from a walk of it; checked against its count, since
 * mut_reshape() relies on the count sitting just before the entries. */
static struct shape sample_shape(const struct codec *cd, const struct buf *sample)
{
    struct buf out;
    struct shape sh = { 0 };
    if (!cd->walk)
        return sh;
    buf_init(&out);
    ck_assert_int_eq(cd->walk(sample->data, sample->len, &out), 0);
    buf_fini(&out);
    sh = walked;
    ck_assert_uint_gt(sh.entries, 0);
    ck_assert_uint_le(sh.entries, SHAPE_ENTRIES - 1);
    ck_assert_uint_eq(le_get_u32(sample->data + sh.count_at), sh.entries);
    ck_assert_uint_eq(sh.bound[sh.entries], sample->len);
    return sh;
}

/* A fuzz that stops reaching past the first field would pass while testing nothing, so a
 * change to a sample or a decoder that makes nearly every mutant fail must show. The fixed
 * seeds give each codec at least three times this many. */
enum { FUZZ_MIN_ACCEPTED = FUZZ_MUTANTS / 16 };

START_TEST(test_mutants_decode_safely)
{
    const struct codec *cd = &codecs[_i];
    struct buf sample;
    unsigned accepted = 0, recounted = 0;

    buf_init(&sample);
    cd->enc(&sample);
    ck_assert_uint_le(sample.len, FUZZ_CAP / 2);
    struct shape sh = sample_shape(cd, &sample);
    rng_state = 0x9E3779B97F4A7C15ULL * (uint64_t)(_i + 1);
    for (unsigned k = 0; k < FUZZ_MUTANTS; k++) {
        struct mutant m;
        memcpy(m.b, sample.data, sample.len);
        m.n = sample.len;
        mutate(&m, cd->walk ? &sh : NULL);
        if (!fuzz_one(cd, k, &m))
            continue;
        accepted++;
        recounted += cd->walk && walked.entries != sh.entries;
    }
    ck_assert_msg(accepted >= FUZZ_MIN_ACCEPTED, "%s: %u mutants accepted", cd->name, accepted);
    ck_assert_msg(!cd->walk || recounted >= FUZZ_MIN_ACCEPTED, "%s: %u lists of another count",
                  cd->name, recounted);
    buf_fini(&sample);
}
END_TEST

/* ---- lists: counts and caps ---- */

/* wire_hello_frame(): a whole frame of the given type and id whose body decodes back. */
START_TEST(test_hello_frame)
{
    struct buf b;
    struct wire_hdr h;
    struct wire_hello m;

    buf_init(&b);
    wire_hello_frame(&b, WIRE_HELLO_OK, 42, WIRE_NODE_DATANODE, "cl", "node-7");
    ck_assert_int_eq(wire_hdr_decode(b.data, &h), 0);
    ck_assert_uint_eq(h.type, WIRE_HELLO_OK);
    ck_assert_uint_eq(h.req_id, 42);
    ck_assert_uint_eq(h.status, 0);
    ck_assert_uint_eq(WIRE_HDR_LEN + h.body_len, b.len);
    ck_assert_int_eq(wire_body_verify(&h, b.data + WIRE_HDR_LEN), 0);
    ck_assert_int_eq(wire_hello_decode(b.data + WIRE_HDR_LEN, h.body_len, &m), 0);
    ck_assert_uint_eq(m.version, WIRE_VERSION);
    ck_assert_uint_eq(m.node_kind, WIRE_NODE_DATANODE);
    ck_assert(wire_str_eq(m.cluster_id, "cl"));
    ck_assert(wire_str_eq(m.node_id, "node-7"));
    ck_assert(!wire_str_eq(m.node_id, "node-"));
    ck_assert(!wire_str_eq(m.node_id, "node-77"));
    buf_fini(&b);
}
END_TEST

START_TEST(test_list_empty)
{
    struct buf b;
    struct wire_dn_blocks m;
    buf_init(&b);
    wire_dn_blocks_begin(&b, WIRE_REPORT_FIRST | WIRE_REPORT_LAST);
    ck_assert_int_eq(wire_dn_blocks_decode(b.data, b.len, &m), 0);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_uint_eq(m.flags, WIRE_REPORT_FIRST | WIRE_REPORT_LAST);
    buf_fini(&b);
}
END_TEST

START_TEST(test_list_count_mismatch_rejected)
{
    struct buf b;
    struct wire_dn_blocks m;
    buf_init(&b);
    enc_dn_blocks(&b);
    le_put_u32(b.data + 1, 4); /* says 4, carries 3 */
    ck_assert_int_eq(wire_dn_blocks_decode(b.data, b.len, &m), -ERR_PROTO);
    le_put_u32(b.data + 1, 2); /* says 2, carries 3: trailing bytes */
    ck_assert_int_eq(wire_dn_blocks_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

START_TEST(test_list_count_over_cap_rejected)
{
    struct buf b;
    struct wire_dn_heartbeat_ok hb;
    struct wire_nn_readdir_ok rd;
    buf_init(&b);
    buf_put_u32(&b, WIRE_CMDS_MAX + 1);
    ck_assert_int_eq(wire_dn_heartbeat_ok_decode(b.data, b.len, &hb), -ERR_PROTO);
    buf_reset(&b);
    buf_put_u8(&b, 0);
    buf_put_u32(&b, UINT32_MAX);
    ck_assert_int_eq(wire_nn_readdir_ok_decode(b.data, b.len, &rd), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

/* The cap itself, with every entry present: WIRE_CMDS_MAX commands decode, one more does not
 * (the encoder refuses to make it, so its last entry and count are patched in). */
START_TEST(test_list_at_cap_accepted_and_past_it_rejected)
{
    struct wire_dn_cmd e = { .kind = WIRE_CMD_DELETE, .blk = { .id = 5, .gen = 1 } };
    struct wire_dn_heartbeat_ok hb;
    struct buf b;
    buf_init(&b);
    wire_dn_heartbeat_ok_begin(&b);
    for (uint32_t i = 0; i < WIRE_CMDS_MAX; i++)
        wire_dn_heartbeat_ok_put(&b, 0, &e);
    ck_assert_int_eq(wire_dn_heartbeat_ok_decode(b.data, b.len, &hb), 0);
    ck_assert_uint_eq(hb.count, WIRE_CMDS_MAX);
    uint8_t one[64];
    size_t entry = (b.len - 4) / WIRE_CMDS_MAX;
    ck_assert_uint_le(entry, sizeof(one));
    memcpy(one, b.data + 4, entry); /* buf_put may move b.data */
    buf_put(&b, one, entry);
    test_le_put(b.data, 4, WIRE_CMDS_MAX + 1);
    ck_assert_int_eq(wire_dn_heartbeat_ok_decode(b.data, b.len, &hb), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

START_TEST(test_targets_over_cap_rejected)
{
    struct buf b;
    struct wire_dn_write_open m;
    buf_init(&b);
    buf_put_u64(&b, 1);
    buf_put_u64(&b, 1);
    buf_put_u32(&b, WIRE_TARGETS_MAX + 1);
    ck_assert_int_eq(wire_dn_write_open_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

START_TEST(test_dn_addr_empty_host_or_port_zero_rejected)
{
    struct buf b;
    struct wire_dn_register m = { .capacity = 1 };
    buf_init(&b);
    m.self.node_id = wire_str_c("n");
    m.self.host = wire_str_c("");
    m.self.port = 80;
    wire_dn_register_encode(&b, &m);
    ck_assert_int_eq(wire_dn_register_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_reset(&b);
    m.self.host = wire_str_c("h");
    m.self.port = 0;
    wire_dn_register_encode(&b, &m);
    ck_assert_int_eq(wire_dn_register_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_reset(&b);
    m.self.port = 1;
    m.self.node_id = wire_str_c("");
    wire_dn_register_encode(&b, &m);
    ck_assert_int_eq(wire_dn_register_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

/* A heartbeat reply with one command cmd, encoded into b: its decode's result, and the
 * command in *out (its strings point into b). */
static int one_cmd_decode_rc(struct buf *b, const struct wire_dn_cmd *cmd, struct wire_dn_cmd *out)
{
    struct wire_dn_heartbeat_ok hb;
    buf_reset(b);
    wire_dn_heartbeat_ok_begin(b);
    wire_dn_heartbeat_ok_put(b, 0, cmd);
    int rc = wire_dn_heartbeat_ok_decode(b->data, b->len, &hb);
    if (rc == 0)
        wire_dn_heartbeat_ok_next(&hb, out);
    return rc;
}

/* A REPLICATE carries its length and target; a target without host or port, or a command of
 * a kind the datanode does not know, fails the whole reply. */
START_TEST(test_dn_cmd_replicate_fields_and_bad_commands)
{
    struct wire_dn_cmd cmd = { .kind = WIRE_CMD_REPLICATE, .blk = { .id = 9, .gen = 3 },
                               .len = UINT64_C(1) << 31,
                               .target = { .node_id = wire_str_c("dn-b"),
                                           .host = wire_str_c("127.0.0.2"), .port = 9101 } };
    struct wire_dn_cmd out;
    struct buf b;
    buf_init(&b);
    ck_assert_int_eq(one_cmd_decode_rc(&b, &cmd, &out), 0);
    ck_assert_uint_eq(out.kind, WIRE_CMD_REPLICATE);
    ck_assert_uint_eq(out.blk.id, 9);
    ck_assert_uint_eq(out.blk.gen, 3);
    ck_assert_uint_eq(out.len, UINT64_C(1) << 31);
    ck_assert(wire_str_eq(out.target.host, "127.0.0.2"));
    ck_assert(wire_str_eq(out.target.node_id, "dn-b"));
    ck_assert_uint_eq(out.target.port, 9101);
    cmd.target.port = 0;
    ck_assert_int_eq(one_cmd_decode_rc(&b, &cmd, &out), -ERR_PROTO);
    cmd.target.port = 1;
    cmd.target.host = wire_str_c("");
    ck_assert_int_eq(one_cmd_decode_rc(&b, &cmd, &out), -ERR_PROTO);
    cmd = (struct wire_dn_cmd){ .kind = 3, .blk = { .id = 9, .gen = 3 } };
    ck_assert_int_eq(one_cmd_decode_rc(&b, &cmd, &out), -ERR_PROTO);
    cmd.kind = 0;
    ck_assert_int_eq(one_cmd_decode_rc(&b, &cmd, &out), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

/* ---- names ---- */

static int name_decode_rc(const char *name, uint32_t len)
{
    struct buf b;
    struct wire_nn_name m;
    buf_init(&b);
    buf_put_u64(&b, 1);
    buf_put_bytes(&b, name, len);
    int rc = wire_nn_name_decode(b.data, b.len, &m);
    buf_fini(&b);
    return rc;
}

START_TEST(test_bad_names_rejected)
{
    static const char *const bad[] = { "", ".", "..", "/", "a/b", "/a", "a/" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(name_decode_rc(bad[i], (uint32_t)strlen(bad[i])) == -ERR_PROTO,
                      "name '%s' accepted", bad[i]);
    ck_assert_int_eq(name_decode_rc("a\0b", 3), -ERR_PROTO);
    char long_name[WIRE_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name));
    ck_assert_int_eq(name_decode_rc(long_name, WIRE_NAME_MAX + 1), -ERR_PROTO);
}
END_TEST

START_TEST(test_good_names_accepted)
{
    static const char *const good[] = { "a", "...", ".hidden", "..x", "x..", "name with space" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(name_decode_rc(good[i], (uint32_t)strlen(good[i])) == 0,
                      "name '%s' rejected", good[i]);
    char long_name[WIRE_NAME_MAX];
    memset(long_name, 'y', sizeof(long_name));
    ck_assert_int_eq(name_decode_rc(long_name, WIRE_NAME_MAX), 0);
}
END_TEST

START_TEST(test_names_checked_in_every_name_field)
{
    struct buf b;
    buf_init(&b);
    struct wire_nn_mkdir mk = { .parent = 1, .name = wire_str_c("..") };
    wire_nn_mkdir_encode(&b, &mk);
    ck_assert_int_eq(wire_nn_mkdir_decode(b.data, b.len, &mk), -ERR_PROTO);
    buf_reset(&b);
    struct wire_nn_create cr = { .parent = 1, .name = wire_str_c(".") };
    wire_nn_create_encode(&b, &cr);
    ck_assert_int_eq(wire_nn_create_decode(b.data, b.len, &cr), -ERR_PROTO);
    buf_reset(&b);
    struct wire_nn_rename rn = { .parent = 1, .name = wire_str_c("ok"), .new_parent = 1,
                                 .new_name = wire_str_c("a/b") };
    wire_nn_rename_encode(&b, &rn);
    ck_assert_int_eq(wire_nn_rename_decode(b.data, b.len, &rn), -ERR_PROTO);
    buf_reset(&b);
    struct wire_nn_dirent de = { .name = wire_str_c(""), .attr = sample_attr };
    size_t start = b.len;
    struct wire_nn_readdir_ok rd;
    wire_nn_readdir_ok_begin(&b, 1);
    wire_nn_readdir_ok_put(&b, start, &de);
    ck_assert_int_eq(wire_nn_readdir_ok_decode(b.data, b.len, &rd), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

START_TEST(test_str_copy)
{
    char dst[4];
    ck_assert_int_eq(wire_str_copy(wire_str_c("abc"), dst, sizeof(dst)), 0);
    ck_assert_str_eq(dst, "abc");
    ck_assert_int_eq(wire_str_copy(wire_str_c("abcd"), dst, sizeof(dst)), -ENAMETOOLONG);
    ck_assert_int_eq(wire_str_copy(wire_str_c(""), dst, sizeof(dst)), 0);
    ck_assert_str_eq(dst, "");
}
END_TEST

/* ---- data packets ---- */

START_TEST(test_write_pkt_multi_chunk)
{
    size_t len = 3 * CSUM_CHUNK_SIZE + 1234;
    uint8_t *data = malloc(len);
    uint8_t raw[8 * 4];
    struct buf b;
    struct wire_dn_write_pkt m = { .seq = 1, .offset = 0, .data_len = (uint32_t)len };
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    csums_raw_of(data, len, raw);
    m.data = data;
    m.csum_count = csum_chunk_count(len);
    m.csums_raw = raw;
    ck_assert_uint_eq(m.csum_count, 4);
    buf_init(&b);
    wire_dn_write_pkt_encode(&b, &m);
    struct wire_dn_write_pkt d;
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &d), 0);
    ck_assert_uint_eq(d.data_len, len);
    ck_assert_int_eq(memcmp(d.data, data, len), 0);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_uint_eq(wire_csum_at(d.csums_raw, i), wire_csum_at(raw, i));
    buf_fini(&b);
    free(data);
}
END_TEST

/* Hand-built packet bodies: seq, offset, flags, data (len + bytes), csum count, csums. */
static void put_pkt(struct buf *b, uint64_t offset, uint32_t data_len, uint32_t csum_count)
{
    buf_put_u64(b, 1);
    buf_put_u64(b, offset);
    buf_put_u8(b, 0);
    buf_put_u32(b, data_len);
    memset(buf_extend(b, data_len), 0xab, data_len);
    buf_put_u32(b, csum_count);
    memset(buf_extend(b, 8 * (size_t)csum_count), 0, 8 * (size_t)csum_count);
}

START_TEST(test_write_pkt_bad_rejected)
{
    struct buf b;
    struct wire_dn_write_pkt m;
    buf_init(&b);
    put_pkt(&b, 0, 100, 1);
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &m), 0);
    buf_reset(&b);
    put_pkt(&b, 0, 100, 2); /* wrong checksum count */
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_reset(&b);
    put_pkt(&b, 0, CSUM_CHUNK_SIZE + 1, 1);
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_reset(&b);
    put_pkt(&b, 512, 100, 1); /* offset not chunk-aligned */
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_reset(&b);
    put_pkt(&b, 0, WIRE_PKT_DATA_MAX + 1, WIRE_PKT_CSUMS_MAX + 1); /* over the cap */
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_reset(&b);
    put_pkt(&b, 0, WIRE_PKT_DATA_MAX, WIRE_PKT_CSUMS_MAX); /* exactly the cap */
    ck_assert_int_eq(wire_dn_write_pkt_decode(b.data, b.len, &m), 0);
    buf_fini(&b);
}
END_TEST

START_TEST(test_read_unaligned_rejected)
{
    struct buf b;
    struct wire_dn_read m = { .blk = { 1, 1 }, .offset = 100, .len = 10 };
    buf_init(&b);
    wire_dn_read_encode(&b, &m);
    ck_assert_int_eq(wire_dn_read_decode(b.data, b.len, &m), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

/* An encoder given a checksum count that does not match its data is our bug: it asserts. */
START_TEST(test_encode_bad_csum_count_aborts)
{
    struct buf b;
    uint8_t raw[16] = { 0 };
    struct wire_dn_write_pkt m = {
        .data_len = sizeof(pkt_data), .data = pkt_data, .csum_count = 2, .csums_raw = raw
    };
    buf_init(&b);
    wire_dn_write_pkt_encode(&b, &m);
}
END_TEST

/* wire_attr_has: each attribute a SETATTR sets is compared, only those it sets, and of the
 * mode only the permission bits. */
START_TEST(test_attr_has_compares_what_a_setattr_sets)
{
    struct wire_attr a = sample_attr;
    struct wire_nn_setattr none = { .ino = a.ino };
    struct wire_nn_setattr same = { .ino = a.ino, .valid = WIRE_SET_MODE | WIRE_SET_UID |
                                    WIRE_SET_GID | WIRE_SET_SIZE | WIRE_SET_ATIME | WIRE_SET_MTIME,
                                    .mode = a.mode & 07777, .uid = a.uid, .gid = a.gid,
                                    .size = a.size, .atime_ms = a.atime_ms,
                                    .mtime_ms = a.mtime_ms };

    ck_assert(wire_attr_has(&a, &none));
    ck_assert(wire_attr_has(&a, &same));
    struct wire_nn_setattr r = same;
    r.size++;
    ck_assert(!wire_attr_has(&a, &r));
    r.valid &= ~(uint32_t)WIRE_SET_SIZE; /* a value not set is not compared */
    ck_assert(wire_attr_has(&a, &r));
    r = same;
    r.mode ^= 01;
    ck_assert(!wire_attr_has(&a, &r));
    r = same;
    r.uid++;
    ck_assert(!wire_attr_has(&a, &r));
    r = same;
    r.gid++;
    ck_assert(!wire_attr_has(&a, &r));
    r = same;
    r.atime_ms++;
    ck_assert(!wire_attr_has(&a, &r));
    r = same;
    r.mtime_ms++;
    ck_assert(!wire_attr_has(&a, &r));
}
END_TEST

/* ---- frame header ---- */

/* GETATTR {ino = 1}, req_id 0x0102030405060708: the bytes below were computed once and pinned;
 * a change here is a wire format change (bump WIRE_VERSION, update docs/PROTOCOL.md). */
static const uint8_t golden_frame[] = {
    0x44, 0x46, 0x53, 0x31,                         /* magic "DFS1" */
    0x02, 0x00,                                     /* version 2 */
    0x0c, 0x00,                                     /* type 12 NN_GETATTR */
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* req_id */
    0x08, 0x00, 0x00, 0x00,                         /* body_len 8 */
    0x00, 0x00,                                     /* status */
    0x00, 0x00,                                     /* flags */
    0x2e, 0x79, 0xdb, 0x64,                         /* body_csum */
    0x30, 0x7b, 0x33, 0x61,                         /* hdr_csum */
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* body: ino 1 */
};

static void build_golden(struct buf *b)
{
    size_t start = wire_frame_begin(b);
    struct wire_nn_ino m = { .ino = 1 };
    wire_nn_ino_encode(b, &m);
    wire_frame_end(b, start, WIRE_NN_GETATTR, 0x0102030405060708ULL, 0);
}

START_TEST(test_frame_golden_bytes)
{
    struct buf b;
    buf_init(&b);
    build_golden(&b);
    ck_assert_uint_eq(b.len, sizeof(golden_frame));
    for (size_t i = 0; i < b.len; i++)
        ck_assert_msg(b.data[i] == golden_frame[i], "byte %zu: got 0x%02x want 0x%02x", i,
                      b.data[i], golden_frame[i]);
    struct wire_hdr h;
    ck_assert_int_eq(wire_hdr_decode(golden_frame, &h), 0);
    ck_assert_uint_eq(h.magic, WIRE_MAGIC);
    ck_assert_uint_eq(h.version, WIRE_VERSION);
    ck_assert_uint_eq(h.type, WIRE_NN_GETATTR);
    ck_assert_uint_eq(h.req_id, 0x0102030405060708ULL);
    ck_assert_uint_eq(h.body_len, 8);
    ck_assert_uint_eq(h.status, 0);
    ck_assert_uint_eq(h.flags, 0);
    ck_assert_uint_eq(h.body_csum, csum32(golden_frame + WIRE_HDR_LEN, 8));
    ck_assert_uint_eq(h.hdr_csum, csum32(golden_frame, 28));
    ck_assert_int_eq(wire_body_verify(&h, golden_frame + WIRE_HDR_LEN), 0);
    buf_fini(&b);
}
END_TEST

/* Rewrites the header checksum so only the field under test is wrong. */
static void reseal(uint8_t *hdr)
{
    le_put_u32(hdr + 28, csum32(hdr, 28));
}

START_TEST(test_hdr_every_bit_flip_rejected)
{
    for (size_t bit = 0; bit < 8 * WIRE_HDR_LEN; bit++) {
        uint8_t hdr[WIRE_HDR_LEN];
        struct wire_hdr h;
        memcpy(hdr, golden_frame, WIRE_HDR_LEN);
        hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(wire_hdr_decode(hdr, &h) < 0, "bit %zu flip accepted", bit);
    }
}
END_TEST

START_TEST(test_hdr_bad_fields_rejected)
{
    uint8_t hdr[WIRE_HDR_LEN];
    struct wire_hdr h;

    memcpy(hdr, golden_frame, WIRE_HDR_LEN);
    le_put_u32(hdr, 0x31534645); /* bad magic, resealed */
    reseal(hdr);
    ck_assert_int_eq(wire_hdr_decode(hdr, &h), -ERR_PROTO);

    memcpy(hdr, golden_frame, WIRE_HDR_LEN);
    le_put_u16(hdr + 4, 0); /* version 0 */
    reseal(hdr);
    ck_assert_int_eq(wire_hdr_decode(hdr, &h), -ERR_VERSION);

    memcpy(hdr, golden_frame, WIRE_HDR_LEN);
    le_put_u32(hdr + 16, WIRE_BODY_MAX + 1);
    reseal(hdr);
    ck_assert_int_eq(wire_hdr_decode(hdr, &h), -ERR_PROTO);

    le_put_u32(hdr + 16, UINT32_MAX);
    reseal(hdr);
    ck_assert_int_eq(wire_hdr_decode(hdr, &h), -ERR_PROTO);

    le_put_u32(hdr + 16, WIRE_BODY_MAX); /* exactly the cap is fine */
    reseal(hdr);
    ck_assert_int_eq(wire_hdr_decode(hdr, &h), 0);
    ck_assert_uint_eq(h.body_len, WIRE_BODY_MAX);
}
END_TEST

START_TEST(test_body_csum_mismatch_rejected)
{
    uint8_t frame[sizeof(golden_frame)];
    struct wire_hdr h;
    memcpy(frame, golden_frame, sizeof(frame));
    ck_assert_int_eq(wire_hdr_decode(frame, &h), 0);
    frame[WIRE_HDR_LEN + 3] ^= 0x10;
    ck_assert_int_eq(wire_body_verify(&h, frame + WIRE_HDR_LEN), -ERR_CHECKSUM);
}
END_TEST

START_TEST(test_frame_empty_and_status)
{
    struct buf b;
    struct wire_hdr h;
    buf_init(&b);
    wire_frame_empty(&b, WIRE_NN_UNLINK_OK, 99, err_to_wire(-ENOENT));
    ck_assert_uint_eq(b.len, WIRE_HDR_LEN);
    ck_assert_int_eq(wire_hdr_decode(b.data, &h), 0);
    ck_assert_uint_eq(h.type, WIRE_NN_UNLINK_OK);
    ck_assert_uint_eq(h.req_id, 99);
    ck_assert_uint_eq(h.body_len, 0);
    ck_assert_int_eq(err_from_wire(h.status), -ENOENT);
    ck_assert_int_eq(wire_body_verify(&h, b.data + WIRE_HDR_LEN), 0);
    /* Two frames back to back in one buffer. */
    build_golden(&b);
    ck_assert_uint_eq(b.len, WIRE_HDR_LEN + sizeof(golden_frame));
    ck_assert_int_eq(memcmp(b.data + WIRE_HDR_LEN, golden_frame, sizeof(golden_frame)), 0);
    buf_fini(&b);
}
END_TEST

START_TEST(test_type_names)
{
#define TYPE_NAME_CHECK(name, num) ck_assert_str_eq(wire_type_name(num), #name);
    WIRE_MSGS(TYPE_NAME_CHECK)
#undef TYPE_NAME_CHECK
    ck_assert_str_eq(wire_type_name(0), "UNKNOWN");
    ck_assert_str_eq(wire_type_name(9999), "UNKNOWN");
    /* A reply is its request's type + 1. */
    ck_assert_str_eq(wire_type_name(WIRE_NN_LOOKUP + 1), "NN_LOOKUP_OK");
    ck_assert_str_eq(wire_type_name(WIRE_DN_WRITE_PKT + 1), "DN_WRITE_ACK");
}
END_TEST

START_TEST(test_err_wire_mapping)
{
#define ERR_RT(name, code, wire, text)                                                             \
    ck_assert_uint_eq(err_to_wire(-name), wire);                                                   \
    ck_assert_int_eq(err_from_wire(wire), -name);
    ERR_TABLE(ERR_RT)
#undef ERR_RT
#define ERRNO_RT(name, wire)                                                                       \
    ck_assert_uint_eq(err_to_wire(-name), wire);                                                   \
    ck_assert_int_eq(err_from_wire(wire), -name);
    ERR_ERRNO_TABLE(ERRNO_RT)
#undef ERRNO_RT
    ck_assert_uint_eq(err_to_wire(0), 0);
    ck_assert_int_eq(err_from_wire(0), 0);
    ck_assert_int_eq(err_from_wire(65000), -EIO);
    ck_assert_ptr_nonnull(err_str(-ERR_PROTO));
    ck_assert_str_eq(err_str(-ERR_CHECKSUM), "checksum mismatch");
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("codecs");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_roundtrip, 0, CODEC_COUNT);
    tcase_add_loop_test(tc, test_every_truncation_rejected, 0, CODEC_COUNT);
    tcase_add_loop_test(tc, test_trailing_byte_rejected, 0, CODEC_COUNT);
    tcase_add_loop_test(tc, test_mutants_decode_safely, 0, CODEC_COUNT);
    tcase_add_test(tc, test_hello_frame);
    tcase_add_test(tc, test_list_empty);
    tcase_add_test(tc, test_list_count_mismatch_rejected);
    tcase_add_test(tc, test_list_count_over_cap_rejected);
    tcase_add_test(tc, test_list_at_cap_accepted_and_past_it_rejected);
    tcase_add_test(tc, test_targets_over_cap_rejected);
    tcase_add_test(tc, test_dn_addr_empty_host_or_port_zero_rejected);
    tcase_add_test(tc, test_dn_cmd_replicate_fields_and_bad_commands);
    tcase_add_test(tc, test_write_pkt_multi_chunk);
    tcase_add_test(tc, test_write_pkt_bad_rejected);
    tcase_add_test(tc, test_read_unaligned_rejected);
    tcase_add_test_raise_signal(tc, test_encode_bad_csum_count_aborts, SIGABRT);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_test(tc, test_bad_names_rejected);
    tcase_add_test(tc, test_good_names_accepted);
    tcase_add_test(tc, test_names_checked_in_every_name_field);
    tcase_add_test(tc, test_str_copy);
    suite_add_tcase(s, tc);

    tc = tcase_create("frame");
    tcase_add_test(tc, test_frame_golden_bytes);
    tcase_add_test(tc, test_attr_has_compares_what_a_setattr_sets);
    tcase_add_test(tc, test_hdr_every_bit_flip_rejected);
    tcase_add_test(tc, test_hdr_bad_fields_rejected);
    tcase_add_test(tc, test_body_csum_mismatch_rejected);
    tcase_add_test(tc, test_frame_empty_and_status);
    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_err_wire_mapping);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(wire_suite());
}
