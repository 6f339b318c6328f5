#include "dn_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "net.h"
#include "panic.h"
#include "xmalloc.h"

struct dn_frame_blk {
    uint32_t ref_count;
    uint32_t len; /* bytes in frame[]: header and body */
    uint8_t frame[];
};

static void dn_frame_blk_unref(struct dn_frame_blk *b)
{
    ASSERT(b->ref_count > 0);
    if (--b->ref_count == 0)
        free(b);
}

/* evbuffer_add_reference() cleanup: the output buffer is done with the bytes. */
static void dn_frame_blk_unref_cb(const void *data, size_t len, void *arg)
{
    struct dn_frame_blk *b = arg;

    ASSERT(data == b->frame);
    ASSERT(len == b->len);
    dn_frame_blk_unref(b);
}

/* A block for a frame whose header is hdr, holding one reference. */
static struct dn_frame_blk *dn_frame_blk_new(const struct wire_hdr *hdr)
{
    size_t len = WIRE_HDR_LEN + (size_t)hdr->body_len;
    struct dn_frame_blk *b = xmalloc(sizeof(*b) + len);

    b->ref_count = 1;
    b->len = (uint32_t)len;
    return b;
}

/* Hands the complete frame in b to *fr after checking its body: 1, or -ERR_CHECKSUM (and b is
 * dropped). */
static int dn_frame_blk_finish(struct dn_frame_blk *b, const struct wire_hdr *hdr,
                               struct dn_frame *fr)
{
    fr->f.hdr = *hdr;
    fr->f.body = b->frame + WIRE_HDR_LEN;
    fr->blk = b;
    if (wire_body_verify(hdr, fr->f.body) < 0) {
        dn_frame_blk_unref(b);
        fr->blk = NULL;
        return -ERR_CHECKSUM;
    }
    return 1;
}

/* Moves a complete frame whose header is hdr out of in into a new block. */
static int dn_frame_take(struct evbuffer *in, const struct wire_hdr *hdr, struct dn_frame *fr)
{
    struct dn_frame_blk *b = dn_frame_blk_new(hdr);
    int n = evbuffer_remove(in, b->frame, b->len);

    ASSERT(n >= 0);
    ASSERT((size_t)n == b->len);
    return dn_frame_blk_finish(b, hdr, fr);
}

/* Decodes the header at the front of in: 1, 0 if it is not all there yet, or its error. */
static int dn_frame_peek_hdr(struct evbuffer *in, struct wire_hdr *hdr)
{
    uint8_t raw[WIRE_HDR_LEN];

    if (evbuffer_get_length(in) < WIRE_HDR_LEN)
        return 0;
    if (evbuffer_copyout(in, raw, WIRE_HDR_LEN) != WIRE_HDR_LEN)
        return -ERR_PROTO;
    int rc = wire_hdr_decode(raw, hdr);
    return rc < 0 ? rc : 1;
}

int dn_frame_pull(struct evbuffer *in, struct dn_frame *fr)
{
    struct wire_hdr hdr;
    size_t avail = evbuffer_get_length(in);
    int rc = dn_frame_peek_hdr(in, &hdr);

    if (rc <= 0)
        return rc;
    if (avail < WIRE_HDR_LEN + (size_t)hdr.body_len)
        return 0;
    if (hdr.body_len > DN_FRAME_INPLACE_MAX)
        return dn_frame_take(in, &hdr, fr);
    fr->blk = NULL;
    return net_frame_peek(in, &fr->f);
}

void dn_frame_done(struct evbuffer *in, struct dn_frame *fr)
{
    if (fr->blk) {
        dn_frame_blk_unref(fr->blk);
        fr->blk = NULL;
    } else {
        net_frame_drain(in, &fr->f);
    }
    fr->f.body = NULL;
}

void dn_frame_forward(const struct dn_frame *fr, struct evbuffer *out)
{
    struct dn_frame_blk *b = fr->blk;

    if (!b) {
        size_t len = WIRE_HDR_LEN + (size_t)fr->f.hdr.body_len;
        int rc = evbuffer_add(out, fr->f.body - WIRE_HDR_LEN, len);
        ASSERT(rc == 0);
        return;
    }
    ASSERT(fr->f.body == b->frame + WIRE_HDR_LEN);
    b->ref_count++;
    int rc = evbuffer_add_reference(out, b->frame, b->len, dn_frame_blk_unref_cb, b);
    ASSERT(rc == 0);
}

/* Starts a frame in rx if in begins with the header of a large one not yet complete there. */
static int dn_frame_rx_start(struct dn_frame_rx *rx, struct evbuffer *in)
{
    struct wire_hdr hdr;
    size_t avail = evbuffer_get_length(in);
    int rc = dn_frame_peek_hdr(in, &hdr);

    if (rc <= 0)
        return rc;
    size_t len = WIRE_HDR_LEN + (size_t)hdr.body_len;
    if (hdr.body_len <= DN_FRAME_INPLACE_MAX || avail >= len)
        return 0; /* small, or already complete: dn_frame_pull() takes it */
    struct dn_frame_blk *b = dn_frame_blk_new(&hdr);
    int n = evbuffer_remove(in, b->frame, avail);
    ASSERT(n >= 0 && (size_t)n == avail);
    rx->blk = b;
    rx->have = avail;
    return 0;
}

int dn_frame_rx_step(struct dn_frame_rx *rx, struct evbuffer *in, int fd)
{
    if (!rx->blk) {
        int rc = dn_frame_rx_start(rx, in);
        if (rc < 0 || !rx->blk)
            return rc;
    }
    /* What the bufferevent read meanwhile came off the socket first. */
    size_t from_in = evbuffer_get_length(in);
    if (from_in > rx->blk->len - rx->have)
        from_in = rx->blk->len - rx->have;
    if (from_in > 0) {
        int got = evbuffer_remove(in, rx->blk->frame + rx->have, from_in);
        ASSERT(got >= 0 && (size_t)got == from_in);
        rx->have += from_in;
    }
    while (rx->have < rx->blk->len) {
        ssize_t n = read(fd, rx->blk->frame + rx->have, rx->blk->len - rx->have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0; /* empty for now; EOF and errors reach the bufferevent */
        rx->have += (size_t)n;
    }
    return 1;
}

int dn_frame_rx_take(struct dn_frame_rx *rx, struct dn_frame *fr)
{
    struct dn_frame_blk *b = rx->blk;

    ASSERT(b && rx->have == b->len);
    rx->blk = NULL;
    rx->have = 0;
    struct wire_hdr hdr;
    int rc = wire_hdr_decode(b->frame, &hdr);
    ASSERT(rc == 0); /* decoded once already when the frame started */
    return dn_frame_blk_finish(b, &hdr, fr);
}

void dn_frame_rx_fini(struct dn_frame_rx *rx)
{
    if (rx->blk)
        dn_frame_blk_unref(rx->blk);
    rx->blk = NULL;
    rx->have = 0;
}
