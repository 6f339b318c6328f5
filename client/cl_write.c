/* States of the current block:
 *   NONE    (has_block = 0)                  -> OPEN on on_block()
 *   OPEN    (has_block, !is_last_sealed)     -> SEALED on seal(is_last = 1)
 *   SEALED  (has_block, is_last_sealed)      -> NONE on on_block_done() once sent_count == 0
 * and independently a finished block is pending until ADD_BLOCK or COMPLETE commits it. */
#include "cl_write.h"

#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "err.h"
#include "panic.h"
#include "xmalloc.h"

STATIC_ASSERT(WIRE_PKT_DATA_MAX % CSUM_CHUNK_SIZE == 0);

void cl_write_init(struct cl_write *w, uint64_t block_size, uint64_t size)
{
    ASSERT(block_size > 0);
    memset(w, 0, sizeof(*w));
    w->block_size = block_size;
    w->size = size;
}

void cl_write_fini(struct cl_write *w)
{
    for (uint32_t i = 0; i < CL_WRITE_WINDOW; i++) {
        free(w->slots[i].data);
        w->slots[i].data = NULL;
    }
}

static struct cl_write_pkt *cl_write_fill(struct cl_write *w)
{
    if (w->sent_count == CL_WRITE_WINDOW)
        return NULL;
    return &w->slots[(w->head + w->sent_count) % CL_WRITE_WINDOW];
}

void cl_write_assert_valid(const struct cl_write *w)
{
    ASSERT(w->sent_count <= CL_WRITE_WINDOW);
    ASSERT(w->head < CL_WRITE_WINDOW);
    ASSERT(w->blk_len <= w->block_size);
    ASSERT(w->has_block || (w->sent_count == 0 && w->blk_len == 0));
    uint64_t expect_end = w->blk_len;
    uint32_t fill_idx = (w->head + w->sent_count) % CL_WRITE_WINDOW;
    if (w->sent_count < CL_WRITE_WINDOW)
        expect_end -= w->slots[fill_idx].len;
    for (uint32_t i = w->sent_count; i > 0; i--) {
        const struct cl_write_pkt *p = &w->slots[(w->head + i - 1) % CL_WRITE_WINDOW];
        ASSERT(p->seq == w->next_seq - (w->sent_count - i) - 1);
        ASSERT(p->blk_off + p->len == expect_end);
        ASSERT(p->blk_off % CSUM_CHUNK_SIZE == 0);
        expect_end = p->blk_off;
    }
}

uint32_t cl_write_fill_len(const struct cl_write *w)
{
    if (w->sent_count == CL_WRITE_WINDOW)
        return 0;
    return w->slots[(w->head + w->sent_count) % CL_WRITE_WINDOW].len;
}

enum cl_write_step cl_write_next_step(const struct cl_write *w)
{
    if (!w->has_block)
        return CL_WRITE_STEP_ADD_BLOCK;
    ASSERT(!w->is_last_sealed);
    if (w->blk_len == w->block_size)
        return CL_WRITE_STEP_END_BLOCK;
    if (w->sent_count == CL_WRITE_WINDOW)
        return CL_WRITE_STEP_WAIT_ACK;
    if (cl_write_fill_len(w) == WIRE_PKT_DATA_MAX)
        return CL_WRITE_STEP_SEND;
    return CL_WRITE_STEP_APPEND;
}

size_t cl_write_append(struct cl_write *w, const void *data, size_t len)
{
    struct cl_write_pkt *p = cl_write_fill(w);

    ASSERT(w->has_block && !w->is_last_sealed);
    ASSERT(p);
    uint64_t room = WIRE_PKT_DATA_MAX - p->len;
    if (room > w->block_size - w->blk_len)
        room = w->block_size - w->blk_len;
    size_t n = len < room ? len : (size_t)room;
    if (n == 0)
        return 0;
    if (!p->data)
        p->data = xmalloc(WIRE_PKT_DATA_MAX);
    memcpy(p->data + p->len, data, n);
    p->len += (uint32_t)n;
    w->blk_len += n;
    w->size += n;
    return n;
}

static void cl_write_pkt_view(const struct cl_write_pkt *p, struct wire_dn_write_pkt *out)
{
    *out = (struct wire_dn_write_pkt){
        .seq = p->seq, .offset = p->blk_off, .flags = p->flags, .data_len = p->len,
        .data = p->data, .csum_count = csum_chunk_count(p->len), .csums_raw = p->csums_raw,
    };
}

void cl_write_seal(struct cl_write *w, int is_last, struct wire_dn_write_pkt *out)
{
    struct cl_write_pkt *p = cl_write_fill(w);
    uint64_t csums[WIRE_PKT_CSUMS_MAX];

    ASSERT(w->has_block && !w->is_last_sealed);
    ASSERT(p);
    ASSERT(is_last || p->len == WIRE_PKT_DATA_MAX);
    uint32_t count = csum_chunk_count(p->len);
    csum_chunks(p->data, p->len, csums);
    for (uint32_t i = 0; i < count; i++)
        le_put_u64(p->csums_raw + 8 * (size_t)i, csums[i]);
    p->seq = w->next_seq++;
    p->blk_off = w->blk_len - p->len;
    p->flags = is_last ? WIRE_PKT_LAST : 0;
    w->sent_count++;
    w->is_last_sealed = is_last;
    cl_write_pkt_view(p, out);
}

void cl_write_sent_pkt(const struct cl_write *w, uint32_t i, struct wire_dn_write_pkt *out)
{
    ASSERT(i < w->sent_count);
    cl_write_pkt_view(&w->slots[(w->head + i) % CL_WRITE_WINDOW], out);
}

int cl_write_on_ack(struct cl_write *w, const struct wire_dn_write_ack *ack)
{
    if (w->sent_count == 0)
        return -ERR_PROTO;
    struct cl_write_pkt *p = &w->slots[w->head];
    if (ack->seq != p->seq)
        return -ERR_PROTO;
    if (ack->status != 0) {
        int rc = err_from_wire(ack->status);
        return rc < 0 ? rc : -ERR_PIPELINE;
    }
    p->len = 0;
    w->head = (w->head + 1) % CL_WRITE_WINDOW;
    w->sent_count--;
    return 0;
}

void cl_write_on_block(struct cl_write *w, struct wire_blk blk)
{
    ASSERT(!w->has_block);
    ASSERT(w->sent_count == 0);
    ASSERT(blk.id != 0);
    w->has_block = 1;
    w->is_last_sealed = 0;
    w->blk = blk;
    w->blk_len = 0;
    w->next_seq = 0;
    w->head = 0;
    for (uint32_t i = 0; i < CL_WRITE_WINDOW; i++)
        w->slots[i].len = 0;
    w->pending = (struct wire_blk){ 0, 0 };
    w->pending_len = 0;
}

void cl_write_on_block_done(struct cl_write *w)
{
    ASSERT(w->has_block && w->is_last_sealed);
    ASSERT(w->sent_count == 0);
    w->pending = w->blk;
    w->pending_len = w->blk_len;
    w->has_block = 0;
    w->is_last_sealed = 0;
    w->blk_len = 0;
}

void cl_write_on_commit(struct cl_write *w)
{
    ASSERT(!w->has_block);
    w->pending = (struct wire_blk){ 0, 0 };
    w->pending_len = 0;
}
