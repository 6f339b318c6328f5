/* mnt_meta: the logic of the namespace operations (lookup, getattr, setattr, mknod, mkdir,
 * unlink, rmdir, rename, statfs) and of directory handles (opendir, readdir[plus],
 * releasedir). Each mnt_meta_*() returns 0 or a negative errno (libdfs codes go through
 * err_to_errno()) and fills its out-params; mnt_ops sends the one FUSE reply (the libfuse
 * passthrough_hp split). Called from any libfuse worker thread; ctx is shared and borrowed. */
#ifndef DFS_MNT_META_H
#define DFS_MNT_META_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <fuse_lowlevel.h>

#include "mnt_ctx.h"
#include "mnt_dir.h"
#include "mnt_perm.h"

/* A new name to create (mknod, mkdir, create). name and who are borrowed; who also owns the
 * new inode (its uid and gid). */
struct mnt_new {
    uint64_t parent;
    const char *name;
    mode_t mode;
    const struct mnt_who *who;
    int open_flags; /* create only: the open(2) flags */
};

struct mnt_rename {
    uint64_t parent;
    const char *name;
    uint64_t new_parent;
    const char *new_name;
    unsigned int flags; /* renameat2() flags */
    const struct mnt_who *who;
};

/* A libdfs result as 0 or a negative errno (err_to_errno()). */
int mnt_meta_errno(int rc);
/* -ENAMETOOLONG for a name longer than WIRE_NAME_MAX, -EINVAL for an empty one. */
int mnt_meta_check_name(const char *name);
/* NN_CREATE of req's name as a regular file (EXCL if is_excl), once req->who may make a name
 * in the directory; any other kind in req->mode is -EPERM. Keeps the directory's new
 * attributes, which *dir gets. 0 or a negative errno. */
int mnt_meta_create(struct mnt_ctx *ctx, const struct mnt_new *req, int is_excl,
                    struct wire_attr *a, struct wire_attr *dir, struct dfs_writer **w);
/* The entry of a name of directory dir for the kernel: attributes a for the attribute timeout,
 * the name for as long as the kernel may walk through it without asking (0 in a directory
 * not everyone may search: see mnt_meta.c). */
void mnt_meta_to_entry(const struct mnt_ctx *ctx, const struct wire_attr *a,
                       const struct wire_attr *dir, struct fuse_entry_param *e);
/* Monotonic milliseconds, for mnt_dattr's expiry. */
uint64_t mnt_meta_mono_ms(void);
/* Keeps the attributes a change's answer gave for its directory (see mnt_dattr.h). */
void mnt_meta_dir_changed(struct mnt_ctx *ctx, const struct wire_attr *dir);
/* Attributes of ino as this mount sees them: sizes include data written but not yet
 * committed by this mount's writers. */
int mnt_meta_attr(struct mnt_ctx *ctx, uint64_t ino, struct wire_attr *out);
/* Keeps a's mode and owners for permission checks (ctx->pattr), for the attribute timeout. */
void mnt_meta_seen(struct mnt_ctx *ctx, const struct wire_attr *a);
/* 0 if who may access ino with mask (MNT_PERM_*), -EACCES, or the error of asking the namenode
 * for attributes no longer kept. */
int mnt_meta_may(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino, int mask);
/* The access op (access(2), chdir): F_OK (0) asks only whether ino exists, which the kernel
 * knows already. */
int mnt_meta_access(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino, int mask);
/* dfs_lookup + entry; needs search permission on parent. */
int mnt_meta_lookup(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                    const char *name, struct fuse_entry_param *e);
/* getattr: *timeout_s is how long the kernel may keep the answer. */
int mnt_meta_getattr(struct mnt_ctx *ctx, uint64_t ino, struct stat *st, double *timeout_s);
/* Applies a FUSE setattr. A size change goes through this mount's writer of ino if there is
 * one (mnt_file_truncate), else to the namenode: 0 and the current size work, any other size
 * is -EOPNOTSUPP in this version. */
int mnt_meta_setattr(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino,
                     const struct stat *attr, int to_set, bool is_by_fh, struct stat *st);
/* Sets the size of ino (see mnt_meta_setattr). */
int mnt_meta_truncate(struct mnt_ctx *ctx, uint64_t ino, uint64_t size);
/* Regular files only (created and committed empty at once); other kinds are -EPERM. */
int mnt_meta_mknod(struct mnt_ctx *ctx, const struct mnt_new *req, struct fuse_entry_param *e);
int mnt_meta_mkdir(struct mnt_ctx *ctx, const struct mnt_new *req, struct fuse_entry_param *e);
int mnt_meta_unlink(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                    const char *name);
int mnt_meta_rmdir(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                   const char *name);
/* RENAME_EXCHANGE and unknown flags are -EINVAL. */
int mnt_meta_rename(struct mnt_ctx *ctx, const struct mnt_rename *req);
int mnt_meta_statfs(struct mnt_ctx *ctx, struct statvfs *out);

/* An open directory: the FUSE dir handle (fi->fh). */
struct mnt_dh {
    pthread_mutex_t mu;
    struct mnt_dir dir; /* GUARDED_BY(mu) */
    /* Readdirplus hands out entries (attributes, and a name the kernel keeps) only in a
     * directory every class may search (mnt_perm_dir_is_open at opendir), where a lookup
     * would give the same; elsewhere names and types only, and each name is looked up, and
     * checked, when used. Listed attributes are not kept for permission checks: a page may be
     * older than the attribute timeout. */
    bool gives_entries;
};

/* Checks that ino is a directory (-ENOTDIR otherwise) that who may read; *out is freed by
 * mnt_meta_releasedir. */
int mnt_meta_opendir(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino,
                     struct mnt_dh **out);
void mnt_meta_releasedir(struct mnt_dh *dh);

struct mnt_readdir {
    char *buf;    /* caller-owned, size bytes */
    size_t size;
    uint64_t off; /* the cookie: listing index to start at (0 = from the start) */
    bool is_plus; /* readdirplus: entries carry attributes and count as lookups */
};
/* Fills r->buf with fuse_add_direntry[_plus] entries from r->off on; *len_out is the bytes
 * used (0 at the end). An error after some entries were added returns those entries. */
int mnt_meta_readdir(struct mnt_ctx *ctx, fuse_req_t req, struct mnt_dh *dh,
                     const struct mnt_readdir *r, size_t *len_out);

#endif
