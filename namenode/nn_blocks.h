/* nn_blocks: the block map — for every block of every file, its owning inode and the
 * datanodes reported to hold a replica. Locations are soft state, rebuilt from block reports
 * after a restart and never logged (as in HDFS). A block's generation, length, commit state and
 * replication are not copied here: they are read from the namespace (the constructor's ns), so
 * the map holds only what the namespace does not, 24 bytes an entry stored inline in an
 * open-addressing table; locations past the first NN_LOCS_INLINE (replication above 3) go to a
 * side map. Every block in the map must exist in ns under its inode. Pure; owned by the
 * namenode loop. */
#ifndef DFS_NN_BLOCKS_H
#define DFS_NN_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "nn_ns.h"
#include "nn_otab.h"
#include "u64map.h"
#include "wire.h"

enum { NN_LOCS_MAX = 8, NN_LOCS_INLINE = 3 };
_Static_assert((int)NN_LOCS_MAX >= (int)NN_REPLICATION_MAX, "a block's locations hold every replica");

/* One block as seen through the map: its entry joined with the namespace's record. */
struct nn_blk {
    uint64_t id;
    uint64_t gen;
    uint64_t ino;
    uint64_t len; /* committed length; meaningful when is_committed */
    uint8_t is_committed;
    uint8_t replication;
    uint8_t loc_count;
    uint16_t locs[NN_LOCS_MAX]; /* datanode indexes (struct nn_dns) */
};

struct nn_blocks {
    const struct nn_ns *ns; /* borrowed; outlives the map */
    struct nn_otab map;     /* id -> struct nn_blocks_entry (nn_blocks.c) */
    struct u64map more;     /* id -> uint16_t[NN_LOCS_MAX - NN_LOCS_INLINE] (owned) */
};

void nn_blocks_init(struct nn_blocks *bm, const struct nn_ns *ns);
void nn_blocks_fini(struct nn_blocks *bm);
/* Whether datanode dn is one of b's locations. */
int nn_blk_has_loc(const struct nn_blk *b, uint16_t dn);
/* Fills *out with block id (0 is never a block). Returns 0, or -ENOENT. */
int nn_blocks_get(const struct nn_blocks *bm, uint64_t id, struct nn_blk *out);
int nn_blocks_has(const struct nn_blocks *bm, uint64_t id);
/* Adds block id of file ino with no locations (a new block, or one found by replay). The
 * namespace must already hold it; the id must not be in the map yet. */
void nn_blocks_add(struct nn_blocks *bm, uint64_t id, uint64_t ino);
/* Removes a block; its former locations are written to locs_out (NN_LOCS_MAX slots) so the
 * caller can order the replicas deleted. Returns how many. */
size_t nn_blocks_remove(struct nn_blocks *bm, uint64_t id, uint16_t *locs_out);
/* The datanodes a new block's pipeline was given: its locations until reports say otherwise.
 * A client commits a block only after every one of them acknowledged all of it, so a reader
 * of the committed block finds its replicas there without waiting for DN_BLOCK_RECEIVED (a
 * datanode batches those); a full block report drops any that did not materialize. */
void nn_blocks_expect(struct nn_blocks *bm, uint64_t id, const uint32_t *dns, uint32_t count);
/* A datanode holds a replica {blk, len}. Returns 1 if it is a valid replica (recorded as a
 * location), 0 if the replica should be deleted (unknown block, stale gen, wrong length; with
 * a wrong length, the datanode is no location of the block either). */
int nn_blocks_on_replica(struct nn_blocks *bm, uint16_t dn, struct wire_blk blk, uint64_t len);
/* A datanode no longer holds replica id (deleted, or about to be re-reported in full). */
void nn_blocks_drop_loc(struct nn_blocks *bm, uint16_t dn, uint64_t id);
/* Forgets every location on datanode dn (start of a full block report), but those of blocks
 * still being written: the report lists finalized replicas only, and the pipeline's targets
 * stay the locations of the block its client is about to commit. */
void nn_blocks_drop_dn(struct nn_blocks *bm, uint16_t dn);
/* How many locations datanode dn holds. */
uint64_t nn_blocks_count_on(const struct nn_blocks *bm, uint16_t dn);
/* Iteration over every block: start with *pos = 0; returns 1 and fills *out, or 0 at the
 * end. The map must not change during an iteration. */
int nn_blocks_next(const struct nn_blocks *bm, size_t *pos, struct nn_blk *out);
/* O(n) check: every entry names a block its inode holds; panics on violation. */
void nn_blocks_assert_valid(const struct nn_blocks *bm);

#endif
