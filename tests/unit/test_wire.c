/* Unit tests for common/wire: every message codec round-trips, every truncated prefix and a
 * trailing byte are rejected, the frame header matches golden bytes and rejects bad magic,
 * checksums, versions and oversize bodies, and names are validated. Pure: no I/O. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_run.h"
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

struct codec {
    const char *name;
    enc_fn *enc;
    dec_fn *dec;
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

static void enc_dn_heartbeat_ok(struct buf *b)
{
    size_t start = b->len;
    wire_dn_heartbeat_ok_begin(b);
    for (uint32_t i = 0; i < 2; i++) {
        struct wire_dn_cmd e = { .kind = WIRE_CMD_DELETE, .blk = { .id = 70 + i, .gen = 4 } };
        wire_dn_heartbeat_ok_put(b, start, &e);
    }
}
static int dec_dn_heartbeat_ok(const void *p, size_t n, int verify)
{
    struct wire_dn_heartbeat_ok m;
    int rc = wire_dn_heartbeat_ok_decode(p, n, &m);
    if (rc == 0 && verify) {
        ck_assert_uint_eq(m.count, 2);
        for (uint32_t i = 0; i < 2; i++) {
            struct wire_dn_cmd e;
            wire_dn_heartbeat_ok_next(&m, &e);
            ck_assert_uint_eq(e.kind, WIRE_CMD_DELETE);
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

#define CODEC(name) { #name, enc_##name, dec_##name }
static const struct codec codecs[] = {
    CODEC(hello),           CODEC(attr),          CODEC(nn_ino),
    CODEC(nn_name),         CODEC(nn_setattr),    CODEC(nn_mkdir),
    CODEC(nn_create),       CODEC(nn_open),       CODEC(nn_rename),
    CODEC(nn_readdir),      CODEC(nn_statfs_ok),  CODEC(nn_add_block),
    CODEC(nn_add_block_ok), CODEC(nn_complete),   CODEC(nn_get_blocks),
    CODEC(dn_register),     CODEC(dn_register_ok), CODEC(dn_heartbeat),
    CODEC(dn_write_open),   CODEC(dn_write_pkt),  CODEC(dn_write_ack),
    CODEC(dn_read),         CODEC(dn_read_data),  CODEC(nn_readdir_ok),
    CODEC(nn_get_blocks_ok), CODEC(nn_report_ok), CODEC(dn_heartbeat_ok),
    CODEC(dn_blocks),       CODEC(dn_sync),
};
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
    tcase_add_test(tc, test_hello_frame);
    tcase_add_test(tc, test_list_empty);
    tcase_add_test(tc, test_list_count_mismatch_rejected);
    tcase_add_test(tc, test_list_count_over_cap_rejected);
    tcase_add_test(tc, test_targets_over_cap_rejected);
    tcase_add_test(tc, test_dn_addr_empty_host_or_port_zero_rejected);
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
