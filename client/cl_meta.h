/* cl_meta: the metadata half of dfs.h — inode-based namenode calls (lookup, getattr, setattr,
 * mkdir, unlink, rmdir, rename, statfs), dfs_readdir's paging loop, and path resolution by
 * walking LOOKUPs from the root. Every call is one or more dfs_rpc() round trips; nothing is
 * cached. Thread-safe (no state of its own). Glue over cl_client and the pure cl_path. */
#ifndef DFS_CL_META_H
#define DFS_CL_META_H

#include "dfs.h"

/* Entries asked for per NN_READDIR round trip. */
enum { CL_META_READDIR_BATCH = 1024 };

#endif
