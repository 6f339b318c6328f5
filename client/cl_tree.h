/* cl_tree: multi-step namespace operations of the CLI built from libdfs calls — mkdir -p and
 * recursive removal. Glue (namenode round trips); thread-safe like libdfs itself. */
#ifndef DFS_CL_TREE_H
#define DFS_CL_TREE_H

#include <stdint.h>

#include "dfs.h"

enum {
    CL_TREE_DEPTH_MAX = 256, /* deeper trees are refused with -ELOOP */
    CL_TREE_BATCH = 256,     /* entries listed per round while removing */
};

/* Identity given to created directories. */
struct cl_tree_owner {
    uint32_t uid;
    uint32_t gid;
    uint32_t dir_mode; /* permission bits, e.g. 0755 */
};

/* Creates every missing directory of path; existing directories are fine; an existing
 * non-directory component is -ENOTDIR (or -EEXIST for the last). *out gets the last one. */
int cl_tree_mkdir_p(struct dfs_client *c, const char *path, const struct cl_tree_owner *o,
                    struct wire_attr *out);
/* Removes everything inside directory ino (not ino itself). */
int cl_tree_empty_dir(struct dfs_client *c, uint64_t ino);

#endif
