/* dn_store: the replicas on one data directory (disk I/O; no sockets, no libevent).
 *
 * Layout (docs/ON-DISK.md, "Datanode replica files"):
 *   <dir>/VERSION                         cluster id and this node's uuid (created once)
 *   <dir>/rbw/blk_<id>_<gen>.{data,csum}  replicas being written (removed at start-up)
 *   <dir>/finalized/subdirXX/blk_<id>_<gen>.{data,csum}   XX = id & 0xff, two hex digits
 *   <dir>/quarantine/                     files found inconsistent at scan time
 *   <dir>/spare/s_<n>                     emptied files of removed replicas, for reuse (dn_spare.h)
 * <id> is 16 lowercase hex digits, <gen> decimal. The checksum file format is dn_chunk.h.
 *
 * A replica moves to finalized/ only once its writer has sent all of it (the LAST packet), so
 * a crash never exposes a half-written replica as whole. With is_sync (the client's fsync())
 * both files are fsync'd before the rename and the directories after it; otherwise the page
 * cache holds the data (it survives a crash of the process) until writeback or DN_SYNC puts it
 * on disk. After a power loss the start-up scan quarantines replicas whose lengths disagree,
 * reads verify every chunk, and the namenode drops replicas of the wrong length.
 * Blocking calls; the datanode calls them from its loop thread (the style guide's disk
 * worker pool comes later), but for the deleter's thread (dn_deleter.h) and the copier's
 * (dn_copier.h: dn_store_read_open() and dn_store_read(), which read nothing of the store but
 * its directory). The store owns its path strings; a dn_rbw and a dn_reader own
 * their file descriptors until finalize/abort/close. */
#ifndef DFS_DN_STORE_H
#define DFS_DN_STORE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "wire.h"

enum {
    DN_STORE_NODE_ID_LEN = 36,         /* uuid text */
    DN_STORE_FLUSH_AHEAD = 1024 * 1024, /* data written before its writeback is started */
};

struct dn_spare;

struct dn_store {
    char *dir;
    struct dn_spare *spare; /* emptied replica files for reuse (dn_spare.h); owned */
    char node_id[DN_STORE_NODE_ID_LEN + 1];
    uint64_t capacity_override; /* 0: the file system's size */
    uint64_t used_bytes;        /* data bytes of finalized replicas */
    uint64_t replica_count;
};

/* A replica being written (rbw/). */
struct dn_rbw {
    struct wire_blk blk;
    int data_fd;
    int csum_fd;
    uint64_t len; /* data bytes written so far (contiguous from 0) */
    uint64_t flushed; /* writeback started (sync_file_range) for data bytes below this */
    bool is_sync; /* the writer asked for durability at finalize (WIRE_PKT_SYNC) */
};

/* An open finalized replica for reading. */
struct dn_reader {
    struct wire_blk blk;
    int data_fd;
    int csum_fd;
    uint64_t len;
    struct timespec data_ctime; /* at open: a removal (into the spare pool) moves it */
    struct timespec csum_ctime;
};

struct dn_space {
    uint64_t capacity;
    uint64_t used;
    uint64_t remaining;
};

/* Opens (creating if needed) the data directory: checks or writes VERSION (a different
 * cluster id is refused with -ERR_CLUSTER), removes leftover rbw replicas, scans finalized/
 * (quarantining garbage) to count used bytes. On failure a message is written to err.
 * Errors: -errno, -ERR_CLUSTER, -ERR_CORRUPT (unreadable VERSION). */
int dn_store_open(struct dn_store *s, const char *dir, const char *cluster_id,
                  uint64_t capacity_override, char *err, size_t errlen);
void dn_store_close(struct dn_store *s);

/* Creates blk's replica in rbw/ (-EEXIST if one is already being written). */
int dn_store_rbw_create(struct dn_store *s, struct wire_blk blk, struct dn_rbw *r);
/* Writes data at offset (== r->len) and its count checksums (raw little-endian u64s) at the
 * matching chunk index. Errors: -errno (-ENOSPC, -EIO, ...). */
int dn_store_rbw_write(struct dn_rbw *r, uint64_t offset, const uint8_t *data, uint32_t len,
                       const uint8_t *csums_raw, uint32_t count);
/* Makes a finalized replica durable: fsyncs its data and checksum files and its directory
 * (DN_SYNC, for replicas finalized without is_sync). -ERR_NO_BLOCK, -ERR_STALE_GEN, -errno. */
int dn_store_sync(struct dn_store *s, struct wire_blk blk);
/* Closes r and renames its files into finalized/ (replacing any other gen of the same id).
 * With r->is_sync it fsyncs both files first and the directories after the rename; without
 * it the replica reaches disk by writeback or at a later dn_store_sync(). On failure r is
 * aborted (files removed). */
int dn_store_rbw_finalize(struct dn_store *s, struct dn_rbw *r);
/* Closes r and removes its files. */
void dn_store_rbw_abort(struct dn_store *s, struct dn_rbw *r);

/* Opens blk's finalized replica. The data the caller reads first, [first_off, first_off +
 * first_len), is asked of the disk as soon as the data file is open, so that a cold read waits
 * for it and the checksum file together, not one after the other. Errors: -ERR_NO_BLOCK,
 * -ERR_STALE_GEN (only an older gen is stored), -ERR_CORRUPT (inconsistent files), -errno. */
int dn_store_read_open(const struct dn_store *s, struct wire_blk blk, uint64_t first_off,
                       uint64_t first_len, struct dn_reader *rd);
/* Tells the kernel a read of [offset, offset + len) is coming (data and checksums), so the
 * disk reads ahead while earlier frames are being sent. Advice only: never fails. */
void dn_store_read_advise(const struct dn_reader *rd, uint64_t offset, uint64_t len);
/* Reads len bytes at offset (chunk-aligned; offset + len <= rd->len and len a multiple of the
 * chunk size unless it reaches rd->len) into data and their stored checksums into csums_raw
 * (csum_chunk_count(len) * 8 bytes), verifying every chunk. A replica removed since the open
 * is refused (its files were renamed into the spare pool and emptied, maybe reused: their size
 * or ctime moved). Errors: -ERR_CHECKSUM, -ERR_NO_BLOCK (removed), -EIO. */
int dn_store_read(struct dn_reader *rd, uint64_t offset, uint32_t len, uint8_t *data,
                  uint8_t *csums_raw);
void dn_store_read_close(struct dn_reader *rd);

/* Removes blk's finalized replica (exact gen, or any older gen). -ERR_NO_BLOCK if absent. */
int dn_store_delete(struct dn_store *s, struct wire_blk blk);
/* dn_store_delete() in two halves, so that the slow part can run off the loop thread: the
 * unlinks (reads only s->dir, which never changes; *len is the data file's size), then, on
 * the loop thread, the store's counters. */
int dn_store_delete_files(const struct dn_store *s, struct wire_blk blk, uint64_t *len);
void dn_store_note_deleted(struct dn_store *s, uint64_t len);

/* Calls fn for every consistent finalized replica; inconsistent files go to quarantine/.
 * Recomputes used_bytes and replica_count. Returns 0 or -errno. */
typedef void dn_store_scan_fn(void *arg, const struct wire_blk_len *e);
int dn_store_scan(struct dn_store *s, dn_store_scan_fn *fn, void *arg);

/* Capacity, used and remaining bytes (see dn.capacity in cfg.h). 0 or -errno. */
int dn_store_space(const struct dn_store *s, struct dn_space *out);

#endif
