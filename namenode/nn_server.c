#include "nn_server.h"

#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "err.h"
#include "log.h"
#include "net.h"
#include "panic.h"
#include "xmalloc.h"

enum {
    NN_PRIO_IO = 1,     /* requests, timers */
    NN_PRIO_COMMIT = 2, /* group commit: after every request of the turn */
    NN_PRIO_COUNT = 3,
};

struct nn_conn {
    struct nn_server *srv;
    struct bufferevent *bev;
    struct nn_session sess;
    struct buf out; /* replies of this turn, sent after the commit */
    int is_closing;  /* no more requests are read; freed once the replies owed are written */
    int is_draining; /* closing, and every reply owed handed to the output: freed once written */
    int is_broken;   /* the socket failed or timed out: nothing more can be written */
    struct nn_conn *prev, *next;
};

enum { NN_CLOSING_WRITE_TIMEOUT_S = 30 }; /* a peer that stops reading frees its connection */

struct nn_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct nn_state *st;
    struct nn_server_opts opts;
    struct nn_conn *conns;
    struct event *commit_ev;
    struct event *tick_ev;
    struct event *repl_ev; /* the replication monitor's period */
    uint64_t last_checkpoint_ms;
};

static void nn_conn_free(struct nn_conn *c)
{
    struct nn_server *srv = c->srv;

    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    buf_fini(&c->out);
    free(c);
}

static void nn_schedule_commit(struct nn_server *srv)
{
    event_active(srv->commit_ev, EV_WRITE, 0);
}

static void nn_conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct nn_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct wire_frame f;
    int rc = 0; /* never read unset, but gcc -O2 with sanitizers cannot see that */

    while (!c->is_closing && (rc = net_frame_peek(in, &f)) > 0) {
        size_t before = c->out.len;
        c->srv->st->now_ms = c->srv->opts.now_ms();
        if (nn_rpc_dispatch(c->srv->st, &c->sess, &f, &c->out) < 0)
            c->is_closing = 1;
        net_frame_drain(in, &f);
        /* Behind no reply that waits for the sync (replies keep their order). */
        if (c->sess.is_reply_early_ok && before == 0 && !c->is_closing)
            net_send_now(c->bev, &c->out);
    }
    if (!c->is_closing && rc < 0) {
        LOG_WARN("closing connection: bad frame: %s", err_str(rc));
        c->is_closing = 1;
    }
    nn_schedule_commit(c->srv);
}

/* The peer is done sending (EOF): the replies it is owed still go out, as after a bad frame.
 * An error or a timeout breaks the socket: nothing more can reach the peer. */
static void nn_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct nn_conn *c = arg;

    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        c->is_closing = 1;
        if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING)) {
            c->is_broken = 1;
            buf_reset(&c->out);
        }
        nn_schedule_commit(c->srv);
    }
}

/* A draining connection's replies have been written: it can go. (One merely closing may
 * still have this turn's replies waiting for the commit.) */
static void nn_conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct nn_conn *c = arg;

    if (c->is_draining && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        nn_conn_free(c);
}

/* Frees a closing connection now if nothing it is owed waits in its output, else once the
 * output is written (nn_conn_write_cb) or the write times out (nn_conn_event_cb): a peer that
 * ends with a bad frame or a half-close still gets whole replies to the requests before it. */
static void nn_conn_close_when_sent(struct nn_conn *c)
{
    struct timeval limit = { .tv_sec = NN_CLOSING_WRITE_TIMEOUT_S };

    if (c->is_broken || evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        nn_conn_free(c);
        return;
    }
    if (c->is_draining)
        return; /* armed at the first commit: a later one must not restart the timeout */
    c->is_draining = 1;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_set_timeouts(c->bev, NULL, &limit);
}

/* Group commit: one durable write for everything this turn changed, then every reply goes out. */
static void nn_commit_cb(evutil_socket_t fd, short what, void *arg)
{
    struct nn_server *srv = arg;
    int rc = nn_journal_sync(srv->st->journal);

    if (rc < 0) {
        /* Durability can no longer be promised; acknowledge nothing and stop. */
        PANIC("edit log sync failed: %s", err_str(rc));
    }
    for (struct nn_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->out.len)
            net_send_now(c->bev, &c->out);
        if (c->is_closing)
            nn_conn_close_when_sent(c);
    }
}

static void nn_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct nn_server *srv = arg;
    uint64_t now = srv->opts.now_ms();
    uint64_t pending = nn_journal_pending_ops(srv->st->journal);

    if (pending == 0)
        return;
    if (pending >= srv->opts.checkpoint_ops ||
        now - srv->last_checkpoint_ms >= srv->opts.checkpoint_ms) {
        int rc = nn_server_checkpoint(srv);
        if (rc < 0)
            LOG_ERROR("checkpoint failed: %s", err_str(rc));
    }
}

/* The replication monitor's tick; logs what it ordered. */
static void nn_repl_cb(evutil_socket_t fd, short what, void *arg)
{
    struct nn_server *srv = arg;
    struct nn_state *st = srv->st;
    struct nn_repl_stats before = st->repl.totals, *now = &st->repl.totals;

    st->now_ms = srv->opts.now_ms();
    nn_repl_tick(&st->repl, &st->blocks, &st->dns, st->now_ms);
    if (now->copies_ordered != before.copies_ordered ||
        now->deletes_ordered != before.deletes_ordered ||
        now->copies_dropped != before.copies_dropped ||
        now->corrupt_deletes_ordered != before.corrupt_deletes_ordered)
        LOG_INFO("replication: ordered %llu copies, %llu excess and %llu corrupt replicas "
                 "deleted, %llu copies failed; %zu in flight",
                 (unsigned long long)(now->copies_ordered - before.copies_ordered),
                 (unsigned long long)(now->deletes_ordered - before.deletes_ordered),
                 (unsigned long long)(now->corrupt_deletes_ordered -
                                      before.corrupt_deletes_ordered),
                 (unsigned long long)(now->copies_dropped - before.copies_dropped),
                 nn_repl_in_flight(&st->repl));
}

static void nn_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                         int socklen, void *arg)
{
    struct nn_server *srv = arg;
    struct nn_conn *c = xcalloc(1, sizeof(*c));
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->srv = srv;
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    nn_session_init(&c->sess);
    buf_init(&c->out);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    bufferevent_setcb(c->bev, nn_conn_read_cb, nn_conn_write_cb, nn_conn_event_cb, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, WIRE_BODY_MAX * 2);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

struct nn_server *nn_server_new(struct event_base *base, struct nn_state *st,
                                const struct nn_server_opts *opts, char *err, size_t errlen)
{
    struct nn_server *srv = xcalloc(1, sizeof(*srv));

    srv->base = base;
    srv->st = st;
    srv->opts = *opts;
    srv->last_checkpoint_ms = opts->now_ms();
    event_base_priority_init(base, NN_PRIO_COUNT);
    srv->listener = net_listen(base, opts->listen_host, opts->listen_port, nn_accept_cb, srv,
                               err, errlen);
    if (!srv->listener) {
        free(srv);
        return NULL;
    }
    srv->commit_ev = event_new(base, -1, 0, nn_commit_cb, srv);
    event_priority_set(srv->commit_ev, NN_PRIO_COMMIT);
    srv->tick_ev = event_new(base, -1, EV_PERSIST, nn_tick_cb, srv);
    event_priority_set(srv->tick_ev, NN_PRIO_IO);
    struct timeval one_sec = { 1, 0 };
    event_add(srv->tick_ev, &one_sec);
    srv->repl_ev = event_new(base, -1, EV_PERSIST, nn_repl_cb, srv);
    event_priority_set(srv->repl_ev, NN_PRIO_IO);
    uint64_t ms = opts->replication_interval_ms;
    struct timeval period = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
    event_add(srv->repl_ev, &period);
    return srv;
}

uint16_t nn_server_port(const struct nn_server *srv)
{
    return net_listener_port(srv->listener);
}

int nn_server_checkpoint(struct nn_server *srv)
{
    int rc = nn_journal_checkpoint(srv->st->journal, &srv->st->ns);

    if (rc == 0) {
        srv->last_checkpoint_ms = srv->opts.now_ms();
        LOG_INFO("checkpoint written index=%llu",
                 (unsigned long long)srv->st->journal->image_index);
    }
    return rc;
}

void nn_server_free(struct nn_server *srv)
{
    while (srv->conns)
        nn_conn_free(srv->conns);
    event_free(srv->commit_ev);
    event_free(srv->tick_ev);
    event_free(srv->repl_ev);
    evconnlistener_free(srv->listener);
    free(srv);
}
