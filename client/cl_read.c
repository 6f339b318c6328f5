#include "cl_read.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "csum.h"
#include "err.h"
#include "panic.h"
#include "xmalloc.h"

void cl_read_blocks_init(struct cl_read_blocks *b)
{
    memset(b, 0, sizeof(*b));
    buf_init(&b->reply);
}

static void cl_read_blocks_clear(struct cl_read_blocks *b)
{
    free(b->blks);
    free(b->locs);
    b->blks = NULL;
    b->locs = NULL;
    b->count = 0;
    b->file_size = 0;
}

void cl_read_blocks_fini(struct cl_read_blocks *b)
{
    cl_read_blocks_clear(b);
    buf_fini(&b->reply);
}

/* Copies one located block into the cache; checks it follows the previous one. */
static int cl_read_blocks_add(struct cl_read_blocks *b, const struct wire_located_blk *e,
                              uint32_t *loc_total)
{
    struct cl_read_blk *nb = &b->blks[b->count];

    if (e->len > UINT64_MAX - e->offset || e->offset + e->len > b->file_size)
        return -ERR_PROTO;
    if (b->count > 0) {
        const struct cl_read_blk *pb = &b->blks[b->count - 1];
        if (e->offset < pb->offset + pb->len)
            return -ERR_PROTO;
    }
    *nb = (struct cl_read_blk){
        .blk = e->blk, .offset = e->offset, .len = e->len,
        .loc_first = *loc_total, .loc_count = e->loc_count,
    };
    for (uint32_t i = 0; i < e->loc_count; i++)
        b->locs[(*loc_total)++] = e->locs[i];
    b->count++;
    return 0;
}

int cl_read_blocks_load(struct cl_read_blocks *b, const void *body, size_t len)
{
    struct wire_nn_get_blocks_ok ok;
    uint32_t loc_total = 0;
    int rc;

    cl_read_blocks_clear(b);
    buf_reset(&b->reply);
    buf_put(&b->reply, body, len);
    rc = wire_nn_get_blocks_ok_decode(b->reply.data, b->reply.len, &ok);
    if (rc < 0)
        return rc;
    b->file_size = ok.file_size;
    b->blks = xcalloc(ok.count ? ok.count : 1, sizeof(*b->blks));
    b->locs = xcalloc(ok.count ? (size_t)ok.count * WIRE_TARGETS_MAX : 1, sizeof(*b->locs));
    for (uint32_t i = 0; i < ok.count; i++) {
        struct wire_located_blk e;
        wire_nn_get_blocks_ok_next(&ok, &e);
        rc = cl_read_blocks_add(b, &e, &loc_total);
        if (rc < 0) {
            cl_read_blocks_clear(b);
            return rc;
        }
    }
    return 0;
}

int64_t cl_read_blocks_find(const struct cl_read_blocks *b, uint64_t off)
{
    uint32_t lo = 0, hi = b->count;

    while (lo < hi) { /* first block whose end is past off */
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->blks[mid].offset + b->blks[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == b->count || b->blks[lo].offset > off)
        return -1;
    return lo;
}

static uint64_t cl_read_replica_hash(uint64_t blk_id, const char *client_name,
                                     const struct wire_dn_addr *loc)
{
    uint8_t key[8 + 2 * (WIRE_ID_MAX + 1)];
    size_t name_len = strnlen(client_name, WIRE_ID_MAX);
    size_t node_len = loc->node_id.len < WIRE_ID_MAX ? loc->node_id.len : WIRE_ID_MAX;
    size_t n = 8;

    le_put_u64(key, blk_id);
    memcpy(key + n, client_name, name_len);
    n += name_len;
    key[n++] = 0; /* separator: ("ab", "c") and ("a", "bc") differ */
    if (node_len)
        memcpy(key + n, loc->node_id.p, node_len);
    n += node_len;
    return XXH3_64bits(key, n);
}

uint32_t cl_read_replica_order(uint64_t blk_id, const char *client_name,
                               const struct wire_dn_addr *locs, uint32_t count, uint32_t *order)
{
    uint64_t hash[WIRE_TARGETS_MAX];

    ASSERT(count <= WIRE_TARGETS_MAX);
    for (uint32_t i = 0; i < count; i++) {
        hash[i] = cl_read_replica_hash(blk_id, client_name, &locs[i]);
        order[i] = i;
    }
    for (uint32_t i = 1; i < count; i++) { /* insertion sort, descending hash */
        uint32_t v = order[i], j = i;
        while (j > 0 && hash[order[j - 1]] < hash[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    return count;
}

uint64_t cl_read_align_down(uint64_t off)
{
    return off - off % CSUM_CHUNK_SIZE;
}

/* The start of what the stream still holds in memory (the older of its two frames). */
static uint64_t cl_read_stream_low(const struct cl_read_stream *s)
{
    if (s->prev_len)
        return s->prev_pos;
    return s->cur_len ? s->cur_pos : s->pos;
}

int cl_read_stream_can_serve(const struct cl_read_stream *s, struct wire_blk blk, uint64_t off)
{
    if (!s->is_open || s->blk.id != blk.id || s->blk.gen != blk.gen)
        return 0;
    if (off < s->pos)
        return off >= cl_read_stream_low(s);
    return off - s->pos <= CL_READ_SKIP_MAX;
}

int cl_read_is_sequential(uint64_t off, uint64_t next_off)
{
    return off <= next_off + CL_READ_REORDER_MAX && off + CL_READ_REORDER_MAX >= next_off;
}

/* The end of a request from pos covering want bytes from off: whole chunks, within the block. */
static uint64_t cl_read_request_end(uint64_t blk_len, uint64_t off, uint64_t want)
{
    uint64_t end = want > blk_len - off ? blk_len : off + want;

    if (end % CSUM_CHUNK_SIZE)
        end += CSUM_CHUNK_SIZE - end % CSUM_CHUNK_SIZE;
    return end < blk_len ? end : blk_len;
}

void cl_read_stream_open(struct cl_read_stream *s, const struct cl_read_blk *b, uint32_t loc_idx,
                         uint64_t off, uint64_t want, struct wire_dn_read *req)
{
    ASSERT(off < b->len);
    ASSERT(loc_idx < b->loc_count);
    *s = (struct cl_read_stream){
        .is_open = 1, .blk = b->blk, .loc_idx = loc_idx, .blk_len = b->len,
        .pos = cl_read_align_down(off),
    };
    s->end = cl_read_request_end(b->len, off, want ? want : 1);
    *req = (struct wire_dn_read){ .blk = b->blk, .offset = s->pos, .len = s->end - s->pos };
}

int cl_read_stream_can_continue(const struct cl_read_stream *s)
{
    return s->is_open && s->is_eof && s->left_len == 0 && s->pos == s->end &&
           s->end < s->blk_len;
}

void cl_read_stream_continue(struct cl_read_stream *s, uint64_t want, struct wire_dn_read *req)
{
    ASSERT(cl_read_stream_can_continue(s));
    s->is_eof = 0;
    s->end = cl_read_request_end(s->blk_len, s->pos, want ? want : 1);
    *req = (struct wire_dn_read){ .blk = s->blk, .offset = s->pos, .len = s->end - s->pos };
}

uint64_t cl_read_next_window(uint64_t window, int is_sequential)
{
    if (!is_sequential)
        return 0;
    if (window < CL_READ_WINDOW_MIN)
        return CL_READ_WINDOW_MIN;
    return window >= CL_READ_WINDOW_MAX / 2 ? CL_READ_WINDOW_MAX : window * 2;
}

void cl_read_stream_close(struct cl_read_stream *s)
{
    memset(s, 0, sizeof(*s));
}

int cl_read_stream_needs_frame(const struct cl_read_stream *s)
{
    ASSERT(s->is_open);
    return s->left_len == 0 && !s->is_eof;
}

int cl_read_stream_on_data(struct cl_read_stream *s, const struct wire_dn_read_data *d)
{
    ASSERT(s->is_open && s->left_len == 0 && !s->is_eof);
    if (d->offset != s->pos || d->data_len > s->end - s->pos)
        return -ERR_PROTO;
    int is_eof = (d->flags & WIRE_READ_EOF) != 0;
    if (!is_eof && (d->data_len == 0 || d->data_len % CSUM_CHUNK_SIZE != 0))
        return -ERR_PROTO;
    ASSERT(d->csum_count == csum_chunk_count(d->data_len)); /* checked by the decoder */
    if (wire_csums_verify(d->data, d->data_len, d->csums_raw) < 0)
        return -ERR_CHECKSUM;
    s->prev_pos = s->cur_pos;
    s->prev = s->cur;
    s->prev_len = s->cur_len;
    s->cur_pos = d->offset;
    s->cur = d->data;
    s->cur_len = d->data_len;
    s->left = d->data;
    s->left_len = d->data_len;
    s->is_eof = is_eof;
    return 0;
}

/* Copies from a frame already passed (off behind the stream's position); 0 if not held. */
static size_t cl_read_stream_take_back(const struct cl_read_stream *s, uint64_t off, void *dst,
                                       size_t n)
{
    const uint8_t *p = NULL;
    uint64_t avail = 0;

    if (s->cur_len && off >= s->cur_pos && off < s->cur_pos + s->cur_len) {
        p = s->cur + (off - s->cur_pos);
        avail = s->cur_pos + s->cur_len - off;
    } else if (s->prev_len && off >= s->prev_pos && off < s->prev_pos + s->prev_len) {
        p = s->prev + (off - s->prev_pos);
        avail = s->prev_pos + s->prev_len - off;
    }
    size_t take = n < avail ? n : (size_t)avail;
    if (take)
        memcpy(dst, p, take);
    return take;
}

size_t cl_read_stream_take(struct cl_read_stream *s, uint64_t off, void *dst, size_t n)
{
    ASSERT(s->is_open);
    if (off < s->pos)
        return cl_read_stream_take_back(s, off, dst, n);
    uint64_t skip = off - s->pos;
    if (skip > s->left_len)
        skip = s->left_len;
    s->left += skip;
    s->left_len -= (uint32_t)skip;
    s->pos += skip;
    if (off != s->pos)
        return 0;
    size_t take = n < s->left_len ? n : s->left_len;
    if (take)
        memcpy(dst, s->left, take);
    s->left += take;
    s->left_len -= (uint32_t)take;
    s->pos += take;
    return take;
}
