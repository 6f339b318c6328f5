#include "dn_write.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <event2/buffer.h>

#include "err.h"
#include "log.h"
#include "net.h"
#include "panic.h"

/* The packet being handled, for the FORWARD and WRITE actions. */
struct dn_write_cur {
    const struct dn_frame *frame;
    const struct wire_dn_write_pkt *pkt;
};

static void dn_write_execute(struct dn_conn *c, const struct dn_out *out,
                             const struct dn_write_cur *cur);

/* ---- ending a write ---- */

/* Detaches the downstream connection; it is freed from the tidy event. */
static void dn_write_drop_down(struct dn_conn *c)
{
    evbuffer_drain(c->down_early, evbuffer_get_length(c->down_early));
    if (!c->down)
        return;
    bufferevent_setcb(c->down, NULL, NULL, NULL, NULL);
    bufferevent_disable(c->down, EV_READ | EV_WRITE);
    if (c->down_dead)
        bufferevent_free(c->down_dead); /* an older one, whose callbacks are long gone */
    c->down_dead = c->down;
    c->down = NULL;
    dn_conn_tidy_later(c);
}

/* The pipeline finished cleanly (the downstream acked LAST, nothing is queued to it): keeps
 * the downstream connection in the pool for the next block, if it fits. */
static void dn_write_keep_down(struct dn_conn *c)
{
    if (!c->down || evbuffer_get_length(bufferevent_get_output(c->down)) != 0)
        return;
    if (dn_down_pool_give(&c->srv->down_pool, c->down_host, c->down_port, c->down))
        c->down = NULL;
}

/* Ends the current write: drops the rbw replica if still there and the downstream. */
static void dn_write_end(struct dn_conn *c)
{
    struct dn_server *srv = c->srv;

    if (c->has_rbw) {
        dn_store_rbw_abort(srv->store, &c->rbw);
        c->has_rbw = false;
    }
    dn_write_drop_down(c);
    if (c->is_write_counted) {
        ASSERT(srv->active_writes > 0);
        srv->active_writes--;
        c->is_write_counted = false;
    }
}

/* A write is open: its packets are taken (while OPENING, before the downstream answered). */
static bool dn_write_is_active(const struct dn_conn *c)
{
    return c->state == DN_CONN_OPENING || c->state == DN_CONN_WRITING;
}

void dn_write_abort(struct dn_conn *c)
{
    /* Also after the local replica was finalized: the downstream may still be attached, and
     * its callbacks point at this connection. */
    if (c->is_write_counted || c->has_rbw)
        dn_write_end(c);
    if (c->down_dead) {
        bufferevent_free(c->down_dead);
        c->down_dead = NULL;
    }
}

bool dn_write_is_blocked(const struct dn_conn *c)
{
    return c->down && evbuffer_get_length(bufferevent_get_output(c->down)) > DN_DOWN_HIGH;
}

/* The open failed: reply with rc, drop the replica, go back to IDLE. */
static void dn_write_open_failed(struct dn_conn *c, int rc)
{
    ASSERT(c->state == DN_CONN_OPENING);
    LOG_WARN("write open failed blk=%016" PRIx64 ": %s", c->rbw.blk.id, err_str(rc));
    dn_conn_reply_empty(c, WIRE_DN_WRITE_OPEN_OK, c->open_req_id, rc);
    dn_write_end(c);
    c->state = DN_CONN_IDLE;
}

/* ---- downstream connection ---- */

static void dn_write_on_down_ack(struct dn_conn *c, const struct wire_frame *f)
{
    struct wire_dn_write_ack ack;
    struct dn_out out = { .count = 0 };

    if (f->hdr.status != 0) {
        ack = (struct wire_dn_write_ack){ .seq = c->pipe.ds_ack_seq, .status = f->hdr.status,
                                          .failed_idx = 0 };
    } else if (wire_dn_write_ack_decode(f->body, f->hdr.body_len, &ack) < 0) {
        ack = (struct wire_dn_write_ack){ .seq = c->pipe.ds_ack_seq,
                                          .status = err_to_wire(-ERR_PROTO), .failed_idx = 0 };
    }
    dn_pipe_on_downstream_ack(&c->pipe, &ack, &out);
    dn_write_execute(c, &out, NULL);
}

/* The error an ack from downstream carries while the open is unanswered; an ack without
 * one cannot come before the open's answer. */
static int dn_write_early_ack_error(const struct wire_frame *f)
{
    struct wire_dn_write_ack ack;

    if (f->hdr.status != 0)
        return err_from_wire(f->hdr.status);
    if (wire_dn_write_ack_decode(f->body, f->hdr.body_len, &ack) < 0 || ack.status == 0)
        return -ERR_PROTO;
    return err_from_wire(ack.status);
}

/* The downstream broke or misbehaved: fail the open, or let the pipe decide. */
static void dn_write_down_failed(struct dn_conn *c, int rc)
{
    struct dn_out out = { .count = 0 };

    if (c->state == DN_CONN_OPENING) {
        dn_write_open_failed(c, -ERR_PIPELINE);
        return;
    }
    if (c->state != DN_CONN_WRITING)
        return;
    LOG_WARN("downstream lost blk=%016" PRIx64 ": %s", c->rbw.blk.id, err_str(rc));
    dn_write_drop_down(c);
    dn_pipe_on_downstream_failed(&c->pipe, rc, &out);
    dn_write_execute(c, &out, NULL);
}

/* Whether a successful answer to the open's HELLO or WRITE_OPEN is one: it answers this open
 * (req_id), and a HELLO_OK comes from a datanode of this cluster speaking this protocol. A
 * stale address that now reaches another cluster's datanode must not take the replica. */
static int dn_write_check_down_answer(const struct dn_conn *c, const struct wire_frame *f)
{
    struct wire_hello peer;
    int rc;

    if (f->hdr.req_id != c->open_req_id)
        return -ERR_PROTO;
    if (f->hdr.type == WIRE_DN_WRITE_OPEN_OK)
        return f->hdr.body_len == 0 ? 0 : -ERR_PROTO;
    rc = wire_hello_decode(f->body, f->hdr.body_len, &peer);
    if (rc == 0)
        rc = wire_hello_check(&peer, c->srv->cluster_id);
    if (rc == 0 && peer.node_kind != WIRE_NODE_DATANODE)
        rc = -ERR_PROTO;
    return rc;
}

/* The downstream's answer to the open's HELLO or WRITE_OPEN, while OPENING: its error fails
 * the open with that error, an answer that is not one fails it as a broken pipeline, and a
 * good WRITE_OPEN_OK opens the write upstream. Returns false once the downstream was dropped. */
static bool dn_write_on_down_open_answer(struct dn_conn *c, const struct wire_frame *f)
{
    int rc;

    if (f->hdr.status != 0) {
        dn_write_open_failed(c, err_from_wire(f->hdr.status));
        return false;
    }
    rc = dn_write_check_down_answer(c, f);
    if (rc < 0) {
        LOG_WARN("downstream %s:%u: bad %s: %s", c->down_host, c->down_port,
                 wire_type_name(f->hdr.type), err_str(rc));
        dn_write_down_failed(c, rc);
        return false;
    }
    if (f->hdr.type == WIRE_DN_WRITE_OPEN_OK) {
        dn_conn_reply_empty(c, WIRE_DN_WRITE_OPEN_OK, c->open_req_id, 0);
        c->state = DN_CONN_WRITING;
    }
    return true;
}

/* One frame from downstream; returns false once the downstream was dropped. */
static bool dn_write_on_down_frame(struct dn_conn *c, const struct wire_frame *f)
{
    uint16_t type = f->hdr.type;

    c->is_down_pooled = false; /* it answered: no redial from here on */
    evbuffer_drain(c->down_early, evbuffer_get_length(c->down_early));
    if (c->state == DN_CONN_OPENING && (type == WIRE_HELLO_OK || type == WIRE_DN_WRITE_OPEN_OK))
        return dn_write_on_down_open_answer(c, f);
    if (c->state == DN_CONN_OPENING && type == WIRE_DN_WRITE_ACK) {
        /* it failed a packet that followed the open before it could answer the open */
        dn_write_open_failed(c, dn_write_early_ack_error(f));
        return false;
    }
    if (c->state == DN_CONN_WRITING && type == WIRE_DN_WRITE_ACK) {
        dn_write_on_down_ack(c, f);
        return c->down != NULL;
    }
    LOG_WARN("unexpected %s from downstream in state %d", wire_type_name(type), c->state);
    dn_write_down_failed(c, -ERR_PROTO);
    return false;
}

static void dn_write_down_read_cb(struct bufferevent *bev, void *arg)
{
    struct dn_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    enum dn_conn_state before = c->state;
    struct wire_frame f;
    int rc;

    while ((rc = net_frame_peek(in, &f)) > 0) {
        bool is_alive = dn_write_on_down_frame(c, &f);
        net_frame_drain(in, &f);
        if (!is_alive)
            break;
    }
    if (rc < 0)
        dn_write_down_failed(c, rc);
    if (c->state != before)
        dn_conn_process(c); /* the open or the write ended: take what waits behind it */
}

static void dn_write_down_write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    dn_conn_process(arg); /* the downstream queue drained below DN_DOWN_LOW */
}

static int dn_write_down_open(struct dn_conn *c, bool is_pool_ok);

/* A pooled downstream closed before it answered the WRITE_OPEN: the datanode closed it while
 * it was idle (restart, idle timeout). Sends the open again over a fresh connection, once. */
static void dn_write_redial(struct dn_conn *c)
{
    ASSERT(c->state == DN_CONN_OPENING && c->is_down_pooled);
    LOG_INFO("pooled downstream %s:%u was closed: dialing a fresh one", c->down_host,
             c->down_port);
    struct evbuffer *early = evbuffer_new();
    ASSERT(early != NULL);
    evbuffer_add_buffer(early, c->down_early); /* dropping the down drains down_early */
    dn_write_drop_down(c);
    int rc = dn_write_down_open(c, false);
    if (rc == 0)
        bufferevent_write_buffer(c->down, early); /* the packets that followed the open */
    evbuffer_free(early);
    if (rc < 0) {
        dn_write_open_failed(c, rc);
        dn_conn_process(c);
    }
}

static void dn_write_down_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct dn_conn *c = arg;

    (void)bev;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
        return;
    if (c->state == DN_CONN_OPENING && c->is_down_pooled && !(what & BEV_EVENT_TIMEOUT)) {
        dn_write_redial(c);
        return;
    }
    enum dn_conn_state before = c->state;
    dn_write_down_failed(c, what & BEV_EVENT_TIMEOUT ? -ETIMEDOUT : -ECONNRESET);
    if (c->state != before)
        dn_conn_process(c);
}

/* Makes bev the write's downstream connection. */
static void dn_write_down_attach(struct dn_conn *c, struct bufferevent *bev)
{
    c->down = bev;
    bufferevent_setcb(bev, dn_write_down_read_cb, dn_write_down_write_cb, dn_write_down_event_cb,
                      c);
    bufferevent_setwatermark(bev, EV_READ, 0, DN_IN_HIGH);
    bufferevent_setwatermark(bev, EV_WRITE, DN_DOWN_LOW, 0);
    struct timeval tmo = { .tv_sec = DN_DOWN_TIMEOUT_S };
    bufferevent_set_timeouts(bev, &tmo, &tmo);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Sends the stored WRITE_OPEN to down_host:down_port: over an idle pooled connection if
 * is_pool_ok and there is one, else over a fresh one after HELLO. */
static int dn_write_down_open(struct dn_conn *c, bool is_pool_ok)
{
    struct dn_server *srv = c->srv;
    struct bufferevent *bev = NULL;

    if (is_pool_ok)
        bev = dn_down_pool_take(&srv->down_pool, c->down_host, c->down_port);
    c->is_down_pooled = bev != NULL;
    if (!bev) {
        bev = net_connect(srv->base, c->down_host, c->down_port);
        if (!bev)
            return -ERR_PIPELINE;
        dn_conn_set_io_sizes(bev);
        wire_hello_frame(&c->out, WIRE_HELLO, c->open_req_id, WIRE_NODE_DATANODE,
                         srv->cluster_id, srv->node_id);
        net_send_buf(bev, &c->out);
    }
    dn_write_down_attach(c, bev);
    bufferevent_write(bev, c->down_open.data, c->down_open.len);
    net_flush(bev);
    return 0;
}

/* Opens the write downstream: WRITE_OPEN {blk, targets[1..]} to targets[0]. */
static int dn_write_dial(struct dn_conn *c, const struct wire_dn_write_open *m, uint64_t req_id)
{
    if (wire_str_copy(m->targets[0].host, c->down_host, sizeof(c->down_host)) < 0)
        return -ERR_PROTO;
    c->down_port = m->targets[0].port;
    struct wire_dn_write_open next = { .blk = m->blk, .target_count = m->target_count - 1 };
    memcpy(next.targets, m->targets + 1, sizeof(next.targets[0]) * next.target_count);
    buf_reset(&c->down_open);
    size_t start = wire_frame_begin(&c->down_open);
    wire_dn_write_open_encode(&c->down_open, &next);
    wire_frame_end(&c->down_open, start, WIRE_DN_WRITE_OPEN, req_id, 0);
    return dn_write_down_open(c, true);
}

/* ---- upstream requests ---- */

int dn_write_on_open(struct dn_conn *c, const struct dn_frame *fr)
{
    const struct wire_frame *f = &fr->f;
    struct dn_server *srv = c->srv;
    struct wire_dn_write_open m = { .target_count = 0 };
    int rc = wire_dn_write_open_decode(f->body, f->hdr.body_len, &m);

    if (rc == 0 && c->state != DN_CONN_IDLE)
        rc = -EBUSY;
    if (rc < 0) {
        LOG_WARN("write open refused blk=%016" PRIx64 ": %s", m.blk.id, err_str(rc));
        dn_conn_reply_empty(c, WIRE_DN_WRITE_OPEN_OK, f->hdr.req_id, rc);
        return 0;
    }
    LOG_DEBUG("write open blk=%016" PRIx64 " gen=%" PRIu64 " downstream=%u", m.blk.id,
              m.blk.gen, m.target_count);
    c->rbw.blk = (struct wire_blk){ m.blk.id, m.blk.gen }; /* named in logs until created */
    c->open_req_id = f->hdr.req_id;
    srv->active_writes++;
    c->is_write_counted = true;
    dn_pipe_init(&c->pipe, m.target_count > 0);
    c->state = DN_CONN_OPENING;
    /* The open goes down first: creating a replica's two files takes ~0.1-0.3 ms here, and the
     * nodes of the pipeline then do it at the same time instead of one after another. */
    rc = m.target_count > 0 ? dn_write_dial(c, &m, f->hdr.req_id) : 0;
    if (rc == 0)
        rc = dn_store_rbw_create(srv->store, c->rbw.blk, &c->rbw);
    if (rc < 0) {
        dn_write_open_failed(c, rc); /* also drops the downstream, which then aborts */
        return 0;
    }
    c->has_rbw = true;
    if (m.target_count == 0) {
        dn_conn_reply_empty(c, WIRE_DN_WRITE_OPEN_OK, f->hdr.req_id, 0);
        c->state = DN_CONN_WRITING;
    }
    return 0;
}

int dn_write_on_pkt(struct dn_conn *c, const struct dn_frame *fr)
{
    const struct wire_frame *f = &fr->f;
    struct wire_dn_write_pkt pkt;
    struct dn_out out = { .count = 0 };

    if (c->state != DN_CONN_WRITING && c->state != DN_CONN_OPENING) {
        dn_conn_reply_empty(c, WIRE_DN_WRITE_ACK, f->hdr.req_id, -ERR_PROTO);
        dn_conn_drain(c);
        return 0;
    }
    if (wire_dn_write_pkt_decode(f->body, f->hdr.body_len, &pkt) < 0) {
        /* Undecodable: answer as a bad packet at the expected seq (the pipe then fails). */
        pkt = (struct wire_dn_write_pkt){ .seq = UINT64_MAX };
    }
    dn_pipe_on_packet(&c->pipe, &pkt, f->hdr.req_id, &out);
    struct dn_write_cur cur = { .frame = fr, .pkt = &pkt };
    dn_write_execute(c, &out, &cur);
    return 0;
}

/* ---- executing the pipe's actions ---- */

static void dn_write_do_write(struct dn_conn *c, const struct dn_act *a,
                              const struct dn_write_cur *cur)
{
    struct dn_out out = { .count = 0 };
    const struct wire_dn_write_pkt *pkt = cur->pkt;

    ASSERT(cur->pkt->seq == a->seq);
    if ((pkt->flags & (WIRE_PKT_LAST | WIRE_PKT_SYNC)) == (WIRE_PKT_LAST | WIRE_PKT_SYNC))
        c->rbw.is_sync = true; /* fsync() on the client: durable before the last ack */
    int rc = dn_store_rbw_write(&c->rbw, pkt->offset, pkt->data, pkt->data_len, pkt->csums_raw,
                                pkt->csum_count);
    dn_pipe_on_write_done(&c->pipe, a->seq, rc, &out);
    dn_write_execute(c, &out, cur);
}

static void dn_write_do_finalize(struct dn_conn *c)
{
    struct dn_server *srv = c->srv;
    struct dn_out out = { .count = 0 };
    struct wire_blk_len e = { .blk = c->rbw.blk, .len = c->rbw.len };

    ASSERT(c->has_rbw);
    int rc = dn_store_rbw_finalize(srv->store, &c->rbw);
    c->has_rbw = false; /* finalized, or aborted by the store on failure */
    if (rc == 0) {
        LOG_INFO("finalized blk=%016" PRIx64 " gen=%" PRIu64 " len=%" PRIu64, e.blk.id,
                 e.blk.gen, e.len);
        if (srv->on_finalized)
            srv->on_finalized(srv->replica_fn_arg, &e);
    } else {
        LOG_ERROR("finalize failed blk=%016" PRIx64 ": %s", e.blk.id, err_str(rc));
    }
    dn_pipe_on_finalize_done(&c->pipe, rc, &out);
    dn_write_execute(c, &out, NULL);
}

static void dn_write_do_ack(struct dn_conn *c, const struct dn_act *a)
{
    struct wire_dn_write_ack ack = { .seq = a->seq, .status = err_to_wire(a->rc),
                                     .failed_idx = a->failed_idx };
    size_t start = wire_frame_begin(&c->out);

    if (a->rc < 0)
        LOG_WARN("write failed blk=%016" PRIx64 " seq=%" PRIu64 " failed_idx=%u: %s",
                 c->rbw.blk.id, a->seq, a->failed_idx, err_str(a->rc));
    wire_dn_write_ack_encode(&c->out, &ack);
    wire_frame_end(&c->out, start, WIRE_DN_WRITE_ACK, a->tag, 0);
    net_send_now(c->bev, &c->out); /* an ack waits for nothing: it goes out now */
}

static void dn_write_execute(struct dn_conn *c, const struct dn_out *out,
                             const struct dn_write_cur *cur)
{
    for (uint32_t i = 0; i < out->count && dn_write_is_active(c); i++) {
        const struct dn_act *a = &out->acts[i];
        switch (a->kind) {
        case DN_ACT_FORWARD:
            ASSERT(cur != NULL);
            ASSERT(c->down != NULL);
            dn_frame_forward(cur->frame, bufferevent_get_output(c->down));
            net_flush(c->down); /* down the pipeline before this node writes its copy */
            if (c->is_down_pooled)
                dn_frame_forward(cur->frame, c->down_early);
            break;
        case DN_ACT_WRITE:
            ASSERT(cur != NULL);
            dn_write_do_write(c, a, cur);
            break;
        case DN_ACT_FINALIZE:
            dn_write_do_finalize(c);
            break;
        case DN_ACT_ACK_UP:
            dn_write_do_ack(c, a);
            break;
        case DN_ACT_ABORT:
            dn_write_end(c);
            dn_conn_drain(c);
            break;
        default:
            PANIC("bad action %d", a->kind);
        }
    }
    if (c->state == DN_CONN_WRITING && c->pipe.state == DN_PIPE_DONE) {
        dn_write_keep_down(c);
        dn_write_end(c);
        c->state = DN_CONN_IDLE;
    }
}
