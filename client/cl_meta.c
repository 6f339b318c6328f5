#include "cl_meta.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cl_client.h"
#include "cl_path.h"
#include "err.h"
#include "panic.h"

static int cl_meta_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0)
        return -EINVAL;
    return n > WIRE_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* A request carrying {parent, name}, answered by an attr (out may be NULL). */
static int cl_meta_name_rpc(struct dfs_client *c, uint16_t type, uint64_t parent,
                            const char *name, struct wire_attr *out)
{
    struct wire_nn_name m = { .parent = parent, .name = wire_str_c(name) };
    struct buf body;
    int rc = cl_meta_name_ok(name);

    if (rc < 0)
        return rc;
    buf_init(&body);
    wire_nn_name_encode(&body, &m);
    rc = cl_client_rpc_attr(c, type, &body, out);
    buf_fini(&body);
    return rc;
}

int dfs_lookup(struct dfs_client *c, uint64_t parent, const char *name, struct wire_attr *out)
{
    ASSERT(out);
    return cl_meta_name_rpc(c, WIRE_NN_LOOKUP, parent, name, out);
}

int dfs_unlink(struct dfs_client *c, uint64_t parent, const char *name,
               struct wire_attr *parent_out)
{
    return cl_meta_name_rpc(c, WIRE_NN_UNLINK, parent, name, parent_out);
}

int dfs_rmdir(struct dfs_client *c, uint64_t parent, const char *name,
              struct wire_attr *parent_out)
{
    return cl_meta_name_rpc(c, WIRE_NN_RMDIR, parent, name, parent_out);
}

int dfs_getattr(struct dfs_client *c, uint64_t ino, struct wire_attr *out)
{
    struct wire_nn_ino m = { .ino = ino };
    struct buf body;
    int rc;

    buf_init(&body);
    wire_nn_ino_encode(&body, &m);
    rc = cl_client_rpc_attr(c, WIRE_NN_GETATTR, &body, out);
    buf_fini(&body);
    return rc;
}

int dfs_setattr(struct dfs_client *c, const struct wire_nn_setattr *req, struct wire_attr *out)
{
    struct buf body;
    int rc;

    buf_init(&body);
    wire_nn_setattr_encode(&body, req);
    rc = cl_client_rpc_attr(c, WIRE_NN_SETATTR, &body, out);
    buf_fini(&body);
    return rc;
}

int dfs_mkdir(struct dfs_client *c, const struct wire_nn_mkdir *req, struct wire_attr *out,
              struct wire_attr *parent_out)
{
    struct buf body;
    int rc;

    if (req->name.len == 0)
        return -EINVAL;
    if (req->name.len > WIRE_NAME_MAX)
        return -ENAMETOOLONG;
    buf_init(&body);
    wire_nn_mkdir_encode(&body, req);
    rc = cl_client_rpc_entry(c, WIRE_NN_MKDIR, &body, out, parent_out);
    buf_fini(&body);
    return rc;
}

int dfs_rename(struct dfs_client *c, const struct wire_nn_rename *req)
{
    struct buf body, storage;
    struct wire_frame reply;
    int rc;

    if (req->name.len > WIRE_NAME_MAX || req->new_name.len > WIRE_NAME_MAX)
        return -ENAMETOOLONG;
    buf_init(&body);
    buf_init(&storage);
    wire_nn_rename_encode(&body, req);
    rc = dfs_rpc(c, WIRE_NN_RENAME, &body, &storage, &reply);
    buf_fini(&storage);
    buf_fini(&body);
    return rc;
}

int dfs_statfs(struct dfs_client *c, struct wire_nn_statfs_ok *out)
{
    struct buf storage;
    struct wire_frame reply;
    struct wire_nn_statfs_ok st;
    int rc;

    buf_init(&storage);
    rc = dfs_rpc(c, WIRE_NN_STATFS, NULL, &storage, &reply);
    if (rc == 0)
        rc = wire_nn_statfs_ok_decode(reply.body, reply.hdr.body_len, &st);
    if (rc == 0)
        *out = st;
    buf_fini(&storage);
    return rc;
}

/* The paging state of one dfs_readdir call. */
struct cl_meta_dir {
    char after[WIRE_NAME_MAX + 1];
    uint32_t left; /* entries the caller still accepts; UINT32_MAX = no limit */
    int is_stopped;
    int is_eof;
};

/* One NN_READDIR round trip; hands its entries to fn and advances d. */
static int cl_meta_readdir_page(struct dfs_client *c, uint64_t ino, struct cl_meta_dir *d,
                                dfs_dirent_fn *fn, void *arg)
{
    uint32_t want = d->left < CL_META_READDIR_BATCH ? d->left : CL_META_READDIR_BATCH;
    struct wire_nn_readdir m = { .ino = ino, .after = wire_str_c(d->after), .max = want };
    struct wire_nn_readdir_ok ok;
    struct wire_frame reply;
    struct buf body, storage;
    int rc;

    buf_init(&body);
    buf_init(&storage);
    wire_nn_readdir_encode(&body, &m);
    rc = dfs_rpc(c, WIRE_NN_READDIR, &body, &storage, &reply);
    if (rc == 0)
        rc = wire_nn_readdir_ok_decode(reply.body, reply.hdr.body_len, &ok);
    if (rc == 0 && (ok.count > want || (ok.count == 0 && !ok.is_eof)))
        rc = -ERR_PROTO;
    for (uint32_t i = 0; rc == 0 && i < ok.count && !d->is_stopped; i++) {
        struct wire_nn_dirent e;
        wire_nn_readdir_ok_next(&ok, &e);
        rc = wire_str_copy(e.name, d->after, sizeof(d->after));
        d->left--;
        if (rc == 0 && fn(arg, &e) != 0)
            d->is_stopped = 1;
        if (rc == 0 && i + 1 == ok.count)
            d->is_eof = ok.is_eof;
    }
    if (rc == 0 && ok.count == 0)
        d->is_eof = 1;
    buf_fini(&storage);
    buf_fini(&body);
    return rc;
}

int dfs_readdir(struct dfs_client *c, uint64_t ino, const char *after, uint32_t max,
                dfs_dirent_fn *fn, void *arg, int *is_eof)
{
    struct cl_meta_dir d = { .left = max ? max : UINT32_MAX };
    int rc = 0;

    ASSERT(fn);
    if (after && wire_str_copy(wire_str_c(after), d.after, sizeof(d.after)) < 0)
        return -ENAMETOOLONG;
    while (!d.is_stopped && !d.is_eof && d.left > 0) {
        rc = cl_meta_readdir_page(c, ino, &d, fn, arg);
        if (rc < 0)
            return rc;
    }
    if (is_eof)
        *is_eof = d.is_eof;
    return 0;
}

/* Walks the components of a normalized path from the root (a directory, always: its
 * attributes are asked for only when the path is "/" itself). */
static int cl_meta_walk(struct dfs_client *c, const char *norm, struct wire_attr *out)
{
    char name[WIRE_NAME_MAX + 1];
    struct wire_attr attr = { .ino = DFS_ROOT_INO, .mode = S_IFDIR };
    size_t pos = 0;
    int rc = 0, is_root = 1;

    while (rc == 0 && cl_path_next(norm, &pos, name)) {
        if (!S_ISDIR(attr.mode))
            return -ENOTDIR;
        rc = dfs_lookup(c, attr.ino, name, &attr);
        is_root = 0;
    }
    if (rc == 0 && is_root)
        rc = dfs_getattr(c, DFS_ROOT_INO, &attr);
    if (rc == 0)
        *out = attr;
    return rc;
}

int dfs_resolve(struct dfs_client *c, const char *path, struct wire_attr *out)
{
    char norm[CL_PATH_MAX];
    int rc = cl_path_normalize(path, norm, sizeof(norm));

    if (rc < 0)
        return rc;
    return cl_meta_walk(c, norm, out);
}

int dfs_resolve_parent(struct dfs_client *c, const char *path, uint64_t *parent_ino,
                       char name[WIRE_NAME_MAX + 1])
{
    char norm[CL_PATH_MAX], parent[CL_PATH_MAX], last[WIRE_NAME_MAX + 1];
    struct wire_attr attr;
    int rc = cl_path_normalize(path, norm, sizeof(norm));

    if (rc == 0)
        rc = cl_path_split(norm, parent, sizeof(parent), last);
    if (rc == 0)
        rc = cl_meta_walk(c, parent, &attr);
    if (rc < 0)
        return rc;
    if (!S_ISDIR(attr.mode))
        return -ENOTDIR;
    *parent_ino = attr.ino;
    memcpy(name, last, strlen(last) + 1);
    return 0;
}
