/* dn_server: the datanode's data plane (libevent glue) — the listener and one dn_conn per
 * accepted connection: HELLO, then any number of writes (dn_write.c) and reads (dn_read.c),
 * one at a time. Decisions live in dn_pipe and dn_chunk; this file and its two siblings only
 * move bytes, call the store and execute actions.
 *
 * Connection states:
 *   HELLO    -> IDLE (good HELLO) | DRAINING (wrong cluster, or a request before HELLO)
 *   IDLE     -> OPENING (WRITE_OPEN with downstream) | WRITING (no downstream) | READING
 *   OPENING  -> WRITING (downstream OPEN_OK) | IDLE (open failed, error replied)
 *   WRITING  -> IDLE (LAST acked) | DRAINING (pipeline failed, error acked)
 *   READING  -> IDLE (EOF frame or error frame queued)
 *   DRAINING -> CLOSING once the output is flushed;  any -> CLOSING on error or timeout.
 * A bad frame ends a write and drains. The peer's EOF (a half-close) drains once IDLE: a read
 * in progress is finished first, a write still missing packets ends, one whose LAST arrived
 * finishes; EOF in HELLO closes at once.
 * While OPENING, READING or DRAINING (or when the downstream's output is above its high
 * watermark) no further request is taken from the input buffer: that is the back-pressure.
 * A connection is freed only from its deferred close event, never inside its own callbacks.
 * Everything runs on the loop thread of the event base. */
#ifndef DFS_DN_SERVER_H
#define DFS_DN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "buf.h"
#include "dn_down.h"
#include "dn_frame.h"
#include "dn_pipe.h"
#include "dn_store.h"
#include "wire.h"

enum {
    DN_CONNS_MAX = 1024,
    DN_IDLE_TIMEOUT_S = 300,      /* upstream silence before the connection is dropped */
    DN_DOWN_TIMEOUT_S = 120,      /* downstream silence (no ack) before the pipe fails */
    DN_IN_HIGH = 2 * (WIRE_HDR_LEN + WIRE_BODY_MAX), /* stop reading a socket above this */
    DN_DOWN_HIGH = 8 << 20,       /* pause upstream while the downstream queue is above */
    DN_DOWN_LOW = 2 << 20,        /* ... and resume once it drained below this */
    DN_READ_LOW = 2 << 20,        /* queue the next read frame while output is below this */
    DN_IO_SINGLE_MAX = 1 << 20,   /* bytes per socket read/write call (libevent's is 16 KiB) */
};

/* What the data plane tells the control plane about a replica: finalized (it sends
 * DN_BLOCK_RECEIVED), or found corrupt by a read (DN_BLOCK_CORRUPT). */
typedef void dn_server_replica_fn(void *arg, const struct wire_blk_len *e);

struct dn_server_cfg {
    const char *cluster_id;
    const char *node_id;
    const char *listen_host;
    uint16_t listen_port; /* 0: ephemeral */
    dn_server_replica_fn *on_finalized;
    dn_server_replica_fn *on_corrupt;
    void *replica_fn_arg;
};

struct dn_conn;

struct dn_server {
    struct event_base *base;
    struct dn_store *store;
    char cluster_id[WIRE_ID_MAX + 1];
    char node_id[WIRE_ID_MAX + 1];
    dn_server_replica_fn *on_finalized;
    dn_server_replica_fn *on_corrupt;
    void *replica_fn_arg;
    struct evconnlistener *listener;
    uint16_t port; /* the bound port */
    struct dn_conn *conns;
    uint32_t conn_count;
    uint32_t active_writes;
    struct dn_down_pool down_pool; /* idle downstream connections for the next pipelines */
};

enum dn_conn_state {
    DN_CONN_HELLO,
    DN_CONN_IDLE,
    DN_CONN_OPENING,
    DN_CONN_WRITING,
    DN_CONN_READING,
    DN_CONN_DRAINING,
    DN_CONN_CLOSING,
};

/* Internal to dn_server.c, dn_write.c and dn_read.c. */
struct dn_conn {
    struct dn_server *srv;
    struct dn_conn *prev, *next;
    struct bufferevent *bev;
    struct event *tidy_ev; /* deferred: free down_dead, or the whole conn when CLOSING */
    enum dn_conn_state state;
    bool is_peer_done; /* EOF: no more requests; close once the replies owed are written */
    struct buf out; /* frame encoding scratch */
    struct dn_frame_rx rx; /* a large frame being received straight into its block */
    /* write */
    bool has_rbw;
    bool is_write_counted; /* in srv->active_writes: dn_write_end() is still owed */
    struct dn_rbw rbw;
    struct dn_pipe pipe;
    uint64_t open_req_id;
    struct bufferevent *down;      /* downstream datanode, while OPENING/WRITING */
    bool is_down_pooled;           /* down came from the pool and has not answered yet */
    char down_host[WIRE_HOST_MAX + 1]; /* where down goes */
    uint16_t down_port;
    struct buf down_open;          /* the WRITE_OPEN frame sent down (kept for a redial) */
    struct evbuffer *down_early;   /* packets forwarded to a pooled down that has not answered
                                      yet (references, not copies), resent after a redial */
    struct bufferevent *down_dead; /* detached downstream awaiting free in tidy_ev */
    /* read */
    bool has_reader;
    struct dn_reader rd;
    uint64_t read_req_id;
    uint64_t read_off;
    uint64_t read_end;
    uint64_t read_advised; /* read-ahead was asked of the kernel up to here */
    uint8_t *read_buf; /* WIRE_PKT_DATA_MAX bytes, allocated on the first read */
};

/* Binds the listener and starts accepting. cfg's strings are copied. On failure a message
 * is written to err and -EADDRINUSE/-EINVAL/... is returned. */
int dn_server_open(struct dn_server *srv, struct event_base *base, struct dn_store *store,
                   const struct dn_server_cfg *cfg, char *err, size_t errlen);
/* Closes the listener and every connection (aborting writes in progress). */
void dn_server_close(struct dn_server *srv);

/* ---- for dn_write.c and dn_read.c (loop thread only) ---- */

/* Queues an empty reply frame {type, req_id, status = err_to_wire(rc)}. */
void dn_conn_reply_empty(struct dn_conn *c, uint16_t type, uint64_t req_id, int rc);
/* Stops taking requests and closes once everything queued was sent. */
void dn_conn_drain(struct dn_conn *c);
/* Closes from a deferred event; safe inside any callback. */
void dn_conn_close_later(struct dn_conn *c);
/* Takes requests from the input buffer until one blocks. Call from a callback only. */
void dn_conn_process(struct dn_conn *c);
/* Schedules the tidy event (frees a detached downstream). */
void dn_conn_tidy_later(struct dn_conn *c);
/* Lets bev write up to DN_IO_SINGLE_MAX bytes per syscall: a 1 MiB packet then takes a few
 * calls instead of 64 (libevent's default is 16 KiB). libevent 2.1 still reads at most 4 KiB
 * per read event whatever is set here, so the read callbacks pull the rest themselves with
 * net_read_more(). */
void dn_conn_set_io_sizes(struct bufferevent *bev);

#endif
