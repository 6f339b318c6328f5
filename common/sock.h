/* sock: blocking-socket glue for the client library and tools — connect with a timeout, send
 * whole buffers, receive whole frames, one request/response round trip, and the HELLO
 * handshake. Each fd is used by one thread at a time (the caller's pool enforces it). */
#ifndef DFS_SOCK_H
#define DFS_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "wire.h"

/* Connects to host:port; send/receive timeouts of timeout_ms are set on the socket.
 * Returns the fd, or -errno (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, ...). */
int sock_connect(const char *host, uint16_t port, int timeout_ms);
int sock_write_all(int fd, const void *p, size_t len);
/* Reads exactly one frame into storage (reused; grows as needed). *f's body borrows from
 * storage until its next use. Errors: -ECONNRESET at EOF, -errno, -ERR_PROTO, -ERR_CHECKSUM. */
int sock_read_frame(int fd, struct buf *storage, struct wire_frame *f);
/* Reads one frame and checks that it answers req_type/req_id (type req_type + 1, same id):
 * 0 (its status is not looked at), -ERR_PROTO if it answers something else, or what
 * sock_read_frame() returns. */
int sock_read_reply(int fd, uint16_t req_type, uint64_t req_id, struct buf *storage,
                    struct wire_frame *reply);
/* Sends the complete frame in req (type req_type, id req_id), reads the reply, and checks that
 * it answers it (type req_type + 1, same req_id). A non-zero reply status is returned as its
 * negative error code; on success *reply holds the body. */
int sock_rpc(int fd, const struct buf *req, uint16_t req_type, uint64_t req_id,
             struct buf *storage, struct wire_frame *reply);
/* HELLO round trip: announces kind and node_id, checks the peer's cluster id.
 * Errors: -ERR_CLUSTER, -ERR_VERSION, transport errors. */
int sock_hello(int fd, const char *cluster_id, uint8_t node_kind, const char *node_id);

#endif
