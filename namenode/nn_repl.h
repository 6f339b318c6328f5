/* nn_repl: the replication monitor (HDFS's RedundancyMonitor in small). Every tick:
 *  - a datanode found dead loses its locations in the block map (as in HDFS; it registers and
 *    reports in full when it comes back, nn_rpc.c makes sure of that), and its queued copies;
 *    not on the first tick after a gap of more than half the dead time, which is the
 *    namenode's own stall (it has not read the heartbeats that came meanwhile);
 *  - unless some live datanode has registered and not finished its full block report (its
 *    locations may be stale or missing), it looks at a slice of the block map and, for each
 *    committed block:
 *    - with fewer replicas on live datanodes than its file's replication, orders one live
 *      holder, the source, to copy it to a live datanode that holds no replica of it, not
 *      even one being deleted, and has room for it (a weighted random choice by free space,
 *      as in HDFS); one copy per block at a time, at most streams_per_dn in flight per source.
 *      The copy counts once the target reports the replica (DN_BLOCK_RECEIVED, or a full
 *      report), after it is on the target's disk; a copy not reported within timeout_ms, or
 *      whose source or target died, or whose source found its replica corrupt, is forgotten
 *      and the block ordered again (the source and target drawn again);
 *    - with more (a dead datanode came back), orders the excess deleted: the replicas
 *      placement ranks lowest, never the source or target of a copy in flight.
 * A replica ordered deleted, or found corrupt (nn_repl_note_corrupt()), is doomed: it is no
 * location (the map dropped it), reports of it are ignored (nn_repl_is_doomed()), it is no
 * target, and it is forgotten when its datanode reports it deleted (nn_repl_on_deleted()).
 * A delete is ordered once per registration of its datanode (nn_dn.h: a registration drops
 * the commands still queued for the node), and again after the next one: a second delete in
 * one registration could hit a copy made there in between. A corrupt replica is ordered
 * deleted once the block has its replication in good live replicas, or at once if no target
 * is left for a copy while two good replicas remain (a replica is good only until a read
 * finds it bad: with one left, the corrupt ones may hold the only good copy of some chunk).
 * Until deleted, corrupt replicas are offered to readers too, after the good ones
 * (nn_repl_doomed_locs()). A block with no live replica is lost until one comes back.
 * After a namenode start every location is unknown until the datanodes register and report,
 * so the monitor orders nothing before not_before_ms. Pure (time is passed in); owned by the
 * namenode loop. */
#ifndef DFS_NN_REPL_H
#define DFS_NN_REPL_H

#include <stddef.h>
#include <stdint.h>

#include "nn_blocks.h"
#include "nn_dn.h"
#include "nn_place.h"
#include "u64map.h"

/* Blocks per tick: a pass over a million blocks takes 64 ticks (about a minute at the default
 * period), each a millisecond or two of the loop. */
enum { NN_REPL_STREAMS_MAX = 64, NN_REPL_SCAN_PER_TICK = 1 << 14 };

struct nn_repl_opts {
    uint32_t streams_per_dn; /* copies in flight per source datanode, 1..NN_REPL_STREAMS_MAX */
    uint64_t timeout_ms;     /* a copy not reported by then is ordered again */
    uint32_t scan_per_tick;  /* blocks looked at per tick */
    uint64_t not_before_ms;  /* idle before this (the datanodes' first reports) */
};

struct nn_repl {
    struct nn_repl_opts opts;
    struct u64map copies; /* block id -> struct nn_repl_copy (owned): copies in flight */
    struct u64map doomed; /* block id -> struct nn_repl_doomed (owned): replicas to delete */
    uint16_t *in_flight;  /* copies in flight per source datanode index (NN_DN_MAX) */
    struct nn_place_cand *cands; /* 2 * NN_DN_MAX: a tick's live datanodes and a scratch list */
    size_t cursor;        /* the scan's position in the block map (nn_blocks_next) */
    uint64_t last_tick_ms; /* 0 before the first */
    struct nn_repl_stats {
        uint64_t copies_ordered;
        uint64_t deletes_ordered;
        uint64_t copies_done;
        uint64_t copies_dropped; /* timed out, source or target dead, or block gone */
        uint64_t corrupt_deletes_ordered;
        uint64_t dns_dropped;    /* datanodes found dead, their locations dropped */
    } totals;                    /* since start, for the log and tests */
};

void nn_repl_init(struct nn_repl *r, const struct nn_repl_opts *opts);
void nn_repl_fini(struct nn_repl *r);
/* One step of the monitor at now_ms: forgets failed copies, then looks at the next
 * scan_per_tick blocks, queuing commands on the datanodes (nn_dns_queue_copy/_delete). */
void nn_repl_tick(struct nn_repl *r, struct nn_blocks *bm, struct nn_dns *dns, uint64_t now_ms);
/* Datanode dn reported a valid replica of block id: a copy to it is done. */
void nn_repl_on_replica(struct nn_repl *r, uint64_t blk_id, uint16_t dn);
/* Datanode dn holds a corrupt replica of block id (the caller has dropped the location). */
void nn_repl_note_corrupt(struct nn_repl *r, uint64_t blk_id, uint16_t dn);
/* Whether dn's replica of block id is corrupt or ordered deleted: no location, whatever the
 * datanode reports, until it reports it deleted. */
int nn_repl_is_doomed(const struct nn_repl *r, uint64_t blk_id, uint16_t dn);
/* Datanode dn no longer holds a replica of block id (it reported it deleted). */
void nn_repl_on_deleted(struct nn_repl *r, uint64_t blk_id, uint16_t dn);
/* The datanodes holding doomed replicas of block id (only the corrupt ones if only_corrupt),
 * into out (NN_LOCS_MAX slots). */
size_t nn_repl_doomed_locs(const struct nn_repl *r, uint64_t blk_id, int only_corrupt,
                           uint16_t *out);
/* Copies in flight (for tests and the report). */
size_t nn_repl_in_flight(const struct nn_repl *r);

#endif
