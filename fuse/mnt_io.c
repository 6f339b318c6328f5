/* mnt_io: file handles (see mnt_io.h). */
#include "mnt_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "mnt_attr.h"
#include "panic.h"
#include "xmalloc.h"

static struct mnt_fh *mnt_io_fh_new(uint64_t ino, bool is_append)
{
    struct mnt_fh *fh = xcalloc(1, sizeof(*fh));

    fh->ino = ino;
    fh->is_append = is_append;
    ASSERT(pthread_mutex_init(&fh->mu, NULL) == 0);
    return fh;
}

static void mnt_io_fh_free(struct mnt_fh *fh)
{
    ASSERT(fh->file == NULL);
    /* A prefetch still running after the open's reply holds mu: wait for it to end. */
    pthread_mutex_lock(&fh->mu);
    pthread_mutex_unlock(&fh->mu);
    if (fh->reader != NULL)
        dfs_reader_close(fh->reader);
    pthread_mutex_destroy(&fh->mu);
    free(fh);
}

int mnt_io_open(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino, int flags,
                struct mnt_fh **out)
{
    struct mnt_open_mode m;
    struct mnt_fh *fh;
    int rc = mnt_attr_open_mode(flags, &m);

    if (rc == 0)
        rc = mnt_meta_may(ctx, who, ino, mnt_perm_open_mask(flags));
    if (rc < 0)
        return rc;
    fh = mnt_io_fh_new(ino, m.is_append);
    if (m.is_write) {
        rc = mnt_meta_errno(mnt_files_open_write(&ctx->files, ino, m.wire_flags, &fh->file));
    } else if (m.is_trunc) {
        rc = mnt_meta_truncate(ctx, ino, 0); /* O_RDONLY | O_TRUNC still truncates */
    }
    if (rc < 0) {
        mnt_io_fh_free(fh);
        return rc;
    }
    *out = fh;
    return 0;
}

/* The name appeared between the kernel's lookup and our create, or may have (the create was
 * refused: open(2) of an existing file needs no write permission on its directory): open it
 * as open(2) would. create_rc is the create's answer, given back if there is no such name. */
static int mnt_io_create_existing(struct mnt_ctx *ctx, const struct mnt_new *req,
                                  int create_rc, struct fuse_entry_param *e,
                                  struct mnt_fh **out)
{
    int rc = mnt_meta_lookup(ctx, req->who, req->parent, req->name, e);

    if (rc < 0)
        return rc;
    if (e->ino == 0)
        return create_rc; /* a negative entry: the name is not there */
    if (S_ISDIR(e->attr.st_mode))
        return -EISDIR;
    rc = mnt_io_open(ctx, req->who, e->ino, req->open_flags, out);
    if (rc == 0 && (req->open_flags & O_TRUNC))
        e->attr.st_size = 0;
    return rc;
}

int mnt_io_create(struct mnt_ctx *ctx, const struct mnt_new *req, struct fuse_entry_param *e,
                  struct mnt_fh **out)
{
    struct mnt_open_mode m;
    struct dfs_writer *w;
    struct wire_attr a, dir;
    struct mnt_fh *fh;
    int rc = mnt_attr_open_mode(req->open_flags, &m);

    if (rc == 0)
        rc = mnt_meta_check_name(req->name);
    if (rc < 0)
        return rc;
    rc = mnt_meta_create(ctx, req, (req->open_flags & O_EXCL) != 0, &a, &dir, &w);
    if ((rc == -EEXIST || rc == -EACCES) && !(req->open_flags & O_EXCL))
        return mnt_io_create_existing(ctx, req, rc, e, out);
    if (rc < 0)
        return rc;
    mnt_meta_to_entry(ctx, &a, &dir, e);
    fh = mnt_io_fh_new(a.ino, m.is_append);
    if (!m.is_write) {
        rc = mnt_meta_errno(dfs_writer_close(w)); /* open(O_CREAT | O_RDONLY): commit empty */
    } else {
        rc = mnt_meta_errno(mnt_files_adopt(&ctx->files, &a, w, &fh->file));
    }
    if (rc < 0) {
        mnt_io_fh_free(fh);
        return rc;
    }
    *out = fh;
    return 0;
}

/* Flushes what this mount wrote to fh's inode, so that a reader opened now sees it. */
static int mnt_io_sync_inode(struct mnt_ctx *ctx, struct mnt_fh *fh)
{
    struct mnt_file *f = fh->file != NULL ? fh->file : mnt_files_get(&ctx->files, fh->ino);
    int rc;

    if (f == NULL)
        return 0;
    rc = mnt_file_sync(&ctx->files, f, false);
    if (f != fh->file)
        mnt_files_put(&ctx->files, f);
    return mnt_meta_errno(rc);
}

/* With fh->mu held: opens (or reopens, if a flush happened since) the handle's reader. */
static int mnt_io_reader(struct mnt_ctx *ctx, struct mnt_fh *fh)
{
    uint64_t seq = mnt_files_flush_seq(&ctx->files);

    if (fh->reader != NULL && fh->reader_seq == seq)
        return 0;
    if (fh->reader != NULL) {
        dfs_reader_close(fh->reader);
        fh->reader = NULL;
    }
    fh->reader_seq = seq;
    return mnt_meta_errno(dfs_open_read(ctx->client, fh->ino, &fh->reader));
}

bool mnt_io_prefetch_begin(struct mnt_ctx *ctx, struct mnt_fh *fh)
{
    if (fh->file != NULL)
        return false;
    struct mnt_file *f = mnt_files_get(&ctx->files, fh->ino);
    if (f != NULL) { /* this mount writes the file: its first read flushes, then reads */
        mnt_files_put(&ctx->files, f);
        return false;
    }
    pthread_mutex_lock(&fh->mu);
    return true;
}

void mnt_io_prefetch_end(struct mnt_ctx *ctx, struct mnt_fh *fh, bool is_opened)
{
    if (is_opened && mnt_io_reader(ctx, fh) == 0)
        dfs_reader_prefetch(fh->reader);
    pthread_mutex_unlock(&fh->mu);
}

ssize_t mnt_io_read(struct mnt_ctx *ctx, struct mnt_fh *fh, char *buf, size_t size, off_t off)
{
    size_t done = 0;
    int rc;

    if (off < 0)
        return -EINVAL;
    rc = mnt_io_sync_inode(ctx, fh);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&fh->mu);
    rc = mnt_io_reader(ctx, fh);
    /* The kernel treats a short read as the end of the file: fill the whole request. */
    while (rc == 0 && done < size) {
        ssize_t n = dfs_reader_pread(fh->reader, buf + done, size - done, (uint64_t)off + done);

        if (n < 0)
            rc = mnt_meta_errno((int)n);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    pthread_mutex_unlock(&fh->mu);
    return done > 0 || rc == 0 ? (ssize_t)done : rc;
}

ssize_t mnt_io_write(struct mnt_ctx *ctx, struct mnt_fh *fh, const char *buf, size_t size,
                     off_t off)
{
    size_t done = 0;

    if (fh->file == NULL)
        return -EBADF;
    if (off < 0)
        return -EINVAL;
    while (done < size) {
        ssize_t n = mnt_file_write(&ctx->files, fh->file, buf + done, size - done,
                                   (uint64_t)off + done, fh->is_append);

        if (n < 0)
            return done > 0 ? (ssize_t)done : mnt_meta_errno((int)n);
        ASSERT(n > 0);
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int mnt_io_flush(struct mnt_ctx *ctx, struct mnt_fh *fh)
{
    if (fh->file == NULL)
        return 0;
    return mnt_meta_errno(mnt_file_sync(&ctx->files, fh->file, false));
}

int mnt_io_fsync(struct mnt_ctx *ctx, struct mnt_fh *fh)
{
    if (fh->file == NULL)
        return 0;
    return mnt_meta_errno(mnt_file_sync(&ctx->files, fh->file, true));
}

int mnt_io_release(struct mnt_ctx *ctx, struct mnt_fh *fh)
{
    int rc = 0;

    if (fh->file != NULL) {
        rc = mnt_meta_errno(mnt_files_put(&ctx->files, fh->file));
        fh->file = NULL;
    }
    mnt_io_fh_free(fh);
    return rc;
}
