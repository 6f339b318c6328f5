/* dn_read: the read half of a datanode connection (libevent glue around dn_store reads):
 * DN_READ opens the finalized replica and streams DN_READ_DATA frames of at most
 * WIRE_PKT_DATA_MAX chunk-aligned bytes with their verified stored checksums, the last one
 * flagged EOF. Frames are queued only while the socket's output is below DN_READ_LOW; the
 * connection's write callback calls dn_read_pump() for more, so a 64 MiB block is never
 * queued at once. A checksum mismatch on disk ends the read with an ERR_CHECKSUM frame.
 * Loop thread only. */
#ifndef DFS_DN_READ_H
#define DFS_DN_READ_H

#include "dn_frame.h"
#include "dn_server.h"

/* Handles DN_READ; 0, or negative to close the connection. */
int dn_read_on_request(struct dn_conn *c, const struct dn_frame *fr);
/* Queues read frames while the output is below DN_READ_LOW; ends the read after EOF. */
void dn_read_pump(struct dn_conn *c);
/* Ends a read in progress (the connection is closing). */
void dn_read_abort(struct dn_conn *c);

#endif
