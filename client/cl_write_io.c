#include "cl_write_io.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_client.h"
#include "cl_write.h"
#include "err.h"
#include "log.h"
#include "panic.h"
#include "sock.h"
#include "xmalloc.h"

/* Where the replicas of one block are, kept for DN_SYNC at the next fsync. */
struct cl_writer_replicas {
    struct wire_blk blk;
    uint32_t count;
    char *hosts[WIRE_TARGETS_MAX]; /* owned */
    uint16_t ports[WIRE_TARGETS_MAX];
};

/* Blocks finalized without SYNC that an fsync() must still make durable. Bounded: when it is
 * full, the next block is finalized with SYNC instead. */
enum { CL_WRITER_UNSYNCED_MAX = 64 };

struct dfs_writer {
    pthread_mutex_t mu;
    struct dfs_client *c; /* borrowed; outlives the writer */
    uint64_t ino;
    int has_lease;      /* guarded by mu; the namenode has us as the file's writer */
    struct cl_writer_replicas cur; /* guarded by mu; replicas of the open block */
    struct cl_writer_replicas unsynced[CL_WRITER_UNSYNCED_MAX]; /* guarded by mu */
    uint32_t unsynced_count; /* guarded by mu */
    int failed_rc;      /* guarded by mu; sticky first failure, 0 while healthy */
    int dn_fd;          /* guarded by mu; pipeline of the open block, -1 if none */
    char dn_host[WIRE_HOST_MAX + 1]; /* guarded by mu; where dn_fd goes (targets[0]) */
    uint16_t dn_port;   /* guarded by mu */
    int is_dn_pooled;   /* guarded by mu; dn_fd came from the pool */
    int is_open_pending; /* guarded by mu; the WRITE_OPEN_OK has not been read yet */
    int is_end_sync;    /* guarded by mu; the LAST packet of the open block carries SYNC */
    struct buf open_frame; /* guarded by mu; the WRITE_OPEN sent on dn_fd (kept to resend) */
    struct cl_write st; /* guarded by mu */
    struct buf frame;   /* guarded by mu; outgoing packet frame */
    struct buf storage; /* guarded by mu; incoming ack frame */
};

static int cl_writer_new(struct dfs_client *c, const struct wire_attr *attr,
                         struct dfs_writer **out)
{
    if (S_ISDIR(attr->mode))
        return -EISDIR;
    if (!S_ISREG(attr->mode) || attr->block_size == 0)
        return -ERR_PROTO;
    struct dfs_writer *w = xcalloc(1, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    w->c = c;
    w->ino = attr->ino;
    w->has_lease = 0; /* taken by the first NN_ADD_BLOCK */
    w->dn_fd = -1;
    cl_write_init(&w->st, attr->block_size, attr->size);
    buf_init(&w->frame);
    buf_init(&w->storage);
    buf_init(&w->open_frame);
    *out = w;
    return 0;
}

int dfs_create(struct dfs_client *c, const struct wire_nn_create *req, struct wire_attr *attr_out,
               struct wire_attr *parent_out, struct dfs_writer **out)
{
    struct wire_attr attr;
    struct buf body;
    int rc;

    if (req->name.len == 0)
        return -EINVAL;
    if (req->name.len > WIRE_NAME_MAX)
        return -ENAMETOOLONG;
    struct wire_nn_create m = *req;
    m.flags |= WIRE_CREATE_NO_LEASE; /* an empty file then needs no NN_COMPLETE */
    buf_init(&body);
    wire_nn_create_encode(&body, &m);
    rc = cl_client_rpc_entry(c, WIRE_NN_CREATE, &body, &attr, parent_out);
    buf_fini(&body);
    if (rc == 0)
        rc = cl_writer_new(c, &attr, out);
    if (rc == 0 && attr_out)
        *attr_out = attr;
    return rc;
}

/* Truncation is a namespace change of its own; otherwise opening for writing only reads the
 * attributes: the lease is taken by the first NN_ADD_BLOCK, when there is data to write. */
int dfs_open_write(struct dfs_client *c, uint64_t ino, uint32_t flags, struct dfs_writer **out)
{
    struct wire_attr attr;
    int rc;

    if (flags & WIRE_OPEN_TRUNC) {
        struct wire_nn_setattr m = { .ino = ino, .valid = WIRE_SET_SIZE, .size = 0 };
        rc = dfs_setattr(c, &m, &attr);
    } else {
        rc = dfs_getattr(c, ino, &attr);
    }
    if (rc == 0)
        rc = cl_writer_new(c, &attr, out);
    return rc;
}

uint64_t dfs_writer_size(const struct dfs_writer *w)
{
    struct dfs_writer *mw = (struct dfs_writer *)w; /* the mutex is not part of the value */
    uint64_t size;

    pthread_mutex_lock(&mw->mu);
    size = w->st.size;
    pthread_mutex_unlock(&mw->mu);
    return size;
}

/* ---- the datanode pipeline ---- */

static void cl_writer_replicas_fini(struct cl_writer_replicas *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        free(r->hosts[i]);
    memset(r, 0, sizeof(*r));
}

static void cl_writer_replicas_set(struct cl_writer_replicas *r,
                                   const struct wire_nn_add_block_ok *ok)
{
    cl_writer_replicas_fini(r);
    r->blk = ok->blk;
    r->count = ok->target_count;
    for (uint32_t i = 0; i < ok->target_count; i++) {
        r->hosts[i] = xstrndup(ok->targets[i].host.p, ok->targets[i].host.len);
        r->ports[i] = ok->targets[i].port;
    }
}

/* Ends the pipeline connection: back to the client's pool if is_clean (the LAST packet was
 * fully acked, nothing is in flight), closed otherwise. */
static void cl_writer_close_pipeline(struct dfs_writer *w, int is_clean)
{
    if (w->dn_fd >= 0 && is_clean)
        cl_conn_dn_give(&w->c->pool, w->dn_host, w->dn_port, w->dn_fd);
    else if (w->dn_fd >= 0)
        close(w->dn_fd);
    w->dn_fd = -1;
}

static int cl_writer_send_pkt(struct dfs_writer *w, const struct wire_dn_write_pkt *pkt)
{
    buf_reset(&w->frame);
    size_t start = wire_frame_begin(&w->frame);
    wire_dn_write_pkt_encode(&w->frame, pkt);
    wire_frame_end(&w->frame, start, WIRE_DN_WRITE_PKT, cl_client_req_id(w->c), 0);
    return sock_write_all(w->dn_fd, w->frame.data, w->frame.len);
}

/* Sends the stored WRITE_OPEN, then every packet not acknowledged yet, on a (pooled)
 * connection to targets[0]. Nothing waits for the datanode here: the packets follow the open
 * down the pipeline, and the WRITE_OPEN_OK is read before the first ack. */
static int cl_writer_start_pipeline(struct dfs_writer *w)
{
    int rc = cl_conn_dn_take(&w->c->pool, w->dn_host, w->dn_port, &w->dn_fd, &w->is_dn_pooled);

    if (rc < 0)
        return rc;
    w->is_open_pending = 1;
    rc = sock_write_all(w->dn_fd, w->open_frame.data, w->open_frame.len);
    for (uint32_t i = 0; rc == 0 && i < w->st.sent_count; i++) {
        struct wire_dn_write_pkt pkt;
        cl_write_sent_pkt(&w->st, i, &pkt);
        if ((pkt.flags & WIRE_PKT_LAST) && w->is_end_sync)
            pkt.flags |= WIRE_PKT_SYNC;
        rc = cl_writer_send_pkt(w, &pkt);
    }
    return rc;
}

/* A pooled connection failed before the datanode answered anything: it had closed it while
 * idle (restart, idle timeout), so the open and the packets go again on another connection. */
static int cl_writer_should_restart(const struct dfs_writer *w, int rc)
{
    return w->is_open_pending && w->is_dn_pooled && rc > -ERR_PROTO && rc != -ETIMEDOUT;
}

static int cl_writer_restart_pipeline(struct dfs_writer *w)
{
    LOG_INFO("pooled datanode connection %s:%u was closed: opening the pipeline again",
             w->dn_host, w->dn_port);
    close(w->dn_fd);
    w->dn_fd = -1;
    return cl_writer_start_pipeline(w);
}

/* Opens the block on the whole pipeline (targets[0] forwards the open to the others). */
static int cl_writer_open_pipeline(struct dfs_writer *w, const struct wire_nn_add_block_ok *ok)
{
    struct wire_dn_write_open m = { .blk = ok->blk, .target_count = ok->target_count - 1 };

    if (wire_str_copy(ok->targets[0].host, w->dn_host, sizeof(w->dn_host)) < 0)
        return -ERR_PROTO;
    w->dn_port = ok->targets[0].port;
    for (uint32_t i = 1; i < ok->target_count; i++)
        m.targets[i - 1] = ok->targets[i];
    buf_reset(&w->open_frame);
    size_t start = wire_frame_begin(&w->open_frame);
    wire_dn_write_open_encode(&w->open_frame, &m);
    wire_frame_end(&w->open_frame, start, WIRE_DN_WRITE_OPEN, cl_client_req_id(w->c), 0);
    w->is_end_sync = 0;
    int rc = cl_writer_start_pipeline(w);
    for (int attempt = 0; rc < 0 && attempt < 2 && cl_writer_should_restart(w, rc); attempt++)
        rc = cl_writer_restart_pipeline(w);
    return rc;
}

/* Reads the answer to the WRITE_OPEN: its OK, or an error (an OPEN_OK or an ACK carrying it). */
static int cl_writer_read_open(struct dfs_writer *w)
{
    struct wire_frame f;
    int rc = sock_read_frame(w->dn_fd, &w->storage, &f);

    for (int attempt = 0; rc < 0 && attempt < 2 && cl_writer_should_restart(w, rc); attempt++) {
        rc = cl_writer_restart_pipeline(w);
        if (rc == 0)
            rc = sock_read_frame(w->dn_fd, &w->storage, &f);
    }
    if (rc < 0)
        return rc;
    w->is_open_pending = 0;
    if (f.hdr.type != WIRE_DN_WRITE_OPEN_OK && f.hdr.type != WIRE_DN_WRITE_ACK)
        return -ERR_PROTO;
    if (f.hdr.status != 0)
        return err_from_wire(f.hdr.status);
    if (f.hdr.type == WIRE_DN_WRITE_OPEN_OK)
        return 0;
    /* A packet failed before the pipeline answered the open: the ack carries the error. */
    struct wire_dn_write_ack ack;
    if (wire_dn_write_ack_decode(f.body, f.hdr.body_len, &ack) < 0 || ack.status == 0)
        return -ERR_PROTO;
    rc = err_from_wire(ack.status);
    return rc < 0 ? rc : -ERR_PIPELINE;
}

/* NN_ADD_BLOCK (committing the pending block) and the pipeline of the new block. */
static int cl_writer_add_block(struct dfs_writer *w)
{
    struct wire_nn_add_block m = {
        .ino = w->ino, .prev = w->st.pending, .prev_len = w->st.pending_len,
    };
    struct wire_nn_add_block_ok ok;
    struct wire_frame reply;
    struct buf body, storage;
    int rc;

    buf_init(&body);
    buf_init(&storage);
    wire_nn_add_block_encode(&body, &m);
    rc = dfs_rpc(w->c, WIRE_NN_ADD_BLOCK, &body, &storage, &reply);
    if (rc == 0)
        rc = wire_nn_add_block_ok_decode(reply.body, reply.hdr.body_len, &ok);
    if (rc == 0 && (ok.blk.id == 0 || ok.offset != w->st.size))
        rc = -ERR_PROTO;
    if (rc == 0 && ok.target_count == 0)
        rc = -ERR_NO_DATANODES;
    if (rc == 0)
        w->has_lease = 1; /* the namenode gave us the lease if nobody held it */
    if (rc == 0)
        rc = cl_writer_open_pipeline(w, &ok);
    if (rc == 0) {
        cl_write_on_block(&w->st, ok.blk);
        cl_writer_replicas_set(&w->cur, &ok);
    }
    buf_fini(&storage);
    buf_fini(&body);
    return rc;
}

/* Reads one DN_WRITE_ACK (blocking) and applies it. */
static int cl_writer_read_ack(struct dfs_writer *w)
{
    struct wire_frame f;
    struct wire_dn_write_ack ack;
    int rc = w->is_open_pending ? cl_writer_read_open(w) : 0;

    if (rc == 0)
        rc = sock_read_frame(w->dn_fd, &w->storage, &f);

    if (rc < 0)
        return rc;
    if (f.hdr.type != WIRE_DN_WRITE_ACK)
        return -ERR_PROTO;
    if (f.hdr.status != 0)
        return err_from_wire(f.hdr.status);
    rc = wire_dn_write_ack_decode(f.body, f.hdr.body_len, &ack);
    if (rc < 0)
        return rc;
    return cl_write_on_ack(&w->st, &ack);
}

/* Applies every ack that has already arrived, without blocking. */
static int cl_writer_poll_acks(struct dfs_writer *w)
{
    while (w->st.sent_count > 0) {
        struct pollfd pfd = { .fd = w->dn_fd, .events = POLLIN };
        int n = poll(&pfd, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        int rc = w->is_open_pending ? cl_writer_read_open(w) : cl_writer_read_ack(w);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cl_writer_send(struct dfs_writer *w, int is_last, int is_sync)
{
    struct wire_dn_write_pkt pkt;

    cl_write_seal(&w->st, is_last, &pkt);
    w->is_end_sync = is_last && is_sync;
    if (w->is_end_sync)
        pkt.flags |= WIRE_PKT_SYNC;
    int rc = cl_writer_send_pkt(w, &pkt);
    for (int attempt = 0; rc < 0 && attempt < 2 && cl_writer_should_restart(w, rc); attempt++)
        rc = cl_writer_restart_pipeline(w); /* resends this packet too */
    if (rc < 0)
        return rc;
    LOG_DEBUG("sent pkt ino=%" PRIu64 " blk=%016" PRIx64 " seq=%" PRIu64 " len=%u last=%d",
              w->ino, w->st.blk.id, pkt.seq, pkt.data_len, is_last);
    return cl_writer_poll_acks(w);
}

/* Seals the rest of the block as LAST (with SYNC if is_sync, or if too many blocks already
 * wait for a sync), waits until every replica acked it, and leaves the block pending for the
 * next ADD_BLOCK or COMPLETE. An unsynced block is remembered for the next fsync. */
static int cl_writer_end_block(struct dfs_writer *w, int is_sync)
{
    int rc = 0;

    is_sync = is_sync || w->unsynced_count == CL_WRITER_UNSYNCED_MAX;
    while (rc == 0 && w->st.sent_count == CL_WRITE_WINDOW)
        rc = cl_writer_read_ack(w);
    if (rc == 0)
        rc = cl_writer_send(w, 1, is_sync);
    while (rc == 0 && w->st.sent_count > 0)
        rc = cl_writer_read_ack(w);
    if (rc < 0)
        return rc;
    cl_writer_close_pipeline(w, 1);
    cl_write_on_block_done(&w->st);
    if (!is_sync) {
        w->unsynced[w->unsynced_count++] = w->cur;
        memset(&w->cur, 0, sizeof(w->cur)); /* the list owns the host strings now */
    }
    return 0;
}

/* DN_SYNC of one replica over a pooled connection. */
static int cl_writer_sync_replica(struct dfs_writer *w, const char *host, uint16_t port,
                                  struct wire_blk blk)
{
    struct wire_dn_sync m = { .blk = blk };
    struct wire_frame reply;
    struct buf req;
    struct cl_dn_req r = { .host = host, .port = port, .frame = &req, .type = WIRE_DN_SYNC,
                           .req_id = cl_client_req_id(w->c) };

    buf_init(&req);
    size_t start = wire_frame_begin(&req);
    wire_dn_sync_encode(&req, &m);
    wire_frame_end(&req, start, WIRE_DN_SYNC, r.req_id, 0);
    int rc = cl_client_dn_rpc(w->c, &r, &w->storage, &reply, NULL);
    buf_fini(&req);
    return rc;
}

/* Makes every replica of every block finalized without SYNC durable. */
static int cl_writer_sync_earlier(struct dfs_writer *w)
{
    while (w->unsynced_count > 0) {
        struct cl_writer_replicas *r = &w->unsynced[w->unsynced_count - 1];
        for (uint32_t i = 0; i < r->count; i++) {
            int rc = cl_writer_sync_replica(w, r->hosts[i], r->ports[i], r->blk);
            if (rc < 0)
                return rc;
        }
        cl_writer_replicas_fini(r);
        w->unsynced_count--;
    }
    return 0;
}

/* ---- the public calls ---- */

/* Records the first failure (and logs it once); later calls return it. */
static int cl_writer_fail(struct dfs_writer *w, int rc, const char *what)
{
    ASSERT(rc < 0);
    int is_pipeline = w->dn_fd >= 0;
    cl_writer_close_pipeline(w, 0);
    if (is_pipeline && rc > -ERR_PROTO) /* an errno: the transport, not a datanode's answer */
        rc = -ERR_PIPELINE; /* a transport error on the pipeline */
    LOG_WARN("writer failed ino=%" PRIu64 " blk=%016" PRIx64 " during=%s rc=%s", w->ino,
             w->st.blk.id, what, err_str(rc));
    w->failed_rc = rc;
    return rc;
}

static int cl_writer_step(struct dfs_writer *w, const uint8_t *p, size_t len, size_t *done)
{
    switch (cl_write_next_step(&w->st)) {
    case CL_WRITE_STEP_APPEND:
        *done = cl_write_append(&w->st, p, len);
        return 0;
    case CL_WRITE_STEP_ADD_BLOCK:
        return cl_writer_add_block(w);
    case CL_WRITE_STEP_SEND:
        return cl_writer_send(w, 0, 0);
    case CL_WRITE_STEP_END_BLOCK:
        return cl_writer_end_block(w, 0);
    case CL_WRITE_STEP_WAIT_ACK:
        return cl_writer_read_ack(w);
    default:
        PANIC("bad writer step");
    }
}

static ssize_t cl_writer_write_locked(struct dfs_writer *w, const uint8_t *p, size_t len,
                                      uint64_t offset)
{
    int rc;

    if (w->failed_rc)
        return w->failed_rc;
    if (offset != w->st.size)
        return -EOPNOTSUPP;
    for (size_t left = len; left > 0;) {
        size_t done = 0;
        rc = cl_writer_step(w, p, left, &done);
        if (rc < 0)
            return cl_writer_fail(w, rc, "write");
        p += done;
        left -= done;
    }
    cl_write_assert_valid(&w->st);
    return (ssize_t)len;
}

ssize_t dfs_writer_write(struct dfs_writer *w, const void *data, size_t len, uint64_t offset)
{
    ssize_t n;

    if (len > SSIZE_MAX)
        return -EINVAL;
    pthread_mutex_lock(&w->mu);
    n = cl_writer_write_locked(w, data, len, offset);
    pthread_mutex_unlock(&w->mu);
    return n;
}

static int cl_writer_complete(struct dfs_writer *w)
{
    struct wire_nn_complete m = {
        .ino = w->ino, .last = w->st.pending, .last_len = w->st.pending_len,
    };
    struct buf body;
    int rc;

    buf_init(&body);
    wire_nn_complete_encode(&body, &m);
    rc = cl_client_rpc_attr(w->c, WIRE_NN_COMPLETE, &body, NULL);
    buf_fini(&body);
    if (rc < 0)
        return rc;
    cl_write_on_commit(&w->st);
    w->has_lease = 0;
    return 0;
}

/* Ends the open block and commits the file's length, releasing the lease. With is_sync, every
 * replica this writer finalized is on disk first. */
static int cl_writer_flush_locked(struct dfs_writer *w, int is_sync)
{
    int rc = 0;

    if (w->failed_rc)
        return w->failed_rc;
    if (w->st.has_block)
        rc = cl_writer_end_block(w, is_sync);
    if (rc == 0 && is_sync)
        rc = cl_writer_sync_earlier(w);
    if (rc == 0 && w->has_lease)
        rc = cl_writer_complete(w);
    return rc < 0 ? cl_writer_fail(w, rc, is_sync ? "sync" : "flush") : 0;
}

int dfs_writer_flush(struct dfs_writer *w)
{
    int rc;

    pthread_mutex_lock(&w->mu);
    rc = cl_writer_flush_locked(w, 0);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int dfs_writer_sync(struct dfs_writer *w)
{
    int rc;

    pthread_mutex_lock(&w->mu);
    rc = cl_writer_flush_locked(w, 1);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int dfs_writer_close(struct dfs_writer *w)
{
    int rc;

    if (!w)
        return 0;
    rc = dfs_writer_flush(w);
    cl_writer_close_pipeline(w, 0);
    cl_writer_replicas_fini(&w->cur);
    for (uint32_t i = 0; i < w->unsynced_count; i++)
        cl_writer_replicas_fini(&w->unsynced[i]);
    cl_write_fini(&w->st);
    buf_fini(&w->frame);
    buf_fini(&w->storage);
    buf_fini(&w->open_frame);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}
