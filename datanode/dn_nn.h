/* dn_nn: the datanode's control plane (libevent glue) — one connection to the namenode.
 *
 * States: DOWN --retry timer--> HELLO (HELLO sent) --HELLO_OK--> REGISTERING (DN_REGISTER
 * sent) --REGISTER_OK--> UP (full block report sent, heartbeat timer running).
 * UP: a heartbeat every heartbeat_ms (from REGISTER_OK, else dfs.heartbeat_ms); DELETE
 * commands in a reply are executed and confirmed with DN_BLOCK_DELETED, REPLICATE commands go
 * to the copier's thread (dn_copier.h; the target announces the copy); each finalized
 * replica is announced with DN_BLOCK_RECEIVED, batched: within DN_NN_RECEIVED_DELAY_MS, or at
 * once when DN_NN_RECEIVED_BATCH wait (the namenode already counts a pipeline's targets as
 * locations; for small files one message each woke the namenode, and this node again for
 * the answer, three times per file); a full report every report_secs.
 * Any loss, timeout or non-zero status on HELLO/REGISTER/HEARTBEAT/BLOCK_REPORT -> DOWN, and
 * the retry timer (DN_NN_RETRY_MS) starts over from HELLO, so register and full report are
 * redone. While DOWN nothing is queued: the next full report covers what happened.
 * The data plane never waits for this: a datanode serves reads and writes without namenode.
 * Loop thread only. */
#ifndef DFS_DN_NN_H
#define DFS_DN_NN_H

#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "dn_copier.h"
#include "dn_deleter.h"
#include "dn_store.h"
#include "wire.h"

enum {
    DN_NN_RETRY_MS = 1000,
    DN_NN_TIMEOUT_MIN_MS = 10000,
    DN_NN_DELETE_BATCH = 64,  /* deletes confirmed per DN_BLOCK_DELETED */
    DN_NN_DELETE_POLL_MS = 10, /* how often finished deletes are collected while any run */
    DN_NN_RECEIVED_BATCH = 256,   /* finalized replicas announced per DN_BLOCK_RECEIVED */
    DN_NN_RECEIVED_DELAY_MS = 50, /* how long one waits for others to join it */
};

/* Number of writes in progress, for heartbeats. */
typedef uint32_t dn_nn_active_fn(void *arg);

struct dn_nn_cfg {
    const char *nn_addr; /* host:port */
    const char *cluster_id;
    const char *node_id;
    const char *advertise_host;
    uint16_t data_port;
    uint32_t heartbeat_ms;
    uint64_t report_secs;
    dn_nn_active_fn *active_writes;
    void *active_writes_arg;
};

enum dn_nn_state { DN_NN_DOWN, DN_NN_HELLO, DN_NN_REGISTERING, DN_NN_UP };

struct dn_nn {
    struct event_base *base;
    struct dn_store *store;
    char nn_host[WIRE_HOST_MAX + 1];
    uint16_t nn_port;
    char cluster_id[WIRE_ID_MAX + 1];
    char node_id[WIRE_ID_MAX + 1];
    char advertise_host[WIRE_HOST_MAX + 1];
    uint16_t data_port;
    uint32_t heartbeat_ms_cfg;
    uint32_t heartbeat_ms;
    uint64_t report_secs;
    dn_nn_active_fn *active_writes;
    void *active_writes_arg;
    enum dn_nn_state state;
    struct bufferevent *bev;
    struct bufferevent *bev_dead; /* detached connection, freed by the retry timer */
    struct event *retry_ev;
    struct event *heartbeat_ev;
    struct event *report_ev;
    uint64_t next_req_id;
    uint32_t fail_count;
    struct buf out;
    /* DELETE commands run on the deleter's thread; delete_ev collects what it did every
     * DN_NN_DELETE_POLL_MS while it has work, and confirms it with DN_BLOCK_DELETED. */
    struct dn_deleter deleter;
    struct event *delete_ev;
    struct dn_copier copier; /* REPLICATE commands */
    bool is_copier_started;
    struct wire_blk_len received[DN_NN_RECEIVED_BATCH]; /* finalized, not announced yet */
    uint32_t received_count;
    struct event *received_ev;
};

/* Copies cfg and schedules the first connection attempt (immediately). Errors: -EINVAL
 * (bad nn.addr or over-long strings) with a message in err. */
int dn_nn_open(struct dn_nn *nn, struct event_base *base, struct dn_store *store,
               const struct dn_nn_cfg *cfg, char *err, size_t errlen);
void dn_nn_close(struct dn_nn *nn);
/* Announces a finalized replica (DN_BLOCK_RECEIVED, batched) if registered; dropped otherwise
 * (the full report after the next registration carries it). */
void dn_nn_block_received(struct dn_nn *nn, const struct wire_blk_len *e);
/* Reports a replica a read found a bad chunk in (DN_BLOCK_CORRUPT, at once) if registered;
 * dropped otherwise (the next read that finds it reports it again). */
void dn_nn_block_corrupt(struct dn_nn *nn, const struct wire_blk_len *e);

#endif
