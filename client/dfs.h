/* dfs.h — libdfs, the one client library every tool uses (dfs, dfsadmin, dfs-fuse).
 *
 * A struct dfs_client is thread-safe: any number of threads may call into it at once. It keeps
 * a small pool of connections to the namenode (one RPC per connection at a time) and dials
 * datanodes per transfer. All functions return 0 (or a count) on success and a negative code
 * on failure: -errno or -ERR_* (common/err.h); err_to_errno() maps any code to an errno.
 *
 * Metadata calls are inode-based and map 1:1 onto FUSE low-level operations; the root is
 * inode DFS_ROOT_INO (= FUSE_ROOT_ID). Path helpers resolve from the root, for the CLI.
 *
 * Writers stream data into a block pipeline (client -> DN1 -> DN2 -> DN3) and compute the
 * XXH3 chunk checksums; readers verify them and fail over between replicas. A writer or reader
 * handle may be used by several threads; calls on one handle are serialized internally. */
#ifndef DFS_CLIENT_DFS_H
#define DFS_CLIENT_DFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "wire.h"

enum { DFS_ROOT_INO = 1 };

struct dfs_client;
struct dfs_writer;
struct dfs_reader;

/* Builds a client from config: CFG_NN_ADDR, CFG_CLUSTER_ID, CFG_CLIENT_TIMEOUT_MS.
 * Connects lazily; the first call fails with the transport error if the namenode is away.
 * Errors: -EINVAL (bad nn.addr). *out is owned by the caller; free with dfs_client_free(). */
int dfs_client_new(const struct cfg *cfg, struct dfs_client **out);
void dfs_client_free(struct dfs_client *c);

/* One namenode round trip: body (may be NULL for empty bodies) is sent as a frame of type
 * req_type; on success *reply holds the reply frame, whose body borrows from storage
 * (caller-owned, reused). Retries once on a fresh connection if the pooled one was closed. */
int dfs_rpc(struct dfs_client *c, uint16_t req_type, const struct buf *body, struct buf *storage,
            struct wire_frame *reply);

/* ---- metadata (inode-based) ---- */
int dfs_lookup(struct dfs_client *c, uint64_t parent, const char *name, struct wire_attr *out);
int dfs_getattr(struct dfs_client *c, uint64_t ino, struct wire_attr *out);
int dfs_setattr(struct dfs_client *c, const struct wire_nn_setattr *req, struct wire_attr *out);
/* mkdir, unlink and rmdir (and dfs_create) also give the directory's attributes after the
 * change in *parent_out (may be NULL): the namenode sends them with its answer. */
int dfs_mkdir(struct dfs_client *c, const struct wire_nn_mkdir *req, struct wire_attr *out,
              struct wire_attr *parent_out);
int dfs_unlink(struct dfs_client *c, uint64_t parent, const char *name,
               struct wire_attr *parent_out);
int dfs_rmdir(struct dfs_client *c, uint64_t parent, const char *name,
              struct wire_attr *parent_out);
int dfs_rename(struct dfs_client *c, const struct wire_nn_rename *req);
int dfs_statfs(struct dfs_client *c, struct wire_nn_statfs_ok *out);

/* Calls fn for each entry of directory ino whose name sorts (bytewise) after `after` (NULL or
 * "" for the start), up to max entries; fn returns nonzero to stop early. *is_eof is set when
 * the directory holds nothing further. Entries (name, attr) are borrowed for the call only. */
typedef int dfs_dirent_fn(void *arg, const struct wire_nn_dirent *e);
int dfs_readdir(struct dfs_client *c, uint64_t ino, const char *after, uint32_t max,
                dfs_dirent_fn *fn, void *arg, int *is_eof);

/* ---- paths (CLI helpers; "/a/b" from the root) ---- */
int dfs_resolve(struct dfs_client *c, const char *path, struct wire_attr *out);
/* Resolves all but the last component: *parent_ino and name (NUL-terminated, cap
 * WIRE_NAME_MAX + 1). -EINVAL for "/" itself. */
int dfs_resolve_parent(struct dfs_client *c, const char *path, uint64_t *parent_ino,
                       char name[WIRE_NAME_MAX + 1]);

/* ---- writing ---- */
/* Creates a new file and returns a writer positioned at offset 0 holding the file's lease.
 * req->block_size / replication of 0 take the cluster defaults. Errors: -EEXIST, -ENOENT,
 * -ENOTDIR, transport errors. *attr_out (may be NULL) gets the new file's attributes,
 * *parent_out (may be NULL) its directory's after the create. */
int dfs_create(struct dfs_client *c, const struct wire_nn_create *req, struct wire_attr *attr_out,
               struct wire_attr *parent_out, struct dfs_writer **out);
/* Opens an existing file for writing (flags: WIRE_OPEN_TRUNC and/or WIRE_OPEN_APPEND). The
 * writer's position is the file's size after the open. The lease is taken with the first
 * block written, so a writer that writes nothing changes nothing. Errors: -ERR_LEASE (TRUNC
 * while another client writes; or at the first write), -EISDIR, -ENOENT. */
int dfs_open_write(struct dfs_client *c, uint64_t ino, uint32_t flags, struct dfs_writer **out);
/* Appends len bytes at offset, which must equal dfs_writer_size() (sequential writes only in
 * this version: otherwise -EOPNOTSUPP). Data is checksummed and streamed into the pipeline
 * without buffering the file in memory. Returns len or a negative error. */
ssize_t dfs_writer_write(struct dfs_writer *w, const void *data, size_t len, uint64_t offset);
/* What close() waits on: ends the current block (every replica has all of it and finalizes it)
 * and commits the file's length at the namenode (durably), releasing the lease. Replicas are
 * not fsync'd: as with a local file system, data reaches disk by itself or at fsync. Later
 * writes go on appending (the next block takes the lease again). */
int dfs_writer_flush(struct dfs_writer *w);
/* What fsync() waits on: dfs_writer_flush(), and every replica of every block this writer
 * wrote is on disk (the open block is finalized with SYNC, earlier ones get DN_SYNC). */
int dfs_writer_sync(struct dfs_writer *w);
/* The file size as this writer sees it (committed + written). */
uint64_t dfs_writer_size(const struct dfs_writer *w);
/* Flushes (as dfs_writer_flush) and frees the writer; returns the flush's result. */
int dfs_writer_close(struct dfs_writer *w);

/* ---- reading ---- */
/* Makes a reader of file ino. No round trip: a missing inode (-ENOENT) or a directory
 * (-EISDIR) is reported by the first dfs_reader_pread(). */
int dfs_open_read(struct dfs_client *c, uint64_t ino, struct dfs_reader **out);
/* Reads up to len bytes at offset; returns the count (0 at end of file) or a negative error.
 * Every chunk is verified against its checksum; a bad or unreachable replica is skipped for
 * the next one. Sequential reads reuse one streaming connection to the datanode. */
ssize_t dfs_reader_pread(struct dfs_reader *r, void *buf, size_t len, uint64_t offset);
/* Asks now for the file's blocks and, from one replica, for the first bytes a sequential
 * reader asks for (CL_READ_WINDOW_MIN), without waiting for the data: a dfs_reader_pread()
 * from offset 0 that follows finds them on their way. Does nothing if the reader has read
 * already. Failures are left for the pread, which meets them again and handles them. */
void dfs_reader_prefetch(struct dfs_reader *r);
void dfs_reader_close(struct dfs_reader *r);

#endif
