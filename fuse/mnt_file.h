/* mnt_file: the table of files this mount has open for writing — one struct mnt_file (one
 * dfs_writer, one lease) per inode, shared by every FUSE handle that writes it, found by inode
 * number by readers, getattr and setattr of the same inode.
 *
 * Why shared: the namenode grants one lease per file and client, and a read through any handle
 * of this mount must see what was written through another (mnt_file_sync() flushes before the
 * read). flush_seq counts flushes and truncations mount-wide; a reader opened before the
 * latest one is reopened, so it sees the new length.
 *
 * Locking: files->mu guards the hash chains, ref_count, is_closing and count; f->mu guards
 * f->writer, f->is_dirty and f->open_rc and is held across the libdfs call on the writer (calls
 * on one file are sequential anyway). Lock order: files->mu is never taken while holding the mu
 * of a published file (only a new, still private one). Called from any libfuse worker thread.
 * Bounded: at most MNT_FILES_MAX inodes open for writing (-ENFILE beyond). */
#ifndef DFS_MNT_FILE_H
#define DFS_MNT_FILE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dfs.h"

enum { MNT_FILES_MAX = 4096, MNT_FILES_BUCKETS = 256 };

struct mnt_file {
    uint64_t ino;                /* immutable */
    pthread_mutex_t mu;          /* protects the five fields below */
    struct dfs_writer *writer;   /* GUARDED_BY(mu); NULL if opening or reopening failed */
    bool is_dirty;               /* GUARDED_BY(mu): written since the last flush */
    bool is_unsynced;            /* GUARDED_BY(mu): flushed but not fsync'd since */
    int open_rc;                 /* GUARDED_BY(mu): why writer is NULL */
    struct wire_attr created;    /* GUARDED_BY(mu): the create's answer, if has_created */
    bool has_created;            /* GUARDED_BY(mu): nothing this mount did changed it since */
    uint32_t ref_count;          /* GUARDED_BY(files->mu) */
    bool is_closing;             /* GUARDED_BY(files->mu): last ref gone, writer closing */
    struct mnt_file *next;       /* GUARDED_BY(files->mu): hash chain */
};

struct mnt_files {
    struct dfs_client *client;   /* borrowed; outlives the table */
    pthread_mutex_t mu;
    pthread_cond_t closed_cond;  /* a closing file left the table */
    struct mnt_file *buckets[MNT_FILES_BUCKETS]; /* GUARDED_BY(mu) */
    uint32_t count;              /* GUARDED_BY(mu) */
    atomic_uint_fast64_t flush_seq;
};

void mnt_files_init(struct mnt_files *t, struct dfs_client *client);
/* Closes (flushes) writers still open, logging failures. No other thread may use t. */
void mnt_files_fini(struct mnt_files *t);

/* Returns with a reference the file for writing ino: the existing one, or a new one opened
 * with dfs_open_write(ino, wire_flags). WIRE_OPEN_TRUNC on an existing file truncates it
 * through its writer. Errors: those of dfs_open_write (-ERR_*, -errno), -ENFILE. */
int mnt_files_open_write(struct mnt_files *t, uint64_t ino, uint32_t wire_flags,
                         struct mnt_file **out);
/* Adds a writer that dfs_create() returned with the file's attributes (ownership passes to
 * the table, also on error). Errors: -ENFILE, -EBUSY (already open: the writer is closed). */
int mnt_files_adopt(struct mnt_files *t, const struct wire_attr *created,
                    struct dfs_writer *writer_take, struct mnt_file **out);
/* A new reference to the open file of ino, or NULL if this mount does not write ino. */
struct mnt_file *mnt_files_get(struct mnt_files *t, uint64_t ino);
/* Drops a reference; the last one closes the writer (flush + commit) and returns its result. */
int mnt_files_put(struct mnt_files *t, struct mnt_file *f);

/* Appends len bytes at off (is_append: at the writer's size, whatever off says). Returns len
 * or -EOPNOTSUPP (off is not the size: random writes), or a libdfs error. */
ssize_t mnt_file_write(struct mnt_files *t, struct mnt_file *f, const void *buf, size_t len,
                       uint64_t off, bool is_append);
/* close() semantics (is_durable false): commits what was written since the last flush
 * (dfs_writer_flush: every replica has it). fsync() semantics (is_durable true): also puts
 * every replica of what this writer wrote on disk (dfs_writer_sync), if anything is written
 * or flushed since the last sync. 0 or a libdfs error. */
int mnt_file_sync(struct mnt_files *t, struct mnt_file *f, bool is_durable);
/* Sets the size through the writer: the current size is a no-op; 0 commits and replaces the
 * writer with one opened with WIRE_OPEN_TRUNC; any other size is -EOPNOTSUPP. */
int mnt_file_truncate(struct mnt_files *t, struct mnt_file *f, uint64_t size);
/* Whether the SETATTR req (its size change already handled) would change nothing on a file
 * this mount just created, by the namenode's own rule: every attribute it sets already has
 * that value and now_ms is still the create's ctime. `touch` right after its create is such
 * a SETATTR, in most cases. If so, *out is the create's answer (the namenode would have
 * answered the same), and no round trip is needed. A write, a truncate or a SETATTR sent to
 * the namenode (mnt_file_forget_created) ends this. */
bool mnt_file_setattr_is_noop(struct mnt_file *f, const struct wire_nn_setattr *req,
                              uint64_t now_ms, struct wire_attr *out);
void mnt_file_forget_created(struct mnt_file *f);
/* Raises a->size to what this mount has written (the namenode knows only committed data). */
void mnt_file_adjust_attr(struct mnt_file *f, struct wire_attr *a);
uint64_t mnt_files_flush_seq(const struct mnt_files *t);

#endif
