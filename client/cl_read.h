/* cl_read: the reader's decisions, with no I/O — the cached block list of a file, which
 * replica to read first (rendezvous hashing of block id and client name over the locations,
 * so many clients spread over replicas while one client keeps hitting the same one), and the
 * bookkeeping of one streaming DN_READ: aligning the requested offset down to a chunk,
 * verifying every DN_READ_DATA frame, skipping the bytes before the wanted offset and keeping
 * what a pread did not consume for the next sequential pread.
 *
 * Ownership: the block cache owns a copy of the GET_BLOCKS reply; location strings point into
 * it. A stream's leftover bytes borrow from the frame storage of the reader, which must not be
 * reused until they are consumed. Single-threaded: the dfs_reader's mutex serializes calls. */
#ifndef DFS_CL_READ_H
#define DFS_CL_READ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "wire.h"

enum {
    CL_READ_SKIP_MAX = 1 << 20, /* forward gap a stream skips instead of being reopened */
    CL_READ_WINDOW_MIN = 128 << 10, /* first request size once reads look sequential */
    /* Largest DN_READ a sequential reader asks for: the rest of a default block, so a long
     * read streams without a gap between requests (the datanode paces it by the socket). */
    CL_READ_WINDOW_MAX = 64 << 20,
    /* The kernel sends a sequential reader's requests concurrently, so they arrive somewhat out
     * of order: reads this close to the expected offset still count as sequential. */
    CL_READ_REORDER_MAX = 2 << 20,
};

struct cl_read_blk {
    struct wire_blk blk;
    uint64_t offset; /* in the file */
    uint64_t len;
    uint32_t loc_first; /* index into cl_read_blocks.locs */
    uint32_t loc_count;
};

struct cl_read_blocks {
    struct buf reply;         /* owned copy of the GET_BLOCKS reply body */
    struct cl_read_blk *blks; /* owned, ascending offsets, no overlap */
    struct wire_dn_addr *locs; /* owned array; strings borrow from reply */
    uint32_t count;
    uint64_t file_size;
};

void cl_read_blocks_init(struct cl_read_blocks *b);
void cl_read_blocks_fini(struct cl_read_blocks *b);
/* Replaces the cache with a decoded GET_BLOCKS reply body. Errors: -ERR_PROTO (malformed,
 * unordered or overlapping blocks, a block past file_size); the cache is then empty. */
int cl_read_blocks_load(struct cl_read_blocks *b, const void *body, size_t len);
/* Index of the block holding file offset off, or -1 if the cache does not cover it. */
int64_t cl_read_blocks_find(const struct cl_read_blocks *b, uint64_t off);

/* Writes the indices 0..count-1 of locs into order, best replica first: descending
 * XXH3(block id, client name, node id). Returns count. */
uint32_t cl_read_replica_order(uint64_t blk_id, const char *client_name,
                               const struct wire_dn_addr *locs, uint32_t count, uint32_t *order);

/* Chunk alignment of a read start: *aligned = off rounded down to the chunk size. */
uint64_t cl_read_align_down(uint64_t off);

struct cl_read_stream {
    int is_open;
    int is_eof;          /* the frame flagged EOF has been received */
    struct wire_blk blk;
    uint32_t loc_idx;    /* which location of the block it reads from */
    uint64_t blk_len;
    uint64_t end;        /* block offset where the DN_READ in flight ends (exclusive) */
    uint64_t pos;        /* block offset of left[0] (or of the next frame if left_len is 0) */
    const uint8_t *left; /* borrowed: unconsumed bytes of the last frame */
    uint32_t left_len;
    /* The frame before the last one (borrowed; the reader keeps its storage until the next
     * frame arrives), so a read that arrives a little out of order is served from memory. */
    uint64_t prev_pos;
    const uint8_t *prev;
    uint32_t prev_len;
    uint64_t cur_pos; /* block offset of the last frame */
    const uint8_t *cur;
    uint32_t cur_len;
};

/* Whether an open stream can serve block offset off of blk without reopening: same block, and
 * off within the last two frames received or at most CL_READ_SKIP_MAX ahead of the stream's
 * position. */
int cl_read_stream_can_serve(const struct cl_read_stream *s, struct wire_blk blk, uint64_t off);
/* Starts a stream for block b at block offset off; *req is the DN_READ to send: from off
 * aligned down to a chunk, covering at least want bytes from off (rounded up to whole chunks)
 * and at most up to the end of the block. */
void cl_read_stream_open(struct cl_read_stream *s, const struct cl_read_blk *b, uint32_t loc_idx,
                         uint64_t off, uint64_t want, struct wire_dn_read *req);
/* Whether a stream whose request has been fully received can go on with another request on
 * the same connection (it ended at its request's end, before the block's end). */
int cl_read_stream_can_continue(const struct cl_read_stream *s);
/* Continues such a stream: *req asks for at least want more bytes from the stream's end. */
void cl_read_stream_continue(struct cl_read_stream *s, uint64_t want, struct wire_dn_read *req);
/* Whether a read at off continues one that ended at next_off, give or take
 * CL_READ_REORDER_MAX. */
int cl_read_is_sequential(uint64_t off, uint64_t next_off);
/* The request window after a pread at off: sequential reads (off == the previous read's end)
 * double it from CL_READ_WINDOW_MIN up to CL_READ_WINDOW_MAX; a jump resets it to 0 (read only
 * what is asked). */
uint64_t cl_read_next_window(uint64_t window, int is_sequential);
void cl_read_stream_close(struct cl_read_stream *s);
/* Whether the stream needs another frame (nothing left over and no EOF yet). A stream with
 * nothing left over after EOF is short: the replica ended early. */
int cl_read_stream_needs_frame(const struct cl_read_stream *s);
/* A DN_READ_DATA frame arrived: checks its offset and length, verifies every chunk checksum,
 * and makes its data the leftover. Errors: -ERR_PROTO, -ERR_CHECKSUM. */
int cl_read_stream_on_data(struct cl_read_stream *s, const struct wire_dn_read_data *d);
/* Copies bytes for block offset off into dst (at most n): from the last two frames when off is
 * behind the stream's position, else from the leftover, first dropping leftover bytes before
 * off. Returns the count copied (0: a frame is needed first). */
size_t cl_read_stream_take(struct cl_read_stream *s, uint64_t off, void *dst, size_t n);

#endif
