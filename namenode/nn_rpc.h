/* nn_rpc: the namenode's request handlers, one per message type in a dispatch table. A handler
 * decodes its request, reads or changes the state (a change is applied with nn_ns_apply() and
 * appended to the journal batch), and encodes the reply body. It does no I/O: the journal
 * batch is made durable by the server before any reply of the same loop turn is sent, so an
 * acknowledged change is always on disk. Time arrives in st->now_ms. Loop thread only. */
#ifndef DFS_NN_RPC_H
#define DFS_NN_RPC_H

#include <stdint.h>

#include "buf.h"
#include "nn_blocks.h"
#include "nn_dn.h"
#include "nn_journal.h"
#include "nn_ns.h"
#include "nn_repl.h"
#include "wire.h"

/* More block ids than one namenode can allocate between two syncs of its edit log (each
 * allocation takes memory: 2^32 of them would take over 100 GiB). */
#define NN_BLK_IDS_UNSYNCED_MAX (UINT64_C(1) << 32)

struct nn_state {
    struct nn_ns ns;
    struct nn_blocks blocks;
    struct nn_dns dns;
    struct nn_repl repl;
    struct nn_journal *journal; /* NULL in tests: changes are applied but not logged */
    uint64_t now_ms;
    const char *cluster_id;
    uint64_t block_size;
    uint16_t replication;
    uint32_t heartbeat_ms;
};

/* What the namenode knows about one connection's peer. */
struct nn_session {
    int is_hello_done;
    uint8_t kind; /* enum wire_node_kind */
    char node_id[WIRE_ID_MAX + 1];
    int32_t dn_idx; /* registered datanode, or -1 */
    /* Set by nn_rpc_dispatch(): the reply it just appended may go out before the edit log's
     * next sync (an ADD_BLOCK, see nn_state_spend_unsynced_blk_ids()). */
    int is_reply_early_ok;
};

void nn_session_init(struct nn_session *s);
/* Fills the (empty) block map from the namespace after load/replay. -ERR_CORRUPT if two
 * files claim the same block id. */
int nn_state_rebuild_blocks(struct nn_state *st);
/* ADD_BLOCK is answered before its record is on disk: nothing a user is told is done depends
 * on it (a file's blocks count once COMPLETE, or the next ADD_BLOCK, is synced, and that sync
 * covers every record before it), and a small file then waits for two syncs, not three. A
 * crash can still lose allocations whose blocks a client already sent to datanodes; ids must
 * not be handed out twice, or a delete of such an orphan replica could hit a new block with
 * its id. So at each start, before serving, every id such an allocation can have had (the
 * next NN_BLK_IDS_UNSYNCED_MAX) is spent, in a synced record. 0 or the sync's error. */
int nn_state_spend_unsynced_blk_ids(struct nn_state *st);
/* Handles one request frame and appends exactly one complete reply frame to out. Returns 0,
 * or a negative error after which the connection must be closed (bad HELLO, request before
 * HELLO, unknown type); the error reply is still in out. */
int nn_rpc_dispatch(struct nn_state *st, struct nn_session *s, const struct wire_frame *f,
                    struct buf *out);

#endif
