/* dn_frame: cuts frames out of a data connection's input buffer without evbuffer_pullup()
 * for large bodies (libevent glue, loop thread only).
 *
 * net_frame_peek() makes a frame contiguous with evbuffer_pullup(), which allocates a fresh
 * block for every 1 MiB packet (glibc serves it with mmap: page faults and zeroing each
 * time), and the write path then copied the frame again to forward it downstream. Here a
 * frame whose body is longer than DN_FRAME_INPLACE_MAX is instead moved out of the input with
 * one evbuffer_remove() into a refcounted heap block; the write path verifies, writes and
 * forwards those very bytes, the forward by evbuffer_add_reference() (no copy). Smaller
 * frames are peeked in place exactly as net_frame_peek() does.
 *
 * Ownership: a dn_frame filled by dn_frame_pull() holds one reference on its block (if any)
 * until dn_frame_done(); dn_frame_forward() takes another one that the output buffer drops
 * once the bytes were sent (or the buffer freed). Frame bytes are never modified. */
#ifndef DFS_DN_FRAME_H
#define DFS_DN_FRAME_H

#include <stdint.h>

#include <event2/buffer.h>

#include "wire.h"

enum { DN_FRAME_INPLACE_MAX = 64 * 1024 /* bodies up to this are peeked in place */ };

struct dn_frame_blk;

struct dn_frame {
    struct wire_frame f;      /* f.body points into blk, or into the input buffer */
    struct dn_frame_blk *blk; /* NULL: peeked in place, still in the input buffer */
};

/* Takes the next complete frame from in. Returns 1 and fills *fr, 0 if more bytes are needed
 * (nothing consumed), or a negative error as net_frame_peek() does (-ERR_PROTO, -ERR_VERSION,
 * -ERR_CHECKSUM): close the connection. The body checksum is verified on return 1. */
int dn_frame_pull(struct evbuffer *in, struct dn_frame *fr);
/* Ends the use of a frame from dn_frame_pull(): drains it from in if it was peeked in place,
 * else drops this reference on its block. fr->f.body is invalid afterwards. */
void dn_frame_done(struct evbuffer *in, struct dn_frame *fr);
/* Appends the whole frame (header and body, unchanged) to out: by reference when it has a
 * block, else by copy. */
void dn_frame_forward(const struct dn_frame *fr, struct evbuffer *out);

/* A large frame received straight from the socket into its block, bypassing the input
 * evbuffer (which would cost one more copy of every packet byte): once the header of a frame
 * larger than DN_FRAME_INPLACE_MAX is at the front of the input, the bytes already there move
 * into a new block and the rest is read from the socket into it, exactly up to the frame's
 * end, so whatever follows stays in the socket (and then the input) in order. Bytes the
 * bufferevent reads into the input meanwhile are the frame's next ones and move in first. */
struct dn_frame_rx {
    struct dn_frame_blk *blk; /* NULL: no frame in progress */
    size_t have;              /* bytes of blk->frame filled */
};

/* Advances rx from in and fd (non-blocking): starts a frame if in begins with a large one,
 * then reads what the socket holds of it. Returns 1 when rx holds a complete frame (take it
 * with dn_frame_rx_take()), 0 if not (more bytes needed, or in does not begin with a large
 * frame: use dn_frame_pull()), or a negative error for a bad header (close the connection).
 * A read error or EOF is left for the bufferevent to report. */
int dn_frame_rx_step(struct dn_frame_rx *rx, struct evbuffer *in, int fd);
/* Moves the complete frame out of rx into *fr (as dn_frame_pull() fills it; release it with
 * dn_frame_done()). Returns 1, or -ERR_CHECKSUM for a bad body (the frame is dropped). */
int dn_frame_rx_take(struct dn_frame_rx *rx, struct dn_frame *fr);
/* Drops a frame in progress. */
void dn_frame_rx_fini(struct dn_frame_rx *rx);

#endif
