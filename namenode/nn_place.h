/* nn_place: replica placement by weighted rendezvous (highest-random-weight) hashing.
 * For a block id, every candidate datanode gets the score w / -ln(u), where u in (0,1) is a
 * hash of (block id, node id) and w its weight (free space); the highest scores win. The
 * choice is deterministic and explainable, and when a node joins or leaves only about 1/N of
 * the blocks change their top choices. Pure. */
#ifndef DFS_NN_PLACE_H
#define DFS_NN_PLACE_H

#include <stddef.h>
#include <stdint.h>

struct nn_place_cand {
    const char *node_id; /* stable identity hashed with the block id */
    uint64_t weight;     /* e.g. remaining bytes; 0 is treated as 1 */
    uint32_t idx;        /* caller's index, returned in out[] */
};

/* Chooses min(want, count) distinct candidates for blk_id, best first, into out (their idx).
 * Returns how many were chosen. */
size_t nn_place_choose(const struct nn_place_cand *cands, size_t count, uint64_t blk_id,
                       size_t want, uint32_t *out);
/* The score of one candidate (exposed for tests). */
double nn_place_score(const struct nn_place_cand *cand, uint64_t blk_id);

#endif
