/* nn_journal: the namenode's durable state on disk — the checkpoint image and the edit log —
 * in nn.dir (docs/ON-DISK.md). Records are appended to an in-memory batch by
 * nn_journal_append() and made durable together by nn_journal_sync() (one group commit per
 * event-loop turn). A checkpoint writes the whole namespace to a new image
 * (tmp file, fsync, rename, fsync dir) and then empties the log. Loading reads the image and
 * replays every later record through nn_ns_apply(); a torn record at the tail (a crash during
 * append) is cut off. The log grows in zero-filled extents written and fsync'd ahead of the
 * records, so the fdatasync of a batch writes only data, not the file size or allocation
 * (a journal commit on most file systems): the zeros read back as the end of the log.
 * Where the file system allows it, a batch is written with O_DIRECT | O_DSYNC instead of
 * through the page cache and fdatasync: whole 4 KiB blocks, the log's last partial block kept
 * in memory and written again with the new records after it. The same flush reaches the disk
 * either way; the direct write skips the page cache's writeback (a quiet disk here: 61-69 us
 * per commit at p50 through the page cache, 34-40 us direct). A direct write refused with
 * EINVAL or EOPNOTSUPP turns the direct path off for good and the batch goes through the page
 * cache.
 * Glue (file I/O); called only from the namenode loop thread. */
#ifndef DFS_NN_JOURNAL_H
#define DFS_NN_JOURNAL_H

#include <stdint.h>

#include "buf.h"
#include "nn_ns.h"

/* The flushes the journal makes once open; tests swap in failing ones (nn_journal_open sets
 * the real ones). */
struct nn_journal_sync_ops {
    int (*fsync)(int fd);
    int (*fdatasync)(int fd);
};

struct nn_journal {
    const struct nn_journal_sync_ops *sync_ops;
    char *dir;
    int dir_fd;
    int lock_fd;
    int log_fd;
    uint64_t last_index;       /* index of the last record appended */
    uint64_t image_index;      /* last index covered by the image on disk */
    uint64_t write_off;        /* end of the records in the log file */
    uint64_t alloc_end;        /* end of the log file: zeros from write_off up to here */
    struct buf batch;          /* encoded records not yet written */
    int dio_fd;                /* the log opened O_DIRECT | O_DSYNC, or -1: page cache */
    uint8_t *dio_buf;          /* aligned staging; starts with the log's last partial block */
    size_t dio_cap;
    uint32_t dio_align;        /* offset, length and memory alignment of direct writes (4096;
                                * tests lower it on a fresh log to have a write refused) */
};

/* Opens (creating) dir, takes its lock (-EBUSY if another namenode holds it), and loads the
 * namespace into ns (which must be uninitialized): image + replay, or a fresh namespace with
 * root times now_ms and an initial image. *replayed_out gets the number of records replayed.
 * Errors: -errno, -ERR_CORRUPT (bad image, or a record that fails to apply). */
int nn_journal_open(struct nn_journal *j, const char *dir, struct nn_ns *ns, uint64_t now_ms,
                    uint64_t *replayed_out);
void nn_journal_close(struct nn_journal *j);
/* Adds op to the batch with the next index. No I/O. */
void nn_journal_append(struct nn_journal *j, const struct nn_op *op);
int nn_journal_has_batch(const struct nn_journal *j);
/* Writes the batch and makes it durable. 0 or -errno (then nothing in the batch may be
 * acknowledged: the caller must stop). */
int nn_journal_sync(struct nn_journal *j);
/* 1 if batches are written with direct I/O, 0 if through the page cache. */
int nn_journal_is_direct(const struct nn_journal *j);
/* Writes later batches through the page cache and fdatasync (what a refused direct write
 * falls back to; tests use it to compare both paths). */
void nn_journal_use_page_cache(struct nn_journal *j);
/* Writes a checkpoint of ns (which must include every appended record) and empties the log. */
int nn_journal_checkpoint(struct nn_journal *j, const struct nn_ns *ns);
/* Records appended since the last checkpoint. */
uint64_t nn_journal_pending_ops(const struct nn_journal *j);

#endif
