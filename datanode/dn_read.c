#include "dn_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "csum.h"
#include "dn_chunk.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "panic.h"
#include "xmalloc.h"

/* Bytes of a DN_READ_DATA body besides data and checksums (offset, flags, two lengths); only
 * sizes the one allocation per frame, a wrong value would cost a realloc, not correctness. */
enum {
    DN_READ_BODY_FIXED = 8 + 1 + 4 + 4,
    DN_READ_ADVISE_STEP = 8 << 20, /* read-ahead asked of the kernel ahead of a long read */
};

/* evbuffer_add_reference() cleanup: the socket output is done with a frame's storage. */
static void dn_read_frame_free_cb(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)(uintptr_t)data);
}

/* Hands c->out's storage (one encoded frame) to the socket output instead of copying it, and
 * leaves c->out empty. Saves a 1 MiB memcpy per read frame. */
static void dn_read_send_take(struct dn_conn *c)
{
    ASSERT(c->out.len > 0);
    int rc = evbuffer_add_reference(bufferevent_get_output(c->bev), c->out.data, c->out.len,
                                    dn_read_frame_free_cb, NULL);
    ASSERT(rc == 0);
    buf_init(&c->out); /* the output buffer owns the bytes now */
}

/* Ends the current read: closes the replica and returns to IDLE. */
static void dn_read_end(struct dn_conn *c)
{
    ASSERT(c->state == DN_CONN_READING);
    ASSERT(c->has_reader);
    dn_read_abort(c);
    c->state = DN_CONN_IDLE;
}

void dn_read_abort(struct dn_conn *c)
{
    if (c->has_reader) {
        dn_store_read_close(&c->rd);
        c->has_reader = false;
    }
}

/* Keeps the kernel's read-ahead up to DN_READ_ADVISE_STEP in front of the read, within what
 * was asked for, so the disk works while frames go out (a short random read advises only
 * itself). */
static void dn_read_advise(struct dn_conn *c)
{
    if (c->read_advised < c->read_off)
        c->read_advised = c->read_off;
    if (c->read_advised >= c->read_end || c->read_advised - c->read_off > DN_READ_ADVISE_STEP / 2)
        return;
    uint64_t len = c->read_end - c->read_advised;
    len = len < DN_READ_ADVISE_STEP ? len : DN_READ_ADVISE_STEP;
    dn_store_read_advise(&c->rd, c->read_advised, len);
    c->read_advised += len;
}

int dn_read_on_request(struct dn_conn *c, const struct dn_frame *fr)
{
    const struct wire_frame *f = &fr->f;
    struct wire_dn_read m = { .offset = 0 };
    int rc = wire_dn_read_decode(f->body, f->hdr.body_len, &m);

    if (rc == 0 && c->state != DN_CONN_IDLE)
        rc = -EBUSY;
    if (rc == 0)
        rc = dn_store_read_open(c->srv->store, m.blk, m.offset,
                                m.len < WIRE_PKT_DATA_MAX ? m.len : WIRE_PKT_DATA_MAX, &c->rd);
    if (rc < 0) {
        LOG_INFO("read refused blk=%016" PRIx64 " gen=%" PRIu64 ": %s", m.blk.id, m.blk.gen,
                 err_str(rc));
        if (rc == -ERR_CORRUPT && c->srv->on_corrupt) /* e.g. its checksum file is gone */
            c->srv->on_corrupt(c->srv->replica_fn_arg, &(struct wire_blk_len){ .blk = m.blk });
        dn_conn_reply_empty(c, WIRE_DN_READ_DATA, f->hdr.req_id, rc);
        return 0;
    }
    if (!c->read_buf)
        c->read_buf = xmalloc(WIRE_PKT_DATA_MAX);
    c->has_reader = true;
    c->read_req_id = f->hdr.req_id;
    c->read_off = m.offset;
    c->read_end = m.len > UINT64_MAX - m.offset ? UINT64_MAX : m.offset + m.len;
    c->read_advised = c->read_off;
    dn_read_advise(c);
    c->state = DN_CONN_READING;
    LOG_DEBUG("read blk=%016" PRIx64 " off=%" PRIu64 " len=%" PRIu64, m.blk.id, m.offset, m.len);
    dn_read_pump(c);
    return 0;
}

/* Queues one DN_READ_DATA frame; returns 1 after the EOF frame, 0 if more follow, or the
 * error (an error frame was queued instead). */
static int dn_read_send_one(struct dn_conn *c)
{
    uint8_t csums[WIRE_PKT_CSUMS_MAX * DN_CHUNK_CSUM_LEN];
    uint64_t off = c->read_off;
    uint32_t n = dn_chunk_span(off, c->read_end, c->rd.len, WIRE_PKT_DATA_MAX);
    int rc = n > 0 ? dn_store_read(&c->rd, off, n, c->read_buf, csums) : 0;

    if (rc < 0) {
        LOG_WARN("read failed blk=%016" PRIx64 " gen=%" PRIu64 " off=%" PRIu64 ": %s",
                 c->rd.blk.id, c->rd.blk.gen, off, err_str(rc));
        if ((rc == -ERR_CHECKSUM || rc == -ERR_CORRUPT) && c->srv->on_corrupt)
            c->srv->on_corrupt(c->srv->replica_fn_arg,
                               &(struct wire_blk_len){ .blk = c->rd.blk, .len = c->rd.len });
        dn_conn_reply_empty(c, WIRE_DN_READ_DATA, c->read_req_id, rc);
        return rc;
    }
    /* A frame ending inside a chunk ended at the replica's last (partial) chunk. */
    bool is_eof = n == 0 || (off + n) % CSUM_CHUNK_SIZE != 0 ||
                  dn_chunk_span(off + n, c->read_end, c->rd.len, WIRE_PKT_DATA_MAX) == 0;
    struct wire_dn_read_data m = { .offset = off, .flags = is_eof ? WIRE_READ_EOF : 0,
                                   .data_len = n, .data = c->read_buf,
                                   .csum_count = csum_chunk_count(n), .csums_raw = csums };
    ASSERT(c->out.len == 0);
    buf_reserve(&c->out, WIRE_HDR_LEN + DN_READ_BODY_FIXED + n + (size_t)m.csum_count * 8);
    size_t start = wire_frame_begin(&c->out);
    wire_dn_read_data_encode(&c->out, &m);
    wire_frame_end(&c->out, start, WIRE_DN_READ_DATA, c->read_req_id, 0);
    dn_read_send_take(c);
    c->read_off = off + n;
    dn_read_advise(c);
    return is_eof ? 1 : 0;
}

void dn_read_pump(struct dn_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    while (c->state == DN_CONN_READING && evbuffer_get_length(out) < DN_READ_LOW) {
        if (dn_read_send_one(c) != 0)
            dn_read_end(c);
    }
}
