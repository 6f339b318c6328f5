/* cl_write_io: the writer half of dfs.h (dfs_create, dfs_open_write, dfs_writer_*) — the glue
 * that executes cl_write's steps: namenode calls (CREATE/OPEN, ADD_BLOCK, COMPLETE) through
 * dfs_rpc, and one blocking socket per block to the pipeline's first datanode (HELLO,
 * DN_WRITE_OPEN, DN_WRITE_PKT frames out, DN_WRITE_ACK frames in).
 *
 * A dfs_writer is guarded by its own mutex, so several threads may share it. The first
 * transport or pipeline failure is sticky: every later call returns it (pipeline recovery is
 * future work; the unacked packets stay in cl_write's window for it). */
#ifndef DFS_CL_WRITE_IO_H
#define DFS_CL_WRITE_IO_H

#include "dfs.h"

#endif
