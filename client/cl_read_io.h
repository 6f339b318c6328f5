/* cl_read_io: the reader half of dfs.h (dfs_open_read, dfs_reader_pread, dfs_reader_close) —
 * the glue that executes cl_read's decisions: NN_GET_BLOCKS through dfs_rpc, and one
 * streaming DN_READ per reader on a blocking datanode socket, failing over between replicas
 * on connect errors, error statuses and checksum mismatches.
 *
 * A dfs_reader is guarded by its own mutex, so several threads may share it (their preads are
 * serialized; sequential ones keep reusing the stream). */
#ifndef DFS_CL_READ_IO_H
#define DFS_CL_READ_IO_H

#include "dfs.h"

#endif
