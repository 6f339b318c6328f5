/* nn_dn: the datanode table — identity, advertised address, capacity figures, last heartbeat
 * and the commands waiting for a node's next heartbeat. A node keeps its index for the life of
 * the namenode process (re-registration by node id reuses it). Liveness is a function of
 * now_ms, passed in. Pure; owned by the namenode loop. */
#ifndef DFS_NN_DN_H
#define DFS_NN_DN_H

#include <stddef.h>
#include <stdint.h>

#include "nn_place.h"
#include "wire.h"

enum { NN_DN_MAX = 4096, NN_DN_CMDS_MAX = 1 << 16, NN_DN_COPIES_MAX = 64 };

/* A copy of a replica this node holds, ordered to another node (re-replication). */
struct nn_dn_copy {
    struct wire_blk blk;
    uint64_t len;
    uint32_t target; /* datanode index */
};

struct nn_dn {
    char node_id[WIRE_ID_MAX + 1];
    char host[WIRE_HOST_MAX + 1];
    uint16_t port;
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
    uint64_t last_heartbeat_ms;
    uint32_t active_writes;
    /* A full block report has ended since the node last registered: until then its locations
     * in the block map may be stale (it may have lost replicas while away). */
    uint8_t is_reported;
    uint8_t is_reporting; /* a full report's FIRST frame came, its LAST not yet */
    /* Found dead, its locations dropped from the block map: its next heartbeat is refused,
     * so that it registers and reports in full again. */
    uint8_t is_dropped;
    /* Registrations so far: a command ordered in an earlier one may have been lost with the
     * datanode's old process or connection. */
    uint32_t epoch;
    struct wire_blk *cmds; /* pending DELETE commands, bounded by NN_DN_CMDS_MAX */
    size_t cmd_count;
    size_t cmd_cap;
    struct nn_dn_copy *copies; /* pending REPLICATE commands, bounded by NN_DN_COPIES_MAX */
    uint32_t copy_count;
};

struct nn_dns {
    struct nn_dn *v;
    uint32_t count;
    uint64_t dead_ms; /* heartbeat silence after which a node is dead */
};

void nn_dns_init(struct nn_dns *d, uint64_t dead_ms);
void nn_dns_fini(struct nn_dns *d);
/* Registers (or re-registers) a node; *idx_out gets its index. -ENOSPC past NN_DN_MAX,
 * -EINVAL for a bad id or address. Counts as a heartbeat. Drops the commands still queued
 * for it: its full report, which follows, brings up every replica to delete again, and the
 * replication monitor orders its copies and deletes again (nn_repl.h); a command kept would
 * be a duplicate of one ordered again, and a second delete of a replica can hit a copy made
 * there in between. */
int nn_dns_register(struct nn_dns *d, const struct wire_dn_register *r, uint64_t now_ms,
                    uint32_t *idx_out);
void nn_dns_heartbeat(struct nn_dns *d, uint32_t idx, const struct wire_dn_heartbeat *hb,
                      uint64_t now_ms);
int nn_dns_is_live(const struct nn_dns *d, uint32_t idx, uint64_t now_ms);
/* Queues "delete blk" for node idx (dropped silently when the queue is full: the node's next
 * full block report brings the replica up again). */
void nn_dns_queue_delete(struct nn_dns *d, uint32_t idx, struct wire_blk blk);
/* Queues "copy blk (len bytes) to node target" for node idx. -ENOSPC when its queue is full. */
int nn_dns_queue_copy(struct nn_dns *d, uint32_t idx, struct wire_blk blk, uint64_t len,
                      uint32_t target);
/* Drops the copies queued for node idx (it died; the monitor forgets them). */
void nn_dns_drop_copies(struct nn_dns *d, uint32_t idx);
/* Moves up to max pending commands of node idx into out, copies first (a copy restores a
 * replica; deletes can wait); returns how many. A copy's target address borrows the table's
 * strings. */
size_t nn_dns_take_cmds(struct nn_dns *d, uint32_t idx, struct wire_dn_cmd *out, size_t max);
/* The live nodes as placement candidates weighted by free space, into out (NN_DN_MAX slots);
 * returns how many. */
size_t nn_dns_live_candidates(const struct nn_dns *d, uint64_t now_ms, struct nn_place_cand *out);
/* The node's wire address (borrowing its strings). */
void nn_dns_addr(const struct nn_dns *d, uint32_t idx, struct wire_dn_addr *out);

#endif
