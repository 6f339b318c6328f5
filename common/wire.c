#include "wire.h"

#include <errno.h>
#include <string.h>

#include "csum.h"
#include "err.h"
#include "panic.h"

STATIC_ASSERT(WIRE_PKT_CSUMS_MAX * CSUM_CHUNK_SIZE == WIRE_PKT_DATA_MAX);

const char *wire_type_name(uint16_t type)
{
    switch (type) {
#define WIRE_TYPE_NAME(name, num)                                                                  \
    case num:                                                                                      \
        return #name;
        WIRE_MSGS(WIRE_TYPE_NAME)
#undef WIRE_TYPE_NAME
    default:
        return "UNKNOWN";
    }
}

/* ---- frame header ---- */

static void wire_hdr_encode(const struct wire_hdr *h, uint8_t p[WIRE_HDR_LEN])
{
    le_put_u32(p + 0, h->magic);
    le_put_u16(p + 4, h->version);
    le_put_u16(p + 6, h->type);
    le_put_u64(p + 8, h->req_id);
    le_put_u32(p + 16, h->body_len);
    le_put_u16(p + 20, h->status);
    le_put_u16(p + 22, h->flags);
    le_put_u32(p + 24, h->body_csum);
    le_put_u32(p + 28, csum32(p, 28));
}

int wire_hdr_decode(const uint8_t p[WIRE_HDR_LEN], struct wire_hdr *h)
{
    h->magic = le_get_u32(p + 0);
    h->version = le_get_u16(p + 4);
    h->type = le_get_u16(p + 6);
    h->req_id = le_get_u64(p + 8);
    h->body_len = le_get_u32(p + 16);
    h->status = le_get_u16(p + 20);
    h->flags = le_get_u16(p + 22);
    h->body_csum = le_get_u32(p + 24);
    h->hdr_csum = le_get_u32(p + 28);
    if (h->magic != WIRE_MAGIC || h->hdr_csum != csum32(p, 28))
        return -ERR_PROTO;
    if (h->version == 0)
        return -ERR_VERSION;
    if (h->body_len > WIRE_BODY_MAX)
        return -ERR_PROTO;
    return 0;
}

int wire_body_verify(const struct wire_hdr *h, const uint8_t *body)
{
    return csum32(body, h->body_len) == h->body_csum ? 0 : -ERR_CHECKSUM;
}

size_t wire_frame_begin(struct buf *b)
{
    size_t start = b->len;

    memset(buf_extend(b, WIRE_HDR_LEN), 0, WIRE_HDR_LEN);
    return start;
}

void wire_frame_end(struct buf *b, size_t start, uint16_t type, uint64_t req_id, uint16_t status)
{
    ASSERT(b->len >= start + WIRE_HDR_LEN);
    size_t body_len = b->len - start - WIRE_HDR_LEN;
    ASSERT(body_len <= WIRE_BODY_MAX);
    struct wire_hdr h = {
        .magic = WIRE_MAGIC,
        .version = WIRE_VERSION,
        .type = type,
        .req_id = req_id,
        .body_len = (uint32_t)body_len,
        .status = status,
        .body_csum = csum32(b->data + start + WIRE_HDR_LEN, body_len),
    };
    wire_hdr_encode(&h, b->data + start);
}

void wire_frame_empty(struct buf *b, uint16_t type, uint64_t req_id, uint16_t status)
{
    size_t start = wire_frame_begin(b);
    wire_frame_end(b, start, type, req_id, status);
}

/* ---- shared pieces ---- */

struct wire_str wire_str_c(const char *s)
{
    struct wire_str r = { .p = s, .len = s ? (uint32_t)strlen(s) : 0 };
    return r;
}

void wire_hello_frame(struct buf *b, uint16_t type, uint64_t req_id, uint8_t node_kind,
                      const char *cluster_id, const char *node_id)
{
    struct wire_hello m = { .version = WIRE_VERSION, .node_kind = node_kind,
                            .cluster_id = wire_str_c(cluster_id), .node_id = wire_str_c(node_id) };
    size_t start = wire_frame_begin(b);

    wire_hello_encode(b, &m);
    wire_frame_end(b, start, type, req_id, 0);
}

int wire_str_eq(struct wire_str s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

int wire_hello_check(const struct wire_hello *h, const char *cluster_id)
{
    if (h->version != WIRE_VERSION)
        return -ERR_VERSION;
    return wire_str_eq(h->cluster_id, cluster_id) ? 0 : -ERR_CLUSTER;
}

int wire_attr_has(const struct wire_attr *a, const struct wire_nn_setattr *req)
{
    uint32_t v = req->valid;

    return !((v & WIRE_SET_SIZE) && a->size != req->size) &&
           !((v & WIRE_SET_MODE) && (a->mode & 07777) != (req->mode & 07777)) &&
           !((v & WIRE_SET_UID) && a->uid != req->uid) &&
           !((v & WIRE_SET_GID) && a->gid != req->gid) &&
           !((v & WIRE_SET_ATIME) && a->atime_ms != req->atime_ms) &&
           !((v & WIRE_SET_MTIME) && a->mtime_ms != req->mtime_ms);
}

int wire_str_copy(struct wire_str s, char *dst, size_t cap)
{
    if (s.len + 1 > cap)
        return -ENAMETOOLONG;
    if (s.len)
        memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    return 0;
}

static void put_str(struct buf *b, struct wire_str s)
{
    buf_put_bytes(b, s.p, s.len);
}

static struct wire_str get_str(struct cur *c, uint32_t max)
{
    struct wire_str s;
    s.p = (const char *)cur_get_bytes(c, &s.len, max);
    return s;
}

/* A name must be a non-empty path component: no '/', no NUL, not "." or "..". */
static struct wire_str get_name(struct cur *c)
{
    struct wire_str s = get_str(c, WIRE_NAME_MAX);

    if (c->err)
        return s;
    if (s.len == 0 || memchr(s.p, '/', s.len) || memchr(s.p, '\0', s.len) ||
        (s.len == 1 && s.p[0] == '.') || (s.len == 2 && s.p[0] == '.' && s.p[1] == '.'))
        cur_fail(c);
    return s;
}

static void attr_put(struct buf *b, const struct wire_attr *a)
{
    buf_put_u64(b, a->ino);
    buf_put_u32(b, a->mode);
    buf_put_u32(b, a->nlink);
    buf_put_u32(b, a->uid);
    buf_put_u32(b, a->gid);
    buf_put_u64(b, a->size);
    buf_put_u64(b, a->atime_ms);
    buf_put_u64(b, a->mtime_ms);
    buf_put_u64(b, a->ctime_ms);
    buf_put_u64(b, a->block_size);
    buf_put_u16(b, a->replication);
    buf_put_u8(b, a->is_open);
    buf_put_u64(b, a->change);
}

static void attr_get(struct cur *c, struct wire_attr *a)
{
    a->ino = cur_get_u64(c);
    a->mode = cur_get_u32(c);
    a->nlink = cur_get_u32(c);
    a->uid = cur_get_u32(c);
    a->gid = cur_get_u32(c);
    a->size = cur_get_u64(c);
    a->atime_ms = cur_get_u64(c);
    a->mtime_ms = cur_get_u64(c);
    a->ctime_ms = cur_get_u64(c);
    a->block_size = cur_get_u64(c);
    a->replication = cur_get_u16(c);
    a->is_open = cur_get_u8(c);
    a->change = cur_get_u64(c);
}

static void dn_addr_put(struct buf *b, const struct wire_dn_addr *a)
{
    put_str(b, a->node_id);
    put_str(b, a->host);
    buf_put_u16(b, a->port);
}

static void dn_addr_get(struct cur *c, struct wire_dn_addr *a)
{
    a->node_id = get_str(c, WIRE_ID_MAX);
    a->host = get_str(c, WIRE_HOST_MAX);
    a->port = cur_get_u16(c);
    if (!c->err && (a->host.len == 0 || a->port == 0))
        cur_fail(c);
}

static void blk_put(struct buf *b, const struct wire_blk *blk)
{
    buf_put_u64(b, blk->id);
    buf_put_u64(b, blk->gen);
}

static void blk_get(struct cur *c, struct wire_blk *blk)
{
    blk->id = cur_get_u64(c);
    blk->gen = cur_get_u64(c);
}

static void addrs_put(struct buf *b, uint32_t count, const struct wire_dn_addr *addrs)
{
    ASSERT(count <= WIRE_TARGETS_MAX);
    buf_put_u32(b, count);
    for (uint32_t i = 0; i < count; i++)
        dn_addr_put(b, &addrs[i]);
}

static uint32_t addrs_get(struct cur *c, struct wire_dn_addr *addrs)
{
    uint32_t count = cur_get_u32(c);

    if (count > WIRE_TARGETS_MAX) {
        cur_fail(c);
        return 0;
    }
    for (uint32_t i = 0; i < count; i++)
        dn_addr_get(c, &addrs[i]);
    return c->err ? 0 : count;
}

uint64_t wire_csum_at(const uint8_t *csums_raw, uint32_t idx)
{
    return le_get_u64(csums_raw + 8 * (size_t)idx);
}

int wire_csums_verify(const uint8_t *data, size_t len, const uint8_t *csums_raw)
{
    uint32_t i = 0;

    for (size_t off = 0; off < len; off += CSUM_CHUNK_SIZE, i++) {
        size_t n = len - off < CSUM_CHUNK_SIZE ? len - off : CSUM_CHUNK_SIZE;
        if (csum_chunk(data + off, n) != wire_csum_at(csums_raw, i))
            return -ERR_CHECKSUM;
    }
    return 0;
}

/* Defines wire_<name>_decode() around a static get function that reads every field. */
#define WIRE_DECODER(name)                                                                         \
    int wire_##name##_decode(const void *body, size_t len, struct wire_##name *m)                  \
    {                                                                                              \
        struct cur c;                                                                              \
        cur_init(&c, body, len);                                                                   \
        name##_get(&c, m);                                                                         \
        return cur_finish(&c);                                                                     \
    }

/* ---- messages ---- */

void wire_hello_encode(struct buf *b, const struct wire_hello *m)
{
    buf_put_u16(b, m->version);
    buf_put_u8(b, m->node_kind);
    put_str(b, m->cluster_id);
    put_str(b, m->node_id);
}
static void hello_get(struct cur *c, struct wire_hello *m)
{
    m->version = cur_get_u16(c);
    m->node_kind = cur_get_u8(c);
    m->cluster_id = get_str(c, WIRE_ID_MAX);
    m->node_id = get_str(c, WIRE_ID_MAX);
}
WIRE_DECODER(hello)

void wire_attr_encode(struct buf *b, const struct wire_attr *m)
{
    attr_put(b, m);
}
WIRE_DECODER(attr)

void wire_nn_entry_ok_encode(struct buf *b, const struct wire_nn_entry_ok *m)
{
    attr_put(b, &m->attr);
    attr_put(b, &m->parent);
}
static void nn_entry_ok_get(struct cur *c, struct wire_nn_entry_ok *m)
{
    attr_get(c, &m->attr);
    attr_get(c, &m->parent);
}
WIRE_DECODER(nn_entry_ok)

void wire_nn_ino_encode(struct buf *b, const struct wire_nn_ino *m)
{
    buf_put_u64(b, m->ino);
}
static void nn_ino_get(struct cur *c, struct wire_nn_ino *m)
{
    m->ino = cur_get_u64(c);
}
WIRE_DECODER(nn_ino)

void wire_nn_name_encode(struct buf *b, const struct wire_nn_name *m)
{
    buf_put_u64(b, m->parent);
    put_str(b, m->name);
}
static void nn_name_get(struct cur *c, struct wire_nn_name *m)
{
    m->parent = cur_get_u64(c);
    m->name = get_name(c);
}
WIRE_DECODER(nn_name)

void wire_nn_setattr_encode(struct buf *b, const struct wire_nn_setattr *m)
{
    buf_put_u64(b, m->ino);
    buf_put_u32(b, m->valid);
    buf_put_u32(b, m->mode);
    buf_put_u32(b, m->uid);
    buf_put_u32(b, m->gid);
    buf_put_u64(b, m->size);
    buf_put_u64(b, m->atime_ms);
    buf_put_u64(b, m->mtime_ms);
}
static void nn_setattr_get(struct cur *c, struct wire_nn_setattr *m)
{
    m->ino = cur_get_u64(c);
    m->valid = cur_get_u32(c);
    m->mode = cur_get_u32(c);
    m->uid = cur_get_u32(c);
    m->gid = cur_get_u32(c);
    m->size = cur_get_u64(c);
    m->atime_ms = cur_get_u64(c);
    m->mtime_ms = cur_get_u64(c);
}
WIRE_DECODER(nn_setattr)

void wire_nn_mkdir_encode(struct buf *b, const struct wire_nn_mkdir *m)
{
    buf_put_u64(b, m->parent);
    put_str(b, m->name);
    buf_put_u32(b, m->mode);
    buf_put_u32(b, m->uid);
    buf_put_u32(b, m->gid);
}
static void nn_mkdir_get(struct cur *c, struct wire_nn_mkdir *m)
{
    m->parent = cur_get_u64(c);
    m->name = get_name(c);
    m->mode = cur_get_u32(c);
    m->uid = cur_get_u32(c);
    m->gid = cur_get_u32(c);
}
WIRE_DECODER(nn_mkdir)

void wire_nn_create_encode(struct buf *b, const struct wire_nn_create *m)
{
    buf_put_u64(b, m->parent);
    put_str(b, m->name);
    buf_put_u32(b, m->mode);
    buf_put_u32(b, m->uid);
    buf_put_u32(b, m->gid);
    buf_put_u64(b, m->block_size);
    buf_put_u16(b, m->replication);
    buf_put_u8(b, m->flags);
}
static void nn_create_get(struct cur *c, struct wire_nn_create *m)
{
    m->parent = cur_get_u64(c);
    m->name = get_name(c);
    m->mode = cur_get_u32(c);
    m->uid = cur_get_u32(c);
    m->gid = cur_get_u32(c);
    m->block_size = cur_get_u64(c);
    m->replication = cur_get_u16(c);
    m->flags = cur_get_u8(c);
}
WIRE_DECODER(nn_create)

void wire_nn_open_encode(struct buf *b, const struct wire_nn_open *m)
{
    buf_put_u64(b, m->ino);
    buf_put_u32(b, m->flags);
}
static void nn_open_get(struct cur *c, struct wire_nn_open *m)
{
    m->ino = cur_get_u64(c);
    m->flags = cur_get_u32(c);
}
WIRE_DECODER(nn_open)

void wire_nn_rename_encode(struct buf *b, const struct wire_nn_rename *m)
{
    buf_put_u64(b, m->parent);
    put_str(b, m->name);
    buf_put_u64(b, m->new_parent);
    put_str(b, m->new_name);
    buf_put_u32(b, m->flags);
}
static void nn_rename_get(struct cur *c, struct wire_nn_rename *m)
{
    m->parent = cur_get_u64(c);
    m->name = get_name(c);
    m->new_parent = cur_get_u64(c);
    m->new_name = get_name(c);
    m->flags = cur_get_u32(c);
}
WIRE_DECODER(nn_rename)

void wire_nn_readdir_encode(struct buf *b, const struct wire_nn_readdir *m)
{
    buf_put_u64(b, m->ino);
    put_str(b, m->after);
    buf_put_u32(b, m->max);
}
static void nn_readdir_get(struct cur *c, struct wire_nn_readdir *m)
{
    m->ino = cur_get_u64(c);
    m->after = get_str(c, WIRE_NAME_MAX);
    m->max = cur_get_u32(c);
}
WIRE_DECODER(nn_readdir)

void wire_nn_statfs_ok_encode(struct buf *b, const struct wire_nn_statfs_ok *m)
{
    buf_put_u64(b, m->capacity);
    buf_put_u64(b, m->used);
    buf_put_u64(b, m->remaining);
    buf_put_u64(b, m->files);
    buf_put_u64(b, m->blocks);
    buf_put_u64(b, m->block_size);
    buf_put_u32(b, m->live_datanodes);
}
static void nn_statfs_ok_get(struct cur *c, struct wire_nn_statfs_ok *m)
{
    m->capacity = cur_get_u64(c);
    m->used = cur_get_u64(c);
    m->remaining = cur_get_u64(c);
    m->files = cur_get_u64(c);
    m->blocks = cur_get_u64(c);
    m->block_size = cur_get_u64(c);
    m->live_datanodes = cur_get_u32(c);
}
WIRE_DECODER(nn_statfs_ok)

void wire_nn_add_block_encode(struct buf *b, const struct wire_nn_add_block *m)
{
    buf_put_u64(b, m->ino);
    blk_put(b, &m->prev);
    buf_put_u64(b, m->prev_len);
}
static void nn_add_block_get(struct cur *c, struct wire_nn_add_block *m)
{
    m->ino = cur_get_u64(c);
    blk_get(c, &m->prev);
    m->prev_len = cur_get_u64(c);
}
WIRE_DECODER(nn_add_block)

void wire_nn_add_block_ok_encode(struct buf *b, const struct wire_nn_add_block_ok *m)
{
    blk_put(b, &m->blk);
    buf_put_u64(b, m->offset);
    addrs_put(b, m->target_count, m->targets);
}
static void nn_add_block_ok_get(struct cur *c, struct wire_nn_add_block_ok *m)
{
    blk_get(c, &m->blk);
    m->offset = cur_get_u64(c);
    m->target_count = addrs_get(c, m->targets);
}
WIRE_DECODER(nn_add_block_ok)

void wire_nn_complete_encode(struct buf *b, const struct wire_nn_complete *m)
{
    buf_put_u64(b, m->ino);
    blk_put(b, &m->last);
    buf_put_u64(b, m->last_len);
}
static void nn_complete_get(struct cur *c, struct wire_nn_complete *m)
{
    m->ino = cur_get_u64(c);
    blk_get(c, &m->last);
    m->last_len = cur_get_u64(c);
}
WIRE_DECODER(nn_complete)

void wire_nn_get_blocks_encode(struct buf *b, const struct wire_nn_get_blocks *m)
{
    buf_put_u64(b, m->ino);
    buf_put_u64(b, m->offset);
    buf_put_u64(b, m->len);
}
static void nn_get_blocks_get(struct cur *c, struct wire_nn_get_blocks *m)
{
    m->ino = cur_get_u64(c);
    m->offset = cur_get_u64(c);
    m->len = cur_get_u64(c);
}
WIRE_DECODER(nn_get_blocks)

void wire_dn_register_encode(struct buf *b, const struct wire_dn_register *m)
{
    dn_addr_put(b, &m->self);
    buf_put_u64(b, m->capacity);
    buf_put_u64(b, m->used);
    buf_put_u64(b, m->remaining);
}
static void dn_register_get(struct cur *c, struct wire_dn_register *m)
{
    dn_addr_get(c, &m->self);
    m->capacity = cur_get_u64(c);
    m->used = cur_get_u64(c);
    m->remaining = cur_get_u64(c);
    if (!c->err && m->self.node_id.len == 0)
        cur_fail(c);
}
WIRE_DECODER(dn_register)

void wire_dn_register_ok_encode(struct buf *b, const struct wire_dn_register_ok *m)
{
    buf_put_u32(b, m->heartbeat_ms);
}
static void dn_register_ok_get(struct cur *c, struct wire_dn_register_ok *m)
{
    m->heartbeat_ms = cur_get_u32(c);
}
WIRE_DECODER(dn_register_ok)

void wire_dn_heartbeat_encode(struct buf *b, const struct wire_dn_heartbeat *m)
{
    buf_put_u64(b, m->capacity);
    buf_put_u64(b, m->used);
    buf_put_u64(b, m->remaining);
    buf_put_u32(b, m->active_writes);
}
static void dn_heartbeat_get(struct cur *c, struct wire_dn_heartbeat *m)
{
    m->capacity = cur_get_u64(c);
    m->used = cur_get_u64(c);
    m->remaining = cur_get_u64(c);
    m->active_writes = cur_get_u32(c);
}
WIRE_DECODER(dn_heartbeat)

void wire_dn_write_open_encode(struct buf *b, const struct wire_dn_write_open *m)
{
    blk_put(b, &m->blk);
    addrs_put(b, m->target_count, m->targets);
}
static void dn_write_open_get(struct cur *c, struct wire_dn_write_open *m)
{
    blk_get(c, &m->blk);
    m->target_count = addrs_get(c, m->targets);
}
WIRE_DECODER(dn_write_open)

void wire_dn_write_pkt_encode(struct buf *b, const struct wire_dn_write_pkt *m)
{
    ASSERT(m->data_len <= WIRE_PKT_DATA_MAX);
    ASSERT(m->csum_count == csum_chunk_count(m->data_len));
    buf_put_u64(b, m->seq);
    buf_put_u64(b, m->offset);
    buf_put_u8(b, m->flags);
    buf_put_bytes(b, m->data, m->data_len);
    buf_put_u32(b, m->csum_count);
    buf_put(b, m->csums_raw, 8 * (size_t)m->csum_count);
}
static void data_csums_get(struct cur *c, uint32_t data_len, uint32_t *count,
                           const uint8_t **raw)
{
    *count = cur_get_u32(c);
    if (!c->err && *count != csum_chunk_count(data_len))
        cur_fail(c);
    *raw = cur_get_raw(c, 8 * (size_t)*count);
}
static void dn_write_pkt_get(struct cur *c, struct wire_dn_write_pkt *m)
{
    m->seq = cur_get_u64(c);
    m->offset = cur_get_u64(c);
    m->flags = cur_get_u8(c);
    m->data = cur_get_bytes(c, &m->data_len, WIRE_PKT_DATA_MAX);
    data_csums_get(c, m->data_len, &m->csum_count, &m->csums_raw);
    if (!c->err && m->offset % CSUM_CHUNK_SIZE != 0)
        cur_fail(c);
}
WIRE_DECODER(dn_write_pkt)

void wire_dn_write_ack_encode(struct buf *b, const struct wire_dn_write_ack *m)
{
    buf_put_u64(b, m->seq);
    buf_put_u16(b, m->status);
    buf_put_u8(b, m->failed_idx);
}
static void dn_write_ack_get(struct cur *c, struct wire_dn_write_ack *m)
{
    m->seq = cur_get_u64(c);
    m->status = cur_get_u16(c);
    m->failed_idx = cur_get_u8(c);
}
WIRE_DECODER(dn_write_ack)

void wire_dn_read_encode(struct buf *b, const struct wire_dn_read *m)
{
    blk_put(b, &m->blk);
    buf_put_u64(b, m->offset);
    buf_put_u64(b, m->len);
}
static void dn_read_get(struct cur *c, struct wire_dn_read *m)
{
    blk_get(c, &m->blk);
    m->offset = cur_get_u64(c);
    m->len = cur_get_u64(c);
    if (!c->err && m->offset % CSUM_CHUNK_SIZE != 0)
        cur_fail(c);
}
WIRE_DECODER(dn_read)

void wire_dn_read_data_encode(struct buf *b, const struct wire_dn_read_data *m)
{
    ASSERT(m->data_len <= WIRE_PKT_DATA_MAX);
    ASSERT(m->csum_count == csum_chunk_count(m->data_len));
    buf_put_u64(b, m->offset);
    buf_put_u8(b, m->flags);
    buf_put_bytes(b, m->data, m->data_len);
    buf_put_u32(b, m->csum_count);
    buf_put(b, m->csums_raw, 8 * (size_t)m->csum_count);
}
static void dn_read_data_get(struct cur *c, struct wire_dn_read_data *m)
{
    m->offset = cur_get_u64(c);
    m->flags = cur_get_u8(c);
    m->data = cur_get_bytes(c, &m->data_len, WIRE_PKT_DATA_MAX);
    data_csums_get(c, m->data_len, &m->csum_count, &m->csums_raw);
}
WIRE_DECODER(dn_read_data)

void wire_dn_sync_encode(struct buf *b, const struct wire_dn_sync *m)
{
    blk_put(b, &m->blk);
}
static void dn_sync_get(struct cur *c, struct wire_dn_sync *m)
{
    blk_get(c, &m->blk);
}
WIRE_DECODER(dn_sync)

/* ---- lists ---- */

/* Bumps the u32 count stored at b->data[count_at]. */
static void count_bump(struct buf *b, size_t count_at, uint32_t max)
{
    uint32_t n = le_get_u32(b->data + count_at) + 1;

    ASSERT(n <= max);
    le_put_u32(b->data + count_at, n);
}

/* Validates count entries with get_one, leaving *entries positioned at the first. */
typedef void wire_entry_get_fn(struct cur *c, void *entry);
static int list_decode(struct cur *c, uint32_t count, uint32_t max, struct cur *entries,
                       wire_entry_get_fn *get_one, void *scratch)
{
    if (c->err || count > max)
        return -ERR_PROTO;
    *entries = *c;
    for (uint32_t i = 0; i < count && !c->err; i++)
        get_one(c, scratch);
    return cur_finish(c);
}

static void dirent_get(struct cur *c, void *e_)
{
    struct wire_nn_dirent *e = e_;
    e->name = get_name(c);
    attr_get(c, &e->attr);
}
void wire_nn_readdir_ok_begin(struct buf *b, uint8_t is_eof)
{
    buf_put_u8(b, is_eof);
    buf_put_u32(b, 0);
}
void wire_nn_readdir_ok_put(struct buf *b, size_t body_start, const struct wire_nn_dirent *e)
{
    put_str(b, e->name);
    attr_put(b, &e->attr);
    count_bump(b, body_start + 1, WIRE_READDIR_MAX);
}
int wire_nn_readdir_ok_decode(const void *body, size_t len, struct wire_nn_readdir_ok *m)
{
    struct cur c;
    struct wire_nn_dirent scratch;
    cur_init(&c, body, len);
    m->is_eof = cur_get_u8(&c);
    m->count = cur_get_u32(&c);
    return list_decode(&c, m->count, WIRE_READDIR_MAX, &m->entries, dirent_get, &scratch);
}
void wire_nn_readdir_ok_next(struct wire_nn_readdir_ok *m, struct wire_nn_dirent *e)
{
    dirent_get(&m->entries, e);
    ASSERT(!m->entries.err);
}

static void located_get(struct cur *c, void *e_)
{
    struct wire_located_blk *e = e_;
    blk_get(c, &e->blk);
    e->offset = cur_get_u64(c);
    e->len = cur_get_u64(c);
    e->loc_count = addrs_get(c, e->locs);
}
void wire_nn_get_blocks_ok_begin(struct buf *b, uint64_t file_size)
{
    buf_put_u64(b, file_size);
    buf_put_u32(b, 0);
}
void wire_nn_get_blocks_ok_put(struct buf *b, size_t body_start, const struct wire_located_blk *e)
{
    blk_put(b, &e->blk);
    buf_put_u64(b, e->offset);
    buf_put_u64(b, e->len);
    addrs_put(b, e->loc_count, e->locs);
    count_bump(b, body_start + 8, WIRE_LOCATED_MAX);
}
int wire_nn_get_blocks_ok_decode(const void *body, size_t len, struct wire_nn_get_blocks_ok *m)
{
    struct cur c;
    struct wire_located_blk scratch;
    cur_init(&c, body, len);
    m->file_size = cur_get_u64(&c);
    m->count = cur_get_u32(&c);
    return list_decode(&c, m->count, WIRE_LOCATED_MAX, &m->entries, located_get, &scratch);
}
void wire_nn_get_blocks_ok_next(struct wire_nn_get_blocks_ok *m, struct wire_located_blk *e)
{
    located_get(&m->entries, e);
    ASSERT(!m->entries.err);
}

static void dn_row_get(struct cur *c, void *e_)
{
    struct wire_dn_row *e = e_;
    dn_addr_get(c, &e->addr);
    e->state = cur_get_u8(c);
    e->capacity = cur_get_u64(c);
    e->used = cur_get_u64(c);
    e->remaining = cur_get_u64(c);
    e->blocks = cur_get_u64(c);
    e->last_heartbeat_age_ms = cur_get_u64(c);
}
void wire_nn_report_ok_begin(struct buf *b, const struct wire_nn_report_ok *t)
{
    buf_put_u64(b, t->capacity);
    buf_put_u64(b, t->used);
    buf_put_u64(b, t->remaining);
    buf_put_u64(b, t->files);
    buf_put_u64(b, t->dirs);
    buf_put_u64(b, t->blocks);
    buf_put_u64(b, t->under_replicated);
    buf_put_u32(b, 0);
}
void wire_nn_report_ok_put(struct buf *b, size_t body_start, const struct wire_dn_row *e)
{
    dn_addr_put(b, &e->addr);
    buf_put_u8(b, e->state);
    buf_put_u64(b, e->capacity);
    buf_put_u64(b, e->used);
    buf_put_u64(b, e->remaining);
    buf_put_u64(b, e->blocks);
    buf_put_u64(b, e->last_heartbeat_age_ms);
    count_bump(b, body_start + 56, WIRE_DN_ROWS_MAX);
}
int wire_nn_report_ok_decode(const void *body, size_t len, struct wire_nn_report_ok *m)
{
    struct cur c;
    struct wire_dn_row scratch;
    cur_init(&c, body, len);
    m->capacity = cur_get_u64(&c);
    m->used = cur_get_u64(&c);
    m->remaining = cur_get_u64(&c);
    m->files = cur_get_u64(&c);
    m->dirs = cur_get_u64(&c);
    m->blocks = cur_get_u64(&c);
    m->under_replicated = cur_get_u64(&c);
    m->count = cur_get_u32(&c);
    return list_decode(&c, m->count, WIRE_DN_ROWS_MAX, &m->rows, dn_row_get, &scratch);
}
void wire_nn_report_ok_next(struct wire_nn_report_ok *m, struct wire_dn_row *e)
{
    dn_row_get(&m->rows, e);
    ASSERT(!m->rows.err);
}

static void cmd_get(struct cur *c, void *e_)
{
    struct wire_dn_cmd *e = e_;
    *e = (struct wire_dn_cmd){ .kind = cur_get_u8(c) };
    blk_get(c, &e->blk);
    if (e->kind == WIRE_CMD_REPLICATE) {
        e->len = cur_get_u64(c);
        dn_addr_get(c, &e->target);
    } else if (e->kind != WIRE_CMD_DELETE) {
        cur_fail(c);
    }
}
void wire_dn_heartbeat_ok_begin(struct buf *b)
{
    buf_put_u32(b, 0);
}
void wire_dn_heartbeat_ok_put(struct buf *b, size_t body_start, const struct wire_dn_cmd *e)
{
    buf_put_u8(b, e->kind);
    blk_put(b, &e->blk);
    if (e->kind == WIRE_CMD_REPLICATE) {
        buf_put_u64(b, e->len);
        dn_addr_put(b, &e->target);
    }
    count_bump(b, body_start, WIRE_CMDS_MAX);
}
int wire_dn_heartbeat_ok_decode(const void *body, size_t len, struct wire_dn_heartbeat_ok *m)
{
    struct cur c;
    struct wire_dn_cmd scratch;
    cur_init(&c, body, len);
    m->count = cur_get_u32(&c);
    return list_decode(&c, m->count, WIRE_CMDS_MAX, &m->cmds, cmd_get, &scratch);
}
void wire_dn_heartbeat_ok_next(struct wire_dn_heartbeat_ok *m, struct wire_dn_cmd *e)
{
    cmd_get(&m->cmds, e);
    ASSERT(!m->cmds.err);
}

static void blk_len_get(struct cur *c, void *e_)
{
    struct wire_blk_len *e = e_;
    blk_get(c, &e->blk);
    e->len = cur_get_u64(c);
}
void wire_dn_blocks_begin(struct buf *b, uint8_t flags)
{
    buf_put_u8(b, flags);
    buf_put_u32(b, 0);
}
void wire_dn_blocks_put(struct buf *b, size_t body_start, const struct wire_blk_len *e)
{
    blk_put(b, &e->blk);
    buf_put_u64(b, e->len);
    count_bump(b, body_start + 1, WIRE_BLOCKS_MAX);
}
int wire_dn_blocks_decode(const void *body, size_t len, struct wire_dn_blocks *m)
{
    struct cur c;
    struct wire_blk_len scratch;
    cur_init(&c, body, len);
    m->flags = cur_get_u8(&c);
    m->count = cur_get_u32(&c);
    return list_decode(&c, m->count, WIRE_BLOCKS_MAX, &m->entries, blk_len_get, &scratch);
}
void wire_dn_blocks_next(struct wire_dn_blocks *m, struct wire_blk_len *e)
{
    blk_len_get(&m->entries, e);
    ASSERT(!m->entries.err);
}
