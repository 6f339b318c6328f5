/* nn_ns: namespace tree and its state machine. See nn_ns.h for the invariants.
 *
 * Every nn_ns_apply() handler first validates everything it needs (so a failing op leaves the
 * namespace untouched), then mutates. Handlers read time only from op->now_ms. */
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

static struct nn_inode *ns_inode(const struct nn_ns *ns, uint64_t ino)
{
    return ino ? u64map_get(&ns->inodes, ino) : NULL;
}

const struct nn_inode *nn_ns_get(const struct nn_ns *ns, uint64_t ino)
{
    return ns_inode(ns, ino);
}

static int name_cmp(const char *a, const char *b, size_t b_len)
{
    size_t a_len = strlen(a);
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

    if (c)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

/* Binary search: returns 1 and the entry's index if found, else 0 and the insertion index. */
static int dir_find(const struct nn_inode *dir, const char *name, size_t len, uint32_t *idx)
{
    uint32_t lo = 0, hi = dir->ent_count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(dir->ents[mid].name, name, len);
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

static void dir_insert(struct nn_inode *dir, uint32_t idx, const char *name, uint64_t ino)
{
    if (dir->ent_count == dir->ent_cap) {
        dir->ent_cap = dir->ent_cap ? dir->ent_cap * 2 : 4;
        dir->ents = xrealloc(dir->ents, dir->ent_cap * sizeof(*dir->ents));
    }
    memmove(&dir->ents[idx + 1], &dir->ents[idx], (dir->ent_count - idx) * sizeof(*dir->ents));
    dir->ents[idx].name = xstrdup(name);
    dir->ents[idx].ino = ino;
    dir->ent_count++;
}

static void dir_remove(struct nn_inode *dir, uint32_t idx)
{
    ASSERT(idx < dir->ent_count);
    free(dir->ents[idx].name);
    memmove(&dir->ents[idx], &dir->ents[idx + 1],
            (dir->ent_count - idx - 1) * sizeof(*dir->ents));
    dir->ent_count--;
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
    *out = ns_inode(ns, dir->ents[idx].ino);
    ASSERT(*out != NULL);
    return 0;
}

void nn_ns_attr(const struct nn_inode *in, struct wire_attr *out)
{
    out->ino = in->ino;
    out->mode = in->mode;
    out->nlink = in->nlink;
    out->uid = in->uid;
    out->gid = in->gid;
    out->size = in->size;
    out->atime_ms = in->atime_ms;
    out->mtime_ms = in->mtime_ms;
    out->ctime_ms = in->ctime_ms;
    out->block_size = in->block_size;
    out->replication = in->replication;
    out->is_open = in->lease_holder != NULL;
}

/* ---- inode lifecycle ---- */

static struct nn_inode *inode_new(struct nn_ns *ns, uint64_t ino, uint32_t mode, uint64_t now)
{
    struct nn_inode *in = xcalloc(1, sizeof(*in));

    in->ino = ino;
    in->mode = mode;
    in->nlink = S_ISDIR(mode) ? 2 : 1;
    in->atime_ms = in->mtime_ms = in->ctime_ms = now;
    u64map_put(&ns->inodes, ino, in);
    if (S_ISDIR(mode))
        ns->dir_count++;
    else
        ns->file_count++;
    return in;
}

static void inode_free(struct nn_ns *ns, struct nn_inode *in, struct nn_blk_list *freed)
{
    for (uint32_t i = 0; i < in->blk_count; i++) {
        struct wire_blk b = { in->blks[i].id, in->blks[i].gen };
        if (freed)
            nn_blk_list_push(freed, b);
    }
    ns->blk_count -= in->blk_count;
    for (uint32_t i = 0; i < in->ent_count; i++)
        free(in->ents[i].name);
    if (nn_inode_is_dir(in))
        ns->dir_count--;
    else
        ns->file_count--;
    u64map_del(&ns->inodes, in->ino);
    free(in->ents);
    free(in->blks);
    free(in->lease_holder);
    free(in);
}

void nn_ns_init(struct nn_ns *ns, uint64_t now_ms)
{
    memset(ns, 0, sizeof(*ns));
    u64map_init(&ns->inodes);
    ns->next_ino = NN_ROOT_INO + 1;
    ns->next_blk_id = 1;
    struct nn_inode *root = inode_new(ns, NN_ROOT_INO, S_IFDIR | 0755, now_ms);
    root->parent = NN_ROOT_INO;
}

void nn_ns_fini(struct nn_ns *ns)
{
    size_t pos = 0;
    struct u64map_slot *s;

    while ((s = u64map_next(&ns->inodes, &pos)) != NULL) {
        struct nn_inode *in = s->val;
        for (uint32_t i = 0; i < in->ent_count; i++)
            free(in->ents[i].name);
        free(in->ents);
        free(in->blks);
        free(in->lease_holder);
        free(in);
    }
    u64map_fini(&ns->inodes);
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

static int valid_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > WIRE_NAME_MAX || strchr(name, '/'))
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int holds_lease(const struct nn_inode *in, const char *client)
{
    return in->lease_holder && strcmp(in->lease_holder, client) == 0;
}

static void touch_dir(struct nn_inode *dir, uint64_t now)
{
    dir->mtime_ms = dir->ctime_ms = now;
}

/* Appends the new child entry to dir and links it. */
static struct nn_inode *make_child(struct nn_ns *ns, struct nn_inode *dir, uint32_t idx,
                                   const struct nn_op *op, uint32_t mode)
{
    struct nn_inode *in = inode_new(ns, ns->next_ino++, mode, op->now_ms);

    in->parent = dir->ino;
    in->uid = op->uid;
    in->gid = op->gid;
    dir_insert(dir, idx, op->name, in->ino);
    touch_dir(dir, op->now_ms);
    return in;
}

/* ---- handlers ---- */

static int apply_mkdir(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *dir;
    uint32_t idx;
    int rc = parent_dir(ns, op->parent, &dir);

    if (rc < 0)
        return rc;
    if (!valid_name(op->name))
        return -EINVAL;
    if (dir_find(dir, op->name, strlen(op->name), &idx))
        return -EEXIST;
    struct nn_inode *in = make_child(ns, dir, idx, op, S_IFDIR | (op->mode & 07777));
    dir->nlink++;
    res->ino = in->ino;
    return 0;
}

static int apply_create(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *dir;
    uint32_t idx;
    int rc = parent_dir(ns, op->parent, &dir);

    if (rc < 0)
        return rc;
    if (!valid_name(op->name) || op->block_size == 0 || op->replication == 0 ||
        op->block_size % (64 * 1024) != 0 || op->client[0] == '\0')
        return -EINVAL;
    if (dir_find(dir, op->name, strlen(op->name), &idx))
        return -EEXIST;
    struct nn_inode *in = make_child(ns, dir, idx, op, S_IFREG | (op->mode & 07777));
    in->block_size = op->block_size;
    in->replication = op->replication;
    in->lease_holder = xstrdup(op->client);
    res->ino = in->ino;
    return 0;
}

/* Drops every block of a file (truncate to 0). */
static void file_truncate(struct nn_ns *ns, struct nn_inode *in, struct nn_op_result *res,
                          uint64_t now)
{
    for (uint32_t i = 0; i < in->blk_count; i++)
        nn_blk_list_push(&res->freed, (struct wire_blk){ in->blks[i].id, in->blks[i].gen });
    ns->blk_count -= in->blk_count;
    in->blk_count = 0;
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
    if (in->lease_holder && !holds_lease(in, op->client))
        return -ERR_LEASE;
    if (in->blk_count && !in->blks[in->blk_count - 1].is_committed)
        return -EBUSY; /* a block is still being written through this lease */
    if (op->flags & WIRE_OPEN_TRUNC)
        file_truncate(ns, in, res, op->now_ms);
    if (!in->lease_holder)
        in->lease_holder = xstrdup(op->client);
    res->ino = in->ino;
    return 0;
}

/* Removes entry idx of dir, which names inode `in` (already validated). */
static void unlink_entry(struct nn_ns *ns, struct nn_inode *dir, uint32_t idx,
                         struct nn_inode *in, struct nn_op_result *res, uint64_t now)
{
    dir_remove(dir, idx);
    if (nn_inode_is_dir(in))
        dir->nlink--;
    touch_dir(dir, now);
    inode_free(ns, in, &res->freed);
}

static int lookup_entry(struct nn_ns *ns, uint64_t parent, const char *name, struct nn_inode **dir,
                        uint32_t *idx, struct nn_inode **in)
{
    int rc = parent_dir(ns, parent, dir);

    if (rc < 0)
        return rc;
    if (!valid_name(name))
        return -EINVAL;
    if (!dir_find(*dir, name, strlen(name), idx))
        return -ENOENT;
    *in = ns_inode(ns, (*dir)->ents[*idx].ino);
    ASSERT(*in != NULL);
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
    if (in->ent_count)
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
    if (nn_inode_is_dir(dst) && dst->ent_count)
        return -ENOTEMPTY;
    return 0;
}

static void rename_move(struct nn_ns *ns, struct nn_inode *sdir, uint32_t sidx,
                        struct nn_inode *in, const struct nn_op *op)
{
    struct nn_inode *ddir = ns_inode(ns, op->new_parent);
    uint32_t didx;

    dir_remove(sdir, sidx);
    int found = dir_find(ddir, op->new_name, strlen(op->new_name), &didx);
    ASSERT(!found);
    dir_insert(ddir, didx, op->new_name, in->ino);
    if (nn_inode_is_dir(in)) {
        sdir->nlink--;
        ddir->nlink++;
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
    if (!valid_name(op->new_name))
        return -EINVAL;
    if (nn_inode_is_dir(in) && is_within(ns, ddir->ino, in->ino))
        return -EINVAL;
    if (dir_find(ddir, op->new_name, strlen(op->new_name), &didx))
        dst = ns_inode(ns, ddir->ents[didx].ino);
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

static int apply_setattr(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *in = ns_inode(ns, op->ino);

    if (!in)
        return -ENOENT;
    if ((op->flags & WIRE_SET_SIZE) && op->size != in->size) {
        if (nn_inode_is_dir(in))
            return -EISDIR;
        if (op->size != 0)
            return -EOPNOTSUPP; /* arbitrary truncation comes with block reopening */
        if (in->lease_holder && (op->client[0] == '\0' || !holds_lease(in, op->client)))
            return -ERR_LEASE;
        if (in->blk_count && !in->blks[in->blk_count - 1].is_committed)
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
    if (!holds_lease(in, op->client))
        return -ERR_LEASE;
    *out = in;
    return 0;
}

/* Validates that blk names the file's last, uncommitted block (blk.id 0: there is none). */
static int check_last_block(const struct nn_inode *in, struct wire_blk blk, uint64_t len)
{
    const struct nn_blkref *last = in->blk_count ? &in->blks[in->blk_count - 1] : NULL;
    int has_open = last && !last->is_committed;

    if (blk.id == 0)
        return has_open ? -EINVAL : 0;
    if (!has_open || last->id != blk.id)
        return -EINVAL;
    if (last->gen != blk.gen)
        return -ERR_STALE_GEN;
    if (len > in->block_size)
        return -EINVAL;
    return 0;
}

static void commit_last_block(struct nn_inode *in, struct wire_blk blk, uint64_t len)
{
    if (blk.id == 0)
        return;
    struct nn_blkref *last = &in->blks[in->blk_count - 1];
    last->len = len;
    last->is_committed = 1;
    in->size += len;
}

static int apply_add_block(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    struct nn_inode *in;
    int rc = leased_file(ns, op, &in);

    if (rc < 0)
        return rc;
    rc = check_last_block(in, op->blk, op->blk_len);
    if (rc < 0)
        return rc;
    commit_last_block(in, op->blk, op->blk_len);
    if (in->blk_count == in->blk_cap) {
        in->blk_cap = in->blk_cap ? in->blk_cap * 2 : 2;
        in->blks = xrealloc(in->blks, in->blk_cap * sizeof(*in->blks));
    }
    struct nn_blkref *b = &in->blks[in->blk_count++];
    *b = (struct nn_blkref){ .id = ns->next_blk_id++, .gen = 1 };
    ns->blk_count++;
    in->mtime_ms = in->ctime_ms = op->now_ms;
    res->ino = in->ino;
    res->blk = (struct wire_blk){ b->id, b->gen };
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
    free(in->lease_holder);
    in->lease_holder = NULL;
    in->mtime_ms = in->ctime_ms = op->now_ms;
    res->ino = in->ino;
    return 0;
}

typedef int nn_apply_fn(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res);

static nn_apply_fn *const nn_apply_table[NN_OP_KIND_MAX + 1] = {
    [NN_OP_MKDIR] = apply_mkdir,       [NN_OP_CREATE] = apply_create,
    [NN_OP_OPEN_WRITE] = apply_open_write, [NN_OP_UNLINK] = apply_unlink,
    [NN_OP_RMDIR] = apply_rmdir,       [NN_OP_RENAME] = apply_rename,
    [NN_OP_SETATTR] = apply_setattr,   [NN_OP_ADD_BLOCK] = apply_add_block,
    [NN_OP_COMPLETE] = apply_complete,
};

int nn_ns_apply(struct nn_ns *ns, const struct nn_op *op, struct nn_op_result *res)
{
    ASSERT(res->freed.count == 0);
    if (op->kind == 0 || op->kind > NN_OP_KIND_MAX)
        return -EINVAL;
    int rc = nn_apply_table[op->kind](ns, op, res);
    DEBUG_ASSERT((nn_ns_assert_valid(ns), 1));
    return rc;
}

/* ---- edit-log record codec ---- */

enum { NN_OP_CODEC_VERSION = 1 };

static void put_cstr(struct buf *b, const char *s)
{
    buf_put_str(b, s);
}

static int get_cstr(struct cur *c, char *dst, size_t cap)
{
    uint32_t len;
    const uint8_t *p = cur_get_bytes(c, &len, (uint32_t)(cap - 1));

    if (!p)
        return -ERR_PROTO;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return memchr(dst, '\0', len) ? -ERR_PROTO : 0;
}

void nn_op_encode(const struct nn_op *op, struct buf *out)
{
    buf_put_u8(out, NN_OP_CODEC_VERSION);
    buf_put_u8(out, op->kind);
    buf_put_u64(out, op->now_ms);
    buf_put_u64(out, op->parent);
    buf_put_u64(out, op->ino);
    buf_put_u64(out, op->new_parent);
    put_cstr(out, op->name);
    put_cstr(out, op->new_name);
    put_cstr(out, op->client);
    buf_put_u32(out, op->mode);
    buf_put_u32(out, op->uid);
    buf_put_u32(out, op->gid);
    buf_put_u32(out, op->flags);
    buf_put_u64(out, op->size);
    buf_put_u64(out, op->atime_ms);
    buf_put_u64(out, op->mtime_ms);
    buf_put_u64(out, op->block_size);
    buf_put_u16(out, op->replication);
    buf_put_u64(out, op->blk.id);
    buf_put_u64(out, op->blk.gen);
    buf_put_u64(out, op->blk_len);
}

int nn_op_decode(const void *p, size_t len, struct nn_op *op)
{
    struct cur c;
    int rc = 0;

    memset(op, 0, sizeof(*op));
    cur_init(&c, p, len);
    if (cur_get_u8(&c) != NN_OP_CODEC_VERSION)
        return -ERR_PROTO;
    op->kind = cur_get_u8(&c);
    op->now_ms = cur_get_u64(&c);
    op->parent = cur_get_u64(&c);
    op->ino = cur_get_u64(&c);
    op->new_parent = cur_get_u64(&c);
    rc |= get_cstr(&c, op->name, sizeof(op->name));
    rc |= get_cstr(&c, op->new_name, sizeof(op->new_name));
    rc |= get_cstr(&c, op->client, sizeof(op->client));
    op->mode = cur_get_u32(&c);
    op->uid = cur_get_u32(&c);
    op->gid = cur_get_u32(&c);
    op->flags = cur_get_u32(&c);
    op->size = cur_get_u64(&c);
    op->atime_ms = cur_get_u64(&c);
    op->mtime_ms = cur_get_u64(&c);
    op->block_size = cur_get_u64(&c);
    op->replication = cur_get_u16(&c);
    op->blk.id = cur_get_u64(&c);
    op->blk.gen = cur_get_u64(&c);
    op->blk_len = cur_get_u64(&c);
    if (rc || cur_finish(&c) < 0 || op->kind == 0 || op->kind > NN_OP_KIND_MAX)
        return -ERR_PROTO;
    return 0;
}

/* ---- checkpoint image ---- */

enum { NN_IMAGE_MAGIC = 0x49534644 /* "DFSI" */, NN_IMAGE_VERSION = 1 };

static void image_put_inode(struct buf *b, const struct nn_inode *in, const char *name)
{
    buf_put_u64(b, in->ino);
    buf_put_u64(b, in->parent);
    put_cstr(b, name);
    buf_put_u32(b, in->mode);
    buf_put_u32(b, in->uid);
    buf_put_u32(b, in->gid);
    buf_put_u64(b, in->atime_ms);
    buf_put_u64(b, in->mtime_ms);
    buf_put_u64(b, in->ctime_ms);
    buf_put_u64(b, in->block_size);
    buf_put_u16(b, in->replication);
    put_cstr(b, in->lease_holder ? in->lease_holder : "");
    buf_put_u32(b, in->blk_count);
    for (uint32_t i = 0; i < in->blk_count; i++) {
        buf_put_u64(b, in->blks[i].id);
        buf_put_u64(b, in->blks[i].gen);
        buf_put_u64(b, in->blks[i].len);
        buf_put_u8(b, in->blks[i].is_committed);
    }
}

/* Depth-first from the root with an explicit stack, so parents precede children. */
void nn_ns_image_encode(const struct nn_ns *ns, struct buf *out)
{
    struct nn_dirent *stack = xmalloc(sizeof(*stack) * (ns->inodes.count + 1));
    size_t depth = 0;

    buf_put_u32(out, NN_IMAGE_MAGIC);
    buf_put_u16(out, NN_IMAGE_VERSION);
    buf_put_u64(out, ns->next_ino);
    buf_put_u64(out, ns->next_blk_id);
    buf_put_u64(out, ns->inodes.count);
    stack[depth++] = (struct nn_dirent){ .name = "", .ino = NN_ROOT_INO };
    while (depth) {
        struct nn_dirent e = stack[--depth];
        const struct nn_inode *in = ns_inode(ns, e.ino);
        ASSERT(in != NULL);
        image_put_inode(out, in, e.name);
        for (uint32_t i = 0; i < in->ent_count; i++)
            stack[depth++] = in->ents[i];
    }
    free(stack);
}

struct image_rec {
    uint64_t ino;
    uint64_t parent;
    char name[WIRE_NAME_MAX + 1];
    char lease[WIRE_ID_MAX + 1];
    uint32_t blk_count;
};

/* Links a decoded inode into its parent directory; -ERR_CORRUPT if that is impossible. */
static int image_link(struct nn_ns *ns, const struct image_rec *r, struct nn_inode **out)
{
    struct nn_inode *dir = ns_inode(ns, r->parent), *in;
    uint32_t idx;

    if (r->ino == NN_ROOT_INO) {
        *out = ns_inode(ns, NN_ROOT_INO);
        return r->parent == NN_ROOT_INO && r->name[0] == '\0' ? 0 : -ERR_CORRUPT;
    }
    if (!dir || !nn_inode_is_dir(dir) || r->ino == 0 || ns_inode(ns, r->ino) ||
        r->ino >= ns->next_ino ||
        !valid_name(r->name) || dir_find(dir, r->name, strlen(r->name), &idx))
        return -ERR_CORRUPT;
    in = xcalloc(1, sizeof(*in));
    in->ino = r->ino;
    in->parent = r->parent;
    u64map_put(&ns->inodes, r->ino, in);
    dir_insert(dir, idx, r->name, r->ino);
    *out = in;
    return 0;
}

static void image_get_fields(struct cur *c, struct nn_inode *in)
{
    in->mode = cur_get_u32(c);
    in->uid = cur_get_u32(c);
    in->gid = cur_get_u32(c);
    in->atime_ms = cur_get_u64(c);
    in->mtime_ms = cur_get_u64(c);
    in->ctime_ms = cur_get_u64(c);
    in->block_size = cur_get_u64(c);
    in->replication = cur_get_u16(c);
}

static int image_get_blocks(struct nn_ns *ns, struct cur *c, struct nn_inode *in, uint32_t n)
{
    if (n > cur_remaining(c) / 25 || (n && nn_inode_is_dir(in)))
        return -ERR_CORRUPT;
    in->blks = n ? xcalloc(n, sizeof(*in->blks)) : NULL;
    in->blk_cap = n;
    for (uint32_t i = 0; i < n; i++) {
        struct nn_blkref *b = &in->blks[in->blk_count++];
        b->id = cur_get_u64(c);
        b->gen = cur_get_u64(c);
        b->len = cur_get_u64(c);
        b->is_committed = cur_get_u8(c);
        if (b->id == 0 || b->id >= ns->next_blk_id || b->len > in->block_size ||
            b->is_committed > 1 || (!b->is_committed && (i + 1 != n || !in->lease_holder)))
            return -ERR_CORRUPT;
        if (b->is_committed)
            in->size += b->len;
    }
    ns->blk_count += n;
    return c->err ? -ERR_CORRUPT : 0;
}

static int image_get_inode(struct nn_ns *ns, struct cur *c)
{
    struct image_rec r;
    struct nn_inode *in;
    int rc;

    r.ino = cur_get_u64(c);
    r.parent = cur_get_u64(c);
    if (get_cstr(c, r.name, sizeof(r.name)) < 0)
        return -ERR_CORRUPT;
    rc = image_link(ns, &r, &in);
    if (rc < 0)
        return rc;
    image_get_fields(c, in);
    if (get_cstr(c, r.lease, sizeof(r.lease)) < 0 || c->err)
        return -ERR_CORRUPT;
    if ((!S_ISDIR(in->mode) && !S_ISREG(in->mode)) ||
        (in->ino == NN_ROOT_INO && (!S_ISDIR(in->mode) || r.lease[0])))
        return -ERR_CORRUPT;
    if (in->ino != NN_ROOT_INO) {
        in->nlink = S_ISDIR(in->mode) ? 2 : 1;
        if (S_ISDIR(in->mode)) {
            ns->dir_count++;
            ns_inode(ns, r.parent)->nlink++;
        } else {
            ns->file_count++;
        }
    }
    if (r.lease[0])
        in->lease_holder = xstrdup(r.lease);
    r.blk_count = cur_get_u32(c);
    return image_get_blocks(ns, c, in, r.blk_count);
}

int nn_ns_image_decode(struct nn_ns *ns, const void *p, size_t len)
{
    struct cur c;

    cur_init(&c, p, len);
    if (cur_get_u32(&c) != NN_IMAGE_MAGIC || cur_get_u16(&c) != NN_IMAGE_VERSION)
        return -ERR_CORRUPT;
    ns->next_ino = cur_get_u64(&c);
    ns->next_blk_id = cur_get_u64(&c);
    uint64_t count = cur_get_u64(&c);
    if (c.err || count == 0 || ns->next_ino <= NN_ROOT_INO || ns->next_blk_id == 0)
        return -ERR_CORRUPT;
    for (uint64_t i = 0; i < count; i++) {
        int rc = image_get_inode(ns, &c);
        if (rc < 0)
            return rc;
    }
    if (cur_finish(&c) < 0 || ns->inodes.count != count)
        return -ERR_CORRUPT;
    if (!S_ISDIR(ns_inode(ns, NN_ROOT_INO)->mode))
        return -ERR_CORRUPT;
    return 0;
}

/* ---- invariants ---- */

static void assert_dir_valid(const struct nn_ns *ns, const struct nn_inode *dir)
{
    uint32_t subdirs = 0;

    for (uint32_t i = 0; i < dir->ent_count; i++) {
        const struct nn_inode *child = ns_inode(ns, dir->ents[i].ino);
        ASSERT(child != NULL);
        ASSERT(child->parent == dir->ino);
        ASSERT(valid_name(dir->ents[i].name));
        if (i > 0)
            ASSERT(strcmp(dir->ents[i - 1].name, dir->ents[i].name) < 0);
        subdirs += nn_inode_is_dir(child) ? 1 : 0;
    }
    ASSERT(dir->nlink == 2 + subdirs);
}

static void assert_file_valid(const struct nn_inode *f)
{
    uint64_t size = 0;

    ASSERT(f->ent_count == 0);
    for (uint32_t i = 0; i < f->blk_count; i++) {
        if (f->blks[i].is_committed)
            size += f->blks[i].len;
        else
            ASSERT(i + 1 == f->blk_count && f->lease_holder != NULL);
    }
    ASSERT(size == f->size);
}

void nn_ns_assert_valid(const struct nn_ns *ns)
{
    size_t pos = 0, entries = 0, files = 0, blocks = 0;
    struct u64map_slot *s;

    ASSERT(ns_inode(ns, NN_ROOT_INO) && nn_inode_is_dir(ns_inode(ns, NN_ROOT_INO)));
    while ((s = u64map_next(&ns->inodes, &pos)) != NULL) {
        const struct nn_inode *in = s->val;
        ASSERT(in->ino == s->key && in->ino < ns->next_ino);
        if (nn_inode_is_dir(in)) {
            assert_dir_valid(ns, in);
            entries += in->ent_count;
        } else {
            assert_file_valid(in);
            files++;
            blocks += in->blk_count;
        }
    }
    ASSERT(entries + 1 == ns->inodes.count);
    ASSERT(files == ns->file_count && blocks == ns->blk_count);
    ASSERT(ns->dir_count + ns->file_count == ns->inodes.count);
}
