/* cl_client: struct dfs_client (private to libdfs) — config, the namenode connection pool,
 * the client's name and the request-id counter — plus dfs_client_new/free and dfs_rpc, the one
 * namenode round trip every metadata, writer and reader call goes through.
 *
 * Thread-safety: everything is immutable after dfs_client_new() except the pool (own mutex)
 * and next_req_id (atomic). Glue: socket I/O through cl_conn. */
#ifndef DFS_CL_CLIENT_H
#define DFS_CL_CLIENT_H

#include <stdatomic.h>
#include <stdint.h>

#include "cl_conn.h"
#include "dfs.h"

struct dfs_client {
    struct cl_conn_pool pool; /* its id holds cluster id, client name and timeout */
    atomic_uint_fast64_t next_req_id;
};

/* A fresh request id (unique within this client). */
uint64_t cl_client_req_id(struct dfs_client *c);
/* True for requests that may be repeated without changing the outcome. Pure. */
int cl_client_is_idempotent(uint16_t req_type);
/* dfs_rpc() answered by a wire_nn_entry_ok (either out may be NULL). */
int cl_client_rpc_entry(struct dfs_client *c, uint16_t req_type, const struct buf *body,
                        struct wire_attr *attr_out, struct wire_attr *parent_out);
/* dfs_rpc() followed by wire_attr_decode() of the reply into *out (may be NULL). */
int cl_client_rpc_attr(struct dfs_client *c, uint16_t req_type, const struct buf *body,
                       struct wire_attr *out);

/* One request to a datanode: a complete frame of type and req_id for host:port. */
struct cl_dn_req {
    const char *host;
    uint16_t port;
    const struct buf *frame;
    uint16_t type;
    uint64_t req_id;
};

/* One round trip with a datanode over a pooled connection; a pooled connection that turns out
 * dead (EOF, reset, broken pipe before any reply byte) is replaced by a fresh one, once. On a
 * reply (rc 0 or the reply's status error) the connection is healthy: with fd_out and rc == 0
 * the caller gets it (and gives it back with cl_conn_dn_give() or closes it), otherwise it
 * goes back to the pool. On a transport error it is closed. */
int cl_client_dn_rpc(struct dfs_client *c, const struct cl_dn_req *r, struct buf *storage,
                     struct wire_frame *reply, int *fd_out);

#endif
