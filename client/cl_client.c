#include "cl_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "err.h"
#include "panic.h"
#include "sock.h"
#include "xmalloc.h"

static uint32_t cl_client_random(void)
{
    uint32_t r = 0;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&r;
    return r;
}

int dfs_client_new(const struct cfg *cfg, struct dfs_client **out)
{
    struct cl_conn_id id = { .timeout_ms = (int)cfg_u64(cfg, CFG_CLIENT_TIMEOUT_MS) };
    char host[WIRE_HOST_MAX + 1];
    char hostname[256] = "localhost";
    uint16_t port;

    if (cfg_parse_hostport(cfg_str(cfg, CFG_NN_ADDR), host, sizeof(host), &port) < 0)
        return -EINVAL;
    if (wire_str_copy(wire_str_c(cfg_str(cfg, CFG_CLUSTER_ID)), id.cluster_id,
                      sizeof(id.cluster_id)) < 0)
        return -EINVAL;
    if (id.timeout_ms <= 0 || cfg_u64(cfg, CFG_CLIENT_TIMEOUT_MS) > 3600 * 1000)
        return -EINVAL;
    gethostname(hostname, sizeof(hostname) - 1);
    hostname[sizeof(hostname) - 1] = '\0';
    cl_conn_client_name(hostname, (long)getpid(), cl_client_random(), id.node_id);

    struct dfs_client *c = xcalloc(1, sizeof(*c));
    cl_conn_pool_init(&c->pool, &id, host, port);
    atomic_init(&c->next_req_id, 1);
    *out = c;
    return 0;
}

void dfs_client_free(struct dfs_client *c)
{
    if (!c)
        return;
    cl_conn_pool_fini(&c->pool);
    free(c);
}

uint64_t cl_client_req_id(struct dfs_client *c)
{
    return atomic_fetch_add(&c->next_req_id, 1);
}

int cl_client_is_idempotent(uint16_t req_type)
{
    switch (req_type) {
    case WIRE_NN_LOOKUP:
    case WIRE_NN_GETATTR:
    case WIRE_NN_READDIR:
    case WIRE_NN_STATFS:
    case WIRE_NN_GET_BLOCKS:
    case WIRE_NN_REPORT:
        return 1;
    default:
        return 0;
    }
}

/* Outcome of one attempt: a reply (status error or not) or a transport failure. */
struct cl_attempt {
    int rc;
    int is_transport; /* the connection failed; rc is the transport error */
    int is_sent;      /* the request went out completely */
};

static struct cl_attempt cl_client_attempt(int fd, const struct buf *req, uint16_t req_type,
                                           uint64_t req_id, struct buf *storage,
                                           struct wire_frame *reply)
{
    struct cl_attempt a = { .rc = sock_write_all(fd, req->data, req->len) };

    if (a.rc < 0) {
        a.is_transport = 1;
        return a;
    }
    a.is_sent = 1;
    a.rc = sock_read_reply(fd, req_type, req_id, storage, reply);
    if (a.rc < 0) {
        a.is_transport = 1; /* no reply, or one out of step: the connection is done */
        return a;
    }
    a.rc = err_from_wire(reply->hdr.status);
    return a;
}

static int cl_client_should_retry(const struct cl_attempt *a, int is_pooled, uint16_t req_type)
{
    if (!a->is_transport || !is_pooled || a->rc == -ERR_PROTO || a->rc == -ETIMEDOUT)
        return 0;
    return !a->is_sent || cl_client_is_idempotent(req_type);
}

int dfs_rpc(struct dfs_client *c, uint16_t req_type, const struct buf *body, struct buf *storage,
            struct wire_frame *reply)
{
    struct buf req;
    struct cl_attempt a = { .rc = 0 };
    uint64_t req_id = cl_client_req_id(c);

    buf_init(&req);
    size_t start = wire_frame_begin(&req);
    if (body && body->len)
        buf_put(&req, body->data, body->len);
    wire_frame_end(&req, start, req_type, req_id, 0);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd, is_pooled;
        a.rc = cl_conn_take(&c->pool, &fd, &is_pooled);
        if (a.rc < 0)
            break;
        a = cl_client_attempt(fd, &req, req_type, req_id, storage, reply);
        if (!a.is_transport) {
            cl_conn_give(&c->pool, fd);
            break;
        }
        close(fd);
        if (!cl_client_should_retry(&a, is_pooled, req_type))
            break;
    }
    buf_fini(&req);
    return a.rc;
}

int cl_client_rpc_attr(struct dfs_client *c, uint16_t req_type, const struct buf *body,
                       struct wire_attr *out)
{
    struct buf storage;
    struct wire_frame reply;
    struct wire_attr attr;
    int rc;

    buf_init(&storage);
    rc = dfs_rpc(c, req_type, body, &storage, &reply);
    if (rc == 0)
        rc = wire_attr_decode(reply.body, reply.hdr.body_len, &attr);
    if (rc == 0 && out)
        *out = attr;
    buf_fini(&storage);
    return rc;
}

int cl_client_rpc_entry(struct dfs_client *c, uint16_t req_type, const struct buf *body,
                        struct wire_attr *attr_out, struct wire_attr *parent_out)
{
    struct buf storage;
    struct wire_frame reply;
    struct wire_nn_entry_ok m;
    int rc;

    buf_init(&storage);
    rc = dfs_rpc(c, req_type, body, &storage, &reply);
    if (rc == 0)
        rc = wire_nn_entry_ok_decode(reply.body, reply.hdr.body_len, &m);
    if (rc == 0 && attr_out)
        *attr_out = m.attr;
    if (rc == 0 && parent_out)
        *parent_out = m.parent;
    buf_fini(&storage);
    return rc;
}

/* A pooled datanode connection failed before its reply: the peer closed it while it was idle,
 * and the request can go again on a fresh connection (a timeout is not that). */
static int cl_client_dn_should_retry(const struct cl_attempt *a, int is_pooled)
{
    return a->is_transport && is_pooled && a->rc != -ERR_PROTO && a->rc != -ETIMEDOUT;
}

int cl_client_dn_rpc(struct dfs_client *c, const struct cl_dn_req *r, struct buf *storage,
                     struct wire_frame *reply, int *fd_out)
{
    struct cl_attempt a = { .rc = 0 };

    for (int attempt = 0; attempt < 2; attempt++) {
        int fd, is_pooled;
        a.rc = cl_conn_dn_take(&c->pool, r->host, r->port, &fd, &is_pooled);
        if (a.rc < 0)
            break;
        a = cl_client_attempt(fd, r->frame, r->type, r->req_id, storage, reply);
        if (!a.is_transport) {
            if (a.rc == 0 && fd_out)
                *fd_out = fd;
            else
                cl_conn_dn_give(&c->pool, r->host, r->port, fd);
            break;
        }
        close(fd);
        if (!cl_client_dn_should_retry(&a, is_pooled))
            break;
    }
    return a.rc;
}
