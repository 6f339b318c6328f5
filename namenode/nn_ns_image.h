/* nn_ns_image: the persistent encodings of the namespace (docs/ON-DISK.md) — the edit-log
 * record body of one op, and the checkpoint image of the whole namespace, self-describing and
 * versioned. Pure; called from the namenode loop (journal append, checkpoint, start-up). */
#ifndef DFS_NN_NS_IMAGE_H
#define DFS_NN_NS_IMAGE_H

#include <stddef.h>

#include "buf.h"
#include "nn_ns.h"

/* Checkpoint image. Decode returns -ERR_CORRUPT on any inconsistency; ns must be freshly
 * nn_ns_init()ed and is left in a state safe to fini on failure. */
void nn_ns_image_encode(const struct nn_ns *ns, struct buf *out);
int nn_ns_image_decode(struct nn_ns *ns, const void *p, size_t len);

/* Edit-log record body for one op, and its decoder (-ERR_PROTO on malformed input). */
void nn_op_encode(const struct nn_op *op, struct buf *out);
int nn_op_decode(const void *p, size_t len, struct nn_op *op);

#endif
