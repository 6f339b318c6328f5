/* The harness of the namenode request tests (test_nn_rpc.c, test_nn_repl.c): one nn_state
 * driven through nn_rpc_dispatch() with real frames, and a helper per request kind. Requests
 * are encoded with the wire encoders and framed, replies are checked header first (type,
 * req_id, status, body checksum) and then decoded. Included by exactly one file per test
 * program; the functions are static inline so that a program need not use them all. */
#ifndef DFS_TEST_NN_HARNESS_H
#define DFS_TEST_NN_HARNESS_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "check_run.h"
#include "test_rng.h"
#include "err.h"
#include "nn_journal.h"
#include "nn_ns_image.h"
#include "nn_rpc.h"
#include "wire.h"

enum { BS = 1 << 20, DEAD_MS = 10000, T0 = 1000000 };

static const char cluster[] = "test-cluster";

/* ---- frame helpers ---- */

struct reply {
    int rc;               /* nn_rpc_dispatch() result: < 0 means close the connection */
    struct wire_hdr hdr;
    struct buf raw;       /* the whole reply frame; body points into it */
    const uint8_t *body;
};

static struct nn_state st;
static uint64_t next_req_id = 1;

/* Everything of st but the namespace and the journal. */
static inline void state_init_around_ns(void)
{
    nn_blocks_init(&st.blocks, &st.ns);
    nn_dns_init(&st.dns, DEAD_MS);
    nn_repl_init(&st.repl, &(struct nn_repl_opts){ .streams_per_dn = 2, .timeout_ms = 60000,
                                                   .scan_per_tick = 1024 });
    st.now_ms = T0;
    st.cluster_id = cluster;
    st.block_size = BS;
    st.replication = 3;
    st.heartbeat_ms = 3000;
}

static inline void setup(void)
{
    memset(&st, 0, sizeof(st));
    nn_ns_init(&st.ns, T0);
    state_init_around_ns();
}

static inline void teardown(void)
{
    nn_repl_fini(&st.repl);
    nn_dns_fini(&st.dns);
    nn_blocks_fini(&st.blocks);
    nn_ns_fini(&st.ns);
}

/* Block id as the block map reports it (it must exist). */
static inline struct nn_blk blk_get(uint64_t id)
{
    struct nn_blk b;

    ck_assert_int_eq(nn_blocks_get(&st.blocks, id, &b), 0);
    return b;
}

/* Frames body as a request of type, dispatches it and checks the reply frame. */
static inline void call(struct nn_session *s, uint16_t type, const struct buf *body, struct reply *r)
{
    struct buf req;
    struct wire_frame f;
    uint64_t req_id = next_req_id++;

    buf_init(&req);
    size_t start = wire_frame_begin(&req);
    if (body && body->len)
        buf_put(&req, body->data, body->len);
    wire_frame_end(&req, start, type, req_id, 0);
    ck_assert_int_eq(wire_hdr_decode(req.data, &f.hdr), 0);
    f.body = req.data + WIRE_HDR_LEN;

    buf_init(&r->raw);
    r->rc = nn_rpc_dispatch(&st, s, &f, &r->raw);
    buf_fini(&req);
    ck_assert_uint_ge(r->raw.len, WIRE_HDR_LEN);
    ck_assert_int_eq(wire_hdr_decode(r->raw.data, &r->hdr), 0);
    ck_assert_uint_eq(r->hdr.type, type + 1);
    ck_assert_uint_eq(r->hdr.req_id, req_id);
    ck_assert_uint_eq(r->hdr.body_len, r->raw.len - WIRE_HDR_LEN);
    r->body = r->raw.data + WIRE_HDR_LEN;
    ck_assert_int_eq(wire_body_verify(&r->hdr, r->body), 0);
    if (r->hdr.status != 0)
        ck_assert_uint_eq(r->hdr.body_len, 0);
    nn_ns_assert_valid(&st.ns);
}

static inline void reply_fini(struct reply *r)
{
    buf_fini(&r->raw);
}

/* Calls and returns just the status (0 or an err_to_wire() code), dropping the reply. */
static inline uint16_t call_status(struct nn_session *s, uint16_t type, const struct buf *body)
{
    struct reply r;

    call(s, type, body, &r);
    uint16_t status = r.hdr.status;
    reply_fini(&r);
    return status;
}

static inline uint16_t wire_err(int rc)
{
    return err_to_wire(rc);
}

static inline void assert_str(struct wire_str s, const char *want)
{
    ck_assert_uint_eq(s.len, strlen(want));
    if (s.len)
        ck_assert_int_eq(memcmp(s.p, want, s.len), 0);
}

/* ---- message helpers ---- */

static inline uint16_t hello(struct nn_session *s, uint8_t kind, const char *cluster_id, const char *id)
{
    struct wire_hello m = { .version = WIRE_VERSION, .node_kind = kind,
                            .cluster_id = wire_str_c(cluster_id), .node_id = wire_str_c(id) };
    struct buf b;
    struct reply r;

    nn_session_init(s);
    buf_init(&b);
    wire_hello_encode(&b, &m);
    call(s, WIRE_HELLO, &b, &r);
    buf_fini(&b);
    uint16_t status = r.hdr.status;
    if (status == 0) {
        struct wire_hello ok;
        ck_assert_int_eq(r.rc, 0);
        ck_assert_int_eq(wire_hello_decode(r.body, r.hdr.body_len, &ok), 0);
        ck_assert_uint_eq(ok.node_kind, WIRE_NODE_NAMENODE);
        assert_str(ok.cluster_id, cluster);
        ck_assert(s->is_hello_done);
    } else {
        ck_assert_int_lt(r.rc, 0); /* a failed HELLO closes the connection */
        ck_assert(!s->is_hello_done);
    }
    reply_fini(&r);
    return status;
}

static inline void client(struct nn_session *s, const char *id)
{
    ck_assert_uint_eq(hello(s, WIRE_NODE_CLIENT, cluster, id), 0);
}

enum { DN_COUNT = 5 };
static const char *const dn_ids[DN_COUNT] = { "dn-a", "dn-b", "dn-c", "dn-d", "dn-e" };

/* A datanode session: HELLO, DN_REGISTER (port 9000 + i), one heartbeat. */
static inline void datanode(struct nn_session *s, int i)
{
    struct wire_dn_register m = {
        .self = { .node_id = wire_str_c(dn_ids[i]), .host = wire_str_c("127.0.0.1"),
                  .port = (uint16_t)(9000 + i) },
        .capacity = 1000000, .used = 1000, .remaining = 999000,
    };
    struct buf b;
    struct reply r;
    struct wire_dn_register_ok ok;

    ck_assert_uint_eq(hello(s, WIRE_NODE_DATANODE, cluster, dn_ids[i]), 0);
    buf_init(&b);
    wire_dn_register_encode(&b, &m);
    call(s, WIRE_DN_REGISTER, &b, &r);
    buf_fini(&b);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_dn_register_ok_decode(r.body, r.hdr.body_len, &ok), 0);
    ck_assert_uint_eq(ok.heartbeat_ms, 3000);
    ck_assert_int_eq(s->dn_idx, i);
    reply_fini(&r);
}

static inline int dn_of(const struct wire_dn_addr *a);

/* A command of a heartbeat reply, its REPLICATE target resolved while the reply was alive. */
struct hb_cmd {
    uint8_t kind;
    struct wire_blk blk;
    uint64_t len; /* REPLICATE: bytes to copy */
    int target;   /* REPLICATE: the target's dn_ids index; -1 for a DELETE */
};

/* Sends a heartbeat; returns how many commands came back (of any kind), in order, in out. */
static inline uint32_t heartbeat_cmds(struct nn_session *s, struct hb_cmd *out, uint32_t max)
{
    struct wire_dn_heartbeat m = { .capacity = 1000000, .used = 2000, .remaining = 998000 };
    struct buf b;
    struct reply r;
    struct wire_dn_heartbeat_ok ok;
    struct wire_dn_cmd cmd;

    buf_init(&b);
    wire_dn_heartbeat_encode(&b, &m);
    call(s, WIRE_DN_HEARTBEAT, &b, &r);
    buf_fini(&b);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_dn_heartbeat_ok_decode(r.body, r.hdr.body_len, &ok), 0);
    ck_assert_uint_le(ok.count, max);
    for (uint32_t i = 0; i < ok.count; i++) {
        wire_dn_heartbeat_ok_next(&ok, &cmd);
        ck_assert(cmd.kind == WIRE_CMD_DELETE || cmd.kind == WIRE_CMD_REPLICATE);
        out[i] = (struct hb_cmd){ .kind = cmd.kind, .blk = cmd.blk, .len = cmd.len,
                                  .target = cmd.kind == WIRE_CMD_REPLICATE ? dn_of(&cmd.target)
                                                                            : -1 };
    }
    reply_fini(&r);
    return ok.count;
}

/* Sends a heartbeat; returns how many DELETE commands came back (nothing else may), their
 * blocks in out. */
static inline uint32_t heartbeat(struct nn_session *s, struct wire_blk *out, uint32_t max)
{
    static struct hb_cmd cmds[WIRE_CMDS_MAX];
    uint32_t n = heartbeat_cmds(s, cmds, max);

    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_eq(cmds[i].kind, WIRE_CMD_DELETE);
        out[i] = cmds[i].blk;
    }
    return n;
}

static inline uint16_t dn_blocks(struct nn_session *s, uint16_t type, uint8_t flags,
                          const struct wire_blk_len *e, uint32_t n)
{
    struct buf b;

    buf_init(&b);
    wire_dn_blocks_begin(&b, flags);
    for (uint32_t i = 0; i < n; i++)
        wire_dn_blocks_put(&b, 0, &e[i]);
    uint16_t status = call_status(s, type, &b);
    buf_fini(&b);
    return status;
}

/* NN_CREATE in parent; returns the status and the new inode in *ino. */
/* A new name's answer carries its directory as the change left it: changed in the same
 * millisecond as the new inode was made. */
static inline void check_parent_after(const struct wire_nn_entry_ok *e, uint64_t parent)
{
    ck_assert_uint_eq(e->parent.ino, parent);
    ck_assert(S_ISDIR(e->parent.mode));
    ck_assert_uint_eq(e->parent.mtime_ms, e->attr.ctime_ms);
    ck_assert_uint_eq(e->parent.ctime_ms, e->attr.ctime_ms);
}

/* Sends a new-name request (its body in b, finished here); on success decodes the answer
 * into *e and checks its directory part. Returns the status. */
static inline uint16_t call_entry(struct nn_session *s, uint16_t type, struct buf *b, uint64_t parent,
                           struct wire_nn_entry_ok *e)
{
    struct reply r;

    call(s, type, b, &r);
    buf_fini(b);
    uint16_t status = r.hdr.status;
    if (status == 0) {
        ck_assert_int_eq(wire_nn_entry_ok_decode(r.body, r.hdr.body_len, e), 0);
        check_parent_after(e, parent);
    }
    reply_fini(&r);
    return status;
}

static inline uint16_t create(struct nn_session *s, uint64_t parent, const char *name, uint64_t *ino)
{
    struct wire_nn_create m = { .parent = parent, .name = wire_str_c(name), .mode = 0644 };
    struct wire_nn_entry_ok e;
    struct buf b;

    buf_init(&b);
    wire_nn_create_encode(&b, &m);
    uint16_t status = call_entry(s, WIRE_NN_CREATE, &b, parent, &e);
    if (status == 0) {
        ck_assert_uint_eq(e.attr.mode, S_IFREG | 0644);
        ck_assert_uint_eq(e.attr.is_open, 1);
        ck_assert_uint_eq(e.attr.block_size, BS); /* cluster defaults */
        ck_assert_uint_eq(e.attr.replication, 3);
        *ino = e.attr.ino;
    }
    return status;
}

static inline uint16_t mkdir_(struct nn_session *s, uint64_t parent, const char *name, uint64_t *ino)
{
    struct wire_nn_mkdir m = { .parent = parent, .name = wire_str_c(name), .mode = 0755 };
    struct wire_nn_entry_ok e;
    struct buf b;

    buf_init(&b);
    wire_nn_mkdir_encode(&b, &m);
    uint16_t status = call_entry(s, WIRE_NN_MKDIR, &b, parent, &e);
    if (status == 0) {
        ck_assert_uint_eq(e.attr.mode, S_IFDIR | 0755);
        if (ino)
            *ino = e.attr.ino;
    }
    return status;
}

/* NN_ADD_BLOCK; on success fills *ok from the reply kept alive in *r (caller finis r). */
static inline uint16_t add_block(struct nn_session *s, uint64_t ino, struct wire_blk prev,
                          uint64_t prev_len, struct reply *r, struct wire_nn_add_block_ok *ok)
{
    struct wire_nn_add_block m = { .ino = ino, .prev = prev, .prev_len = prev_len };
    struct buf b;

    buf_init(&b);
    wire_nn_add_block_encode(&b, &m);
    call(s, WIRE_NN_ADD_BLOCK, &b, r);
    buf_fini(&b);
    if (r->hdr.status == 0)
        ck_assert_int_eq(wire_nn_add_block_ok_decode(r->body, r->hdr.body_len, ok), 0);
    return r->hdr.status;
}

static inline uint16_t complete(struct nn_session *s, uint64_t ino, struct wire_blk last, uint64_t len,
                         struct wire_attr *a)
{
    struct wire_nn_complete m = { .ino = ino, .last = last, .last_len = len };
    struct buf b;
    struct reply r;

    buf_init(&b);
    wire_nn_complete_encode(&b, &m);
    call(s, WIRE_NN_COMPLETE, &b, &r);
    buf_fini(&b);
    uint16_t status = r.hdr.status;
    if (status == 0)
        ck_assert_int_eq(wire_attr_decode(r.body, r.hdr.body_len, a), 0);
    reply_fini(&r);
    return status;
}

/* NN_GET_BLOCKS of the whole file; the reply stays in *r. */
static inline void get_blocks(struct nn_session *s, uint64_t ino, struct reply *r,
                       struct wire_nn_get_blocks_ok *ok)
{
    struct wire_nn_get_blocks m = { .ino = ino, .offset = 0, .len = 0 };
    struct buf b;

    buf_init(&b);
    wire_nn_get_blocks_encode(&b, &m);
    call(s, WIRE_NN_GET_BLOCKS, &b, r);
    buf_fini(&b);
    ck_assert_uint_eq(r->hdr.status, 0);
    ck_assert_int_eq(wire_nn_get_blocks_ok_decode(r->body, r->hdr.body_len, ok), 0);
}

/* A {parent, name} request; a successful UNLINK or RMDIR answers with the directory's
 * attributes after the change. */
static inline uint16_t name_req(struct nn_session *s, uint16_t type, uint64_t parent, const char *name)
{
    struct wire_nn_name m = { .parent = parent, .name = wire_str_c(name) };
    struct wire_attr a;
    struct reply r;
    struct buf b;

    buf_init(&b);
    wire_nn_name_encode(&b, &m);
    call(s, type, &b, &r);
    buf_fini(&b);
    uint16_t status = r.hdr.status;
    if (status == 0 && (type == WIRE_NN_UNLINK || type == WIRE_NN_RMDIR)) {
        ck_assert_int_eq(wire_attr_decode(r.body, r.hdr.body_len, &a), 0);
        ck_assert_uint_eq(a.ino, parent);
        ck_assert(S_ISDIR(a.mode));
    }
    reply_fini(&r);
    return status;
}

static inline int addr_is(const struct wire_dn_addr *a, const char *id)
{
    return a->node_id.len == strlen(id) && memcmp(a->node_id.p, id, a->node_id.len) == 0;
}

/* Which dn_ids index an address names (checking host and port too). */
static inline int dn_of(const struct wire_dn_addr *a)
{
    for (int i = 0; i < DN_COUNT; i++) {
        if (addr_is(a, dn_ids[i])) {
            assert_str(a->host, "127.0.0.1");
            ck_assert_uint_eq(a->port, 9000 + i);
            return i;
        }
    }
    ck_abort_msg("unknown datanode in a reply");
    return -1;
}

static const struct wire_blk no_blk = { 0, 0 };

#endif
