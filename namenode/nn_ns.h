/* nn_ns: the namespace — inodes, directories, the block list of every file — and the one
 * deterministic function that changes it, nn_ns_apply(). Live requests, edit-log replay at
 * start-up and (next) Raft followers all go through nn_ns_apply(), so the state after replay
 * equals the live state. Pure: no I/O, no clock, no randomness (time arrives in op->now_ms).
 *
 * Invariants (checked by nn_ns_assert_valid()): inode 1 is the root directory; every other
 * inode is reachable through exactly one directory entry (no hard links yet), whose parent is
 * a directory; a directory's entries are sorted bytewise by name and unique; a directory's
 * nlink = 2 + its subdirectory count; a file's size = sum of its committed block lengths and
 * only its last block may be uncommitted, and only while the file is open (has a lease holder).
 * Single-threaded: owned by the namenode loop. */
#ifndef DFS_NN_NS_H
#define DFS_NN_NS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "u64map.h"
#include "wire.h"

enum { NN_ROOT_INO = 1 };

enum nn_op_kind {
    NN_OP_MKDIR = 1,
    NN_OP_CREATE = 2,
    NN_OP_OPEN_WRITE = 3,
    NN_OP_UNLINK = 4,
    NN_OP_RMDIR = 5,
    NN_OP_RENAME = 6,
    NN_OP_SETATTR = 7,
    NN_OP_ADD_BLOCK = 8,
    NN_OP_COMPLETE = 9,
    NN_OP_KIND_MAX = 9
};

/* One namespace change: the edit-log record. Fields not used by a kind are zero. */
struct nn_op {
    uint8_t kind;
    uint64_t now_ms;
    uint64_t parent;     /* MKDIR CREATE UNLINK RMDIR RENAME */
    uint64_t ino;        /* OPEN_WRITE SETATTR ADD_BLOCK COMPLETE */
    uint64_t new_parent; /* RENAME */
    char name[WIRE_NAME_MAX + 1];
    char new_name[WIRE_NAME_MAX + 1];
    char client[WIRE_ID_MAX + 1]; /* lease holder: CREATE OPEN_WRITE ADD_BLOCK COMPLETE */
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint32_t flags; /* OPEN_WRITE: WIRE_OPEN_*; RENAME: WIRE_RENAME_*; SETATTR: WIRE_SET_* */
    uint64_t size;  /* SETATTR */
    uint64_t atime_ms;
    uint64_t mtime_ms;
    uint64_t block_size; /* CREATE */
    uint16_t replication;
    struct wire_blk blk; /* ADD_BLOCK: previous block to commit; COMPLETE: last block */
    uint64_t blk_len;
};

/* Blocks released by an operation (unlink, truncate, rename over a file). */
struct nn_blk_list {
    struct wire_blk *v;
    size_t count;
    size_t cap;
};
void nn_blk_list_push(struct nn_blk_list *l, struct wire_blk b);
void nn_blk_list_fini(struct nn_blk_list *l);

struct nn_op_result {
    uint64_t ino;         /* the inode created or changed */
    struct wire_blk blk;  /* ADD_BLOCK: the new block */
    uint64_t blk_offset;  /* ADD_BLOCK: its offset in the file */
    struct nn_blk_list freed; /* caller-owned: nn_blk_list_fini() */
};

struct nn_blkref {
    uint64_t id;
    uint64_t gen;
    uint64_t len;
    uint8_t is_committed;
};

struct nn_dirent {
    char *name; /* owned */
    uint64_t ino;
};

struct nn_inode {
    uint64_t ino;
    uint64_t parent; /* directory holding this inode's entry; root: itself */
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint32_t nlink;
    uint64_t size;
    uint64_t atime_ms;
    uint64_t mtime_ms;
    uint64_t ctime_ms;
    uint64_t block_size;
    uint16_t replication;
    char *lease_holder; /* owned; NULL when the file is not open for writing */
    struct nn_dirent *ents; /* directories: sorted by name */
    uint32_t ent_count;
    uint32_t ent_cap;
    struct nn_blkref *blks; /* files */
    uint32_t blk_count;
    uint32_t blk_cap;
};

struct nn_ns {
    struct u64map inodes; /* ino -> struct nn_inode * (owned) */
    uint64_t next_ino;
    uint64_t next_blk_id;
    uint64_t file_count;
    uint64_t dir_count;
    uint64_t blk_count;
};

/* Creates a namespace holding only the root directory (mode 0755, times now_ms). */
void nn_ns_init(struct nn_ns *ns, uint64_t now_ms);
void nn_ns_fini(struct nn_ns *ns);

/* Applies op. Returns 0 and fills *res, or a negative error (-ENOENT, -EEXIST, -ENOTDIR,
 * -EISDIR, -ENOTEMPTY, -EINVAL, -ERR_LEASE, -EOPNOTSUPP, ...) leaving the namespace unchanged.
 * res->freed must be empty on entry; the caller releases it. */
int nn_ns_apply(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res);

const struct nn_inode *nn_ns_get(const struct nn_ns *ns, uint64_t ino);
/* Looks name up in directory parent. -ENOENT, -ENOTDIR. */
int nn_ns_lookup(const struct nn_ns *ns, uint64_t parent, const char *name, size_t name_len,
                 const struct nn_inode **out);
/* Index of the first entry of dir whose name sorts after `after` (len 0: the first entry). */
uint32_t nn_ns_dir_seek(const struct nn_inode *dir, const char *after, size_t after_len);
void nn_ns_attr(const struct nn_inode *in, struct wire_attr *out);
int nn_inode_is_dir(const struct nn_inode *in);

/* Checkpoint image: the whole namespace, self-describing and versioned (docs/ON-DISK.md).
 * Decode returns -ERR_CORRUPT on any inconsistency; ns must be freshly nn_ns_init()ed and is
 * left in a state safe to fini on failure. */
void nn_ns_image_encode(const struct nn_ns *ns, struct buf *out);
int nn_ns_image_decode(struct nn_ns *ns, const void *p, size_t len);

/* Edit-log record body for one op, and its decoder (-ERR_PROTO on malformed input). */
void nn_op_encode(const struct nn_op *op, struct buf *out);
int nn_op_decode(const void *p, size_t len, struct nn_op *op);

/* O(n) invariant check; panics on violation. */
void nn_ns_assert_valid(const struct nn_ns *ns);

#endif
