/* cl_write: the writer's bookkeeping, with no I/O — how appended bytes become packets, where
 * block boundaries fall, and the window of packets sent but not yet acknowledged.
 *
 * Data flows: append -> the fill packet (one slot of the window ring) -> seal (checksummed,
 * numbered, handed to the glue to send) -> acked (slot freed). The window holds at most
 * CL_WRITE_WINDOW slots of WIRE_PKT_DATA_MAX bytes, sent and filling together, so a writer
 * never holds more than 8 MiB. Unacked packets keep their data so a later pipeline recovery
 * can resend them.
 *
 * Sending is lazy: a full packet is sealed only when more bytes must go into the same block,
 * so when the writer is flushed its open block always has unsent bytes to carry the LAST flag
 * (no empty packets). A block is allocated only when there is data for it.
 *
 * Invariants (cl_write_assert_valid): sent_count <= CL_WRITE_WINDOW; packets in the window
 * have consecutive seqs and offsets; the fill packet exists iff sent_count < CL_WRITE_WINDOW;
 * blk_len <= block_size; once the LAST packet is sealed nothing more is appended.
 * Single-threaded: the dfs_writer's mutex serializes every call. */
#ifndef DFS_CL_WRITE_H
#define DFS_CL_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum { CL_WRITE_WINDOW = 8 };

struct cl_write_pkt {
    uint8_t *data; /* WIRE_PKT_DATA_MAX bytes, owned, allocated on first use */
    uint32_t len;
    uint64_t seq;
    uint64_t blk_off;
    uint8_t flags; /* WIRE_PKT_LAST */
    uint8_t csums_raw[8 * WIRE_PKT_CSUMS_MAX];
};

struct cl_write {
    uint64_t block_size;
    uint64_t size; /* file size as this writer sees it: committed + appended */
    int has_block; /* a block is allocated and its pipeline is (to be) open */
    int is_last_sealed;
    struct wire_blk blk;
    uint64_t blk_len; /* bytes appended to the current block */
    uint64_t next_seq;
    struct wire_blk pending; /* finished block not committed at the namenode yet; id 0: none */
    uint64_t pending_len;
    struct cl_write_pkt slots[CL_WRITE_WINDOW];
    uint32_t head;       /* oldest unacked packet */
    uint32_t sent_count; /* sealed and not acknowledged */
};

/* What the glue must do before the next bytes can be appended. */
enum cl_write_step {
    CL_WRITE_STEP_APPEND,    /* cl_write_append() will take bytes */
    CL_WRITE_STEP_ADD_BLOCK, /* NN_ADD_BLOCK(prev = pending), open the pipeline, on_block() */
    CL_WRITE_STEP_SEND,      /* seal(is_last = 0) and send the full packet */
    CL_WRITE_STEP_END_BLOCK, /* seal(is_last = 1), send, wait for every ack, on_block_done() */
    CL_WRITE_STEP_WAIT_ACK,  /* the window is full: wait for one ack */
};

void cl_write_init(struct cl_write *w, uint64_t block_size, uint64_t size);
void cl_write_fini(struct cl_write *w);
void cl_write_assert_valid(const struct cl_write *w);

enum cl_write_step cl_write_next_step(const struct cl_write *w);
/* Copies up to len bytes into the fill packet, never past the packet or the block; returns
 * the count taken (> 0 when next_step is APPEND and len > 0). */
size_t cl_write_append(struct cl_write *w, const void *data, size_t len);
/* Bytes in the fill packet (0 if there is none). */
uint32_t cl_write_fill_len(const struct cl_write *w);
/* Turns the fill packet into the next packet to send: computes its chunk checksums, assigns
 * seq and offset, and sets LAST if is_last. *out borrows from w until the packet is acked. */
void cl_write_seal(struct cl_write *w, int is_last, struct wire_dn_write_pkt *out);
/* The i-th packet sent and not acknowledged yet (0: the oldest), as cl_write_seal() gave it
 * (without the glue's flags such as WIRE_PKT_SYNC): to send it again over a new connection. */
void cl_write_sent_pkt(const struct cl_write *w, uint32_t i, struct wire_dn_write_pkt *out);
/* An ack arrived. Acks come in seq order: anything else is -ERR_PROTO. A failure status
 * returns its error (and keeps the packet in the window). */
int cl_write_on_ack(struct cl_write *w, const struct wire_dn_write_ack *ack);
/* NN_ADD_BLOCK gave blk (which also committed any pending block). */
void cl_write_on_block(struct cl_write *w, struct wire_blk blk);
/* Every packet of the block up to LAST is acked: the block becomes pending. */
void cl_write_on_block_done(struct cl_write *w);
/* NN_COMPLETE committed the pending block. */
void cl_write_on_commit(struct cl_write *w);

#endif
