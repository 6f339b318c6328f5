#include "dn_nn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cfg.h"
#include "dn_spare.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "panic.h"
#include "xmalloc.h"

/* ---- sending ---- */

static uint64_t dn_nn_req_id(struct dn_nn *nn)
{
    return ++nn->next_req_id;
}

static void dn_nn_send_hello(struct dn_nn *nn)
{
    wire_hello_frame(&nn->out, WIRE_HELLO, dn_nn_req_id(nn), WIRE_NODE_DATANODE, nn->cluster_id,
                     nn->node_id);
    net_send_buf(nn->bev, &nn->out);
}

static void dn_nn_space(struct dn_nn *nn, struct dn_space *sp)
{
    if (dn_store_space(nn->store, sp) < 0)
        *sp = (struct dn_space){ .used = nn->store->used_bytes };
}

static void dn_nn_send_register(struct dn_nn *nn)
{
    struct dn_space sp;
    dn_nn_space(nn, &sp);
    struct wire_dn_register m = {
        .self = { .node_id = wire_str_c(nn->node_id), .host = wire_str_c(nn->advertise_host),
                  .port = nn->data_port },
        .capacity = sp.capacity, .used = sp.used, .remaining = sp.remaining,
    };
    size_t start = wire_frame_begin(&nn->out);

    wire_dn_register_encode(&nn->out, &m);
    wire_frame_end(&nn->out, start, WIRE_DN_REGISTER, dn_nn_req_id(nn), 0);
    net_send_buf(nn->bev, &nn->out);
}

/* Sends one dn_blocks frame of type with entries[0..count). */
static void dn_nn_send_blocks(struct dn_nn *nn, uint16_t type, uint8_t flags,
                              const struct wire_blk_len *entries, uint32_t count)
{
    ASSERT(count <= WIRE_BLOCKS_MAX);
    size_t start = wire_frame_begin(&nn->out);
    size_t body_start = nn->out.len;

    wire_dn_blocks_begin(&nn->out, flags);
    for (uint32_t i = 0; i < count; i++)
        wire_dn_blocks_put(&nn->out, body_start, &entries[i]);
    wire_frame_end(&nn->out, start, type, dn_nn_req_id(nn), 0);
    net_send_buf(nn->bev, &nn->out);
}

/* Announces the finalized replicas waiting in nn->received. */
static void dn_nn_received_flush(struct dn_nn *nn)
{
    evtimer_del(nn->received_ev);
    if (nn->received_count > 0 && nn->state == DN_NN_UP)
        dn_nn_send_blocks(nn, WIRE_DN_BLOCK_RECEIVED, 0, nn->received, nn->received_count);
    nn->received_count = 0;
}

static void dn_nn_received_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dn_nn_received_flush(arg);
}

struct dn_nn_list {
    struct wire_blk_len *entries;
    size_t count;
    size_t cap;
};

static void dn_nn_collect_cb(void *arg, const struct wire_blk_len *e)
{
    struct dn_nn_list *l = arg;

    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->entries = xrealloc(l->entries, l->cap * sizeof(*l->entries));
    }
    l->entries[l->count++] = *e;
}

/* The full block report: FIRST on the first frame, LAST on the last (one frame if empty). */
static void dn_nn_send_full_report(struct dn_nn *nn)
{
    struct dn_nn_list l = { NULL, 0, 0 };
    int rc = dn_store_scan(nn->store, dn_nn_collect_cb, &l);

    if (rc < 0)
        LOG_ERROR("block scan failed: %s (reporting what was found)", err_str(rc));
    size_t off = 0;
    do {
        size_t n = l.count - off < WIRE_BLOCKS_MAX ? l.count - off : WIRE_BLOCKS_MAX;
        uint8_t flags = (uint8_t)((off == 0 ? WIRE_REPORT_FIRST : 0) |
                                  (off + n == l.count ? WIRE_REPORT_LAST : 0));
        dn_nn_send_blocks(nn, WIRE_DN_BLOCK_REPORT, flags, l.entries + off, (uint32_t)n);
        off += n;
    } while (off < l.count);
    LOG_INFO("block report sent blocks=%zu", l.count);
    free(l.entries);
}

static void dn_nn_send_heartbeat(struct dn_nn *nn)
{
    struct dn_space sp;
    dn_nn_space(nn, &sp);
    struct wire_dn_heartbeat m = {
        .capacity = sp.capacity, .used = sp.used, .remaining = sp.remaining,
        .active_writes = nn->active_writes ? nn->active_writes(nn->active_writes_arg) : 0,
    };
    size_t start = wire_frame_begin(&nn->out);

    wire_dn_heartbeat_encode(&nn->out, &m);
    wire_frame_end(&nn->out, start, WIRE_DN_HEARTBEAT, dn_nn_req_id(nn), 0);
    net_send_buf(nn->bev, &nn->out);
}

/* ---- connection lifecycle ---- */

static void dn_nn_arm_retry(struct dn_nn *nn)
{
    struct timeval tv = { .tv_sec = DN_NN_RETRY_MS / 1000,
                          .tv_usec = (DN_NN_RETRY_MS % 1000) * 1000 };
    evtimer_add(nn->retry_ev, &tv);
}

/* Drops the connection (freed later by the retry timer) and schedules a new attempt. */
static void dn_nn_reset(struct dn_nn *nn, const char *why)
{
    if (nn->fail_count++ == 0 || nn->state == DN_NN_UP)
        LOG_WARN("namenode %s:%u: %s; retrying every %d ms", nn->nn_host, nn->nn_port, why,
                 DN_NN_RETRY_MS);
    else
        LOG_DEBUG("namenode %s:%u: %s", nn->nn_host, nn->nn_port, why);
    nn->state = DN_NN_DOWN;
    evtimer_del(nn->heartbeat_ev);
    evtimer_del(nn->report_ev);
    evtimer_del(nn->received_ev);
    nn->received_count = 0; /* the full report after registering again carries them */
    if (nn->bev) {
        bufferevent_setcb(nn->bev, NULL, NULL, NULL, NULL);
        bufferevent_disable(nn->bev, EV_READ | EV_WRITE);
        if (nn->bev_dead)
            bufferevent_free(nn->bev_dead);
        nn->bev_dead = nn->bev;
        nn->bev = NULL;
    }
    dn_nn_arm_retry(nn);
}

static void dn_nn_start_timers(struct dn_nn *nn)
{
    struct timeval hb = { .tv_sec = nn->heartbeat_ms / 1000,
                          .tv_usec = (nn->heartbeat_ms % 1000) * 1000 };
    struct timeval rep = { .tv_sec = (time_t)nn->report_secs };
    uint32_t tmo_ms = 3 * nn->heartbeat_ms > DN_NN_TIMEOUT_MIN_MS ? 3 * nn->heartbeat_ms
                                                                   : DN_NN_TIMEOUT_MIN_MS;
    struct timeval tmo = { .tv_sec = tmo_ms / 1000, .tv_usec = (tmo_ms % 1000) * 1000 };

    event_del(nn->heartbeat_ev);
    event_add(nn->heartbeat_ev, &hb);
    if (nn->report_secs > 0) {
        event_del(nn->report_ev);
        event_add(nn->report_ev, &rep);
    }
    bufferevent_set_timeouts(nn->bev, &tmo, &tmo);
}

/* ---- replies ---- */

static int dn_nn_on_hello_ok(struct dn_nn *nn, const struct wire_frame *f)
{
    struct wire_hello peer;

    if (nn->state != DN_NN_HELLO || f->hdr.status != 0)
        return f->hdr.status ? err_from_wire(f->hdr.status) : -ERR_PROTO;
    if (wire_hello_decode(f->body, f->hdr.body_len, &peer) < 0)
        return -ERR_PROTO;
    int rc = wire_hello_check(&peer, nn->cluster_id);
    if (rc < 0)
        return rc;
    dn_nn_send_register(nn);
    nn->state = DN_NN_REGISTERING;
    return 0;
}

static int dn_nn_on_register_ok(struct dn_nn *nn, const struct wire_frame *f)
{
    struct wire_dn_register_ok m;

    if (nn->state != DN_NN_REGISTERING || f->hdr.status != 0)
        return f->hdr.status ? err_from_wire(f->hdr.status) : -ERR_PROTO;
    if (wire_dn_register_ok_decode(f->body, f->hdr.body_len, &m) < 0)
        return -ERR_PROTO;
    nn->heartbeat_ms = m.heartbeat_ms > 0 ? m.heartbeat_ms : nn->heartbeat_ms_cfg;
    LOG_INFO("registered with namenode %s:%u heartbeat_ms=%u", nn->nn_host, nn->nn_port,
             nn->heartbeat_ms);
    nn->state = DN_NN_UP;
    nn->fail_count = 0;
    dn_nn_send_full_report(nn);
    dn_nn_start_timers(nn);
    return 0;
}

static void dn_nn_delete_poll_later(struct dn_nn *nn)
{
    struct timeval tv = { .tv_sec = 0, .tv_usec = DN_NN_DELETE_POLL_MS * 1000 };

    if (!evtimer_pending(nn->delete_ev, NULL))
        evtimer_add(nn->delete_ev, &tv);
}

/* Confirms what the deleter finished (and counts it in the store); polls again while it has
 * work. */
static void dn_nn_delete_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dn_nn *nn = arg;
    struct dn_deleted done[DN_NN_DELETE_BATCH];
    struct wire_blk_len deleted[DN_NN_DELETE_BATCH];
    uint32_t n, m;

    (void)fd;
    (void)what;
    while ((n = dn_deleter_collect(&nn->deleter, done, DN_NN_DELETE_BATCH)) > 0) {
        m = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (done[i].rc == 0)
                dn_store_note_deleted(nn->store, done[i].len);
            LOG_DEBUG("delete blk=%016" PRIx64 " gen=%" PRIu64 ": %s", done[i].blk.id,
                      done[i].blk.gen, err_str(done[i].rc));
            /* Gone either way (deleted now or never here): confirmed. A delete that failed is
             * not: the replica is still here, and the next full report shows it. */
            if (done[i].rc == 0 || done[i].rc == -ERR_NO_BLOCK || done[i].rc == -ENOENT)
                deleted[m++] = (struct wire_blk_len){ .blk = done[i].blk, .len = 0 };
            else
                LOG_WARN("delete of blk=%016" PRIx64 " failed: %s", done[i].blk.id,
                         err_str(done[i].rc));
        }
        if (nn->state == DN_NN_UP && m > 0)
            dn_nn_send_blocks(nn, WIRE_DN_BLOCK_DELETED, 0, deleted, m);
    }
    if (!dn_deleter_is_idle(&nn->deleter))
        dn_nn_delete_poll_later(nn);
}

static void dn_nn_queue_delete(struct dn_nn *nn, struct wire_blk blk)
{
    /* When full, the replica stays; the next full block report brings it up and it is ordered
     * deleted again. */
    if (!dn_deleter_push(&nn->deleter, blk))
        LOG_WARN("delete queue full, dropping blk=%016" PRIx64, blk.id);
}

static int dn_nn_on_heartbeat_ok(struct dn_nn *nn, const struct wire_frame *f)
{
    struct wire_dn_heartbeat_ok m;

    if (f->hdr.status != 0)
        return err_from_wire(f->hdr.status); /* e.g. not registered: register again */
    if (wire_dn_heartbeat_ok_decode(f->body, f->hdr.body_len, &m) < 0)
        return -ERR_PROTO;
    for (uint32_t i = 0; i < m.count; i++) {
        struct wire_dn_cmd cmd;
        wire_dn_heartbeat_ok_next(&m, &cmd);
        if (cmd.kind == WIRE_CMD_DELETE)
            dn_nn_queue_delete(nn, cmd.blk);
        else if (!dn_copier_push(&nn->copier, &cmd))
            LOG_WARN("copy of blk=%016" PRIx64 " dropped: queue full or bad target", cmd.blk.id);
    }
    if (m.count > 0)
        dn_nn_delete_poll_later(nn);
    return 0;
}

static int dn_nn_on_blocks_ok(struct dn_nn *nn, const struct wire_frame *f)
{
    (void)nn;
    if (f->hdr.status == 0)
        return 0;
    if (f->hdr.type == WIRE_DN_BLOCK_REPORT_OK)
        return err_from_wire(f->hdr.status);
    LOG_WARN("namenode refused %s: %s", wire_type_name((uint16_t)(f->hdr.type - 1)),
             err_str(err_from_wire(f->hdr.status)));
    return 0;
}

typedef int dn_nn_reply_fn(struct dn_nn *nn, const struct wire_frame *f);

static dn_nn_reply_fn *const dn_nn_replies[WIRE_TYPE_MAX] = {
    [WIRE_HELLO_OK] = dn_nn_on_hello_ok,
    [WIRE_DN_REGISTER_OK] = dn_nn_on_register_ok,
    [WIRE_DN_HEARTBEAT_OK] = dn_nn_on_heartbeat_ok,
    [WIRE_DN_BLOCK_REPORT_OK] = dn_nn_on_blocks_ok,
    [WIRE_DN_BLOCK_RECEIVED_OK] = dn_nn_on_blocks_ok,
    [WIRE_DN_BLOCK_DELETED_OK] = dn_nn_on_blocks_ok,
    [WIRE_DN_BLOCK_CORRUPT_OK] = dn_nn_on_blocks_ok,
};

/* ---- callbacks ---- */

static void dn_nn_read_cb(struct bufferevent *bev, void *arg)
{
    struct dn_nn *nn = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct wire_frame f;
    int rc;

    while ((rc = net_frame_peek(in, &f)) > 0) {
        uint16_t type = f.hdr.type;
        dn_nn_reply_fn *fn = type < WIRE_TYPE_MAX ? dn_nn_replies[type] : NULL;
        rc = fn ? fn(nn, &f) : -ERR_UNKNOWN_TYPE;
        net_frame_drain(in, &f);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        char why[128];
        snprintf(why, sizeof(why), "%s", err_str(rc));
        dn_nn_reset(nn, why);
    }
}

static void dn_nn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct dn_nn *nn = arg;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        LOG_DEBUG("connected to namenode %s:%u", nn->nn_host, nn->nn_port);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        dn_nn_reset(nn, "timed out");
    else if (what & BEV_EVENT_EOF)
        dn_nn_reset(nn, "connection closed");
    else if (what & BEV_EVENT_ERROR)
        dn_nn_reset(nn, "connection failed");
}

static void dn_nn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dn_nn *nn = arg;
    struct timeval tmo = { .tv_sec = DN_NN_TIMEOUT_MIN_MS / 1000 };

    (void)fd;
    (void)what;
    if (nn->bev_dead) {
        bufferevent_free(nn->bev_dead);
        nn->bev_dead = NULL;
    }
    ASSERT(nn->state == DN_NN_DOWN);
    ASSERT(nn->bev == NULL);
    nn->bev = net_connect(nn->base, nn->nn_host, nn->nn_port);
    if (!nn->bev) {
        dn_nn_reset(nn, "cannot resolve or connect");
        return;
    }
    bufferevent_setcb(nn->bev, dn_nn_read_cb, NULL, dn_nn_event_cb, nn);
    bufferevent_set_timeouts(nn->bev, &tmo, &tmo);
    bufferevent_enable(nn->bev, EV_READ | EV_WRITE);
    nn->state = DN_NN_HELLO;
    dn_nn_send_hello(nn);
}

/* Replicas the copier found corrupt, reported with the heartbeat. */
static void dn_nn_report_copy_corrupt(struct dn_nn *nn)
{
    struct wire_blk_len found[DN_COPIER_MAX];
    uint32_t n = dn_copier_take_corrupt(&nn->copier, found, DN_COPIER_MAX);

    for (uint32_t i = 0; i < n; i++)
        dn_nn_block_corrupt(nn, &found[i]);
}

static void dn_nn_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dn_nn *nn = arg;

    (void)fd;
    (void)what;
    if (nn->state == DN_NN_UP)
        dn_nn_send_heartbeat(nn);
    dn_nn_report_copy_corrupt(nn);
}

static void dn_nn_report_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dn_nn *nn = arg;

    (void)fd;
    (void)what;
    if (nn->state == DN_NN_UP)
        dn_nn_send_full_report(nn);
}

/* ---- public ---- */

static int dn_nn_copy_cfg(struct dn_nn *nn, const struct dn_nn_cfg *cfg, char *err,
                          size_t errlen)
{
    if (cfg_parse_hostport(cfg->nn_addr, nn->nn_host, sizeof(nn->nn_host), &nn->nn_port) < 0 ||
        nn->nn_port == 0) {
        snprintf(err, errlen, "nn.addr: bad address '%s'", cfg->nn_addr);
        return -EINVAL;
    }
    if (strlen(cfg->cluster_id) > WIRE_ID_MAX || strlen(cfg->node_id) > WIRE_ID_MAX ||
        strlen(cfg->advertise_host) > WIRE_HOST_MAX || cfg->advertise_host[0] == '\0') {
        snprintf(err, errlen, "cluster id, node id or advertised host empty or too long");
        return -EINVAL;
    }
    snprintf(nn->cluster_id, sizeof(nn->cluster_id), "%s", cfg->cluster_id);
    snprintf(nn->node_id, sizeof(nn->node_id), "%s", cfg->node_id);
    snprintf(nn->advertise_host, sizeof(nn->advertise_host), "%s", cfg->advertise_host);
    nn->data_port = cfg->data_port;
    nn->heartbeat_ms_cfg = cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : 3000;
    nn->heartbeat_ms = nn->heartbeat_ms_cfg;
    nn->report_secs = cfg->report_secs;
    nn->active_writes = cfg->active_writes;
    nn->active_writes_arg = cfg->active_writes_arg;
    return 0;
}

static int dn_nn_start_copier(struct dn_nn *nn, const struct dn_store *store)
{
    struct dn_copy_self self = { .timeout_ms = DN_COPY_TIMEOUT_MS };

    snprintf(self.cluster_id, sizeof(self.cluster_id), "%s", nn->cluster_id);
    snprintf(self.node_id, sizeof(self.node_id), "%s", nn->node_id);
    int rc = dn_copier_start(&nn->copier, store, &self);
    nn->is_copier_started = rc == 0;
    return rc;
}

int dn_nn_open(struct dn_nn *nn, struct event_base *base, struct dn_store *store,
               const struct dn_nn_cfg *cfg, char *err, size_t errlen)
{
    memset(nn, 0, sizeof(*nn));
    int rc = dn_nn_copy_cfg(nn, cfg, err, errlen);
    if (rc < 0)
        return rc;
    nn->base = base;
    nn->store = store;
    nn->state = DN_NN_DOWN;
    buf_init(&nn->out);
    nn->retry_ev = evtimer_new(base, dn_nn_retry_cb, nn);
    nn->heartbeat_ev = event_new(base, -1, EV_PERSIST, dn_nn_heartbeat_cb, nn);
    nn->report_ev = event_new(base, -1, EV_PERSIST, dn_nn_report_cb, nn);
    nn->delete_ev = evtimer_new(base, dn_nn_delete_cb, nn);
    nn->received_ev = evtimer_new(base, dn_nn_received_cb, nn);
    ASSERT(nn->retry_ev && nn->heartbeat_ev && nn->report_ev && nn->delete_ev &&
           nn->received_ev);
    rc = dn_deleter_start(&nn->deleter, store, DN_SPARE_RESERVE);
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the deleter thread: %s", strerror(-rc));
        dn_nn_close(nn);
        return rc;
    }
    rc = dn_nn_start_copier(nn, store);
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the copier thread: %s", strerror(-rc));
        dn_nn_close(nn);
        return rc;
    }
    struct timeval now = { 0, 0 };
    evtimer_add(nn->retry_ev, &now);
    return 0;
}

void dn_nn_close(struct dn_nn *nn)
{
    if (nn->bev)
        bufferevent_free(nn->bev);
    if (nn->bev_dead)
        bufferevent_free(nn->bev_dead);
    event_free(nn->retry_ev);
    event_free(nn->heartbeat_ev);
    event_free(nn->report_ev);
    dn_deleter_stop(&nn->deleter);
    if (nn->is_copier_started)
        dn_copier_stop(&nn->copier);
    event_free(nn->delete_ev);
    event_free(nn->received_ev);
    buf_fini(&nn->out);
}

void dn_nn_block_received(struct dn_nn *nn, const struct wire_blk_len *e)
{
    struct timeval delay = { .tv_sec = 0, .tv_usec = DN_NN_RECEIVED_DELAY_MS * 1000 };

    if (nn->state != DN_NN_UP)
        return; /* the full report after the next registration carries it */
    nn->received[nn->received_count++] = *e;
    if (nn->received_count == DN_NN_RECEIVED_BATCH)
        dn_nn_received_flush(nn);
    else if (!evtimer_pending(nn->received_ev, NULL))
        evtimer_add(nn->received_ev, &delay);
}

void dn_nn_block_corrupt(struct dn_nn *nn, const struct wire_blk_len *e)
{
    LOG_WARN("replica blk=%016" PRIx64 " gen=%" PRIu64 " is corrupt: reporting it", e->blk.id,
             e->blk.gen);
    if (nn->state == DN_NN_UP)
        dn_nn_send_blocks(nn, WIRE_DN_BLOCK_CORRUPT, 0, e, 1);
}
