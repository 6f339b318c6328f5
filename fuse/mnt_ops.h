/* mnt_ops: the libfuse low-level operation table of dfs-fuse. Each op unpacks its request,
 * calls one mnt_meta_* / mnt_io_* function and sends exactly one reply (fuse_reply_*), the
 * libfuse passthrough_hp split: no logic lives here beyond naming the caller (uid, gid and,
 * when a permission check asks, its supplementary groups) for mnt_perm. The userdata given to
 * fuse_session_new() must be the struct mnt_ctx. Called by libfuse worker threads. */
#ifndef DFS_MNT_OPS_H
#define DFS_MNT_OPS_H

#include <fuse_lowlevel.h>

#include "mnt_ctx.h"

/* Capabilities and sizes negotiated in init. */
enum {
    MNT_OPS_MAX_WRITE = 1 << 20,     /* one write packet of the block pipeline */
    MNT_OPS_MAX_READAHEAD = 1 << 20,
    MNT_OPS_GROUPS_SMALL = 64, /* a caller's supplementary groups read without allocating */
};
/* Attribute and entry cache timeout (seconds); short, as other clients change the namespace. */
#define MNT_OPS_TIMEOUT_S 1.0

extern const struct fuse_lowlevel_ops mnt_ops;

#endif
