/* dn_copier: copies replicas to other datanodes on a thread of its own — the namenode's
 * REPLICATE commands (re-replication after a datanode died; nn_repl.h).
 *
 * A copy is a one-node pipeline write seen from the target's side: HELLO as a datanode,
 * DN_WRITE_OPEN {blk, no downstream}, the replica's chunks in DN_WRITE_PKT frames with their
 * stored checksums (each chunk verified as it is read, so a corrupt replica is never copied),
 * the LAST packet flagged SYNC, then the acks. A replica of its own found corrupt (a chunk
 * read back wrong, a missing or torn checksum file, another length than the namenode's) is
 * kept for the loop to report (dn_copier_take_corrupt()); a checksum error the target
 * answers with is not this replica's. The target verifies every chunk again, puts
 * the replica on disk before its last ack and announces it to the namenode (DN_BLOCK_RECEIVED),
 * which counts it only then. A copy that fails is only logged: the namenode orders it again
 * after nn.replication_timeout_ms, or at once if the target died.
 *
 * The loop hands commands over with dn_copier_push() into a bounded ring guarded by a mutex;
 * the thread reads the store through dn_store_read_open(), which touches nothing of the store
 * but its fixed directory (a replica deleted meanwhile fails the copy, it does not corrupt
 * it). Commands still queued when the copier stops are dropped. */
#ifndef DFS_DN_COPIER_H
#define DFS_DN_COPIER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dn_store.h"
#include "wire.h"

enum {
    DN_COPIER_MAX = 64,          /* copies queued (the namenode keeps fewer in flight) */
    DN_COPY_TIMEOUT_MS = 30000,  /* connect, and every send and receive of a copy */
};

struct dn_copy_job {
    struct wire_blk blk;
    uint64_t len;
    char host[WIRE_HOST_MAX + 1];
    uint16_t port;
};

/* Who copies: the identity it says HELLO with, and its socket timeout. */
struct dn_copy_self {
    char cluster_id[WIRE_ID_MAX + 1];
    char node_id[WIRE_ID_MAX + 1];
    int timeout_ms;
};

struct dn_copier {
    const struct dn_store *store; /* borrowed; outlives the copier */
    struct dn_copy_self self;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct dn_copy_job ring[DN_COPIER_MAX]; /* guarded by mu */
    uint32_t head;                          /* guarded by mu */
    uint32_t count;                         /* guarded by mu */
    struct wire_blk_len corrupt[DN_COPIER_MAX]; /* guarded by mu; found corrupt, not taken */
    uint32_t corrupt_count;                 /* guarded by mu */
    bool is_stopping;                       /* guarded by mu */
    atomic_bool is_stop_asked; /* read by a copy between packets, without the mutex */
};

/* Starts the thread. 0 or -errno. */
int dn_copier_start(struct dn_copier *c, const struct dn_store *store,
                    const struct dn_copy_self *self);
/* Queues a REPLICATE command; false (and nothing queued) if the ring is full or the command
 * names no usable target. */
bool dn_copier_push(struct dn_copier *c, const struct wire_dn_cmd *cmd);
/* Moves the replicas copies found corrupt (at most max) into out; returns how many. */
uint32_t dn_copier_take_corrupt(struct dn_copier *c, struct wire_blk_len *out, uint32_t max);
/* Stops the thread (a copy in progress ends at its next packet); drops the queue. */
void dn_copier_stop(struct dn_copier *c);

#endif
