/* nn_ns: namespace tree and its state machine. See nn_ns.h for the invariants.
 *
 * Every nn_ns_apply() handler first validates everything it needs (so a failing op leaves the
 * namespace untouched), then mutates. Handlers read time only from op->now_ms.
 *
 * Memory: this is the namenode's per-file cost, so an inode is one allocation sized for its
 * name, a directory entry is one pointer, the first block of a file lives in the inode, the
 * inode table holds bare pointers and lease holders live in a side map of open files only. */
#include "nn_ns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "panic.h"
#include "xmalloc.h"

/* ---- small helpers ---- */

void nn_blk_list_push(struct nn_blk_list *l, struct wire_blk b)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->count++] = b;
}

void nn_blk_list_fini(struct nn_blk_list *l)
{
    free(l->v);
    l->v = NULL;
    l->count = l->cap = 0;
}

int nn_inode_is_dir(const struct nn_inode *in)
{
    return S_ISDIR(in->mode);
}

uint32_t nn_inode_nlink(const struct nn_inode *in)
{
    return nn_inode_is_dir(in) ? in->u.dir.nlink : 1;
}

uint64_t nn_inode_block_size(const struct nn_inode *in)
{
    return (uint64_t)in->block_units * NN_BLOCK_UNIT;
}

uint32_t nn_inode_ent_count(const struct nn_inode *in)
{
    return nn_inode_is_dir(in) ? in->count : 0;
}

const struct nn_inode *nn_inode_ent(const struct nn_inode *dir, uint32_t i)
{
    ASSERT(nn_inode_is_dir(dir));
    ASSERT(i < dir->count);
    return dir->u.dir.ents[i];
}

uint32_t nn_inode_blk_count(const struct nn_inode *in)
{
    return nn_inode_is_dir(in) ? 0 : in->count;
}

/* A file's block records: inline while it has at most one. */
static struct nn_blkrec *file_blks(struct nn_inode *in)
{
    return in->count <= 1 ? &in->u.one : in->u.many;
}

static const struct nn_blkrec *file_blks_c(const struct nn_inode *in)
{
    return in->count <= 1 ? &in->u.one : in->u.many;
}

struct nn_blkref nn_inode_blk(const struct nn_inode *in, uint32_t i)
{
    ASSERT(!nn_inode_is_dir(in));
    ASSERT(i < in->count);
    const struct nn_blkrec *r = &file_blks_c(in)[i];
    int is_open = i + 1 == in->count && (in->flags & NN_INODE_LAST_OPEN);
    return (struct nn_blkref){ .id = r->id, .gen = r->gen, .len = r->len,
                               .is_committed = !is_open };
}

/* Capacity of the block array of a file with count >= 2 blocks: the next power of two. */
static uint32_t blk_cap(uint32_t count)
{
    uint32_t cap = 2;

    while (cap < count)
        cap *= 2;
    return cap;
}

void nn_ns_blk_append(struct nn_inode *in, struct nn_blkrec rec, int is_committed)
{
    ASSERT(!nn_inode_is_dir(in));
    ASSERT(!(in->flags & NN_INODE_LAST_OPEN));
    ASSERT(in->count == 0 || file_blks(in)[in->count - 1].id < rec.id);
    if (in->count == 1) {
        struct nn_blkrec first = in->u.one;
        in->u.many = xmalloc(2 * sizeof(*in->u.many));
        in->u.many[0] = first;
    } else if (in->count >= 2 && in->count == blk_cap(in->count)) {
        in->u.many = xrealloc(in->u.many, 2 * (size_t)in->count * sizeof(*in->u.many));
    }
    in->count++;
    file_blks(in)[in->count - 1] = rec;
    if (!is_committed)
        in->flags |= NN_INODE_LAST_OPEN;
}

/* Forgets every block of file in (the caller accounts for them). */
static void file_blks_clear(struct nn_inode *in)
{
    if (in->count >= 2)
        free(in->u.many);
    memset(&in->u, 0, sizeof(in->u));
    in->count = 0;
    in->flags &= (uint8_t)~NN_INODE_LAST_OPEN;
}

/* Index of block id in file in (ids ascend), or -1. */
static int64_t file_blk_find(const struct nn_inode *in, uint64_t id)
{
    const struct nn_blkrec *b = file_blks_c(in);
    uint32_t lo = 0, hi = in->count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b[mid].id == id)
            return mid;
        if (b[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static uint64_t inode_key(const void *entry)
{
    const struct nn_inode *in;

    memcpy(&in, entry, sizeof(in));
    return in->ino;
}

static struct nn_inode *ns_inode(const struct nn_ns *ns, uint64_t ino)
{
    struct nn_inode **slot = ino ? nn_otab_get(&ns->inodes, ino) : NULL;

    return slot ? *slot : NULL;
}

struct nn_inode *nn_ns_inode_mut(const struct nn_ns *ns, uint64_t ino)
{
    return ns_inode(ns, ino);
}

const struct nn_inode *nn_ns_get(const struct nn_ns *ns, uint64_t ino)
{
    return ns_inode(ns, ino);
}

const struct nn_inode *nn_ns_next(const struct nn_ns *ns, size_t *pos)
{
    struct nn_inode **slot = nn_otab_next(&ns->inodes, pos);

    return slot ? *slot : NULL;
}

int nn_ns_find_blk(const struct nn_ns *ns, uint64_t ino, uint64_t id, struct nn_blkref *out)
{
    const struct nn_inode *in = ns_inode(ns, ino);

    if (!in || nn_inode_is_dir(in))
        return -ENOENT;
    int64_t i = file_blk_find(in, id);
    if (i < 0)
        return -ENOENT;
    *out = nn_inode_blk(in, (uint32_t)i);
    return 0;
}

/* ---- leases: a side map, since only files being written have one ---- */

const char *nn_ns_lease_holder(const struct nn_ns *ns, const struct nn_inode *in)
{
    if (!(in->flags & NN_INODE_OPEN))
        return NULL;
    const char *holder = u64map_get(&ns->leases, in->ino);
    ASSERT(holder != NULL);
    return holder;
}

void nn_ns_lease_set(struct nn_ns *ns, struct nn_inode *in, const char *client)
{
    ASSERT(!(in->flags & NN_INODE_OPEN));
    ASSERT(client[0] != '\0');
    u64map_put(&ns->leases, in->ino, xstrdup(client));
    in->flags |= NN_INODE_OPEN;
}

static void lease_clear(struct nn_ns *ns, struct nn_inode *in)
{
    if (!(in->flags & NN_INODE_OPEN))
        return;
    free(u64map_del(&ns->leases, in->ino));
    in->flags &= (uint8_t)~NN_INODE_OPEN;
}

static int holds_lease(const struct nn_ns *ns, const struct nn_inode *in, const char *client)
{
    const char *holder = nn_ns_lease_holder(ns, in);

    return holder && strcmp(holder, client) == 0;
}

/* ---- directories: entry arrays of child pointers sorted by the children's names ---- */

static int name_cmp(const struct nn_inode *a, const char *b, size_t b_len)
{
    size_t a_len = a->name_len;
    int c = memcmp(a->name, b, a_len < b_len ? a_len : b_len);

    if (c)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

/* Binary search: returns 1 and the entry's index if found, else 0 and the insertion index. */
static int dir_find(const struct nn_inode *dir, const char *name, size_t len, uint32_t *idx)
{
    uint32_t lo = 0, hi = dir->count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(dir->u.dir.ents[mid], name, len);
        if (c == 0) {
            *idx = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *idx = lo;
    return 0;
}

uint32_t nn_ns_dir_seek(const struct nn_inode *dir, const char *after, size_t after_len)
{
    uint32_t idx;

    if (after_len == 0)
        return 0;
    return dir_find(dir, after, after_len, &idx) ? idx + 1 : idx;
}

int nn_ns_dir_has(const struct nn_inode *dir, const char *name)
{
    uint32_t idx;

    return dir_find(dir, name, strlen(name), &idx);
}

static void dir_insert(struct nn_inode *dir, uint32_t idx, struct nn_inode *child)
{
    struct nn_inode ***ents = &dir->u.dir.ents;

    if (dir->count == dir->u.dir.ent_cap) {
        dir->u.dir.ent_cap = dir->u.dir.ent_cap ? dir->u.dir.ent_cap * 2 : 4;
        *ents = xrealloc(*ents, dir->u.dir.ent_cap * sizeof(**ents));
    }
    memmove(&(*ents)[idx + 1], &(*ents)[idx], (dir->count - idx) * sizeof(**ents));
    (*ents)[idx] = child;
    dir->count++;
    dir->u.dir.change++;
}

static void dir_remove(struct nn_inode *dir, uint32_t idx)
{
    struct nn_inode **ents = dir->u.dir.ents;

    ASSERT(idx < dir->count);
    memmove(&ents[idx], &ents[idx + 1], (dir->count - idx - 1) * sizeof(*ents));
    dir->count--;
    dir->u.dir.change++;
}

int nn_ns_lookup(const struct nn_ns *ns, uint64_t parent, const char *name, size_t name_len,
                 const struct nn_inode **out)
{
    const struct nn_inode *dir = ns_inode(ns, parent);
    uint32_t idx;

    if (!dir)
        return -ENOENT;
    if (!nn_inode_is_dir(dir))
        return -ENOTDIR;
    if (!dir_find(dir, name, name_len, &idx))
        return -ENOENT;
    *out = dir->u.dir.ents[idx];
    return 0;
}

void nn_ns_attr(const struct nn_inode *in, struct wire_attr *out)
{
    out->ino = in->ino;
    out->mode = in->mode;
    out->nlink = nn_inode_nlink(in);
    out->uid = in->uid;
    out->gid = in->gid;
    out->size = in->size;
    out->atime_ms = in->atime_ms;
    out->mtime_ms = in->mtime_ms;
    out->ctime_ms = in->ctime_ms;
    out->block_size = nn_inode_block_size(in);
    out->replication = in->replication;
    out->is_open = (in->flags & NN_INODE_OPEN) != 0;
    out->change = nn_inode_is_dir(in) ? in->u.dir.change : 0;
}

/* ---- inode lifecycle ---- */

/* A zeroed inode named name (its only allocation besides, later, entry or block arrays). */
static struct nn_inode *inode_alloc(uint64_t ino, const char *name)
{
    size_t len = strlen(name);

    ASSERT(len <= WIRE_NAME_MAX);
    struct nn_inode *in = xcalloc(1, offsetof(struct nn_inode, name) + len + 1);
    in->ino = ino;
    in->name_len = (uint8_t)len;
    memcpy(in->name, name, len + 1);
    return in;
}

struct nn_inode *nn_ns_link_new(struct nn_ns *ns, struct nn_inode *dir, const char *name,
                                uint64_t ino)
{
    uint32_t idx;
    struct nn_inode *in = inode_alloc(ino, name);

    ASSERT(!dir_find(dir, name, strlen(name), &idx));
    in->parent = dir->ino;
    nn_otab_put(&ns->inodes, &in);
    dir_insert(dir, idx, in);
    return in;
}

static void inode_count(struct nn_ns *ns, const struct nn_inode *in, int delta)
{
    if (nn_inode_is_dir(in))
        ns->dir_count += (uint64_t)(int64_t)delta;
    else
        ns->file_count += (uint64_t)(int64_t)delta;
}

/* Sets up a new inode's mode-dependent fields, times and counters. */
static void inode_start(struct nn_ns *ns, struct nn_inode *in, uint32_t mode, uint64_t now)
{
    in->mode = mode;
    if (S_ISDIR(mode)) {
        in->u.dir.nlink = 2;
        in->u.dir.change = ns->change_base;
    }
    in->atime_ms = in->mtime_ms = in->ctime_ms = now;
    inode_count(ns, in, 1);
}

/* Releases in's own storage (not its children's, nor its table slot). */
static void inode_release(struct nn_ns *ns, struct nn_inode *in)
{
    if (nn_inode_is_dir(in))
        free(in->u.dir.ents);
    else
        file_blks_clear(in);
    lease_clear(ns, in);
    free(in);
}

/* Hands every block of file in to freed and drops them from the namespace's count (the
 * caller then clears or frees the file's block array). */
static void file_blks_release(struct nn_ns *ns, const struct nn_inode *in,
                              struct nn_blk_list *freed)
{
    const struct nn_blkrec *b = file_blks_c(in);

    for (uint32_t i = 0; i < in->count; i++)
        nn_blk_list_push(freed, (struct wire_blk){ b[i].id, b[i].gen });
    ns->blk_count -= in->count;
}

static void inode_free(struct nn_ns *ns, struct nn_inode *in, struct nn_blk_list *freed)
{
    if (!nn_inode_is_dir(in))
        file_blks_release(ns, in, freed);
    inode_count(ns, in, -1);
    int found = nn_otab_del(&ns->inodes, in->ino, NULL);
    ASSERT(found);
    inode_release(ns, in);
}

/* Moves in to an allocation sized for name (a rename); returns the new address. Only the
 * inode table's slot is updated here: the caller has taken in out of its directory. */
static struct nn_inode *inode_rename(struct nn_ns *ns, struct nn_inode *in, const char *name)
{
    size_t len = strlen(name);
    struct nn_inode *moved = xmalloc(offsetof(struct nn_inode, name) + len + 1);
    struct nn_inode **slot = nn_otab_get(&ns->inodes, in->ino);

    ASSERT(slot && *slot == in);
    memcpy(moved, in, offsetof(struct nn_inode, name));
    moved->name_len = (uint8_t)len;
    memcpy(moved->name, name, len + 1);
    *slot = moved;
    free(in);
    return moved;
}

void nn_ns_init(struct nn_ns *ns, uint64_t now_ms)
{
    memset(ns, 0, sizeof(*ns));
    nn_otab_init(&ns->inodes, sizeof(struct nn_inode *), inode_key);
    u64map_init(&ns->leases);
    ns->next_ino = NN_ROOT_INO + 1;
    ns->next_blk_id = 1;
    struct nn_inode *root = inode_alloc(NN_ROOT_INO, "");
    root->parent = NN_ROOT_INO;
    nn_otab_put(&ns->inodes, &root);
    inode_start(ns, root, S_IFDIR | 0755, now_ms);
}

void nn_ns_fini(struct nn_ns *ns)
{
    size_t pos = 0;
    struct nn_inode **slot;

    while ((slot = nn_otab_next(&ns->inodes, &pos)) != NULL)
        inode_release(ns, *slot);
    nn_otab_fini(&ns->inodes);
    u64map_fini(&ns->leases);
}

void nn_ns_start_changes(struct nn_ns *ns, uint64_t base)
{
    size_t pos = 0;
    struct nn_inode **slot;

    ns->change_base = base;
    while ((slot = nn_otab_next(&ns->inodes, &pos)) != NULL) {
        if (nn_inode_is_dir(*slot))
            (*slot)->u.dir.change = base;
    }
}

uint64_t nn_change_base(uint64_t last_index)
{
    return 2 * last_index;
}

/* ---- validation helpers ---- */

/* The directory inode `parent`, or -ENOENT / -ENOTDIR. */
static int parent_dir(const struct nn_ns *ns, uint64_t parent, struct nn_inode **out)
{
    struct nn_inode *dir = ns_inode(ns, parent);

    if (!dir)
        return -ENOENT;
    if (!nn_inode_is_dir(dir))
        return -ENOTDIR;
    *out = dir;
    return 0;
}

int nn_ns_name_is_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > WIRE_NAME_MAX || strchr(name, '/'))
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int nn_ns_file_shape_is_valid(uint64_t block_size, uint64_t replication)
{
    return block_size != 0 && block_size % NN_BLOCK_UNIT == 0 &&
           block_size / NN_BLOCK_UNIT <= NN_BLOCK_UNITS_MAX && replication >= 1 &&
           replication <= NN_REPLICATION_MAX;
}

/* Where a new name goes in dir: -EINVAL for a bad name, -EEXIST if the name is taken (the
 * mount opens an existing file on it), -ENOSPC when inode numbers ran out. */
static int new_entry_slot(const struct nn_ns *ns, const struct nn_inode *dir, const char *name,
                          uint32_t *idx)
{
    if (!nn_ns_name_is_valid(name))
        return -EINVAL;
    if (dir_find(dir, name, strlen(name), idx))
        return -EEXIST;
    return ns->next_ino >= NN_ID_MAX ? -ENOSPC : 0;
}

static void touch_dir(struct nn_inode *dir, uint64_t now)
{
    dir->mtime_ms = dir->ctime_ms = now;
}

/* Appends the new child entry to dir and links it. */
static struct nn_inode *make_child(struct nn_ns *ns, struct nn_inode *dir, uint32_t idx,
                                   const struct nn_op *op, uint32_t mode)
{
    struct nn_inode *in = inode_alloc(ns->next_ino++, op->name);

    in->parent = dir->ino;
    in->uid = op->uid;
    in->gid = op->gid;
    inode_start(ns, in, mode, op->now_ms);
    nn_otab_put(&ns->inodes, &in);
    dir_insert(dir, idx, in);
    touch_dir(dir, op->now_ms);
    return in;
}

/* ---- handlers ---- */

static int apply_mkdir(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *dir;
    uint32_t idx;
    int rc = parent_dir(ns, op->parent, &dir);

    if (rc == 0)
        rc = new_entry_slot(ns, dir, op->name, &idx);
    if (rc < 0)
        return rc;
    struct nn_inode *in = make_child(ns, dir, idx, op, S_IFDIR | (op->mode & 07777));
    dir->u.dir.nlink++;
    res->ino = in->ino;
    return 0;
}

static int apply_create(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *dir;
    uint32_t idx;
    int rc = parent_dir(ns, op->parent, &dir);

    if (rc == 0 && (!nn_ns_file_shape_is_valid(op->block_size, op->replication) ||
                    op->client[0] == '\0'))
        rc = -EINVAL;
    if (rc == 0)
        rc = new_entry_slot(ns, dir, op->name, &idx);
    if (rc < 0)
        return rc;
    struct nn_inode *in = make_child(ns, dir, idx, op, S_IFREG | (op->mode & 07777));
    in->block_units = (uint32_t)(op->block_size / NN_BLOCK_UNIT);
    in->replication = op->replication;
    if (!(op->flags & WIRE_CREATE_NO_LEASE))
        nn_ns_lease_set(ns, in, op->client);
    res->ino = in->ino;
    return 0;
}

/* Drops every block of a file (truncate to 0). */
static void file_truncate(struct nn_ns *ns, struct nn_inode *in, struct nn_op_result *res,
                          uint64_t now)
{
    file_blks_release(ns, in, &res->freed);
    file_blks_clear(in);
    in->size = 0;
    in->mtime_ms = in->ctime_ms = now;
}

static int apply_open_write(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *in = ns_inode(ns, op->ino);

    if (!in)
        return -ENOENT;
    if (nn_inode_is_dir(in))
        return -EISDIR;
    if (op->client[0] == '\0')
        return -EINVAL;
    if ((in->flags & NN_INODE_OPEN) && !holds_lease(ns, in, op->client))
        return -ERR_LEASE;
    if (in->flags & NN_INODE_LAST_OPEN)
        return -EBUSY; /* a block is still being written through this lease */
    if (op->flags & WIRE_OPEN_TRUNC)
        file_truncate(ns, in, res, op->now_ms);
    if (!(in->flags & NN_INODE_OPEN))
        nn_ns_lease_set(ns, in, op->client);
    res->ino = in->ino;
    return 0;
}

/* Removes entry idx of dir, which names inode `in` (already validated). */
static void unlink_entry(struct nn_ns *ns, struct nn_inode *dir, uint32_t idx,
                         struct nn_inode *in, struct nn_op_result *res, uint64_t now)
{
    dir_remove(dir, idx);
    if (nn_inode_is_dir(in))
        dir->u.dir.nlink--;
    touch_dir(dir, now);
    inode_free(ns, in, &res->freed);
}

static int lookup_entry(struct nn_ns *ns, uint64_t parent, const char *name, struct nn_inode **dir,
                        uint32_t *idx, struct nn_inode **in)
{
    int rc = parent_dir(ns, parent, dir);

    if (rc < 0)
        return rc;
    if (!nn_ns_name_is_valid(name))
        return -EINVAL;
    if (!dir_find(*dir, name, strlen(name), idx))
        return -ENOENT;
    *in = (*dir)->u.dir.ents[*idx];
    return 0;
}

static int apply_unlink(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *dir, *in;
    uint32_t idx;
    int rc = lookup_entry(ns, op->parent, op->name, &dir, &idx, &in);

    if (rc < 0)
        return rc;
    if (nn_inode_is_dir(in))
        return -EISDIR;
    res->ino = in->ino;
    unlink_entry(ns, dir, idx, in, res, op->now_ms);
    return 0;
}

static int apply_rmdir(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *dir, *in;
    uint32_t idx;
    int rc = lookup_entry(ns, op->parent, op->name, &dir, &idx, &in);

    if (rc < 0)
        return rc;
    if (!nn_inode_is_dir(in))
        return -ENOTDIR;
    if (in->count)
        return -ENOTEMPTY;
    res->ino = in->ino;
    unlink_entry(ns, dir, idx, in, res, op->now_ms);
    return 0;
}

/* Is `ino` the directory `anc` or inside it? Walks parent links up to the root. */
static int is_within(const struct nn_ns *ns, uint64_t ino, uint64_t anc)
{
    for (;;) {
        if (ino == anc)
            return 1;
        if (ino == NN_ROOT_INO)
            return 0;
        const struct nn_inode *in = ns_inode(ns, ino);
        ASSERT(in != NULL);
        ino = in->parent;
    }
}

/* Checks that src may replace dst (an existing entry) per rename(2). */
static int rename_check_target(const struct nn_inode *src, const struct nn_inode *dst,
                               uint32_t flags)
{
    if (flags & WIRE_RENAME_NOREPLACE)
        return -EEXIST;
    if (nn_inode_is_dir(src) && !nn_inode_is_dir(dst))
        return -ENOTDIR;
    if (!nn_inode_is_dir(src) && nn_inode_is_dir(dst))
        return -EISDIR;
    if (nn_inode_is_dir(dst) && dst->count)
        return -ENOTEMPTY;
    return 0;
}

static void rename_move(struct nn_ns *ns, struct nn_inode *sdir, uint32_t sidx,
                        struct nn_inode *in, const struct nn_op *op)
{
    struct nn_inode *ddir = ns_inode(ns, op->new_parent);
    uint32_t didx;

    dir_remove(sdir, sidx);
    if (strcmp(in->name, op->new_name) != 0)
        in = inode_rename(ns, in, op->new_name);
    int found = dir_find(ddir, op->new_name, strlen(op->new_name), &didx);
    ASSERT(!found);
    dir_insert(ddir, didx, in);
    if (nn_inode_is_dir(in)) {
        sdir->u.dir.nlink--;
        ddir->u.dir.nlink++;
    }
    in->parent = ddir->ino;
    in->ctime_ms = op->now_ms;
    touch_dir(sdir, op->now_ms);
    touch_dir(ddir, op->now_ms);
}

static int apply_rename(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *sdir, *in, *ddir, *dst = NULL;
    uint32_t sidx, didx;
    int rc = lookup_entry(ns, op->parent, op->name, &sdir, &sidx, &in);

    if (rc < 0)
        return rc;
    rc = parent_dir(ns, op->new_parent, &ddir);
    if (rc < 0)
        return rc;
    if (!nn_ns_name_is_valid(op->new_name))
        return -EINVAL;
    if (nn_inode_is_dir(in) && is_within(ns, ddir->ino, in->ino))
        return -EINVAL;
    if (dir_find(ddir, op->new_name, strlen(op->new_name), &didx))
        dst = ddir->u.dir.ents[didx];
    if (dst == in)
        return 0; /* same entry: rename(2) does nothing */
    if (dst && (rc = rename_check_target(in, dst, op->flags)) < 0)
        return rc;
    res->ino = in->ino;
    if (dst)
        unlink_entry(ns, ddir, didx, dst, res, op->now_ms);
    /* unlink_entry may have shifted the source directory's entries if sdir == ddir. */
    int found = dir_find(sdir, op->name, strlen(op->name), &sidx);
    ASSERT(found);
    rename_move(ns, sdir, sidx, in, op);
    return 0;
}

/* A SETATTR that sets every attribute to its current value, ctime included: `touch` right
 * after the create, in the same millisecond. */
static int setattr_is_unchanged(const struct nn_inode *in, const struct nn_op *op)
{
    struct wire_nn_setattr req = { .ino = op->ino, .valid = op->flags, .mode = op->mode,
                                   .uid = op->uid, .gid = op->gid, .size = op->size,
                                   .atime_ms = op->atime_ms, .mtime_ms = op->mtime_ms };
    struct wire_attr a;

    nn_ns_attr(in, &a);
    return in->ctime_ms == op->now_ms && wire_attr_has(&a, &req);
}

static int apply_setattr(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *in = ns_inode(ns, op->ino);

    if (!in)
        return -ENOENT;
    res->is_unchanged = setattr_is_unchanged(in, op);
    if ((op->flags & WIRE_SET_SIZE) && op->size != in->size) {
        if (nn_inode_is_dir(in))
            return -EISDIR;
        if (op->size != 0)
            return -EOPNOTSUPP; /* arbitrary truncation comes with block reopening */
        if ((in->flags & NN_INODE_OPEN) &&
            (op->client[0] == '\0' || !holds_lease(ns, in, op->client)))
            return -ERR_LEASE;
        if (in->flags & NN_INODE_LAST_OPEN)
            return -EBUSY;
        file_truncate(ns, in, res, op->now_ms);
    }
    if (op->flags & WIRE_SET_MODE)
        in->mode = (in->mode & S_IFMT) | (op->mode & 07777);
    if (op->flags & WIRE_SET_UID)
        in->uid = op->uid;
    if (op->flags & WIRE_SET_GID)
        in->gid = op->gid;
    if (op->flags & WIRE_SET_ATIME)
        in->atime_ms = op->atime_ms;
    if (op->flags & WIRE_SET_MTIME)
        in->mtime_ms = op->mtime_ms;
    in->ctime_ms = op->now_ms;
    res->ino = in->ino;
    return 0;
}

/* The open file `ino` whose lease op->client holds. */
static int leased_file(struct nn_ns *ns, const struct nn_op *op, struct nn_inode **out)
{
    struct nn_inode *in = ns_inode(ns, op->ino);

    if (!in)
        return -ENOENT;
    if (nn_inode_is_dir(in))
        return -EISDIR;
    if (!holds_lease(ns, in, op->client))
        return -ERR_LEASE;
    *out = in;
    return 0;
}

/* Validates that blk names the file's last, uncommitted block (blk.id 0: there is none). */
static int check_last_block(const struct nn_inode *in, struct wire_blk blk, uint64_t len)
{
    const struct nn_blkrec *last = in->count ? &file_blks_c(in)[in->count - 1] : NULL;
    int has_open = (in->flags & NN_INODE_LAST_OPEN) != 0;

    if (blk.id == 0)
        return has_open ? -EINVAL : 0;
    if (!has_open || last->id != blk.id)
        return -EINVAL;
    if (last->gen != blk.gen)
        return -ERR_STALE_GEN;
    if (len > nn_inode_block_size(in))
        return -EINVAL;
    return 0;
}

static void commit_last_block(struct nn_inode *in, struct wire_blk blk, uint64_t len)
{
    if (blk.id == 0)
        return;
    struct nn_blkrec *last = &file_blks(in)[in->count - 1];
    last->len = len;
    in->flags &= (uint8_t)~NN_INODE_LAST_OPEN;
    in->size += len;
}

/* The file ADD_BLOCK writes to: leased by op->client, or leased by nobody, in which case
 * *is_free is set and the caller takes the lease once the op is known to succeed (a file
 * created with WIRE_CREATE_NO_LEASE, or whose writer completed, gets its lease this way). */
static int block_file(struct nn_ns *ns, const struct nn_op *op, struct nn_inode **out,
                      int *is_free)
{
    struct nn_inode *in = ns_inode(ns, op->ino);

    if (!in)
        return -ENOENT;
    if (nn_inode_is_dir(in))
        return -EISDIR;
    *is_free = nn_ns_lease_holder(ns, in) == NULL;
    if (!*is_free && !holds_lease(ns, in, op->client))
        return -ERR_LEASE;
    if (op->client[0] == '\0')
        return -EINVAL;
    *out = in;
    return 0;
}

static int apply_add_block(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *in;
    int is_free;
    int rc = block_file(ns, op, &in, &is_free);

    if (rc < 0)
        return rc;
    rc = check_last_block(in, op->blk, op->blk_len);
    if (rc < 0)
        return rc;
    if (ns->next_blk_id >= NN_ID_MAX)
        return -ENOSPC;
    if (is_free)
        nn_ns_lease_set(ns, in, op->client);
    commit_last_block(in, op->blk, op->blk_len);
    struct nn_blkrec b = { .id = ns->next_blk_id++, .gen = 1 };
    nn_ns_blk_append(in, b, 0);
    ns->blk_count++;
    in->mtime_ms = in->ctime_ms = op->now_ms;
    res->ino = in->ino;
    res->blk = (struct wire_blk){ b.id, b.gen };
    res->blk_offset = in->size;
    return 0;
}

static int apply_complete(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *in;
    int rc = leased_file(ns, op, &in);

    if (rc < 0)
        return rc;
    rc = check_last_block(in, op->blk, op->blk_len);
    if (rc < 0)
        return rc;
    commit_last_block(in, op->blk, op->blk_len);
    lease_clear(ns, in);
    in->mtime_ms = in->ctime_ms = op->now_ms;
    res->ino = in->ino;
    return 0;
}

static int apply_spend_blk_ids(struct nn_ns *ns, const struct nn_op *op,
                               struct nn_op_result *res)
{
    if (op->size > NN_ID_MAX)
        return -EINVAL;
    if (op->size > ns->next_blk_id)
        ns->next_blk_id = op->size;
    else
        res->is_unchanged = 1;
    return 0;
}

typedef int nn_apply_fn(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res);

static nn_apply_fn *const nn_apply_table[NN_OP_KIND_MAX + 1] = {
    [NN_OP_MKDIR] = apply_mkdir,       [NN_OP_CREATE] = apply_create,
    [NN_OP_OPEN_WRITE] = apply_open_write, [NN_OP_UNLINK] = apply_unlink,
    [NN_OP_RMDIR] = apply_rmdir,       [NN_OP_RENAME] = apply_rename,
    [NN_OP_SETATTR] = apply_setattr,   [NN_OP_ADD_BLOCK] = apply_add_block,
    [NN_OP_COMPLETE] = apply_complete, [NN_OP_SPEND_BLK_IDS] = apply_spend_blk_ids,
};

int nn_ns_apply(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    ASSERT(res->freed.count == 0);
    if (op->kind == 0 || op->kind > NN_OP_KIND_MAX)
        return -EINVAL;
    res->is_unchanged = 0;
    int rc = nn_apply_table[op->kind](ns, op, res);
    DEBUG_ASSERT((nn_ns_assert_valid(ns), 1));
    return rc;
}


/* ---- invariants ---- */

static void assert_dir_valid(const struct nn_ns *ns, const struct nn_inode *dir)
{
    uint32_t subdirs = 0;

    ASSERT(dir->count <= dir->u.dir.ent_cap || dir->count == 0);
    for (uint32_t i = 0; i < dir->count; i++) {
        const struct nn_inode *child = dir->u.dir.ents[i];
        ASSERT(ns_inode(ns, child->ino) == child);
        ASSERT(child->parent == dir->ino);
        ASSERT(child->name_len == strlen(child->name));
        ASSERT(nn_ns_name_is_valid(child->name));
        if (i > 0)
            ASSERT(strcmp(dir->u.dir.ents[i - 1]->name, child->name) < 0);
        subdirs += nn_inode_is_dir(child) ? 1 : 0;
    }
    ASSERT(dir->u.dir.nlink == 2 + subdirs);
    ASSERT(!(dir->flags & (NN_INODE_OPEN | NN_INODE_LAST_OPEN)));
}

static void assert_file_valid(const struct nn_ns *ns, const struct nn_inode *f)
{
    const struct nn_blkrec *b = file_blks_c(f);
    uint64_t size = 0;

    for (uint32_t i = 0; i < f->count; i++) {
        if (i > 0)
            ASSERT(b[i - 1].id < b[i].id);
        ASSERT(b[i].id != 0 && b[i].id < ns->next_blk_id);
        if (nn_inode_blk(f, i).is_committed)
            size += b[i].len;
    }
    if (f->flags & NN_INODE_LAST_OPEN)
        ASSERT(f->count > 0 && (f->flags & NN_INODE_OPEN));
    ASSERT((nn_ns_lease_holder(ns, f) != NULL) == ((f->flags & NN_INODE_OPEN) != 0));
    ASSERT(size == f->size);
}

void nn_ns_assert_valid(const struct nn_ns *ns)
{
    size_t pos = 0, entries = 0, files = 0, blocks = 0, open = 0;
    const struct nn_inode *in;

    ASSERT(ns_inode(ns, NN_ROOT_INO) && nn_inode_is_dir(ns_inode(ns, NN_ROOT_INO)));
    while ((in = nn_ns_next(ns, &pos)) != NULL) {
        ASSERT(in->ino != 0 && in->ino < ns->next_ino);
        if (nn_inode_is_dir(in)) {
            assert_dir_valid(ns, in);
            entries += in->count;
        } else {
            assert_file_valid(ns, in);
            files++;
            blocks += in->count;
            open += (in->flags & NN_INODE_OPEN) != 0;
        }
    }
    ASSERT(entries + 1 == ns->inodes.count);
    ASSERT(files == ns->file_count && blocks == ns->blk_count);
    ASSERT(ns->dir_count + ns->file_count == ns->inodes.count);
    ASSERT(open == ns->leases.count);
}
