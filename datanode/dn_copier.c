#include "dn_copier.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "csum.h"
#include "dn_chunk.h"
#include "err.h"
#include "log.h"
#include "panic.h"
#include "sock.h"
#include "xmalloc.h"

/* Packets sent ahead of their acks. Bounded so that the acks never fill the socket while
 * this thread is blocked sending (each side would wait for the other). */
enum { DN_COPY_WINDOW = 8 };

/* One copy's connection and its progress. */
struct dn_copy_conn {
    const atomic_bool *is_stop_asked;
    int fd;
    uint64_t req_id;
    struct buf frame;   /* outgoing */
    struct buf storage; /* incoming */
    bool is_open_pending;
    uint64_t acked; /* packets acknowledged (seq 0 .. acked - 1) */
};

/* A frame is built in cc->frame: dn_copy_frame_begin(), the body's encoder, then
 * dn_copy_frame_send() with its type. */
static size_t dn_copy_frame_begin(struct dn_copy_conn *cc)
{
    buf_reset(&cc->frame);
    return wire_frame_begin(&cc->frame);
}

static int dn_copy_frame_send(struct dn_copy_conn *cc, size_t start, uint16_t type)
{
    wire_frame_end(&cc->frame, start, type, cc->req_id++, 0);
    return sock_write_all(cc->fd, cc->frame.data, cc->frame.len);
}

/* Reads the next answer: the open's, then the acks in packet order. */
static int dn_copy_read_answer(struct dn_copy_conn *cc)
{
    struct wire_frame f;
    struct wire_dn_write_ack ack;
    int rc = sock_read_frame(cc->fd, &cc->storage, &f);

    if (rc < 0)
        return rc;
    if (f.hdr.status != 0)
        return err_from_wire(f.hdr.status);
    if (cc->is_open_pending && f.hdr.type == WIRE_DN_WRITE_OPEN_OK) {
        cc->is_open_pending = false;
        return 0;
    }
    if (f.hdr.type != WIRE_DN_WRITE_ACK ||
        wire_dn_write_ack_decode(f.body, f.hdr.body_len, &ack) < 0)
        return -ERR_PROTO;
    if (ack.status != 0)
        return err_from_wire(ack.status);
    if (cc->is_open_pending || ack.seq != cc->acked)
        return -ERR_PROTO; /* an ack before the open's answer, or out of order */
    cc->acked++;
    return 0;
}

/* Sends the replica rd in packets, the last one LAST | SYNC, reading acks as the window
 * fills; returns after the last ack. */
static int dn_copy_stream(struct dn_copy_conn *cc, struct dn_reader *rd)
{
    uint8_t csums[WIRE_PKT_CSUMS_MAX * DN_CHUNK_CSUM_LEN];
    uint8_t *data = xmalloc(WIRE_PKT_DATA_MAX);
    uint64_t off = 0, seq = 0;
    int rc = 0;

    for (bool is_last = false; rc == 0 && !is_last; seq++) {
        if (atomic_load(cc->is_stop_asked)) {
            rc = -ECANCELED;
            break;
        }
        uint32_t n = dn_chunk_span(off, rd->len, rd->len, WIRE_PKT_DATA_MAX);
        is_last = off + n == rd->len;
        rc = n > 0 ? dn_store_read(rd, off, n, data, csums) : 0;
        if (rc == -ERR_CHECKSUM)
            rc = -ERR_CORRUPT; /* this replica's own chunk, not an answer of the target's */
        while (rc == 0 && seq - cc->acked >= DN_COPY_WINDOW)
            rc = dn_copy_read_answer(cc);
        struct wire_dn_write_pkt pkt = {
            .seq = seq, .offset = off, .flags = is_last ? WIRE_PKT_LAST | WIRE_PKT_SYNC : 0,
            .data_len = n, .data = data, .csum_count = csum_chunk_count(n), .csums_raw = csums,
        };
        if (rc == 0) {
            size_t start = dn_copy_frame_begin(cc);
            wire_dn_write_pkt_encode(&cc->frame, &pkt);
            rc = dn_copy_frame_send(cc, start, WIRE_DN_WRITE_PKT);
        }
        off += n;
    }
    while (rc == 0 && (cc->is_open_pending || cc->acked < seq))
        rc = dn_copy_read_answer(cc);
    free(data);
    return rc;
}

static int dn_copy_to(const struct dn_copier *c, const struct dn_copy_job *job,
                      struct dn_reader *rd)
{
    const struct dn_copy_self *self = &c->self;
    struct dn_copy_conn cc = { .is_stop_asked = &c->is_stop_asked, .req_id = 2, /* 1: HELLO */
                               .is_open_pending = true };
    struct wire_dn_write_open open = { .blk = job->blk, .target_count = 0 };
    int rc;

    cc.fd = sock_connect(job->host, job->port, self->timeout_ms);
    if (cc.fd < 0)
        return cc.fd;
    buf_init(&cc.frame);
    buf_init(&cc.storage);
    rc = sock_hello(cc.fd, self->cluster_id, WIRE_NODE_DATANODE, self->node_id);
    if (rc == 0) {
        size_t start = dn_copy_frame_begin(&cc);
        wire_dn_write_open_encode(&cc.frame, &open);
        rc = dn_copy_frame_send(&cc, start, WIRE_DN_WRITE_OPEN);
    }
    if (rc == 0)
        rc = dn_copy_stream(&cc, rd);
    buf_fini(&cc.frame);
    buf_fini(&cc.storage);
    close(cc.fd);
    return rc;
}

/* One copy, blocking. 0, or -errno / -ERR_*: the replica is missing (-ERR_NO_BLOCK), corrupt
 * or of another length than job->len (-ERR_CORRUPT: a chunk read back wrong, a checksum file
 * missing or torn); the target refused or failed; the copier is stopping. */
static int dn_copy_replica(const struct dn_copier *c, const struct dn_copy_job *job)
{
    struct dn_reader rd;
    int rc = dn_store_read_open(c->store, job->blk, 0, WIRE_PKT_DATA_MAX, &rd);

    if (rc < 0)
        return rc;
    /* The namenode's committed length; another one here is a replica it would not accept. */
    rc = rd.len == job->len ? dn_copy_to(c, job, &rd) : -ERR_CORRUPT;
    dn_store_read_close(&rd);
    return rc;
}

static void dn_copier_run_one(struct dn_copier *c, const struct dn_copy_job *job)
{
    int rc = dn_copy_replica(c, job);

    if (rc == 0)
        LOG_INFO("copied blk=%016" PRIx64 " gen=%" PRIu64 " len=%" PRIu64 " to %s:%u",
                 job->blk.id, job->blk.gen, job->len, job->host, job->port);
    else
        LOG_WARN("copy of blk=%016" PRIx64 " gen=%" PRIu64 " to %s:%u failed: %s", job->blk.id,
                 job->blk.gen, job->host, job->port, err_str(rc));
    pthread_mutex_lock(&c->mu);
    /* Only this replica's own faults: a checksum error the target answers with is the
     * target's (or the wire's), and says nothing of this replica. */
    if (rc == -ERR_CORRUPT && c->corrupt_count < DN_COPIER_MAX)
        c->corrupt[c->corrupt_count++] = (struct wire_blk_len){ .blk = job->blk, .len = job->len };
    pthread_mutex_unlock(&c->mu);
}

static void *dn_copier_main(void *arg)
{
    struct dn_copier *c = arg;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->count == 0 && !c->is_stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->is_stopping)
            break;
        struct dn_copy_job job = c->ring[c->head];
        c->head = (c->head + 1) % DN_COPIER_MAX;
        c->count--;
        pthread_mutex_unlock(&c->mu);
        dn_copier_run_one(c, &job);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int dn_copier_start(struct dn_copier *c, const struct dn_store *store,
                    const struct dn_copy_self *self)
{
    *c = (struct dn_copier){ .store = store, .self = *self };
    atomic_init(&c->is_stop_asked, false);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    int rc = pthread_create(&c->thread, NULL, dn_copier_main, c);
    if (rc != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        return -rc;
    }
    return 0;
}

bool dn_copier_push(struct dn_copier *c, const struct wire_dn_cmd *cmd)
{
    struct dn_copy_job job = { .blk = cmd->blk, .len = cmd->len, .port = cmd->target.port };

    ASSERT(cmd->kind == WIRE_CMD_REPLICATE);
    if (wire_str_copy(cmd->target.host, job.host, sizeof(job.host)) < 0)
        return false;
    pthread_mutex_lock(&c->mu);
    bool fits = c->count < DN_COPIER_MAX;
    if (fits) {
        c->ring[(c->head + c->count) % DN_COPIER_MAX] = job;
        c->count++;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return fits;
}

uint32_t dn_copier_take_corrupt(struct dn_copier *c, struct wire_blk_len *out, uint32_t max)
{
    pthread_mutex_lock(&c->mu);
    uint32_t n = c->corrupt_count < max ? c->corrupt_count : max;
    memcpy(out, c->corrupt, n * sizeof(*out));
    memmove(c->corrupt, c->corrupt + n, (c->corrupt_count - n) * sizeof(*c->corrupt));
    c->corrupt_count -= n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void dn_copier_stop(struct dn_copier *c)
{
    atomic_store(&c->is_stop_asked, true);
    pthread_mutex_lock(&c->mu);
    c->is_stopping = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}
