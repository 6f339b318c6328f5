/* nn_blocks: the block map — for every block of every file, its generation, owning inode,
 * committed length and the datanodes reported to hold a replica. Locations are soft state,
 * rebuilt from block reports after a restart and never logged (as in HDFS). Pure; owned by
 * the namenode loop. */
#ifndef DFS_NN_BLOCKS_H
#define DFS_NN_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"
#include "wire.h"

enum { NN_LOCS_MAX = 8 };

struct nn_blk {
    uint64_t id;
    uint64_t gen;
    uint64_t ino;
    uint64_t len;          /* committed length; meaningful when is_committed */
    uint8_t is_committed;
    uint8_t replication;
    uint8_t loc_count;
    uint16_t locs[NN_LOCS_MAX]; /* datanode indexes (struct nn_dns) */
};

struct nn_blocks {
    struct u64map map; /* id -> struct nn_blk * (owned) */
};

void nn_blocks_init(struct nn_blocks *bm);
void nn_blocks_fini(struct nn_blocks *bm);
struct nn_blk *nn_blocks_get(const struct nn_blocks *bm, uint64_t id);
/* Adds a block with no locations (a new block, or one found by replay). */
struct nn_blk *nn_blocks_add(struct nn_blocks *bm, struct wire_blk blk, uint64_t ino,
                             uint8_t replication);
/* Removes a block; its former locations are written to locs_out (NN_LOCS_MAX slots) so the
 * caller can order the replicas deleted. Returns how many. */
size_t nn_blocks_remove(struct nn_blocks *bm, uint64_t id, uint16_t *locs_out);
/* A datanode holds a replica {blk, len}. Returns 1 if it is a valid replica (recorded as a
 * location), 0 if the replica should be deleted (unknown block, stale gen, wrong length). */
int nn_blocks_on_replica(struct nn_blocks *bm, uint16_t dn, struct wire_blk blk, uint64_t len);
/* A datanode no longer holds replica id (deleted, or about to be re-reported in full). */
void nn_blocks_drop_loc(struct nn_blocks *bm, uint16_t dn, uint64_t id);
/* Forgets every location on datanode dn (start of a full block report). */
void nn_blocks_drop_dn(struct nn_blocks *bm, uint16_t dn);
/* How many locations datanode dn holds. */
uint64_t nn_blocks_count_on(const struct nn_blocks *bm, uint16_t dn);

#endif
