/* mnt_ctx: the state of one mount, built by main() and handed to every operation through
 * fuse_req_userdata(). No mutable globals: everything a request needs hangs off this struct.
 * The client and the file table are thread-safe; the rest is immutable once the session loop
 * runs. (A header-only module: it declares the struct the other mnt_* modules share.) */
#ifndef DFS_MNT_CTX_H
#define DFS_MNT_CTX_H

#include <stdint.h>

#include "dfs.h"
#include "mnt_dattr.h"
#include "mnt_dnames.h"
#include "mnt_file.h"

/* Inodes whose attributes the permission checks keep: a directory being filled and the files
 * a `cp -r` or `cat *` opens right after their lookups fit with room to spare. */
enum { MNT_CTX_PATTR_SLOTS = 4096 };

struct mnt_ctx {
    struct dfs_client *client; /* owned by main(); set before the session loop starts */
    struct mnt_files files;    /* files this mount has open for writing */
    struct mnt_dattr dattr;    /* directories this mount just changed */
    struct mnt_dattr pattr;    /* any inode's attributes as last answered: permission checks */
    struct mnt_dnames dnames;  /* every name of directories this mount made and alone changed */
    double timeout_s;          /* entry and attribute cache timeout given to the kernel */
};

#endif
