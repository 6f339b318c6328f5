#include "cl_read_io.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_client.h"
#include "cl_read.h"
#include "err.h"
#include "log.h"
#include "panic.h"
#include "sock.h"
#include "xmalloc.h"

struct dfs_reader {
    pthread_mutex_t mu;
    struct dfs_client *c; /* borrowed; outlives the reader */
    uint64_t ino;
    int has_blocks;                /* guarded by mu */
    struct cl_read_blocks blocks;  /* guarded by mu */
    struct cl_read_stream stream;  /* guarded by mu */
    int dn_fd;                     /* guarded by mu; the stream's socket, -1 if none */
    char dn_host[WIRE_HOST_MAX + 1]; /* guarded by mu; where dn_fd is connected */
    uint16_t dn_port;              /* guarded by mu */
    uint64_t stream_req_id;        /* guarded by mu */
    uint64_t window;               /* guarded by mu; bytes to ask for beyond what a pread needs */
    uint64_t next_off;             /* guarded by mu; file offset after the previous pread */
    struct buf storage[2];         /* guarded by mu; the stream's last two frames, alternately */
    uint32_t storage_idx;          /* guarded by mu; which one the next frame goes into */
};

/* No round trip: the first pread's NN_GET_BLOCKS finds out whether ino is a readable file
 * (-ENOENT, -EISDIR come back from there), which saves an RPC on every open. */
int dfs_open_read(struct dfs_client *c, uint64_t ino, struct dfs_reader **out)
{
    struct dfs_reader *r = xcalloc(1, sizeof(*r));

    pthread_mutex_init(&r->mu, NULL);
    r->c = c;
    r->ino = ino;
    r->dn_fd = -1;
    cl_read_blocks_init(&r->blocks);
    buf_init(&r->storage[0]);
    buf_init(&r->storage[1]);
    *out = r;
    return 0;
}

static void cl_reader_close_stream(struct dfs_reader *r)
{
    if (r->dn_fd >= 0)
        close(r->dn_fd);
    r->dn_fd = -1;
    cl_read_stream_close(&r->stream);
}

/* Ends the stream; its connection goes back to the client's datanode pool when nothing is in
 * flight on it (the request was answered in full), else it is closed. */
static void cl_reader_release_stream(struct dfs_reader *r)
{
    int is_idle = !r->stream.is_open || r->stream.is_eof;

    if (r->dn_fd >= 0 && is_idle) {
        cl_conn_dn_give(&r->c->pool, r->dn_host, r->dn_port, r->dn_fd);
        r->dn_fd = -1;
    }
    cl_reader_close_stream(r);
}

/* Ends the stream but keeps its connection when nothing is in flight on it (the request was
 * answered in full) and it leads to host:port, so the next DN_READ skips dial and HELLO. */
static void cl_reader_end_stream(struct dfs_reader *r, const char *host, uint16_t port)
{
    int is_idle = !r->stream.is_open || r->stream.is_eof;

    if (r->dn_fd >= 0 && is_idle && r->dn_port == port && strcmp(r->dn_host, host) == 0) {
        cl_read_stream_close(&r->stream);
        return;
    }
    cl_reader_release_stream(r);
}

static int cl_reader_send_read(struct dfs_reader *r, const struct wire_dn_read *req)
{
    struct buf frame;
    int rc;

    r->stream_req_id = cl_client_req_id(r->c);
    buf_init(&frame);
    size_t start = wire_frame_begin(&frame);
    wire_dn_read_encode(&frame, req);
    wire_frame_end(&frame, start, WIRE_DN_READ, r->stream_req_id, 0);
    rc = sock_write_all(r->dn_fd, frame.data, frame.len);
    buf_fini(&frame);
    return rc;
}

/* NN_GET_BLOCKS from off to the end of the file. */
static int cl_reader_refresh(struct dfs_reader *r, uint64_t off)
{
    struct wire_nn_get_blocks m = { .ino = r->ino, .offset = off, .len = UINT64_MAX - off };
    struct wire_frame reply;
    struct buf body, storage;
    int rc;

    buf_init(&body);
    buf_init(&storage);
    wire_nn_get_blocks_encode(&body, &m);
    rc = dfs_rpc(r->c, WIRE_NN_GET_BLOCKS, &body, &storage, &reply);
    if (rc == 0)
        rc = cl_read_blocks_load(&r->blocks, reply.body, reply.hdr.body_len);
    r->has_blocks = rc == 0;
    buf_fini(&storage);
    buf_fini(&body);
    return rc;
}

/* Sends DN_READ for at least want bytes from block offset off to location loc_idx of block b,
 * over the kept connection when it leads there, else over a new one. */
static int cl_reader_open_stream(struct dfs_reader *r, const struct cl_read_blk *b,
                                 uint32_t loc_idx, uint64_t off, uint64_t want)
{
    const struct wire_dn_addr *loc = &r->blocks.locs[b->loc_first + loc_idx];
    char host[WIRE_HOST_MAX + 1];
    struct wire_dn_read req;
    int rc;

    if (wire_str_copy(loc->host, host, sizeof(host)) < 0)
        return -ERR_PROTO;
    cl_reader_end_stream(r, host, loc->port);
    if (r->dn_fd < 0) {
        int fd, is_pooled;
        rc = cl_conn_dn_take(&r->c->pool, host, loc->port, &fd, &is_pooled);
        if (rc < 0)
            return rc;
        r->dn_fd = fd;
        memcpy(r->dn_host, host, sizeof(host));
        r->dn_port = loc->port;
    }
    cl_read_stream_open(&r->stream, b, loc_idx, off, want, &req);
    rc = cl_reader_send_read(r, &req);
    if (rc < 0)
        cl_reader_close_stream(r);
    return rc;
}

static int cl_reader_next_frame(struct dfs_reader *r)
{
    struct wire_frame f;
    struct wire_dn_read_data d;
    struct buf *storage = &r->storage[r->storage_idx];
    r->storage_idx ^= 1; /* the previous frame stays readable until the one after this */
    int rc = sock_read_frame(r->dn_fd, storage, &f);

    if (rc < 0)
        return rc;
    if (f.hdr.type != WIRE_DN_READ_DATA || f.hdr.req_id != r->stream_req_id)
        return -ERR_PROTO;
    if (f.hdr.status != 0)
        return err_from_wire(f.hdr.status);
    rc = wire_dn_read_data_decode(f.body, f.hdr.body_len, &d);
    if (rc < 0)
        return rc;
    return cl_read_stream_on_data(&r->stream, &d);
}

/* Copies [off, off + n) of the stream's block into dst, asking for more on the same
 * connection when the request in flight has been used up. */
static int cl_reader_stream_read(struct dfs_reader *r, uint64_t off, uint8_t *dst, size_t n)
{
    while (n > 0) {
        size_t got = cl_read_stream_take(&r->stream, off, dst, n);
        off += got;
        dst += got;
        n -= got;
        if (n == 0)
            break;
        int rc;
        if (cl_read_stream_can_continue(&r->stream)) {
            struct wire_dn_read req;
            uint64_t want = off + n - r->stream.pos;
            cl_read_stream_continue(&r->stream, want > r->window ? want : r->window, &req);
            rc = cl_reader_send_read(r, &req);
        } else if (!cl_read_stream_needs_frame(&r->stream)) {
            rc = -ERR_CORRUPT; /* the replica ended before the block's committed length */
        } else {
            rc = cl_reader_next_frame(r);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void cl_reader_warn(const struct dfs_reader *r, const struct cl_read_blk *b,
                           const struct wire_dn_addr *loc, int rc)
{
    LOG_WARN("read failed ino=%" PRIu64 " blk=%016" PRIx64 " dn=%.*s rc=%s, trying next", r->ino,
             b->blk.id, (int)loc->node_id.len, loc->node_id.p, err_str(rc));
}

/* Reads [off, off + n) of block bi, trying its replicas in hash order. */
static int cl_reader_read_block(struct dfs_reader *r, uint32_t bi, uint64_t off, uint8_t *dst,
                                size_t n)
{
    const struct cl_read_blk *b = &r->blocks.blks[bi];
    const struct wire_dn_addr *locs = &r->blocks.locs[b->loc_first];
    uint32_t order[WIRE_TARGETS_MAX];
    uint32_t failed_loc = UINT32_MAX;
    int rc = -ERR_NO_DATANODES;

    if (cl_read_stream_can_serve(&r->stream, b->blk, off)) {
        rc = cl_reader_stream_read(r, off, dst, n);
        if (rc == 0)
            return 0;
        failed_loc = r->stream.loc_idx;
        cl_reader_warn(r, b, &locs[failed_loc], rc);
        cl_reader_close_stream(r);
    }
    uint32_t count = cl_read_replica_order(b->blk.id, r->c->pool.id.node_id, locs,
                                           b->loc_count, order);
    for (uint32_t i = 0; i < count; i++) {
        if (order[i] == failed_loc)
            continue;
        rc = cl_reader_open_stream(r, b, order[i], off, n > r->window ? n : r->window);
        if (rc == 0)
            rc = cl_reader_stream_read(r, off, dst, n);
        if (rc == 0)
            return 0;
        cl_reader_warn(r, b, &locs[order[i]], rc);
        cl_reader_close_stream(r);
    }
    return rc;
}

/* Finds the cached block for off, refreshing the cache once if it does not cover off. */
static int cl_reader_locate(struct dfs_reader *r, uint64_t off, int *is_refreshed, uint32_t *bi)
{
    int64_t idx = r->has_blocks ? cl_read_blocks_find(&r->blocks, off) : -1;

    if (idx < 0 && !*is_refreshed) {
        *is_refreshed = 1;
        int rc = cl_reader_refresh(r, off);
        if (rc < 0)
            return rc;
        idx = cl_read_blocks_find(&r->blocks, off);
    }
    if (idx < 0)
        return -EIO; /* a hole in the block list the namenode gave */
    *bi = (uint32_t)idx;
    return 0;
}

static ssize_t cl_reader_pread_locked(struct dfs_reader *r, uint8_t *dst, size_t len,
                                      uint64_t off)
{
    int is_refreshed = 0;
    size_t done = 0;
    int rc;

    if (!r->has_blocks || off >= r->blocks.file_size) { /* the file may have grown */
        is_refreshed = 1;
        rc = cl_reader_refresh(r, off);
        if (rc < 0)
            return rc;
    }
    if (off >= r->blocks.file_size)
        return 0;
    if (len > r->blocks.file_size - off)
        len = (size_t)(r->blocks.file_size - off);
    while (done < len) {
        uint64_t at = off + done;
        uint32_t bi;
        rc = cl_reader_locate(r, at, &is_refreshed, &bi);
        if (rc < 0)
            return done ? (ssize_t)done : rc;
        const struct cl_read_blk *b = &r->blocks.blks[bi];
        size_t n = len - done;
        if (n > b->offset + b->len - at)
            n = (size_t)(b->offset + b->len - at);
        rc = cl_reader_read_block(r, bi, at - b->offset, dst + done, n);
        if (rc < 0 && !is_refreshed) { /* maybe the replicas moved: ask again, once */
            is_refreshed = 1;
            rc = cl_reader_refresh(r, at);
            if (rc == 0)
                continue;
        }
        if (rc < 0)
            return done ? (ssize_t)done : rc;
        done += n;
    }
    return (ssize_t)done;
}

ssize_t dfs_reader_pread(struct dfs_reader *r, void *buf, size_t len, uint64_t offset)
{
    ssize_t n;

    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    pthread_mutex_lock(&r->mu);
    r->window = cl_read_next_window(r->window, cl_read_is_sequential(offset, r->next_off));
    n = cl_reader_pread_locked(r, buf, len, offset);
    if (n > 0 && offset + (uint64_t)n > r->next_off)
        r->next_off = offset + (uint64_t)n;
    else if (n > 0 && !cl_read_is_sequential(offset, r->next_off))
        r->next_off = offset + (uint64_t)n; /* a jump backwards starts a new sequence */
    pthread_mutex_unlock(&r->mu);
    return n;
}

void dfs_reader_prefetch(struct dfs_reader *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->has_blocks && !r->stream.is_open && cl_reader_refresh(r, 0) == 0 &&
        r->blocks.count > 0 && r->blocks.blks[0].offset == 0 && r->blocks.blks[0].len > 0) {
        const struct cl_read_blk *b = &r->blocks.blks[0];
        uint32_t order[WIRE_TARGETS_MAX];
        uint32_t count = cl_read_replica_order(b->blk.id, r->c->pool.id.node_id,
                                               &r->blocks.locs[b->loc_first], b->loc_count,
                                               order);
        if (count > 0)
            (void)cl_reader_open_stream(r, b, order[0], 0, CL_READ_WINDOW_MIN);
    }
    pthread_mutex_unlock(&r->mu);
}

void dfs_reader_close(struct dfs_reader *r)
{
    if (!r)
        return;
    cl_reader_release_stream(r);
    cl_read_blocks_fini(&r->blocks);
    buf_fini(&r->storage[0]);
    buf_fini(&r->storage[1]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
