#include "dn_server.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "dn_frame.h"
#include "dn_read.h"
#include "dn_write.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "panic.h"
#include "xmalloc.h"

/* ---- replies and closing ---- */

void dn_conn_reply_empty(struct dn_conn *c, uint16_t type, uint64_t req_id, int rc)
{
    wire_frame_empty(&c->out, type, req_id, err_to_wire(rc));
    net_send_now(c->bev, &c->out);
}

void dn_conn_close_later(struct dn_conn *c)
{
    if (c->state == DN_CONN_CLOSING)
        return;
    c->state = DN_CONN_CLOSING;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    event_active(c->tidy_ev, 0, 0);
}

void dn_conn_tidy_later(struct dn_conn *c)
{
    event_active(c->tidy_ev, 0, 0);
}

void dn_conn_set_io_sizes(struct bufferevent *bev)
{
    int rc = bufferevent_set_max_single_read(bev, DN_IO_SINGLE_MAX);
    ASSERT(rc == 0);
    rc = bufferevent_set_max_single_write(bev, DN_IO_SINGLE_MAX);
    ASSERT(rc == 0);
}

void dn_conn_drain(struct dn_conn *c)
{
    if (c->state == DN_CONN_CLOSING)
        return;
    c->state = DN_CONN_DRAINING;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        dn_conn_close_later(c);
}

static void dn_conn_free(struct dn_conn *c)
{
    struct dn_server *srv = c->srv;

    dn_write_abort(c); /* also frees a detached downstream */
    dn_read_abort(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ASSERT(srv->conn_count > 0);
    srv->conn_count--;
    bufferevent_free(c->bev);
    event_free(c->tidy_ev);
    buf_fini(&c->out);
    buf_fini(&c->down_open);
    evbuffer_free(c->down_early);
    dn_frame_rx_fini(&c->rx);
    free(c->read_buf);
    free(c);
}

static void dn_conn_tidy_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dn_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->down_dead) {
        bufferevent_free(c->down_dead);
        c->down_dead = NULL;
    }
    if (c->state == DN_CONN_CLOSING)
        dn_conn_free(c);
}

/* ---- HELLO and dispatch ---- */

static int dn_conn_on_hello(struct dn_conn *c, const struct dn_frame *fr)
{
    const struct wire_frame *f = &fr->f;
    struct dn_server *srv = c->srv;
    struct wire_hello peer;
    int rc = wire_hello_decode(f->body, f->hdr.body_len, &peer);

    if (rc == 0)
        rc = wire_hello_check(&peer, srv->cluster_id);
    if (rc < 0) {
        LOG_WARN("refusing peer: %s", err_str(rc));
        dn_conn_reply_empty(c, WIRE_HELLO_OK, f->hdr.req_id, rc);
        dn_conn_drain(c);
        return 0;
    }
    wire_hello_frame(&c->out, WIRE_HELLO_OK, f->hdr.req_id, WIRE_NODE_DATANODE, srv->cluster_id,
                     srv->node_id);
    net_send_buf(c->bev, &c->out);
    if (c->state == DN_CONN_HELLO)
        c->state = DN_CONN_IDLE;
    return 0;
}

/* DN_SYNC: fsync a replica that was finalized without WIRE_PKT_SYNC (the client's fsync()). */
static int dn_conn_on_sync(struct dn_conn *c, const struct dn_frame *fr)
{
    const struct wire_frame *f = &fr->f;
    struct wire_dn_sync m;
    int rc = wire_dn_sync_decode(f->body, f->hdr.body_len, &m);

    if (rc == 0 && c->state != DN_CONN_IDLE)
        rc = -EBUSY;
    if (rc == 0)
        rc = dn_store_sync(c->srv->store, m.blk);
    if (rc < 0)
        LOG_WARN("sync failed blk=%016" PRIx64 " gen=%" PRIu64 ": %s", m.blk.id, m.blk.gen,
                 err_str(rc));
    dn_conn_reply_empty(c, WIRE_DN_SYNC_OK, f->hdr.req_id, rc);
    return 0;
}

typedef int dn_conn_handler_fn(struct dn_conn *c, const struct dn_frame *fr);

static dn_conn_handler_fn *const dn_conn_handlers[WIRE_TYPE_MAX] = {
    [WIRE_HELLO] = dn_conn_on_hello,
    [WIRE_DN_WRITE_OPEN] = dn_write_on_open,
    [WIRE_DN_WRITE_PKT] = dn_write_on_pkt,
    [WIRE_DN_READ] = dn_read_on_request,
    [WIRE_DN_SYNC] = dn_conn_on_sync,
};

static int dn_conn_dispatch(struct dn_conn *c, const struct dn_frame *fr)
{
    const struct wire_frame *f = &fr->f;
    uint16_t type = f->hdr.type;
    dn_conn_handler_fn *fn = type < WIRE_TYPE_MAX ? dn_conn_handlers[type] : NULL;

    LOG_DEBUG("frame type=%s req=%" PRIu64 " len=%u", wire_type_name(type), f->hdr.req_id,
              f->hdr.body_len);
    if (c->state == DN_CONN_HELLO && type != WIRE_HELLO) {
        dn_conn_reply_empty(c, (uint16_t)(type + 1), f->hdr.req_id, -ERR_PROTO);
        dn_conn_drain(c);
        return 0;
    }
    if (!fn) {
        dn_conn_reply_empty(c, (uint16_t)(type + 1), f->hdr.req_id, -ERR_UNKNOWN_TYPE);
        return 0;
    }
    if (c->state == DN_CONN_OPENING && type != WIRE_DN_WRITE_PKT) {
        dn_conn_reply_empty(c, (uint16_t)(type + 1), f->hdr.req_id, -ERR_PROTO);
        dn_conn_drain(c); /* only the opening block's packets may follow its open */
        return 0;
    }
    return fn(c, fr);
}

static bool dn_conn_is_blocked(const struct dn_conn *c)
{
    switch (c->state) {
    case DN_CONN_HELLO:
    case DN_CONN_IDLE:
        return false;
    case DN_CONN_WRITING:
    case DN_CONN_OPENING: /* the block's packets may follow its open without waiting */
        return dn_write_is_blocked(c);
    case DN_CONN_READING:
    case DN_CONN_DRAINING:
    case DN_CONN_CLOSING:
        return true;
    default:
        PANIC("bad conn state %d", c->state);
    }
}

/* The next complete frame: a large one received straight into its block, else one cut from
 * the input. When the input holds no complete frame, reads what the socket has, at most
 * DN_FRAME_INPLACE_MAX bytes (libevent reads 4 KiB per read event): enough for small frames,
 * and the start of a large one, whose rest then goes straight into its block. */
static int dn_conn_next_frame(struct dn_conn *c, struct dn_frame *fr)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    int rc = 0;

    for (int pass = 0; pass < 2; pass++) {
        rc = dn_frame_rx_step(&c->rx, in, bufferevent_getfd(c->bev));
        if (rc != 0)
            return rc > 0 ? dn_frame_rx_take(&c->rx, fr) : rc;
        if (c->rx.blk)
            return 0; /* a large frame is on its way: nothing can come before it */
        rc = dn_frame_pull(in, fr);
        if (rc != 0 || pass == 1)
            break;
        net_read_more(c->bev, evbuffer_get_length(in) + DN_FRAME_INPLACE_MAX,
                      DN_FRAME_INPLACE_MAX);
    }
    return rc;
}

/* A bad frame or the peer's EOF ends the requests, not the replies before them: those (a
 * whole read among them, whose pump runs before the next frame is parsed) go out first. A
 * write in progress ends: its client cannot send the rest. */
static void dn_conn_end_requests(struct dn_conn *c)
{
    if (c->state == DN_CONN_OPENING || c->state == DN_CONN_WRITING)
        dn_write_abort(c);
    dn_conn_drain(c);
}

/* The peer is done sending and every whole frame it sent has been taken: once idle, close
 * after the replies; a write still missing packets (the peer pipelined its open behind a read
 * and hung up) can never finish. A write whose LAST arrived still finishes and acks. */
static void dn_conn_after_peer_done(struct dn_conn *c)
{
    bool is_write = c->state == DN_CONN_OPENING || c->state == DN_CONN_WRITING;

    if (c->state == DN_CONN_IDLE || (is_write && c->pipe.state == DN_PIPE_OPEN))
        dn_conn_end_requests(c);
}

void dn_conn_process(struct dn_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct dn_frame fr;
    int rc = 0;

    while (!dn_conn_is_blocked(c) && (rc = dn_conn_next_frame(c, &fr)) > 0) {
        rc = dn_conn_dispatch(c, &fr);
        dn_frame_done(in, &fr);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        LOG_WARN("closing connection: %s", err_str(rc));
        dn_conn_end_requests(c);
    } else if (c->is_peer_done && !dn_conn_is_blocked(c)) {
        dn_conn_after_peer_done(c);
    }
}

/* ---- callbacks ---- */

static void dn_conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);

    /* libevent reads at most 4 KiB per read event. A small block's open and its only packet
     * arrive together: taking both now lets the packet go downstream before this node creates
     * its replica files, as the open did, instead of after. */
    if (len >= NET_LIBEVENT_READ_MAX)
        net_read_more(bev, len + DN_FRAME_INPLACE_MAX, DN_FRAME_INPLACE_MAX);
    dn_conn_process(arg);
}

static void dn_conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct dn_conn *c = arg;

    if (c->state == DN_CONN_READING) {
        dn_read_pump(c);
        if (c->state == DN_CONN_IDLE)
            dn_conn_process(c);
    } else if (c->state == DN_CONN_DRAINING &&
               evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        dn_conn_close_later(c);
    }
}

static void dn_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct dn_conn *c = arg;

    (void)bev;
    /* The peer half-closed: what it sent is still answered (dn_conn_after_peer_done() decides
     * when to close; a read in progress or a draining output go on by themselves). */
    if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
        !(what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) && c->state != DN_CONN_HELLO) {
        c->is_peer_done = true;
        if (c->state != DN_CONN_READING && c->state != DN_CONN_DRAINING)
            dn_conn_process(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (c->state != DN_CONN_IDLE && c->state != DN_CONN_HELLO)
            LOG_INFO("connection lost in state %d (event 0x%x)", c->state, what);
        dn_conn_close_later(c);
    }
}

static void dn_server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                                struct sockaddr *addr, int socklen, void *arg)
{
    struct dn_server *srv = arg;
    int one = 1;

    (void)l;
    (void)addr;
    (void)socklen;
    if (srv->conn_count >= DN_CONNS_MAX) {
        LOG_WARN("too many connections (%u): refusing one", srv->conn_count);
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct dn_conn *c = xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->state = DN_CONN_HELLO;
    buf_init(&c->out);
    buf_init(&c->down_open);
    c->down_early = evbuffer_new();
    ASSERT(c->down_early != NULL);
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    ASSERT(c->bev != NULL);
    dn_conn_set_io_sizes(c->bev);
    c->tidy_ev = event_new(srv->base, -1, 0, dn_conn_tidy_cb, c);
    ASSERT(c->tidy_ev != NULL);
    bufferevent_setcb(c->bev, dn_conn_read_cb, dn_conn_write_cb, dn_conn_event_cb, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, DN_IN_HIGH);
    bufferevent_setwatermark(c->bev, EV_WRITE, DN_READ_LOW, 0);
    struct timeval idle = { .tv_sec = DN_IDLE_TIMEOUT_S };
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->conn_count++;
}

/* ---- server ---- */

int dn_server_open(struct dn_server *srv, struct event_base *base, struct dn_store *store,
                   const struct dn_server_cfg *cfg, char *err, size_t errlen)
{
    memset(srv, 0, sizeof(*srv));
    if (strlen(cfg->cluster_id) > WIRE_ID_MAX || strlen(cfg->node_id) > WIRE_ID_MAX) {
        snprintf(err, errlen, "cluster or node id longer than %d bytes", WIRE_ID_MAX);
        return -EINVAL;
    }
    srv->base = base;
    srv->store = store;
    snprintf(srv->cluster_id, sizeof(srv->cluster_id), "%s", cfg->cluster_id);
    snprintf(srv->node_id, sizeof(srv->node_id), "%s", cfg->node_id);
    srv->on_finalized = cfg->on_finalized;
    srv->on_corrupt = cfg->on_corrupt;
    srv->replica_fn_arg = cfg->replica_fn_arg;
    dn_down_pool_init(&srv->down_pool, base);
    srv->listener = net_listen(base, cfg->listen_host, cfg->listen_port, dn_server_accept_cb,
                               srv, err, errlen);
    if (!srv->listener) {
        dn_down_pool_fini(&srv->down_pool);
        return -EADDRINUSE;
    }
    srv->port = net_listener_port(srv->listener);
    LOG_INFO("listening host=%s port=%u", cfg->listen_host, srv->port);
    return 0;
}

void dn_server_close(struct dn_server *srv)
{
    if (srv->listener)
        evconnlistener_free(srv->listener);
    srv->listener = NULL;
    while (srv->conns)
        dn_conn_free(srv->conns);
    dn_down_pool_fini(&srv->down_pool);
}
