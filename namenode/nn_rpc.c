/* nn_rpc: request handlers. Each is: decode, validate, read or apply, encode the reply. */
#include "nn_rpc.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "nn_place.h"
#include "panic.h"

typedef int nn_handler_fn(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                          struct buf *out);

void nn_session_init(struct nn_session *s)
{
    memset(s, 0, sizeof(*s));
    s->dn_idx = -1;
}

#define DECODE(type, f, m)                                                                         \
    do {                                                                                           \
        int rc_ = wire_##type##_decode((f)->body, (f)->hdr.body_len, (m));                         \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

/* ---- shared helpers ---- */

/* Forgets freed blocks and orders their replicas deleted: the locations and the doomed ones
 * (corrupt or excess, maybe not deleted yet; the monitor forgets them once the block is gone). */
static void release_blocks(struct nn_state *st, const struct nn_blk_list *freed)
{
    uint16_t locs[NN_LOCS_MAX];

    for (size_t i = 0; i < freed->count; i++) {
        size_t n = nn_blocks_remove(&st->blocks, freed->v[i].id, locs);
        for (size_t k = 0; k < n; k++)
            nn_dns_queue_delete(&st->dns, locs[k], freed->v[i]);
        n = nn_repl_doomed_locs(&st->repl, freed->v[i].id, 0, locs);
        for (size_t k = 0; k < n; k++)
            nn_dns_queue_delete(&st->dns, locs[k], freed->v[i]);
    }
}

/* Applies op; on success logs it and releases what it freed. */
static int apply_logged(struct nn_state *st, const struct nn_op *op, struct nn_op_result *res)
{
    int rc = nn_ns_apply(&st->ns, op, res);

    if (rc == 0) {
        if (st->journal && !res->is_unchanged)
            nn_journal_append(st->journal, op);
        release_blocks(st, &res->freed);
    }
    nn_blk_list_fini(&res->freed);
    DEBUG_ASSERT((nn_blocks_assert_valid(&st->blocks), 1));
    return rc;
}

static void op_init(struct nn_state *st, struct nn_session *s, struct nn_op *op, uint8_t kind)
{
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->now_ms = st->now_ms;
    memcpy(op->client, s->node_id, sizeof(op->client));
}

static int reply_attr(struct nn_state *st, uint64_t ino, struct buf *out)
{
    const struct nn_inode *in = nn_ns_get(&st->ns, ino);
    struct wire_attr a;

    if (!in)
        return -ENOENT;
    nn_ns_attr(in, &a);
    wire_attr_encode(out, &a);
    return 0;
}

/* A new name's inode and its directory after the change. */
static int reply_entry(struct nn_state *st, uint64_t ino, uint64_t parent, struct buf *out)
{
    const struct nn_inode *in = nn_ns_get(&st->ns, ino);
    const struct nn_inode *dir = nn_ns_get(&st->ns, parent);
    struct wire_nn_entry_ok m;

    if (!in || !dir)
        return -ENOENT;
    nn_ns_attr(in, &m.attr);
    nn_ns_attr(dir, &m.parent);
    wire_nn_entry_ok_encode(out, &m);
    return 0;
}

static int need_client(const struct nn_session *s)
{
    return s->kind == WIRE_NODE_CLIENT ? 0 : -ERR_PROTO;
}

/* ---- handshake ---- */

static int h_hello(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                   struct buf *out)
{
    struct wire_hello m;

    DECODE(hello, f, &m);
    int rc = wire_hello_check(&m, st->cluster_id);
    if (rc < 0)
        return rc;
    if (m.node_kind != WIRE_NODE_CLIENT && m.node_kind != WIRE_NODE_DATANODE)
        return -ERR_PROTO;
    if (wire_str_copy(m.node_id, s->node_id, sizeof(s->node_id)) < 0 || !s->node_id[0])
        return -ERR_PROTO;
    s->kind = m.node_kind;
    s->is_hello_done = 1;
    struct wire_hello r = { .version = WIRE_VERSION, .node_kind = WIRE_NODE_NAMENODE,
                            .cluster_id = wire_str_c(st->cluster_id),
                            .node_id = wire_str_c("namenode") };
    wire_hello_encode(out, &r);
    return 0;
}

/* ---- namespace reads ---- */

static int h_lookup(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    struct wire_nn_name m;
    const struct nn_inode *in;

    DECODE(nn_name, f, &m);
    int rc = nn_ns_lookup(&st->ns, m.parent, m.name.p, m.name.len, &in);
    if (rc < 0)
        return rc;
    return reply_attr(st, in->ino, out);
}

static int h_getattr(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                     struct buf *out)
{
    struct wire_nn_ino m;

    DECODE(nn_ino, f, &m);
    return reply_attr(st, m.ino, out);
}

static int h_readdir(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                     struct buf *out)
{
    struct wire_nn_readdir m;
    size_t body = out->len;

    DECODE(nn_readdir, f, &m);
    const struct nn_inode *dir = nn_ns_get(&st->ns, m.ino);
    if (!dir)
        return -ENOENT;
    if (!nn_inode_is_dir(dir))
        return -ENOTDIR;
    uint32_t max = m.max == 0 || m.max > WIRE_READDIR_MAX ? WIRE_READDIR_MAX : m.max;
    uint32_t idx = nn_ns_dir_seek(dir, m.after.p, m.after.len);
    uint32_t count = nn_inode_ent_count(dir);
    uint32_t n = count - idx < max ? count - idx : max;
    wire_nn_readdir_ok_begin(out, idx + n == count);
    for (uint32_t i = idx; i < idx + n; i++) {
        const struct nn_inode *child = nn_inode_ent(dir, i);
        struct wire_nn_dirent e = { .name = { .p = child->name, .len = child->name_len } };
        nn_ns_attr(child, &e.attr);
        wire_nn_readdir_ok_put(out, body, &e);
    }
    return 0;
}

static void live_totals(const struct nn_state *st, uint64_t t[3], uint32_t *live)
{
    t[0] = t[1] = t[2] = 0;
    *live = 0;
    for (uint32_t i = 0; i < st->dns.count; i++) {
        if (!nn_dns_is_live(&st->dns, i, st->now_ms))
            continue;
        t[0] += st->dns.v[i].capacity;
        t[1] += st->dns.v[i].used;
        t[2] += st->dns.v[i].remaining;
        (*live)++;
    }
}

static int h_statfs(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    uint64_t t[3];
    struct wire_nn_statfs_ok r = { .files = st->ns.file_count + st->ns.dir_count,
                                   .blocks = st->ns.blk_count, .block_size = st->block_size };

    live_totals(st, t, &r.live_datanodes);
    r.capacity = t[0];
    r.used = t[1];
    r.remaining = t[2];
    wire_nn_statfs_ok_encode(out, &r);
    return 0;
}

/* Locations of b (NULL: none) on live datanodes. */
static uint32_t live_locs(const struct nn_state *st, const struct nn_blk *b,
                          struct wire_dn_addr *locs)
{
    uint32_t n = 0;

    for (uint8_t i = 0; b && i < b->loc_count; i++) {
        if (nn_dns_is_live(&st->dns, b->locs[i], st->now_ms))
            nn_dns_addr(&st->dns, b->locs[i], &locs[n++]);
    }
    return n;
}

/* What a reader is offered: the good live replicas, then the live corrupt ones. A replica is
 * corrupt in some chunk; the reader verifies every chunk and goes on to the next replica on
 * a mismatch, and for some chunk the corrupt ones may be all there is (a replica counts as
 * good until a read finds it bad). */
static uint32_t readable_locs(const struct nn_state *st, const struct nn_blk *b,
                              struct wire_dn_addr *locs)
{
    uint16_t bad[NN_LOCS_MAX];
    uint32_t n = live_locs(st, b, locs);
    size_t nbad = b ? nn_repl_doomed_locs(&st->repl, b->id, 1, bad) : 0;

    for (size_t i = 0; i < nbad && n < WIRE_TARGETS_MAX; i++) {
        if (nn_dns_is_live(&st->dns, bad[i], st->now_ms))
            nn_dns_addr(&st->dns, bad[i], &locs[n++]);
    }
    return n;
}

static int h_get_blocks(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                        struct buf *out)
{
    struct wire_nn_get_blocks m;
    size_t body = out->len;
    uint64_t off = 0, n = 0;

    DECODE(nn_get_blocks, f, &m);
    const struct nn_inode *in = nn_ns_get(&st->ns, m.ino);
    if (!in)
        return -ENOENT;
    if (nn_inode_is_dir(in))
        return -EISDIR;
    uint64_t end = m.len == 0 || m.len > UINT64_MAX - m.offset ? UINT64_MAX : m.offset + m.len;
    wire_nn_get_blocks_ok_begin(out, in->size);
    for (uint32_t i = 0; i < nn_inode_blk_count(in) && n < WIRE_LOCATED_MAX; i++) {
        struct nn_blkref r = nn_inode_blk(in, i);
        struct nn_blk b;
        if (!r.is_committed)
            break;
        if (off + r.len > m.offset && off < end) {
            struct wire_located_blk e = { .blk = { r.id, r.gen }, .offset = off, .len = r.len };
            int has_blk = nn_blocks_get(&st->blocks, r.id, &b) == 0;
            e.loc_count = readable_locs(st, has_blk ? &b : NULL, e.locs);
            wire_nn_get_blocks_ok_put(out, body, &e);
            n++;
        }
        off += r.len;
    }
    return 0;
}

static uint64_t under_replicated(const struct nn_state *st)
{
    size_t pos = 0;
    uint64_t n = 0;
    struct nn_blk b;
    struct wire_dn_addr locs[NN_LOCS_MAX];

    while (nn_blocks_next(&st->blocks, &pos, &b)) {
        if (b.is_committed && live_locs(st, &b, locs) < b.replication)
            n++;
    }
    return n;
}

static int h_report(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    size_t body = out->len;
    uint64_t t[3];
    uint32_t live;

    live_totals(st, t, &live);
    struct wire_nn_report_ok r = { .capacity = t[0], .used = t[1], .remaining = t[2],
                                   .files = st->ns.file_count, .dirs = st->ns.dir_count,
                                   .blocks = st->ns.blk_count,
                                   .under_replicated = under_replicated(st) };
    wire_nn_report_ok_begin(out, &r);
    for (uint32_t i = 0; i < st->dns.count && i < WIRE_DN_ROWS_MAX; i++) {
        const struct nn_dn *dn = &st->dns.v[i];
        struct wire_dn_row row = {
            .state = nn_dns_is_live(&st->dns, i, st->now_ms) ? WIRE_DN_LIVE : WIRE_DN_DEAD,
            .capacity = dn->capacity, .used = dn->used, .remaining = dn->remaining,
            .blocks = nn_blocks_count_on(&st->blocks, (uint16_t)i),
            .last_heartbeat_age_ms =
                st->now_ms > dn->last_heartbeat_ms ? st->now_ms - dn->last_heartbeat_ms : 0,
        };
        nn_dns_addr(&st->dns, i, &row.addr);
        wire_nn_report_ok_put(out, body, &row);
    }
    return 0;
}

/* ---- namespace changes ---- */

static int h_setattr(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                     struct buf *out)
{
    struct wire_nn_setattr m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_setattr, f, &m);
    op_init(st, s, &op, NN_OP_SETATTR);
    op.ino = m.ino;
    op.flags = m.valid;
    op.mode = m.mode;
    op.uid = m.uid;
    op.gid = m.gid;
    op.size = m.size;
    op.atime_ms = m.atime_ms;
    op.mtime_ms = m.mtime_ms;
    int rc = apply_logged(st, &op, &res);
    return rc < 0 ? rc : reply_attr(st, m.ino, out);
}

static int h_mkdir(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                   struct buf *out)
{
    struct wire_nn_mkdir m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_mkdir, f, &m);
    op_init(st, s, &op, NN_OP_MKDIR);
    op.parent = m.parent;
    wire_str_copy(m.name, op.name, sizeof(op.name)); /* the decoder capped its length */
    op.mode = m.mode;
    op.uid = m.uid;
    op.gid = m.gid;
    int rc = apply_logged(st, &op, &res);
    return rc < 0 ? rc : reply_entry(st, res.ino, m.parent, out);
}

static int h_create(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    struct wire_nn_create m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_create, f, &m);
    if (need_client(s) < 0)
        return -ERR_PROTO;
    op_init(st, s, &op, NN_OP_CREATE);
    op.parent = m.parent;
    wire_str_copy(m.name, op.name, sizeof(op.name));
    op.mode = m.mode;
    op.uid = m.uid;
    op.gid = m.gid;
    op.block_size = m.block_size ? m.block_size : st->block_size;
    op.replication = m.replication ? m.replication : st->replication;
    op.flags = m.flags & WIRE_CREATE_NO_LEASE; /* EXCL is what CREATE always does */
    int rc = apply_logged(st, &op, &res);
    return rc < 0 ? rc : reply_entry(st, res.ino, m.parent, out);
}

static int h_open(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                  struct buf *out)
{
    struct wire_nn_open m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_open, f, &m);
    if (!(m.flags & WIRE_OPEN_WRITE))
        return reply_attr(st, m.ino, out);
    if (need_client(s) < 0)
        return -ERR_PROTO;
    op_init(st, s, &op, NN_OP_OPEN_WRITE);
    op.ino = m.ino;
    op.flags = m.flags;
    int rc = apply_logged(st, &op, &res);
    return rc < 0 ? rc : reply_attr(st, m.ino, out);
}

static int name_op(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                   uint8_t kind, struct buf *out)
{
    struct wire_nn_name m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_name, f, &m);
    op_init(st, s, &op, kind);
    op.parent = m.parent;
    wire_str_copy(m.name, op.name, sizeof(op.name));
    int rc = apply_logged(st, &op, &res);
    return rc < 0 ? rc : reply_attr(st, m.parent, out); /* the directory after the change */
}

static int h_unlink(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    return name_op(st, s, f, NN_OP_UNLINK, out);
}

static int h_rmdir(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                   struct buf *out)
{
    return name_op(st, s, f, NN_OP_RMDIR, out);
}

static int h_rename(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    struct wire_nn_rename m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_rename, f, &m);
    op_init(st, s, &op, NN_OP_RENAME);
    op.parent = m.parent;
    op.new_parent = m.new_parent;
    wire_str_copy(m.name, op.name, sizeof(op.name));
    wire_str_copy(m.new_name, op.new_name, sizeof(op.new_name));
    op.flags = m.flags;
    return apply_logged(st, &op, &res);
}

static int h_add_block(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                       struct buf *out)
{
    struct nn_place_cand cands[NN_DN_MAX]; /* about 100 KiB of stack */
    struct wire_nn_add_block m;
    struct nn_op op;
    struct nn_op_result res = { 0 };
    uint32_t chosen[NN_LOCS_MAX];

    DECODE(nn_add_block, f, &m);
    size_t ncand = nn_dns_live_candidates(&st->dns, st->now_ms, cands);
    if (ncand == 0)
        return -ERR_NO_DATANODES;
    op_init(st, s, &op, NN_OP_ADD_BLOCK);
    op.ino = m.ino;
    op.blk = m.prev;
    op.blk_len = m.prev_len;
    int rc = apply_logged(st, &op, &res);
    if (rc < 0)
        return rc;
    const struct nn_inode *in = nn_ns_get(&st->ns, m.ino);
    nn_blocks_add(&st->blocks, res.blk.id, m.ino);
    struct wire_nn_add_block_ok r = { .blk = res.blk, .offset = res.blk_offset };
    r.target_count = (uint32_t)nn_place_choose(cands, ncand, res.blk.id, in->replication, chosen);
    for (uint32_t i = 0; i < r.target_count; i++)
        nn_dns_addr(&st->dns, chosen[i], &r.targets[i]);
    nn_blocks_expect(&st->blocks, res.blk.id, chosen, r.target_count);
    wire_nn_add_block_ok_encode(out, &r);
    s->is_reply_early_ok = 1; /* see nn_state_spend_unsynced_blk_ids() */
    return 0;
}

static int h_complete(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                      struct buf *out)
{
    struct wire_nn_complete m;
    struct nn_op op;
    struct nn_op_result res = { 0 };

    DECODE(nn_complete, f, &m);
    op_init(st, s, &op, NN_OP_COMPLETE);
    op.ino = m.ino;
    op.blk = m.last;
    op.blk_len = m.last_len;
    int rc = apply_logged(st, &op, &res);
    if (rc < 0)
        return rc;
    return reply_attr(st, m.ino, out);
}

/* ---- control plane (datanodes) ---- */

enum { NN_CMDS_PER_HEARTBEAT = 1024 };

static int need_dn(const struct nn_session *s)
{
    return s->kind == WIRE_NODE_DATANODE && s->dn_idx >= 0 ? 0 : -ERR_PROTO;
}

static int h_dn_register(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                         struct buf *out)
{
    struct wire_dn_register m;
    uint32_t idx;

    DECODE(dn_register, f, &m);
    if (s->kind != WIRE_NODE_DATANODE)
        return -ERR_PROTO;
    int rc = nn_dns_register(&st->dns, &m, st->now_ms, &idx);
    if (rc < 0)
        return rc;
    s->dn_idx = (int32_t)idx;
    struct wire_dn_register_ok r = { .heartbeat_ms = st->heartbeat_ms };
    wire_dn_register_ok_encode(out, &r);
    return 0;
}

static int h_dn_heartbeat(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                          struct buf *out)
{
    struct wire_dn_heartbeat m;
    struct wire_dn_cmd cmds[256];
    size_t body = out->len, n;

    DECODE(dn_heartbeat, f, &m);
    if (need_dn(s) < 0)
        return -ERR_PROTO;
    /* Found dead meanwhile, its locations dropped (nn_repl.h): the refusal makes it register
     * and report in full again. */
    if (st->dns.v[s->dn_idx].is_dropped)
        return -ERR_PROTO;
    nn_dns_heartbeat(&st->dns, (uint32_t)s->dn_idx, &m, st->now_ms);
    wire_dn_heartbeat_ok_begin(out);
    /* At most NN_CMDS_PER_HEARTBEAT commands per heartbeat (as HDFS limits invalidations):
     * a datanode works through deletes on its event loop, and thousands at once would hold up
     * its pipelines and heartbeats. The rest wait for the next heartbeat. */
    for (size_t sent = 0; sent < NN_CMDS_PER_HEARTBEAT; sent += n) {
        n = nn_dns_take_cmds(&st->dns, (uint32_t)s->dn_idx, cmds, 256);
        for (size_t i = 0; i < n; i++)
            wire_dn_heartbeat_ok_put(out, body, &cmds[i]);
        if (n < 256)
            break;
    }
    return 0;
}

/* A full report's frames: its locations are complete at the LAST that follows a FIRST. */
static void note_full_report(struct nn_dn *d, uint8_t flags)
{
    if (flags & WIRE_REPORT_FIRST) {
        d->is_reported = 0;
        d->is_reporting = 1;
    }
    if ((flags & WIRE_REPORT_LAST) && d->is_reporting) {
        d->is_reported = 1;
        d->is_reporting = 0;
    }
}

/* Whether dn is a location of the committed block blk (this generation). */
static int is_committed_loc(const struct nn_state *st, struct wire_blk blk, uint16_t dn)
{
    struct nn_blk b;

    return nn_blocks_get(&st->blocks, blk.id, &b) == 0 && b.gen == blk.gen && b.is_committed &&
           nn_blk_has_loc(&b, dn);
}

enum replica_news { REPLICA_HELD, REPLICA_DELETED, REPLICA_CORRUPT };

/* What datanode dn said of one replica. */
static void on_replica_news(struct nn_state *st, uint16_t dn, const struct wire_blk_len *e,
                            enum replica_news news)
{
    switch (news) {
    case REPLICA_DELETED:
        nn_blocks_drop_loc(&st->blocks, dn, e->blk.id);
        nn_repl_on_deleted(&st->repl, e->blk.id, dn);
        break;
    case REPLICA_HELD:
        if (nn_repl_is_doomed(&st->repl, e->blk.id, dn))
            break; /* corrupt or being deleted: no location (nn_repl.h) */
        if (nn_blocks_on_replica(&st->blocks, dn, e->blk, e->len))
            nn_repl_on_replica(&st->repl, e->blk.id, dn);
        else
            nn_dns_queue_delete(&st->dns, dn, e->blk);
        break;
    case REPLICA_CORRUPT:
        /* It stops being a location at once; the replication monitor replaces it and then
         * has it deleted. A stale report (another generation, already known) changes nothing. */
        if (!is_committed_loc(st, e->blk, dn))
            break;
        nn_blocks_drop_loc(&st->blocks, dn, e->blk.id);
        nn_repl_note_corrupt(&st->repl, e->blk.id, dn);
        break;
    }
}

/* DN_BLOCK_REPORT, _RECEIVED, _DELETED and _CORRUPT: what a datanode says of its replicas. */
static int blocks_msg(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                      enum replica_news news)
{
    struct wire_dn_blocks m;
    struct wire_blk_len e;

    DECODE(dn_blocks, f, &m);
    if (need_dn(s) < 0)
        return -ERR_PROTO;
    uint16_t dn = (uint16_t)s->dn_idx;
    int is_full_report = f->hdr.type == WIRE_DN_BLOCK_REPORT;
    if (is_full_report && (m.flags & WIRE_REPORT_FIRST))
        nn_blocks_drop_dn(&st->blocks, dn);
    for (uint32_t i = 0; i < m.count; i++) {
        wire_dn_blocks_next(&m, &e);
        on_replica_news(st, dn, &e, news);
    }
    if (is_full_report)
        note_full_report(&st->dns.v[dn], m.flags);
    return 0;
}

/* DN_BLOCK_REPORT and DN_BLOCK_RECEIVED: replicas the datanode has. */
static int h_dn_blocks_held(struct nn_state *st, struct nn_session *s,
                            const struct wire_frame *f, struct buf *out)
{
    return blocks_msg(st, s, f, REPLICA_HELD);
}

static int h_dn_block_deleted(struct nn_state *st, struct nn_session *s,
                              const struct wire_frame *f, struct buf *out)
{
    return blocks_msg(st, s, f, REPLICA_DELETED);
}

/* DN_BLOCK_CORRUPT: replicas a read found a bad chunk in. */
static int h_dn_block_corrupt(struct nn_state *st, struct nn_session *s,
                              const struct wire_frame *f, struct buf *out)
{
    return blocks_msg(st, s, f, REPLICA_CORRUPT);
}

/* ---- dispatch ---- */

static nn_handler_fn *const nn_handlers[WIRE_TYPE_MAX] = {
    [WIRE_HELLO] = h_hello,
    [WIRE_NN_LOOKUP] = h_lookup,
    [WIRE_NN_GETATTR] = h_getattr,
    [WIRE_NN_SETATTR] = h_setattr,
    [WIRE_NN_MKDIR] = h_mkdir,
    [WIRE_NN_CREATE] = h_create,
    [WIRE_NN_OPEN] = h_open,
    [WIRE_NN_UNLINK] = h_unlink,
    [WIRE_NN_RMDIR] = h_rmdir,
    [WIRE_NN_RENAME] = h_rename,
    [WIRE_NN_READDIR] = h_readdir,
    [WIRE_NN_STATFS] = h_statfs,
    [WIRE_NN_ADD_BLOCK] = h_add_block,
    [WIRE_NN_COMPLETE] = h_complete,
    [WIRE_NN_GET_BLOCKS] = h_get_blocks,
    [WIRE_NN_REPORT] = h_report,
    [WIRE_DN_REGISTER] = h_dn_register,
    [WIRE_DN_HEARTBEAT] = h_dn_heartbeat,
    [WIRE_DN_BLOCK_REPORT] = h_dn_blocks_held,
    [WIRE_DN_BLOCK_RECEIVED] = h_dn_blocks_held,
    [WIRE_DN_BLOCK_DELETED] = h_dn_block_deleted,
    [WIRE_DN_BLOCK_CORRUPT] = h_dn_block_corrupt,
};

int nn_rpc_dispatch(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out)
{
    uint16_t type = f->hdr.type;
    nn_handler_fn *h = type < WIRE_TYPE_MAX ? nn_handlers[type] : NULL;
    int rc, is_fatal = 0;

    size_t start = wire_frame_begin(out);
    s->is_reply_early_ok = 0;
    if (!h) {
        rc = -ERR_UNKNOWN_TYPE;
        is_fatal = 1;
    } else if (!s->is_hello_done && type != WIRE_HELLO) {
        rc = -ERR_PROTO;
        is_fatal = 1;
    } else {
        rc = h(st, s, f, out);
        is_fatal = type == WIRE_HELLO && rc < 0;
    }
    if (rc < 0) {
        out->len = start + WIRE_HDR_LEN; /* an error reply has an empty body */
        s->is_reply_early_ok = 0;
    }
    wire_frame_end(out, start, (uint16_t)(type + 1), f->hdr.req_id, err_to_wire(rc));
    return is_fatal ? rc : 0;
}

int nn_state_spend_unsynced_blk_ids(struct nn_state *st)
{
    struct nn_op op = { .kind = NN_OP_SPEND_BLK_IDS, .now_ms = st->now_ms };
    struct nn_op_result res = { 0 };

    /* Near NN_ID_MAX (a damaged image) the rest is spent: no id at or past it is handed out,
     * so the clamp loses nothing, and the namenode starts and answers ENOSPC for new blocks. */
    op.size = st->ns.next_blk_id < NN_ID_MAX - NN_BLK_IDS_UNSYNCED_MAX
                  ? st->ns.next_blk_id + NN_BLK_IDS_UNSYNCED_MAX
                  : NN_ID_MAX;
    int rc = apply_logged(st, &op, &res);
    if (rc == 0 && st->journal)
        rc = nn_journal_sync(st->journal);
    return rc;
}

int nn_state_rebuild_blocks(struct nn_state *st)
{
    size_t pos = 0;
    const struct nn_inode *in;

    while ((in = nn_ns_next(&st->ns, &pos)) != NULL) {
        for (uint32_t i = 0; i < nn_inode_blk_count(in); i++) {
            struct nn_blkref r = nn_inode_blk(in, i);
            if (nn_blocks_has(&st->blocks, r.id))
                return -ERR_CORRUPT; /* two files claim one block: a damaged image */
            nn_blocks_add(&st->blocks, r.id, in->ino);
        }
    }
    return 0;
}
