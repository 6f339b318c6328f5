/* mnt_io: open files — the FUSE file handle (fi->fh) and the logic of open, create, read,
 * write, flush, fsync and release. Functions return 0 (or a byte count) or a negative errno;
 * mnt_ops sends the reply. Called from any libfuse worker thread.
 *
 * A handle that may write holds a reference to the inode's shared struct mnt_file (one
 * writer and one lease per inode and mount, see mnt_file.h). Reading uses a dfs_reader opened
 * lazily per handle; before a read, data this mount wrote to the inode is flushed and a reader
 * older than the latest flush is reopened, so reads see every byte written through any handle
 * of this mount. Durability: flush (every close(2)) and fsync return only after every replica
 * has the data and the namenode committed the length. */
#ifndef DFS_MNT_IO_H
#define DFS_MNT_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>

#include "mnt_ctx.h"
#include "mnt_meta.h"

struct mnt_fh {
    uint64_t ino;               /* immutable */
    bool is_append;             /* immutable: O_APPEND, every write goes to the end */
    struct mnt_file *file;      /* immutable; a reference, NULL for read-only handles */
    pthread_mutex_t mu;         /* protects the reader fields */
    struct dfs_reader *reader;  /* GUARDED_BY(mu); NULL until the first read */
    uint64_t reader_seq;        /* GUARDED_BY(mu): files.flush_seq when reader was opened */
};

/* Opens ino with open(2) flags for who (the permission the flags need is checked first):
 * writers take (or share) the inode's writer, O_TRUNC truncates, O_APPEND appends. *out is
 * freed by mnt_io_release(). */
int mnt_io_open(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino, int flags,
                struct mnt_fh **out);
/* Creates req->name (O_EXCL honoured) and opens it; an existing name without O_EXCL (a race
 * with another creator, or a create refused for want of write permission on the directory)
 * is opened instead. */
int mnt_io_create(struct mnt_ctx *ctx, const struct mnt_new *req, struct fuse_entry_param *e,
                  struct mnt_fh **out);
/* A read-only open's prefetch, in two halves around the open's reply, so that the blocks and
 * first bytes (dfs_reader_prefetch()) are on their way while the opener gets going, and its
 * first READ finds them. _begin() tells whether fh gets one (a read-only handle of a file this
 * mount is not writing) and then takes fh->mu, which holds off every later request on fh
 * (read, release) until _end() has prefetched (is_opened: the reply went out) and let it go. */
bool mnt_io_prefetch_begin(struct mnt_ctx *ctx, struct mnt_fh *fh);
void mnt_io_prefetch_end(struct mnt_ctx *ctx, struct mnt_fh *fh, bool is_opened);
/* Reads up to size bytes at off into buf: the full size unless the file ends first. */
ssize_t mnt_io_read(struct mnt_ctx *ctx, struct mnt_fh *fh, char *buf, size_t size, off_t off);
/* Sequential writes only: off must be the file's size (-EOPNOTSUPP otherwise), except on
 * O_APPEND handles, which always write at the end. -EBADF on a read-only handle. */
ssize_t mnt_io_write(struct mnt_ctx *ctx, struct mnt_fh *fh, const char *buf, size_t size,
                     off_t off);
/* flush and fsync: durable commit of what was written (a no-op for read-only handles). */
int mnt_io_flush(struct mnt_ctx *ctx, struct mnt_fh *fh);
/* fsync(): as flush, and every replica of what this mount wrote to the file is on disk. */
int mnt_io_fsync(struct mnt_ctx *ctx, struct mnt_fh *fh);
/* Drops the handle (the last writer handle of an inode closes its writer); returns the close
 * result for logging only (FUSE ignores release errors). */
int mnt_io_release(struct mnt_ctx *ctx, struct mnt_fh *fh);

#endif
