/* dn_write: the write-pipeline half of a datanode connection (libevent glue around dn_pipe):
 * DN_WRITE_OPEN creates the replica and opens the downstream connection (HELLO, WRITE_OPEN with
 * the rest of the targets), DN_WRITE_PKT frames go through dn_pipe, and its actions are
 * executed here: forward the frame as is, write to the store, finalize, ack upstream, abort.
 * Writes to disk happen synchronously on the loop thread (page cache; fsync at finalize).
 * Loop thread only; see dn_server.h for the connection states. */
#ifndef DFS_DN_WRITE_H
#define DFS_DN_WRITE_H

#include <stdbool.h>

#include "dn_frame.h"
#include "dn_server.h"

/* Handlers of one request frame; 0, or negative to close the connection. */
int dn_write_on_open(struct dn_conn *c, const struct dn_frame *fr);
int dn_write_on_pkt(struct dn_conn *c, const struct dn_frame *fr);
/* Aborts a write in progress (the connection is closing): drops the rbw replica. */
void dn_write_abort(struct dn_conn *c);
/* True while the downstream's output queue is above DN_DOWN_HIGH. */
bool dn_write_is_blocked(const struct dn_conn *c);

#endif
