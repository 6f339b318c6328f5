/* nn_ns: the namespace — inodes, directories, the block list of every file — and the one
 * deterministic function that changes it, nn_ns_apply(). Live requests, edit-log replay at
 * start-up and (next) Raft followers all go through nn_ns_apply(), so the state after replay
 * equals the live state. Pure: no I/O, no clock, no randomness (time arrives in op->now_ms).
 *
 * Invariants (checked by nn_ns_assert_valid()): inode 1 is the root directory; every other
 * inode is reachable through exactly one directory entry (no hard links yet), whose parent is
 * a directory, and carries that entry's name; a directory's entries are sorted bytewise by name
 * and unique; a directory's nlink = 2 + its subdirectory count; a file's size = sum of its
 * committed block lengths, its block ids ascend, and only its last block may be uncommitted,
 * and only while the file is open (has a lease holder); exactly the open files have an entry
 * in the lease map.
 *
 * Memory is the namenode's limit on the number of files, so the layout is compact (about
 * 100 bytes and one allocation per one-block file): see struct nn_inode. Inode pointers are
 * valid until the next nn_ns_apply() (a rename moves the inode). Single-threaded: owned by
 * the namenode loop. */
#ifndef DFS_NN_NS_H
#define DFS_NN_NS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "nn_otab.h"
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
    NN_OP_SPEND_BLK_IDS = 10, /* block ids below op.size are spent: never handed out again */
    NN_OP_KIND_MAX = 10
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
    uint64_t size;  /* SETATTR; SPEND_BLK_IDS: the next block id at least */
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
    int is_unchanged;     /* the op changed nothing (a SETATTR to the current values in the
                             same millisecond): there is nothing to log */
};

/* One block of a file as the namespace stores it. A file's blocks are in ascending id order
 * (ids come from one counter that only grows); only the last may be uncommitted. */
struct nn_blkrec {
    uint64_t id;
    uint64_t gen;
    uint64_t len; /* committed length; 0 while uncommitted */
};

/* A block of a file as read through nn_inode_blk(). */
struct nn_blkref {
    uint64_t id;
    uint64_t gen;
    uint64_t len;
    uint8_t is_committed;
};

enum {
    NN_BLOCK_UNIT = 64 * 1024, /* block sizes are whole multiples of this */
    NN_BLOCK_UNITS_MAX = 32 * 1024, /* ... up to 2 GiB */
    NN_REPLICATION_MAX = 8,    /* replicas a file may ask for; the block map keeps as many */
    NN_INODE_OPEN = 1,         /* flags: a client holds the write lease (ns->leases) */
    NN_INODE_LAST_OPEN = 2,    /* flags: the file's last block is not committed yet */
};

/* One inode, sized for its name: about 100 bytes for a file with one block. Directories and
 * files share the header; u holds what only one of them needs. The name (of the one entry that
 * names the inode; the root's is empty) is stored inline and NUL-terminated, so a rename
 * reallocates the inode: pointers to an inode are held only by the inode table and by its
 * parent's entry array, and both are updated then. */
struct nn_inode {
    uint64_t ino;    /* first: the inode table's key */
    uint64_t parent; /* directory holding this inode's entry; root: itself */
    uint64_t size;   /* files: sum of committed block lengths; directories: 0 */
    uint64_t atime_ms;
    uint64_t mtime_ms;
    uint64_t ctime_ms;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint32_t block_units; /* block size / NN_BLOCK_UNIT */
    uint32_t count;       /* files: blocks; directories: entries */
    uint16_t replication;
    uint8_t flags;    /* NN_INODE_* */
    uint8_t name_len; /* <= WIRE_NAME_MAX */
    union {
        struct nn_blkrec one;   /* files with count <= 1 */
        struct nn_blkrec *many; /* files with count >= 2: capacity nn_ns_blk_cap(count) */
        struct {
            struct nn_inode **ents; /* sorted bytewise by the children's names */
            uint32_t ent_cap;
            uint32_t nlink;
            uint64_t change; /* +1 per entry added or removed; see nn_ns_start_changes() */
        } dir;
    } u;
    char name[];
};

/* Inode numbers and block ids stay below this: far beyond any real namespace, and far from
 * wrapping, so a counter near it can only come from a damaged image or log. Reaching it makes
 * new names and blocks fail with ENOSPC instead of reusing a number. */
#define NN_ID_MAX (UINT64_C(1) << 62)

struct nn_ns {
    struct nn_otab inodes; /* ino -> struct nn_inode * (owned) */
    struct u64map leases;  /* ino -> char * lease holder (owned), open files only */
    uint64_t next_ino;
    uint64_t next_blk_id;
    uint64_t file_count;
    uint64_t dir_count;
    uint64_t blk_count;
    uint64_t change_base; /* a new directory's change counter starts here */
};

/* Creates a namespace holding only the root directory (mode 0755, times now_ms). */
void nn_ns_init(struct nn_ns *ns, uint64_t now_ms);
void nn_ns_fini(struct nn_ns *ns);
/* Starts every directory's change counter (wire_attr.change) at base, and directories made
 * later too. The counters live only in memory: a namenode calls this once loaded, with
 * nn_change_base(), so that a client comparing a directory's counter with an earlier
 * answer's never mistakes a restart for "nothing changed". */
void nn_ns_start_changes(struct nn_ns *ns, uint64_t base);
/* The change-counter base for a namenode whose edit log's last record is last_index. Every
 * entry change is a logged record that moves a counter by at most 2 (a rename within one
 * directory), and a client sees a counter only in the answer to a synced change; so no run
 * before can have shown a value above twice its own last index, and a value equal to the
 * base means no change since it was shown. */
uint64_t nn_change_base(uint64_t last_index);

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
/* Iteration over every inode: start with *pos = 0; NULL at the end. The namespace must not
 * change during an iteration. */
const struct nn_inode *nn_ns_next(const struct nn_ns *ns, size_t *pos);
/* The client holding in's write lease, or NULL when the file is not open for writing. The
 * string is owned by ns and lives until the lease ends. */
const char *nn_ns_lease_holder(const struct nn_ns *ns, const struct nn_inode *in);
/* The block of file ino with this id: 0 and *out, or -ENOENT (no such file or block). */
int nn_ns_find_blk(const struct nn_ns *ns, uint64_t ino, uint64_t id, struct nn_blkref *out);

int nn_inode_is_dir(const struct nn_inode *in);
uint32_t nn_inode_nlink(const struct nn_inode *in);
uint64_t nn_inode_block_size(const struct nn_inode *in);
/* Directories: entry count and entry i (i < count), in name order. Files have none. */
uint32_t nn_inode_ent_count(const struct nn_inode *in);
const struct nn_inode *nn_inode_ent(const struct nn_inode *dir, uint32_t i);
/* Files: block count and block i (i < count), in file order. Directories have none. */
uint32_t nn_inode_blk_count(const struct nn_inode *in);
struct nn_blkref nn_inode_blk(const struct nn_inode *in, uint32_t i);

/* ---- for nn_ns_image.c (the image decoder builds the tree through these) ---- */

int nn_ns_name_is_valid(const char *name);
/* Whether a file may have this block size and replica count: 1..NN_REPLICATION_MAX replicas of
 * whole NN_BLOCK_UNITs up to NN_BLOCK_UNITS_MAX. Create refuses others, and so do a loaded image
 * and a replayed record: placement and the block map are sized by these bounds. */
int nn_ns_file_shape_is_valid(uint64_t block_size, uint64_t replication);
struct nn_inode *nn_ns_inode_mut(const struct nn_ns *ns, uint64_t ino);
/* Is there an entry `name` in directory dir? */
int nn_ns_dir_has(const struct nn_inode *dir, const char *name);
/* Creates inode ino (not in use) named name (valid, not in dir) in directory dir, with
 * everything else zero; counts it as neither file nor directory yet. */
struct nn_inode *nn_ns_link_new(struct nn_ns *ns, struct nn_inode *dir, const char *name,
                                uint64_t ino);
/* Gives file in a write lease held by client (non-empty); in has none. */
void nn_ns_lease_set(struct nn_ns *ns, struct nn_inode *in, const char *client);
/* Appends block rec to file in (ids ascending); is_committed 0 only for the last one. */
void nn_ns_blk_append(struct nn_inode *in, struct nn_blkrec rec, int is_committed);

/* O(n) invariant check; panics on violation. */
void nn_ns_assert_valid(const struct nn_ns *ns);

#endif
