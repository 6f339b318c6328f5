#include "cl_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cl_path.h"
#include "panic.h"
#include "xmalloc.h"

/* Looks up name in parent, creating it as a directory if missing. */
static int cl_tree_mkdir_one(struct dfs_client *c, uint64_t parent, const char *name,
                             const struct cl_tree_owner *o, struct wire_attr *attr)
{
    struct wire_nn_mkdir m = {
        .parent = parent, .name = wire_str_c(name), .mode = S_IFDIR | (o->dir_mode & 07777),
        .uid = o->uid, .gid = o->gid,
    };
    int rc = dfs_lookup(c, parent, name, attr);

    if (rc == -ENOENT) {
        rc = dfs_mkdir(c, &m, attr, NULL);
        if (rc == -EEXIST) /* created concurrently */
            rc = dfs_lookup(c, parent, name, attr);
    }
    if (rc == 0 && !S_ISDIR(attr->mode))
        rc = -ENOTDIR;
    return rc;
}

int cl_tree_mkdir_p(struct dfs_client *c, const char *path, const struct cl_tree_owner *o,
                    struct wire_attr *out)
{
    char norm[CL_PATH_MAX], name[WIRE_NAME_MAX + 1];
    struct wire_attr attr = { .ino = DFS_ROOT_INO, .mode = S_IFDIR };
    size_t pos = 0;
    int rc = cl_path_normalize(path, norm, sizeof(norm)), is_root = 1;

    while (rc == 0 && cl_path_next(norm, &pos, name)) {
        rc = cl_tree_mkdir_one(c, attr.ino, name, o, &attr);
        is_root = 0;
    }
    if (rc == 0 && is_root) /* "/": the root's attributes are asked for only then */
        rc = dfs_getattr(c, DFS_ROOT_INO, &attr);
    if (rc == 0 && out)
        *out = attr;
    return rc;
}

struct cl_tree_entry {
    char name[WIRE_NAME_MAX + 1];
    uint64_t ino;
    int is_dir;
};

struct cl_tree_batch {
    struct cl_tree_entry *entries; /* CL_TREE_BATCH slots */
    uint32_t count;
    int rc;
};

static int cl_tree_collect_cb(void *arg, const struct wire_nn_dirent *e)
{
    struct cl_tree_batch *b = arg;
    struct cl_tree_entry *t = &b->entries[b->count];

    ASSERT(b->count < CL_TREE_BATCH);
    b->rc = wire_str_copy(e->name, t->name, sizeof(t->name));
    if (b->rc < 0)
        return 1;
    t->ino = e->attr.ino;
    t->is_dir = S_ISDIR(e->attr.mode);
    b->count++;
    return 0;
}

static int cl_tree_empty_at(struct dfs_client *c, uint64_t ino, uint32_t depth);

/* Removes one listed entry of directory ino (emptying it first if it is a directory). */
static int cl_tree_remove_entry(struct dfs_client *c, uint64_t ino,
                                const struct cl_tree_entry *t, uint32_t depth)
{
    int rc;

    if (!t->is_dir)
        return dfs_unlink(c, ino, t->name, NULL);
    rc = cl_tree_empty_at(c, t->ino, depth + 1);
    return rc < 0 ? rc : dfs_rmdir(c, ino, t->name, NULL);
}

static int cl_tree_empty_at(struct dfs_client *c, uint64_t ino, uint32_t depth)
{
    struct cl_tree_batch b = { .entries = xcalloc(CL_TREE_BATCH, sizeof(*b.entries)) };
    int rc = depth >= CL_TREE_DEPTH_MAX ? -ELOOP : 0;

    while (rc == 0) {
        int is_eof = 0;
        b.count = 0;
        b.rc = 0;
        /* Everything listed is removed, so every round lists from the start again. */
        rc = dfs_readdir(c, ino, NULL, CL_TREE_BATCH, cl_tree_collect_cb, &b, &is_eof);
        if (rc == 0)
            rc = b.rc;
        if (rc < 0 || b.count == 0)
            break;
        for (uint32_t i = 0; rc == 0 && i < b.count; i++)
            rc = cl_tree_remove_entry(c, ino, &b.entries[i], depth);
    }
    free(b.entries);
    return rc;
}

int cl_tree_empty_dir(struct dfs_client *c, uint64_t ino)
{
    return cl_tree_empty_at(c, ino, 0);
}
