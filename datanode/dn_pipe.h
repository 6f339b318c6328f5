/* dn_pipe: the write-pipeline state machine of one replica on one datanode, pure (no sockets,
 * no files, no clock). The glue feeds it events (a packet from upstream, a local write or
 * finalize completing, an ack or a failure from downstream) and executes the actions it
 * returns in order: forward the packet, write it, finalize the replica, ack upstream, abort.
 *
 * Rules it enforces (docs/PROTOCOL.md "Write pipeline"):
 *  - packets arrive with seq 0, 1, 2, ... and offset = bytes received so far (chunk-aligned);
 *    only the LAST packet may end in a partial chunk; nothing follows LAST;
 *  - every chunk checksum is verified before the packet is forwarded or written;
 *  - DN_WRITE_ACK {seq} goes upstream in seq order, once the local write (for LAST: the
 *    finalize) is done and, with a downstream, the downstream acked that seq;
 *  - a failure produces one ACK_UP with the error and failed_idx (0 = this node, a relayed
 *    downstream failure adds 1) followed by ABORT; the pipe is then FAILED for good.
 * At most DN_PIPE_WINDOW packets may be unacked; one more is refused with -EAGAIN.
 * Owned by one connection; called from its loop thread only. */
#ifndef DFS_DN_PIPE_H
#define DFS_DN_PIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

enum {
    DN_PIPE_WINDOW = 256, /* unacked packets; a 64 MiB block is 64 full packets */
    DN_ACTS_MAX = DN_PIPE_WINDOW + 4,
};

enum dn_act_kind {
    DN_ACT_FORWARD,  /* send the current packet's frame downstream as is */
    DN_ACT_WRITE,    /* write the current packet's data and checksums; then on_write_done */
    DN_ACT_FINALIZE, /* fsync and finalize the replica; then on_finalize_done */
    DN_ACT_ACK_UP,   /* send DN_WRITE_ACK {seq, rc, failed_idx} upstream, req_id = tag */
    DN_ACT_ABORT,    /* the pipeline failed: drop the replica and the downstream */
};

struct dn_act {
    enum dn_act_kind kind;
    uint64_t seq;
    uint64_t tag;       /* the tag given with the packet (the glue uses its req_id) */
    int rc;             /* ACK_UP: 0 or a negative error */
    uint8_t failed_idx; /* ACK_UP: WIRE_ACK_NO_FAILED when rc == 0 */
};

struct dn_out {
    struct dn_act acts[DN_ACTS_MAX];
    uint32_t count;
};

enum dn_pipe_state {
    DN_PIPE_OPEN,   /* receiving packets */
    DN_PIPE_LAST,   /* LAST received; waiting for its write, finalize and acks */
    DN_PIPE_DONE,   /* every packet acked upstream, replica finalized */
    DN_PIPE_FAILED, /* error acked upstream and ABORT emitted */
};

struct dn_pipe_slot {
    uint64_t seq;
    uint64_t tag;
    bool is_last;
    bool is_written;  /* local write (for LAST: finalize) done */
    bool is_ds_acked; /* downstream acked (always true without a downstream) */
};

struct dn_pipe {
    enum dn_pipe_state state;
    bool has_downstream;
    uint64_t next_seq;    /* seq the next packet must carry */
    uint64_t next_offset; /* offset the next packet must carry = bytes received */
    uint64_t ack_seq;     /* oldest seq not yet acked upstream; slots [ack_seq, next_seq) */
    uint64_t ds_ack_seq;  /* seq the next downstream ack must carry */
    int ds_fail_rc;       /* downstream broke while nothing was in flight: fail the next packet */
    struct dn_pipe_slot slots[DN_PIPE_WINDOW]; /* ring indexed by seq % DN_PIPE_WINDOW */
};

void dn_pipe_init(struct dn_pipe *p, bool has_downstream);
/* A packet from upstream (already decoded; its data and csums are only read during the call).
 * Emits FORWARD (with a downstream) and WRITE, or on a bad packet ACK_UP + ABORT.
 * Returns 0, or the error that failed the pipe (-ERR_PROTO, -ERR_CHECKSUM, -EAGAIN), or
 * -ERR_PIPELINE if it had already failed or finished (nothing emitted then). */
int dn_pipe_on_packet(struct dn_pipe *p, const struct wire_dn_write_pkt *pkt, uint64_t tag,
                      struct dn_out *out);
/* The WRITE of seq finished with rc (0 or negative). May emit FINALIZE, ACK_UP, ABORT. */
int dn_pipe_on_write_done(struct dn_pipe *p, uint64_t seq, int rc, struct dn_out *out);
/* The FINALIZE finished with rc. May emit ACK_UP, ABORT. */
int dn_pipe_on_finalize_done(struct dn_pipe *p, int rc, struct dn_out *out);
/* A DN_WRITE_ACK from downstream. Acks must come in seq order. May emit ACK_UP, ABORT. */
int dn_pipe_on_downstream_ack(struct dn_pipe *p, const struct wire_dn_write_ack *ack,
                              struct dn_out *out);
/* The downstream connection broke (rc < 0). Fails the pipe with -ERR_PIPELINE, failed_idx 1,
 * acking the oldest unacked seq. With nothing in flight the failure is remembered and the
 * next packet is answered with it; once DONE or FAILED this is a no-op returning 0. */
int dn_pipe_on_downstream_failed(struct dn_pipe *p, int rc, struct dn_out *out);
/* Packets received but not yet acked upstream. */
uint64_t dn_pipe_inflight(const struct dn_pipe *p);
void dn_pipe_assert_valid(const struct dn_pipe *p);

#endif
