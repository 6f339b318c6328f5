/* wire: every frame and message of the dfs protocol — the only definition (docs/PROTOCOL.md
 * describes it in prose). All integers are little-endian; nothing is memcpy'd from structs.
 *
 * A frame is a 32-byte header followed by body_len bytes. The header carries its own checksum
 * so it is trusted before the body arrives, and body_len is capped at WIRE_BODY_MAX before any
 * body byte is read. A reply has type = request type + 1 and echoes req_id; a reply with
 * status != 0 has an empty body and the status is an err_to_wire() code.
 *
 * Ownership: decoded strings and byte arrays (name, data, csums_raw, ...) point into the frame
 * body and live exactly as long as it. Encoders append to a caller-owned struct buf.
 * Lists (readdir entries, block lists, datanode rows, commands) are decoded in two steps: the
 * message decoder validates every entry and remembers where they start; wire_*_next() then
 * returns them one at a time without further failure. Pure code: callable from any thread. */
#ifndef DFS_WIRE_H
#define DFS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cur.h"

enum {
    WIRE_MAGIC = 0x31534644, /* "DFS1" */
    WIRE_VERSION = 2, /* 2: wire_attr.change */
    WIRE_HDR_LEN = 32,
    WIRE_BODY_MAX = 4 << 20,
    WIRE_NAME_MAX = 255,        /* one path component */
    WIRE_ID_MAX = 64,           /* cluster id, node id */
    WIRE_HOST_MAX = 255,        /* host name or address literal */
    WIRE_PKT_DATA_MAX = 1 << 20, /* data bytes in one write packet / read frame */
    WIRE_PKT_CSUMS_MAX = WIRE_PKT_DATA_MAX / (64 * 1024),
    WIRE_TARGETS_MAX = 16,      /* datanodes in one pipeline or one location list */
    WIRE_READDIR_MAX = 4096,    /* entries in one readdir reply */
    WIRE_LOCATED_MAX = 1024,    /* blocks in one get_blocks reply */
    WIRE_BLOCKS_MAX = 65536,    /* blocks in one block report frame */
    WIRE_CMDS_MAX = 4096,       /* commands in one heartbeat reply */
    WIRE_DN_ROWS_MAX = 4096,    /* datanode rows in one report */
};

/* Message types: X(name, number). Numbers are never reused. */
#define WIRE_MSGS(X)                                                                               \
    X(HELLO, 1) X(HELLO_OK, 2)                                                                     \
    X(NN_LOOKUP, 10) X(NN_LOOKUP_OK, 11) X(NN_GETATTR, 12) X(NN_GETATTR_OK, 13)                    \
    X(NN_SETATTR, 14) X(NN_SETATTR_OK, 15) X(NN_MKDIR, 16) X(NN_MKDIR_OK, 17)                      \
    X(NN_CREATE, 18) X(NN_CREATE_OK, 19) X(NN_OPEN, 20) X(NN_OPEN_OK, 21)                          \
    X(NN_UNLINK, 22) X(NN_UNLINK_OK, 23) X(NN_RMDIR, 24) X(NN_RMDIR_OK, 25)                        \
    X(NN_RENAME, 26) X(NN_RENAME_OK, 27) X(NN_READDIR, 28) X(NN_READDIR_OK, 29)                    \
    X(NN_STATFS, 30) X(NN_STATFS_OK, 31) X(NN_ADD_BLOCK, 32) X(NN_ADD_BLOCK_OK, 33)                \
    X(NN_COMPLETE, 34) X(NN_COMPLETE_OK, 35) X(NN_GET_BLOCKS, 36) X(NN_GET_BLOCKS_OK, 37)          \
    X(NN_REPORT, 38) X(NN_REPORT_OK, 39)                                                           \
    X(DN_REGISTER, 60) X(DN_REGISTER_OK, 61) X(DN_HEARTBEAT, 62) X(DN_HEARTBEAT_OK, 63)            \
    X(DN_BLOCK_REPORT, 64) X(DN_BLOCK_REPORT_OK, 65) X(DN_BLOCK_RECEIVED, 66)                      \
    X(DN_BLOCK_RECEIVED_OK, 67) X(DN_BLOCK_DELETED, 68) X(DN_BLOCK_DELETED_OK, 69)                 \
    X(DN_BLOCK_CORRUPT, 70) X(DN_BLOCK_CORRUPT_OK, 71)                                             \
    X(DN_WRITE_OPEN, 80) X(DN_WRITE_OPEN_OK, 81) X(DN_WRITE_PKT, 82) X(DN_WRITE_ACK, 83)           \
    X(DN_READ, 84) X(DN_READ_DATA, 85) X(DN_SYNC, 86) X(DN_SYNC_OK, 87)

enum wire_type {
#define WIRE_TYPE_ENUM(name, num) WIRE_##name = num,
    WIRE_MSGS(WIRE_TYPE_ENUM)
#undef WIRE_TYPE_ENUM
    WIRE_TYPE_MAX = 128
};

/* "NN_LOOKUP" etc., or "UNKNOWN". */
const char *wire_type_name(uint16_t type);

enum wire_node_kind {
    WIRE_NODE_CLIENT = 1,
    WIRE_NODE_DATANODE = 2,
    WIRE_NODE_NAMENODE = 3,
};

struct wire_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint64_t req_id;
    uint32_t body_len;
    uint16_t status;
    uint16_t flags;
    uint32_t body_csum;
    uint32_t hdr_csum;
};

struct wire_frame {
    struct wire_hdr hdr;
    const uint8_t *body; /* borrowed: body_len bytes */
};

/* Decodes and validates a header (magic, version, header checksum, body cap).
 * Returns 0, -ERR_PROTO or -ERR_VERSION. */
int wire_hdr_decode(const uint8_t p[WIRE_HDR_LEN], struct wire_hdr *h);
/* Verifies the body checksum of a frame whose header was decoded. 0 or -ERR_CHECKSUM. */
int wire_body_verify(const struct wire_hdr *h, const uint8_t *body);

/* Frame building: start = wire_frame_begin(b); encode the body into b; then
 * wire_frame_end(b, start, type, req_id, status) fills in the header. */
size_t wire_frame_begin(struct buf *b);
void wire_frame_end(struct buf *b, size_t start, uint16_t type, uint64_t req_id, uint16_t status);
/* A complete frame with an empty body (used for empty replies and errors). */
void wire_frame_empty(struct buf *b, uint16_t type, uint64_t req_id, uint16_t status);

/* ---- shared pieces ---- */

struct wire_str {
    const char *p; /* not NUL-terminated when decoded; borrowed */
    uint32_t len;
};
struct wire_str wire_str_c(const char *s);
/* Copies into dst (cap bytes incl. NUL); returns -ENAMETOOLONG if it does not fit. */
int wire_str_copy(struct wire_str s, char *dst, size_t cap);
/* Appends a whole frame of type (WIRE_HELLO or WIRE_HELLO_OK) announcing this node: version,
 * kind, cluster and node ids. */
void wire_hello_frame(struct buf *b, uint16_t type, uint64_t req_id, uint8_t node_kind,
                      const char *cluster_id, const char *node_id);
/* s holds exactly the C string c. */
int wire_str_eq(struct wire_str s, const char *c);

struct wire_attr {
    uint64_t ino;
    uint32_t mode; /* POSIX type and permission bits, Linux S_IF* values */
    uint32_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint64_t size;
    uint64_t atime_ms;
    uint64_t mtime_ms;
    uint64_t ctime_ms;
    uint64_t block_size;
    uint16_t replication;
    uint8_t is_open; /* under construction: a writer holds the lease */
    /* Directories: moves by one per entry added or removed, and never repeats a value across
     * namenode restarts; files: 0. A client that sees it one above the value it last saw knows
     * its own change was the only one. */
    uint64_t change;
};

struct wire_dn_addr {
    struct wire_str node_id;
    struct wire_str host;
    uint16_t port;
};

/* ---- handshake ---- */

struct wire_hello { /* HELLO and HELLO_OK */
    uint16_t version;
    uint8_t node_kind; /* enum wire_node_kind */
    struct wire_str cluster_id;
    struct wire_str node_id;
};
/* Whether a peer's HELLO (or HELLO_OK) may talk to this node: 0, -ERR_VERSION (another
 * protocol version: there is no translation between versions), -ERR_CLUSTER. */
int wire_hello_check(const struct wire_hello *h, const char *cluster_id);

/* ---- namespace (client -> namenode) ---- */

struct wire_nn_ino { /* GETATTR */
    uint64_t ino;
};
struct wire_nn_name { /* LOOKUP, UNLINK, RMDIR */
    uint64_t parent;
    struct wire_str name;
};
enum {
    WIRE_SET_MODE = 1,
    WIRE_SET_UID = 2,
    WIRE_SET_GID = 4,
    WIRE_SET_SIZE = 8,
    WIRE_SET_ATIME = 16,
    WIRE_SET_MTIME = 32,
};
struct wire_nn_setattr {
    uint64_t ino;
    uint32_t valid; /* WIRE_SET_* */
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint64_t size;
    uint64_t atime_ms;
    uint64_t mtime_ms;
};
/* Whether a already has every attribute req sets (permission bits of the mode only): such a
 * SETATTR changes nothing but ctime. The namenode logs none made in the inode's ctime
 * millisecond; the mount answers one itself for a file it just created. */
int wire_attr_has(const struct wire_attr *a, const struct wire_nn_setattr *req);
struct wire_nn_mkdir {
    uint64_t parent;
    struct wire_str name;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
};
/* NO_LEASE: create the file closed; the writer's first NN_ADD_BLOCK takes the lease, so an
 * empty file needs no NN_COMPLETE. */
enum { WIRE_CREATE_EXCL = 1, WIRE_CREATE_NO_LEASE = 2 };
struct wire_nn_create {
    uint64_t parent;
    struct wire_str name;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint64_t block_size; /* 0: cluster default */
    uint16_t replication; /* 0: cluster default */
    uint8_t flags;        /* WIRE_CREATE_* */
};
enum { WIRE_OPEN_WRITE = 1, WIRE_OPEN_TRUNC = 2, WIRE_OPEN_APPEND = 4 };
struct wire_nn_open {
    uint64_t ino;
    uint32_t flags; /* WIRE_OPEN_* */
};
enum { WIRE_RENAME_NOREPLACE = 1 };
struct wire_nn_rename {
    uint64_t parent;
    struct wire_str name;
    uint64_t new_parent;
    struct wire_str new_name;
    uint32_t flags;
};
/* The answer to a new name (NN_CREATE_OK, NN_MKDIR_OK): the new inode, and its directory's
 * attributes after the change, so that the client need not ask for them again. */
struct wire_nn_entry_ok {
    struct wire_attr attr;
    struct wire_attr parent;
};
struct wire_nn_readdir {
    uint64_t ino;
    struct wire_str after; /* entries strictly after this name; empty: from the start */
    uint32_t max;
};
struct wire_nn_dirent {
    struct wire_str name;
    struct wire_attr attr;
};
struct wire_nn_readdir_ok {
    uint8_t is_eof;
    uint32_t count;
    struct cur entries; /* validated; read with wire_nn_readdir_ok_next() */
};
struct wire_nn_statfs_ok {
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
    uint64_t files;
    uint64_t blocks;
    uint64_t block_size;
    uint32_t live_datanodes;
};
struct wire_blk {
    uint64_t id;
    uint64_t gen;
};
struct wire_nn_add_block {
    uint64_t ino;
    struct wire_blk prev; /* id 0: this is the first block */
    uint64_t prev_len;
};
struct wire_nn_add_block_ok {
    struct wire_blk blk;
    uint64_t offset; /* offset of the block in the file */
    uint32_t target_count;
    struct wire_dn_addr targets[WIRE_TARGETS_MAX];
};
struct wire_nn_complete {
    uint64_t ino;
    struct wire_blk last; /* id 0: the file has no (new) block */
    uint64_t last_len;
};
struct wire_nn_get_blocks {
    uint64_t ino;
    uint64_t offset;
    uint64_t len;
};
struct wire_located_blk {
    struct wire_blk blk;
    uint64_t offset;
    uint64_t len;
    uint32_t loc_count;
    struct wire_dn_addr locs[WIRE_TARGETS_MAX];
};
struct wire_nn_get_blocks_ok {
    uint64_t file_size;
    uint32_t count;
    struct cur entries; /* read with wire_nn_get_blocks_ok_next() */
};
enum wire_dn_state { WIRE_DN_LIVE = 1, WIRE_DN_DEAD = 2 };
struct wire_dn_row {
    struct wire_dn_addr addr;
    uint8_t state; /* enum wire_dn_state */
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
    uint64_t blocks;
    uint64_t last_heartbeat_age_ms;
};
struct wire_nn_report_ok {
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
    uint64_t files;
    uint64_t dirs;
    uint64_t blocks;
    uint64_t under_replicated;
    uint32_t count;
    struct cur rows; /* read with wire_nn_report_ok_next() */
};

/* ---- control plane (datanode -> namenode) ---- */

struct wire_dn_register {
    struct wire_dn_addr self;
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
};
struct wire_dn_register_ok {
    uint32_t heartbeat_ms;
};
struct wire_dn_heartbeat {
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
    uint32_t active_writes;
};
/* DELETE: remove the replica blk. REPLICATE: copy the finalized replica blk (len bytes) to
 * target, a datanode that does not hold it, through the write protocol (re-replication). */
enum wire_cmd_kind { WIRE_CMD_DELETE = 1, WIRE_CMD_REPLICATE = 2 };
struct wire_dn_cmd {
    uint8_t kind; /* enum wire_cmd_kind */
    struct wire_blk blk;
    uint64_t len;               /* REPLICATE only */
    struct wire_dn_addr target; /* REPLICATE only */
};
struct wire_dn_heartbeat_ok {
    uint32_t count;
    struct cur cmds; /* read with wire_dn_heartbeat_ok_next() */
};
struct wire_blk_len {
    struct wire_blk blk;
    uint64_t len;
};
/* BLOCK_REPORT (a full report may span frames: first/last flags), BLOCK_RECEIVED, DELETED,
 * CORRUPT (replicas a read found a chunk of with a wrong checksum). */
enum { WIRE_REPORT_FIRST = 1, WIRE_REPORT_LAST = 2 };
struct wire_dn_blocks {
    uint8_t flags; /* WIRE_REPORT_* for full reports, 0 otherwise */
    uint32_t count;
    struct cur entries; /* read with wire_dn_blocks_next() */
};

/* ---- data plane (client -> datanode, datanode -> datanode) ---- */

struct wire_dn_write_open {
    struct wire_blk blk;
    uint32_t target_count; /* downstream datanodes after the receiver, in pipeline order */
    struct wire_dn_addr targets[WIRE_TARGETS_MAX];
};
/* LAST: finalize the replica after this packet. SYNC (with LAST): fsync it before the ack;
 * without SYNC the ack means every replica has the data (in its page cache), not that it is
 * on disk — fsync() asks for SYNC, close() does not. */
enum { WIRE_PKT_LAST = 1, WIRE_PKT_SYNC = 2 };
struct wire_dn_write_pkt {
    uint64_t seq;
    uint64_t offset; /* in the block; a multiple of the chunk size */
    uint8_t flags;   /* WIRE_PKT_LAST, WIRE_PKT_SYNC */
    uint32_t data_len;
    const uint8_t *data;
    uint32_t csum_count; /* = csum_chunk_count(data_len) */
    const uint8_t *csums_raw; /* csum_count little-endian u64s; wire_csum_at() reads one */
};
enum { WIRE_ACK_NO_FAILED = 0xff };
struct wire_dn_write_ack {
    uint64_t seq;
    uint16_t status;    /* err_to_wire() code; 0 when every replica has the packet */
    uint8_t failed_idx; /* pipeline index of the first failed datanode, or WIRE_ACK_NO_FAILED */
};
struct wire_dn_read {
    struct wire_blk blk;
    uint64_t offset; /* a multiple of the chunk size */
    uint64_t len;
};
/* DN_SYNC: fsync a finalized replica (written without WIRE_PKT_SYNC) and its directory. */
struct wire_dn_sync {
    struct wire_blk blk;
};
enum { WIRE_READ_EOF = 1 };
struct wire_dn_read_data {
    uint64_t offset;
    uint8_t flags; /* WIRE_READ_EOF: last frame for this request */
    uint32_t data_len;
    const uint8_t *data;
    uint32_t csum_count;
    const uint8_t *csums_raw;
};
uint64_t wire_csum_at(const uint8_t *csums_raw, uint32_t idx);
/* Verifies data[0..len) chunk by chunk against csum_chunk_count(len) raw checksums; 0 or
 * -ERR_CHECKSUM. */
int wire_csums_verify(const uint8_t *data, size_t len, const uint8_t *csums_raw);

/* ---- encoders (append a body to b) and decoders (0 or -ERR_PROTO; all bytes consumed) ---- */
#define WIRE_CODEC(name)                                                                           \
    void wire_##name##_encode(struct buf *b, const struct wire_##name *m);                         \
    int wire_##name##_decode(const void *body, size_t len, struct wire_##name *m);
WIRE_CODEC(hello)
WIRE_CODEC(attr)
WIRE_CODEC(nn_ino)
WIRE_CODEC(nn_name)
WIRE_CODEC(nn_setattr)
WIRE_CODEC(nn_mkdir)
WIRE_CODEC(nn_create)
WIRE_CODEC(nn_open)
WIRE_CODEC(nn_rename)
WIRE_CODEC(nn_entry_ok)
WIRE_CODEC(nn_readdir)
WIRE_CODEC(nn_statfs_ok)
WIRE_CODEC(nn_add_block)
WIRE_CODEC(nn_add_block_ok)
WIRE_CODEC(nn_complete)
WIRE_CODEC(nn_get_blocks)
WIRE_CODEC(dn_register)
WIRE_CODEC(dn_register_ok)
WIRE_CODEC(dn_heartbeat)
WIRE_CODEC(dn_write_open)
WIRE_CODEC(dn_write_pkt)
WIRE_CODEC(dn_write_ack)
WIRE_CODEC(dn_read)
WIRE_CODEC(dn_read_data)
WIRE_CODEC(dn_sync)
#undef WIRE_CODEC

/* List replies: encode the fixed part with count = 0, then append entries with _put(), which
 * bumps the count in place; body_start is the offset where the body began in b. */
void wire_nn_readdir_ok_begin(struct buf *b, uint8_t is_eof);
void wire_nn_readdir_ok_put(struct buf *b, size_t body_start, const struct wire_nn_dirent *e);
int wire_nn_readdir_ok_decode(const void *body, size_t len, struct wire_nn_readdir_ok *m);
void wire_nn_readdir_ok_next(struct wire_nn_readdir_ok *m, struct wire_nn_dirent *e);

void wire_nn_get_blocks_ok_begin(struct buf *b, uint64_t file_size);
void wire_nn_get_blocks_ok_put(struct buf *b, size_t body_start, const struct wire_located_blk *e);
int wire_nn_get_blocks_ok_decode(const void *body, size_t len, struct wire_nn_get_blocks_ok *m);
void wire_nn_get_blocks_ok_next(struct wire_nn_get_blocks_ok *m, struct wire_located_blk *e);

void wire_nn_report_ok_begin(struct buf *b, const struct wire_nn_report_ok *totals);
void wire_nn_report_ok_put(struct buf *b, size_t body_start, const struct wire_dn_row *e);
int wire_nn_report_ok_decode(const void *body, size_t len, struct wire_nn_report_ok *m);
void wire_nn_report_ok_next(struct wire_nn_report_ok *m, struct wire_dn_row *e);

void wire_dn_heartbeat_ok_begin(struct buf *b);
void wire_dn_heartbeat_ok_put(struct buf *b, size_t body_start, const struct wire_dn_cmd *e);
int wire_dn_heartbeat_ok_decode(const void *body, size_t len, struct wire_dn_heartbeat_ok *m);
void wire_dn_heartbeat_ok_next(struct wire_dn_heartbeat_ok *m, struct wire_dn_cmd *e);

void wire_dn_blocks_begin(struct buf *b, uint8_t flags);
void wire_dn_blocks_put(struct buf *b, size_t body_start, const struct wire_blk_len *e);
int wire_dn_blocks_decode(const void *body, size_t len, struct wire_dn_blocks *m);
void wire_dn_blocks_next(struct wire_dn_blocks *m, struct wire_blk_len *e);

#endif
