/* mnt_ops: one thin function per FUSE low-level operation (see mnt_ops.h). */
#include "mnt_ops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "err.h"
#include "log.h"
#include "mnt_io.h"
#include "mnt_meta.h"
#include "panic.h"
#include "xmalloc.h"

static struct mnt_ctx *mnt_ops_ctx(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static struct mnt_fh *mnt_ops_fh(const struct fuse_file_info *fi)
{
    ASSERT(fi->fh != 0);
    return (struct mnt_fh *)(uintptr_t)fi->fh;
}

static struct mnt_dh *mnt_ops_dh(const struct fuse_file_info *fi)
{
    ASSERT(fi->fh != 0);
    return (struct mnt_dh *)(uintptr_t)fi->fh;
}

static void mnt_ops_reply_entry(fuse_req_t req, int rc, const struct fuse_entry_param *e)
{
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_entry(req, e);
}

/* The caller of one request, for the permission checks: uid and gid from FUSE, and its
 * supplementary groups read (from /proc, by libfuse) the first time a check needs them. Lives
 * on the handler's stack and is used only before the reply (req is gone after it). */
struct mnt_ops_caller {
    struct mnt_who who;
    fuse_req_t req;
    int group_count; /* -1: not read yet */
    gid_t *groups;   /* small, or allocated for a caller in more groups */
    gid_t small[MNT_OPS_GROUPS_SMALL];
};

/* Reads the caller's supplementary groups; on failure (the caller exited, no /proc) it has
 * none, which can only refuse what membership would have allowed. */
static void mnt_ops_caller_read_groups(struct mnt_ops_caller *c)
{
    int cap = MNT_OPS_GROUPS_SMALL;
    int n = fuse_req_getgroups(c->req, cap, c->small);

    c->groups = c->small;
    if (n > cap) {
        cap = n;
        c->groups = xcalloc((size_t)cap, sizeof(gid_t));
        n = fuse_req_getgroups(c->req, cap, c->groups);
    }
    if (n < 0)
        LOG_DEBUG("reading the caller's groups failed: %s", err_str(n));
    /* The count is the caller's total, which may have grown between the two reads. */
    c->group_count = n < 0 ? 0 : n < cap ? n : cap;
}

static bool mnt_ops_caller_is_in_group(void *arg, uint32_t gid)
{
    struct mnt_ops_caller *c = arg;

    if (c->group_count < 0)
        mnt_ops_caller_read_groups(c);
    for (int i = 0; i < c->group_count; i++) {
        if (c->groups[i] == gid)
            return true;
    }
    return false;
}

static const struct mnt_who *mnt_ops_caller_init(struct mnt_ops_caller *c, fuse_req_t req)
{
    const struct fuse_ctx *fc = fuse_req_ctx(req);

    c->who = (struct mnt_who){.uid = fc->uid, .gid = fc->gid,
                              .is_in_group = mnt_ops_caller_is_in_group, .arg = c};
    c->req = req;
    c->group_count = -1;
    c->groups = c->small;
    return &c->who;
}

static void mnt_ops_caller_fini(struct mnt_ops_caller *c)
{
    if (c->groups != c->small)
        free(c->groups);
}

/* An error for a reply to access, open or opendir. ENOSYS there would tell the kernel that
 * the mount does not implement the operation, and the kernel would stop asking (and so stop
 * checking) for the rest of the mount's life: any failure to decide becomes EIO instead. */
static int mnt_ops_check_errno(int rc)
{
    return rc == -ENOSYS ? -EIO : rc;
}

static struct mnt_new mnt_ops_new(const struct mnt_who *who, fuse_ino_t parent,
                                  const char *name, mode_t mode, int open_flags)
{
    return (struct mnt_new){.parent = parent, .name = name, .mode = mode, .who = who,
                            .open_flags = open_flags};
}

static void mnt_ops_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    conn->max_write = MNT_OPS_MAX_WRITE;
    if (conn->max_readahead > MNT_OPS_MAX_READAHEAD)
        conn->max_readahead = MNT_OPS_MAX_READAHEAD;
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC; /* mnt_io_open handles O_TRUNC */
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS;
    /* Every listing page with attributes, not only the first: the namenode's READDIR answer
     * carries them anyway, and the kernel then has every listed name as a dentry, so a
     * `cat *` or `cp -r` opens each file without a LOOKUP round trip (the "auto" mode drops
     * to plain pages until it sees lookups in the directory). */
    conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE; /* writes must reach us in order */
    LOG_INFO("fuse init proto=%u.%u max_write=%u max_readahead=%u", conn->proto_major,
             conn->proto_minor, conn->max_write, conn->max_readahead);
}

static void mnt_ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mnt_ops_caller c;
    const struct mnt_who *who = mnt_ops_caller_init(&c, req);
    struct fuse_entry_param e;
    int rc = mnt_meta_lookup(mnt_ops_ctx(req), who, parent, name, &e);

    mnt_ops_caller_fini(&c);
    mnt_ops_reply_entry(req, rc, &e);
}

static void mnt_ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    (void)ino;
    (void)nlookup;
    fuse_reply_none(req); /* dfs inode numbers are FUSE's: there is no table to trim */
}

static void mnt_ops_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    (void)count;
    (void)forgets;
    fuse_reply_none(req);
}

static void mnt_ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mnt_ctx *ctx = mnt_ops_ctx(req);
    struct stat st;
    double timeout_s;
    int rc = mnt_meta_getattr(ctx, ino, &st, &timeout_s);

    (void)fi;
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, timeout_s);
}

static void mnt_ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                            struct fuse_file_info *fi)
{
    struct mnt_ctx *ctx = mnt_ops_ctx(req);
    struct mnt_ops_caller c;
    const struct mnt_who *who = mnt_ops_caller_init(&c, req);
    struct stat st;
    /* ftruncate (fi set) finds the writer by inode, like truncate; its open was checked. */
    int rc = mnt_meta_setattr(ctx, who, ino, attr, to_set, fi != NULL, &st);

    mnt_ops_caller_fini(&c);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    fuse_reply_attr(req, &st, ctx->timeout_s);
}

static void mnt_ops_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                          dev_t rdev)
{
    struct mnt_ops_caller c;
    struct mnt_new n = mnt_ops_new(mnt_ops_caller_init(&c, req), parent, name, mode, 0);
    struct fuse_entry_param e;
    int rc = mnt_meta_mknod(mnt_ops_ctx(req), &n, &e);

    (void)rdev;
    mnt_ops_caller_fini(&c);
    mnt_ops_reply_entry(req, rc, &e);
}

static void mnt_ops_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    struct mnt_ops_caller c;
    struct mnt_new n = mnt_ops_new(mnt_ops_caller_init(&c, req), parent, name, mode, 0);
    struct fuse_entry_param e;
    int rc = mnt_meta_mkdir(mnt_ops_ctx(req), &n, &e);

    mnt_ops_caller_fini(&c);
    mnt_ops_reply_entry(req, rc, &e);
}

static void mnt_ops_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mnt_ops_caller c;
    int rc = mnt_meta_unlink(mnt_ops_ctx(req), mnt_ops_caller_init(&c, req), parent, name);

    mnt_ops_caller_fini(&c);
    fuse_reply_err(req, -rc);
}

static void mnt_ops_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mnt_ops_caller c;
    int rc = mnt_meta_rmdir(mnt_ops_ctx(req), mnt_ops_caller_init(&c, req), parent, name);

    mnt_ops_caller_fini(&c);
    fuse_reply_err(req, -rc);
}

static void mnt_ops_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                           fuse_ino_t newparent, const char *newname, unsigned int flags)
{
    struct mnt_ops_caller c;
    struct mnt_rename r = {.parent = parent, .name = name, .new_parent = newparent,
                           .new_name = newname, .flags = flags,
                           .who = mnt_ops_caller_init(&c, req)};
    int rc = mnt_meta_rename(mnt_ops_ctx(req), &r);

    mnt_ops_caller_fini(&c);
    fuse_reply_err(req, -rc);
}

static void mnt_ops_set_fh(struct fuse_file_info *fi, struct mnt_fh *fh)
{
    fi->fh = (uint64_t)(uintptr_t)fh;
    fi->direct_io = 0;
    fi->keep_cache = 0; /* other clients may have changed the file since we cached it */
    /* A handle that writes nothing has nothing to flush at close (mnt_io_flush): the kernel
     * then skips the FLUSH round trip of every read-only close. */
    fi->noflush = fh->file == NULL;
}

static void mnt_ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mnt_ctx *ctx = mnt_ops_ctx(req);
    struct mnt_ops_caller c;
    struct mnt_fh *fh;
    int rc = mnt_io_open(ctx, mnt_ops_caller_init(&c, req), ino, fi->flags, &fh);

    mnt_ops_caller_fini(&c);
    if (rc < 0) {
        fuse_reply_err(req, -mnt_ops_check_errno(rc));
        return;
    }
    mnt_ops_set_fh(fi, fh);
    bool is_prefetch = mnt_io_prefetch_begin(ctx, fh);
    bool is_opened = fuse_reply_open(req, fi) == 0;
    if (is_prefetch)
        mnt_io_prefetch_end(ctx, fh, is_opened);
    if (!is_opened)
        mnt_io_release(ctx, fh); /* interrupted: no release will come */
}

static void mnt_ops_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                           struct fuse_file_info *fi)
{
    struct mnt_ctx *ctx = mnt_ops_ctx(req);
    struct mnt_ops_caller c;
    struct mnt_new n = mnt_ops_new(mnt_ops_caller_init(&c, req), parent, name, mode, fi->flags);
    struct fuse_entry_param e;
    struct mnt_fh *fh;
    int rc = mnt_io_create(ctx, &n, &e, &fh);

    mnt_ops_caller_fini(&c);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    mnt_ops_set_fh(fi, fh);
    if (fuse_reply_create(req, &e, fi) != 0)
        mnt_io_release(ctx, fh);
}

static void mnt_ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                         struct fuse_file_info *fi)
{
    char *buf = xmalloc(size > 0 ? size : 1);
    ssize_t n = mnt_io_read(mnt_ops_ctx(req), mnt_ops_fh(fi), buf, size, off);

    (void)ino;
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void mnt_ops_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
                          off_t off, struct fuse_file_info *fi)
{
    ssize_t n = mnt_io_write(mnt_ops_ctx(req), mnt_ops_fh(fi), buf, size, off);

    (void)ino;
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_write(req, (size_t)n);
}

static void mnt_ops_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    fuse_reply_err(req, -mnt_io_flush(mnt_ops_ctx(req), mnt_ops_fh(fi)));
}

static void mnt_ops_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                          struct fuse_file_info *fi)
{
    (void)ino;
    (void)datasync; /* the commit makes data and length durable together */
    fuse_reply_err(req, -mnt_io_fsync(mnt_ops_ctx(req), mnt_ops_fh(fi)));
}

static void mnt_ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    int rc = mnt_io_release(mnt_ops_ctx(req), mnt_ops_fh(fi));

    if (rc < 0)
        LOG_WARN("release: closing the writer failed ino=%" PRIu64 " err=%s", (uint64_t)ino,
                 err_str(rc));
    fuse_reply_err(req, 0);
}

static void mnt_ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mnt_ops_caller c;
    struct mnt_dh *dh;
    int rc = mnt_meta_opendir(mnt_ops_ctx(req), mnt_ops_caller_init(&c, req), ino, &dh);

    mnt_ops_caller_fini(&c);
    if (rc < 0) {
        fuse_reply_err(req, -mnt_ops_check_errno(rc));
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)dh;
    if (fuse_reply_open(req, fi) != 0)
        mnt_meta_releasedir(dh);
}

static void mnt_ops_readdir_any(fuse_req_t req, size_t size, off_t off,
                                struct fuse_file_info *fi, bool is_plus)
{
    struct mnt_readdir r = {.buf = xmalloc(size > 0 ? size : 1), .size = size,
                            .off = off < 0 ? 0 : (uint64_t)off, .is_plus = is_plus};
    size_t len = 0;
    int rc = mnt_meta_readdir(mnt_ops_ctx(req), req, mnt_ops_dh(fi), &r, &len);

    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_buf(req, r.buf, len);
    free(r.buf);
}

static void mnt_ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                            struct fuse_file_info *fi)
{
    (void)ino;
    mnt_ops_readdir_any(req, size, off, fi, false);
}

static void mnt_ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                                struct fuse_file_info *fi)
{
    (void)ino;
    mnt_ops_readdir_any(req, size, off, fi, true);
}

static void mnt_ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    mnt_meta_releasedir(mnt_ops_dh(fi));
    fuse_reply_err(req, 0);
}

static void mnt_ops_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    struct mnt_ops_caller c;
    int rc = mnt_meta_access(mnt_ops_ctx(req), mnt_ops_caller_init(&c, req), ino, mask);

    mnt_ops_caller_fini(&c);
    fuse_reply_err(req, -mnt_ops_check_errno(rc));
}

static void mnt_ops_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct statvfs sv;
    int rc = mnt_meta_statfs(mnt_ops_ctx(req), &sv);

    (void)ino;
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops mnt_ops = {
    .init = mnt_ops_init,
    .lookup = mnt_ops_lookup,
    .forget = mnt_ops_forget,
    .forget_multi = mnt_ops_forget_multi,
    .getattr = mnt_ops_getattr,
    .setattr = mnt_ops_setattr,
    .mknod = mnt_ops_mknod,
    .mkdir = mnt_ops_mkdir,
    .unlink = mnt_ops_unlink,
    .rmdir = mnt_ops_rmdir,
    .rename = mnt_ops_rename,
    .open = mnt_ops_open,
    .create = mnt_ops_create,
    .read = mnt_ops_read,
    .write = mnt_ops_write,
    .flush = mnt_ops_flush,
    .fsync = mnt_ops_fsync,
    .release = mnt_ops_release,
    .opendir = mnt_ops_opendir,
    .readdir = mnt_ops_readdir,
    .readdirplus = mnt_ops_readdirplus,
    .releasedir = mnt_ops_releasedir,
    .statfs = mnt_ops_statfs,
    .access = mnt_ops_access,
};
