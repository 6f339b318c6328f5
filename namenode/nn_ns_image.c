/* nn_ns_image: the namespace's two persistent encodings, the edit-log record of one op and
 * the checkpoint image of the whole tree (byte formats in docs/ON-DISK.md). The image decoder
 * rebuilds the tree through nn_ns's linking helpers and checks every invariant it relies on. */
#include "nn_ns_image.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cur.h"
#include "err.h"
#include "panic.h"
#include "xmalloc.h"

/* ---- edit-log record codec ---- */

enum { NN_OP_CODEC_VERSION = 1 };

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
    buf_put_str(out, op->name);
    buf_put_str(out, op->new_name);
    buf_put_str(out, op->client);
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

static void image_put_inode(struct buf *b, const struct nn_ns *ns, const struct nn_inode *in)
{
    const char *holder = nn_ns_lease_holder(ns, in);
    uint32_t blk_count = nn_inode_blk_count(in);

    buf_put_u64(b, in->ino);
    buf_put_u64(b, in->parent);
    buf_put_str(b, in->name);
    buf_put_u32(b, in->mode);
    buf_put_u32(b, in->uid);
    buf_put_u32(b, in->gid);
    buf_put_u64(b, in->atime_ms);
    buf_put_u64(b, in->mtime_ms);
    buf_put_u64(b, in->ctime_ms);
    buf_put_u64(b, nn_inode_block_size(in));
    buf_put_u16(b, in->replication);
    buf_put_str(b, holder ? holder : "");
    buf_put_u32(b, blk_count);
    for (uint32_t i = 0; i < blk_count; i++) {
        struct nn_blkref r = nn_inode_blk(in, i);
        buf_put_u64(b, r.id);
        buf_put_u64(b, r.gen);
        buf_put_u64(b, r.len);
        buf_put_u8(b, r.is_committed);
    }
}

/* Depth-first from the root with an explicit stack, so parents precede children. */
void nn_ns_image_encode(const struct nn_ns *ns, struct buf *out)
{
    const struct nn_inode **stack = xmalloc(sizeof(*stack) * (ns->inodes.count + 1));
    size_t depth = 0;

    buf_put_u32(out, NN_IMAGE_MAGIC);
    buf_put_u16(out, NN_IMAGE_VERSION);
    buf_put_u64(out, ns->next_ino);
    buf_put_u64(out, ns->next_blk_id);
    buf_put_u64(out, ns->inodes.count);
    stack[depth++] = nn_ns_get(ns, NN_ROOT_INO);
    while (depth) {
        const struct nn_inode *in = stack[--depth];
        image_put_inode(out, ns, in);
        for (uint32_t i = 0; i < nn_inode_ent_count(in); i++)
            stack[depth++] = nn_inode_ent(in, i);
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
    struct nn_inode *dir = nn_ns_inode_mut(ns, r->parent);

    if (r->ino == NN_ROOT_INO) {
        *out = nn_ns_inode_mut(ns, NN_ROOT_INO);
        return r->parent == NN_ROOT_INO && r->name[0] == '\0' ? 0 : -ERR_CORRUPT;
    }
    if (!dir || !nn_inode_is_dir(dir) || r->ino == 0 || nn_ns_get(ns, r->ino) ||
        r->ino >= ns->next_ino ||
        !nn_ns_name_is_valid(r->name) || nn_ns_dir_has(dir, r->name))
        return -ERR_CORRUPT;
    *out = nn_ns_link_new(ns, dir, r->name, r->ino);
    return 0;
}

/* Reads the fixed fields; -ERR_CORRUPT for a block size the inode cannot hold (only whole
 * multiples of NN_BLOCK_UNIT are ever created), and for a file whose block size or replica
 * count create would refuse (placement and the block map rely on those bounds). */
static int image_get_fields(struct cur *c, struct nn_inode *in)
{
    in->mode = cur_get_u32(c);
    in->uid = cur_get_u32(c);
    in->gid = cur_get_u32(c);
    in->atime_ms = cur_get_u64(c);
    in->mtime_ms = cur_get_u64(c);
    in->ctime_ms = cur_get_u64(c);
    uint64_t block_size = cur_get_u64(c);
    in->replication = cur_get_u16(c);
    if (block_size % NN_BLOCK_UNIT != 0 || block_size / NN_BLOCK_UNIT > UINT32_MAX ||
        (S_ISREG(in->mode) && !nn_ns_file_shape_is_valid(block_size, in->replication)))
        return -ERR_CORRUPT;
    in->block_units = (uint32_t)(block_size / NN_BLOCK_UNIT);
    return 0;
}

static int image_get_blocks(struct nn_ns *ns, struct cur *c, struct nn_inode *in, uint32_t n)
{
    uint64_t prev_id = 0;

    if (n > cur_remaining(c) / 25 || (n && nn_inode_is_dir(in)))
        return -ERR_CORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        struct nn_blkrec b;
        b.id = cur_get_u64(c);
        b.gen = cur_get_u64(c);
        b.len = cur_get_u64(c);
        uint8_t is_committed = cur_get_u8(c);
        /* Ids ascend within a file: they come from one counter that only grows. */
        if (b.id == 0 || b.id >= ns->next_blk_id || b.id <= prev_id ||
            b.len > nn_inode_block_size(in) || is_committed > 1 ||
            (!is_committed && (i + 1 != n || !(in->flags & NN_INODE_OPEN))))
            return -ERR_CORRUPT;
        nn_ns_blk_append(in, b, is_committed);
        ns->blk_count++;
        prev_id = b.id;
        if (is_committed)
            in->size += b.len;
    }
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
    if (image_get_fields(c, in) < 0 || get_cstr(c, r.lease, sizeof(r.lease)) < 0 || c->err)
        return -ERR_CORRUPT;
    if ((!S_ISDIR(in->mode) && !S_ISREG(in->mode)) ||
        (in->ino == NN_ROOT_INO && (!S_ISDIR(in->mode) || r.lease[0])))
        return -ERR_CORRUPT;
    if (in->ino != NN_ROOT_INO) {
        if (S_ISDIR(in->mode)) {
            in->u.dir.nlink = 2;
            ns->dir_count++;
            nn_ns_inode_mut(ns, r.parent)->u.dir.nlink++;
        } else {
            ns->file_count++;
        }
    }
    if (r.lease[0] && S_ISDIR(in->mode))
        return -ERR_CORRUPT;
    if (r.lease[0])
        nn_ns_lease_set(ns, in, r.lease);
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
    if (c.err || count == 0 || ns->next_ino <= NN_ROOT_INO || ns->next_blk_id == 0 ||
        ns->next_ino > NN_ID_MAX || ns->next_blk_id > NN_ID_MAX)
        return -ERR_CORRUPT;
    for (uint64_t i = 0; i < count; i++) {
        int rc = image_get_inode(ns, &c);
        if (rc < 0)
            return rc;
    }
    if (cur_finish(&c) < 0 || ns->inodes.count != count)
        return -ERR_CORRUPT;
    if (!S_ISDIR(nn_ns_get(ns, NN_ROOT_INO)->mode))
        return -ERR_CORRUPT;
    return 0;
}

