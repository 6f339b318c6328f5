/* mnt_meta: namespace operations and directory handles (see mnt_meta.h). Glue: every function
 * here makes a few libdfs calls and converts with mnt_attr; no decisions of its own
 * beyond routing a size change to this mount's writer and the permission checks (the rules
 * are mnt_perm's; the attributes they need come from ctx->pattr or the namenode). */
#include "mnt_meta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "mnt_attr.h"
#include "panic.h"
#include "xmalloc.h"

int mnt_meta_errno(int rc)
{
    return rc < 0 ? err_to_errno(rc) : 0;
}

int mnt_meta_check_name(const char *name)
{
    size_t len = strnlen(name, WIRE_NAME_MAX + 1);

    if (len == 0)
        return -EINVAL;
    if (len > WIRE_NAME_MAX)
        return -ENAMETOOLONG;
    return 0;
}

static void mnt_meta_adjust(struct mnt_ctx *ctx, struct wire_attr *a)
{
    struct mnt_file *f;

    if (!S_ISREG(a->mode))
        return;
    f = mnt_files_get(&ctx->files, a->ino);
    if (f != NULL) {
        mnt_file_adjust_attr(f, a);
        mnt_files_put(&ctx->files, f);
    }
}

uint64_t mnt_meta_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mnt_meta_dir_changed(struct mnt_ctx *ctx, const struct wire_attr *dir)
{
    uint64_t now_ms = mnt_meta_mono_ms();

    mnt_dattr_put(&ctx->dattr, dir, now_ms);
    mnt_dattr_put(&ctx->pattr, dir, now_ms);
}

void mnt_meta_seen(struct mnt_ctx *ctx, const struct wire_attr *a)
{
    mnt_dattr_put(&ctx->pattr, a, mnt_meta_mono_ms());
}

/* After this mount added (is_added) or removed name in parent: rc is the namenode's answer,
 * dir the directory's attributes it answered with. A refusal or failure means the directory
 * is not what this mount thought it was, or may not be. */
static void mnt_meta_entry_changed(struct mnt_ctx *ctx, uint64_t parent, const char *name,
                                   bool is_added, int rc, const struct wire_attr *dir)
{
    uint64_t now_ms = mnt_meta_mono_ms();

    if (rc < 0) {
        mnt_dnames_forget(&ctx->dnames, parent);
        return;
    }
    mnt_meta_dir_changed(ctx, dir);
    if (is_added)
        mnt_dnames_added(&ctx->dnames, dir, name, now_ms);
    else
        mnt_dnames_removed(&ctx->dnames, dir, name, now_ms);
}

int mnt_meta_attr(struct mnt_ctx *ctx, uint64_t ino, struct wire_attr *out)
{
    int rc = dfs_getattr(ctx->client, ino, out);

    if (rc < 0)
        return mnt_meta_errno(rc);
    if (S_ISDIR(out->mode))
        mnt_dnames_seen(&ctx->dnames, out, mnt_meta_mono_ms());
    mnt_meta_seen(ctx, out);
    mnt_meta_adjust(ctx, out);
    return 0;
}

/* Attributes for a permission check: as this mount was last answered while that is fresh (the
 * kernel's own cache would have been as old), else the namenode's. */
static int mnt_meta_perm_attr(struct mnt_ctx *ctx, uint64_t ino, struct wire_attr *out)
{
    uint64_t left_ms;

    if (mnt_dattr_get(&ctx->pattr, ino, mnt_meta_mono_ms(), out, &left_ms))
        return 0;
    return mnt_meta_attr(ctx, ino, out);
}

int mnt_meta_may(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino, int mask)
{
    struct wire_attr a;
    int rc;

    if (mask == 0 || mnt_perm_root_needs_no_attr(who, mask))
        return 0;
    rc = mnt_meta_perm_attr(ctx, ino, &a);
    return rc < 0 ? rc : mnt_perm_check(&a, who, mask);
}

int mnt_meta_access(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino, int mask)
{
    return mnt_meta_may(ctx, who, ino, mask & (MNT_PERM_R | MNT_PERM_W | MNT_PERM_X));
}

/* How long the kernel may keep a name of directory dir. The kernel walks a path through the
 * names it keeps without asking the mount, so nobody's search permission is checked there:
 * in a directory not every class (owner, group, others) may search, names are not kept at
 * all, and each walk through it comes here (mnt_meta_lookup) to be checked. */
static double mnt_meta_name_timeout(const struct mnt_ctx *ctx, const struct wire_attr *dir)
{
    return mnt_perm_dir_is_open(dir) ? ctx->timeout_s : 0;
}

void mnt_meta_to_entry(const struct mnt_ctx *ctx, const struct wire_attr *a,
                       const struct wire_attr *dir, struct fuse_entry_param *e)
{
    mnt_attr_to_entry(a, ctx->timeout_s, e);
    e->entry_timeout = mnt_meta_name_timeout(ctx, dir);
}

int mnt_meta_lookup(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                    const char *name, struct fuse_entry_param *e)
{
    struct wire_attr a, dir;
    int rc = mnt_meta_check_name(name);

    if (rc == 0)
        rc = mnt_meta_perm_attr(ctx, parent, &dir);
    if (rc == 0)
        rc = mnt_perm_check(&dir, who, MNT_PERM_X);
    if (rc < 0)
        return rc;
    double timeout_s = mnt_meta_name_timeout(ctx, &dir);
    uint64_t left_ms;
    if (mnt_dnames_is_absent(&ctx->dnames, parent, name, mnt_meta_mono_ms(), &left_ms)) {
        memset(e, 0, sizeof(*e)); /* negative, as below, for what is left of the timeout */
        e->entry_timeout = (double)left_ms / 1000 < timeout_s ? (double)left_ms / 1000 : timeout_s;
        return 0;
    }
    rc = dfs_lookup(ctx->client, parent, name, &a);
    if (rc == -ENOENT) {
        /* A negative entry (ino 0) the kernel caches like a positive one: creating a new file
         * then costs one lookup, not two. This mount's own creates replace it at once; a name
         * another client creates shows up here within the timeout, as attributes do. */
        memset(e, 0, sizeof(*e));
        e->entry_timeout = timeout_s;
        return 0;
    }
    if (rc < 0)
        return mnt_meta_errno(rc);
    mnt_meta_seen(ctx, &a);
    mnt_meta_adjust(ctx, &a);
    mnt_meta_to_entry(ctx, &a, &dir, e);
    return 0;
}

int mnt_meta_getattr(struct mnt_ctx *ctx, uint64_t ino, struct stat *st, double *timeout_s)
{
    struct wire_attr a;
    uint64_t left_ms;
    int rc = 0;

    *timeout_s = ctx->timeout_s;
    if (mnt_dattr_get(&ctx->dattr, ino, mnt_meta_mono_ms(), &a, &left_ms))
        *timeout_s = (double)left_ms / 1000; /* a directory this mount just changed */
    else
        rc = mnt_meta_attr(ctx, ino, &a);
    if (rc < 0)
        return rc;
    mnt_attr_to_stat(&a, st);
    return 0;
}

int mnt_meta_truncate(struct mnt_ctx *ctx, uint64_t ino, uint64_t size)
{
    struct mnt_file *f = mnt_files_get(&ctx->files, ino);
    struct wire_nn_setattr req = {.ino = ino, .valid = WIRE_SET_SIZE, .size = size};
    struct wire_attr a;
    int rc;

    if (f != NULL) {
        rc = mnt_file_truncate(&ctx->files, f, size);
        mnt_files_put(&ctx->files, f);
        return mnt_meta_errno(rc);
    }
    return mnt_meta_errno(dfs_setattr(ctx->client, &req, &a));
}

static uint64_t mnt_meta_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return mnt_attr_ms(&ts);
}

/* A SETATTR of a file this mount just created that changes nothing is answered here (see
 * mnt_file_setattr_is_noop); any other makes the create's answer stale. */
static bool mnt_meta_setattr_is_noop(struct mnt_ctx *ctx, const struct wire_nn_setattr *req,
                                     uint64_t now_ms, struct wire_attr *out)
{
    struct mnt_file *f = mnt_files_get(&ctx->files, req->ino);
    bool is_noop;

    if (f == NULL)
        return false;
    is_noop = mnt_file_setattr_is_noop(f, req, now_ms, out);
    if (is_noop)
        mnt_file_adjust_attr(f, out);
    else
        mnt_file_forget_created(f);
    mnt_files_put(&ctx->files, f);
    return is_noop;
}

/* Whether a setattr sets both times to "now" (touch, utimensat(NULL)): then write permission
 * is enough (mnt_perm_setattr checks that both are set). */
static bool mnt_meta_times_are_now(int to_set)
{
    return (to_set & FUSE_SET_ATTR_ATIME_NOW) && (to_set & FUSE_SET_ATTR_MTIME_NOW);
}

/* May who make the change req asks for (see mnt_perm_setattr, which may drop S_ISGID)? */
static int mnt_meta_may_setattr(struct mnt_ctx *ctx, const struct mnt_who *who,
                                struct wire_nn_setattr *req, int to_set, bool is_by_fh)
{
    int how = (is_by_fh ? MNT_PERM_SET_BY_FH : 0) |
              (mnt_meta_times_are_now(to_set) ? MNT_PERM_SET_TIMES_NOW : 0);
    struct wire_attr a;
    int rc;

    if (req->valid == 0 || mnt_perm_is_root(who))
        return 0;
    rc = mnt_meta_perm_attr(ctx, req->ino, &a);
    return rc < 0 ? rc : mnt_perm_setattr(&a, req, how, who);
}

int mnt_meta_setattr(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino,
                     const struct stat *attr, int to_set, bool is_by_fh, struct stat *st)
{
    struct wire_nn_setattr req;
    struct wire_attr a;
    uint64_t now_ms = mnt_meta_now_ms();
    int rc;

    mnt_attr_setattr_req(ino, attr, to_set, now_ms, &req);
    rc = mnt_meta_may_setattr(ctx, who, &req, to_set, is_by_fh);
    if (rc < 0)
        return rc;
    if (req.valid & WIRE_SET_SIZE) {
        rc = mnt_meta_truncate(ctx, ino, req.size);
        if (rc < 0)
            return rc;
        req.valid &= ~(uint32_t)WIRE_SET_SIZE;
    }
    if (req.valid != 0 && mnt_meta_setattr_is_noop(ctx, &req, now_ms, &a)) {
        rc = 0;
    } else if (req.valid != 0) {
        rc = mnt_meta_errno(dfs_setattr(ctx->client, &req, &a));
        if (rc == 0 && S_ISDIR(a.mode))
            mnt_meta_dir_changed(ctx, &a); /* kept for permission checks too */
        else if (rc == 0)
            mnt_meta_seen(ctx, &a);
        if (rc == 0)
            mnt_meta_adjust(ctx, &a);
    } else {
        rc = mnt_meta_attr(ctx, ino, &a);
    }
    if (rc < 0)
        return rc;
    mnt_attr_to_stat(&a, st);
    return 0;
}

/* May req->who make a name in req->parent? If so, the new inode's mode (with its type on the
 * way in) and group, which a setgid directory decides (mnt_perm_new_owner). */
static int mnt_meta_new_name(struct mnt_ctx *ctx, const struct mnt_new *req, uint32_t *mode,
                             uint32_t *gid)
{
    struct wire_attr dir;
    int rc = mnt_meta_perm_attr(ctx, req->parent, &dir);

    if (rc == 0 && !S_ISDIR(dir.mode))
        rc = -ENOTDIR;
    if (rc == 0)
        rc = mnt_perm_check(&dir, req->who, MNT_PERM_W | MNT_PERM_X);
    if (rc == 0)
        mnt_perm_new_owner(&dir, req->who, mode, gid);
    return rc;
}

int mnt_meta_create(struct mnt_ctx *ctx, const struct mnt_new *req, int is_excl,
                    struct wire_attr *a, struct wire_attr *dir, struct dfs_writer **w)
{
    struct wire_nn_create c = {.parent = req->parent, .name = wire_str_c(req->name),
                               .mode = S_IFREG | (req->mode & 07777), .uid = req->who->uid,
                               .flags = is_excl ? WIRE_CREATE_EXCL : 0};
    int rc = mnt_meta_new_name(ctx, req, &c.mode, &c.gid);

    if (rc < 0)
        return rc; /* first, as the kernel refuses any name where none may be made */
    if ((req->mode & S_IFMT) != S_IFREG && (req->mode & S_IFMT) != 0)
        return -EPERM; /* no devices, fifos or sockets in dfs */
    rc = mnt_meta_errno(dfs_create(ctx->client, &c, a, dir, w));
    mnt_meta_entry_changed(ctx, req->parent, req->name, true, rc, dir);
    if (rc == 0)
        mnt_meta_seen(ctx, a);
    return rc;
}

int mnt_meta_mknod(struct mnt_ctx *ctx, const struct mnt_new *req, struct fuse_entry_param *e)
{
    struct dfs_writer *w;
    struct wire_attr a, dir;
    int rc = mnt_meta_check_name(req->name);

    if (rc < 0)
        return rc;
    rc = mnt_meta_create(ctx, req, 1, &a, &dir, &w);
    if (rc < 0)
        return rc;
    rc = dfs_writer_close(w); /* commit the empty file and release its lease */
    if (rc < 0)
        return mnt_meta_errno(rc);
    mnt_meta_to_entry(ctx, &a, &dir, e);
    return 0;
}

int mnt_meta_mkdir(struct mnt_ctx *ctx, const struct mnt_new *req, struct fuse_entry_param *e)
{
    struct wire_nn_mkdir m = {.parent = req->parent, .name = wire_str_c(req->name),
                              .mode = S_IFDIR | (req->mode & 07777), .uid = req->who->uid};
    struct wire_attr a, dir;
    int rc = mnt_meta_check_name(req->name);

    if (rc == 0)
        rc = mnt_meta_new_name(ctx, req, &m.mode, &m.gid);
    if (rc < 0)
        return rc;
    rc = mnt_meta_errno(dfs_mkdir(ctx->client, &m, &a, &dir));
    mnt_meta_entry_changed(ctx, req->parent, req->name, true, rc, &dir);
    if (rc < 0)
        return rc;
    mnt_dnames_made(&ctx->dnames, &a, mnt_meta_mono_ms());
    mnt_meta_seen(ctx, &a);
    mnt_meta_to_entry(ctx, &a, &dir, e);
    return 0;
}

/* May who remove (or replace, when is_absent_ok: the name need not exist) name in parent?
 * Write and search permission on the directory, and in a sticky one, ownership. */
static int mnt_meta_may_remove(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                               const char *name, bool is_absent_ok)
{
    struct wire_attr dir, entry;
    int rc;

    if (mnt_perm_is_root(who))
        return 0;
    rc = mnt_meta_perm_attr(ctx, parent, &dir);
    if (rc == 0)
        rc = mnt_perm_check(&dir, who, MNT_PERM_W | MNT_PERM_X);
    if (rc < 0 || !mnt_perm_sticky_needs_entry(&dir, who))
        return rc;
    rc = mnt_meta_errno(dfs_lookup(ctx->client, parent, name, &entry));
    if (rc == -ENOENT && is_absent_ok)
        return 0;
    return rc < 0 ? rc : mnt_perm_check_sticky(&dir, &entry, who);
}

/* unlink and rmdir: the name's removal after the checks. */
static int mnt_meta_remove(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                           const char *name, bool is_dir)
{
    struct wire_attr dir;
    int rc = mnt_meta_check_name(name);

    if (rc == 0)
        rc = mnt_meta_may_remove(ctx, who, parent, name, false);
    if (rc < 0)
        return rc;
    if (is_dir)
        rc = mnt_meta_errno(dfs_rmdir(ctx->client, parent, name, &dir));
    else
        rc = mnt_meta_errno(dfs_unlink(ctx->client, parent, name, &dir));
    mnt_meta_entry_changed(ctx, parent, name, false, rc, &dir);
    return rc;
}

int mnt_meta_unlink(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                    const char *name)
{
    return mnt_meta_remove(ctx, who, parent, name, false);
}

int mnt_meta_rmdir(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t parent,
                   const char *name)
{
    return mnt_meta_remove(ctx, who, parent, name, true);
}

/* Removing the name from its directory, replacing what the new name holds, and, for a
 * directory moving to another parent, rewriting its "..": write permission on it. */
static int mnt_meta_may_rename(struct mnt_ctx *ctx, const struct mnt_rename *req)
{
    struct wire_attr src;
    int rc;

    if (mnt_perm_is_root(req->who))
        return 0;
    rc = mnt_meta_may_remove(ctx, req->who, req->parent, req->name, false);
    if (rc == 0)
        rc = mnt_meta_may_remove(ctx, req->who, req->new_parent, req->new_name, true);
    if (rc < 0 || req->parent == req->new_parent)
        return rc;
    rc = mnt_meta_errno(dfs_lookup(ctx->client, req->parent, req->name, &src));
    if (rc == 0 && S_ISDIR(src.mode))
        rc = mnt_perm_check(&src, req->who, MNT_PERM_W);
    return rc;
}

int mnt_meta_rename(struct mnt_ctx *ctx, const struct mnt_rename *req)
{
    struct wire_nn_rename r = {.parent = req->parent, .name = wire_str_c(req->name),
                               .new_parent = req->new_parent,
                               .new_name = wire_str_c(req->new_name)};
    int rc = mnt_attr_rename_flags(req->flags, &r.flags);

    if (rc == 0)
        rc = mnt_meta_check_name(req->name);
    if (rc == 0)
        rc = mnt_meta_check_name(req->new_name);
    if (rc == 0)
        rc = mnt_meta_may_rename(ctx, req);
    if (rc < 0)
        return rc;
    /* The answer has no attributes: both directories go back to the namenode's word (also
     * after the rename, since a change in either answered meanwhile may have put them back). */
    mnt_dattr_forget(&ctx->dattr, req->parent);
    mnt_dattr_forget(&ctx->dattr, req->new_parent);
    mnt_dnames_forget(&ctx->dnames, req->parent);
    mnt_dnames_forget(&ctx->dnames, req->new_parent);
    rc = mnt_meta_errno(dfs_rename(ctx->client, &r));
    mnt_dattr_forget(&ctx->dattr, req->parent);
    mnt_dattr_forget(&ctx->dattr, req->new_parent);
    return rc;
}

int mnt_meta_statfs(struct mnt_ctx *ctx, struct statvfs *out)
{
    struct wire_nn_statfs_ok s;
    int rc = dfs_statfs(ctx->client, &s);

    if (rc < 0)
        return mnt_meta_errno(rc);
    mnt_attr_statfs(&s, out);
    return 0;
}

/* ---- directory handles ---- */

int mnt_meta_opendir(struct mnt_ctx *ctx, const struct mnt_who *who, uint64_t ino,
                     struct mnt_dh **out)
{
    struct wire_attr a;
    struct mnt_dh *dh;
    int rc = mnt_meta_attr(ctx, ino, &a);

    if (rc < 0)
        return rc;
    if (!S_ISDIR(a.mode))
        return -ENOTDIR;
    rc = mnt_perm_check(&a, who, MNT_PERM_R);
    if (rc < 0)
        return rc;
    dh = xmalloc(sizeof(*dh));
    dh->gives_entries = mnt_perm_dir_is_open(&a);
    ASSERT(pthread_mutex_init(&dh->mu, NULL) == 0);
    mnt_dir_init(&dh->dir, ino);
    *out = dh;
    return 0;
}

void mnt_meta_releasedir(struct mnt_dh *dh)
{
    pthread_mutex_destroy(&dh->mu);
    free(dh);
}

static int mnt_meta_dir_fetch(struct mnt_ctx *ctx, struct mnt_dir *d)
{
    int is_eof = 0;
    int rc;

    mnt_dir_page_begin(d);
    rc = dfs_readdir(ctx->client, d->ino, mnt_dir_fetch_after(d), MNT_DIR_PAGE,
                     mnt_dir_page_add, d, &is_eof);
    rc = rc < 0 ? mnt_meta_errno(rc) : 0;
    mnt_dir_page_end(d, rc, is_eof != 0);
    return rc;
}

/* With dh->mu held: the entry at listing index idx. 1 with *e set (borrowed from dh or dot),
 * 0 at the end of the listing, or a negative errno. */
static int mnt_meta_dir_entry(struct mnt_ctx *ctx, struct mnt_dh *dh, uint64_t idx,
                              struct mnt_dirent *dot, const struct mnt_dirent **e)
{
    if (idx < MNT_DIR_FIRST) {
        /* ".." carries the directory's own number: the inode API has no parent to offer. */
        memset(dot, 0, sizeof(*dot));
        memcpy(dot->name, idx == 0 ? "." : "..", idx + 2);
        dot->attr.ino = dh->dir.ino;
        dot->attr.mode = S_IFDIR | 0755;
        *e = dot;
        return 1;
    }
    for (;;) {
        switch (mnt_dir_locate(&dh->dir, idx, e)) {
        case MNT_DIR_HAVE:
            return 1;
        case MNT_DIR_END:
            return 0;
        case MNT_DIR_FETCH: {
            int rc = mnt_meta_dir_fetch(ctx, &dh->dir);
            if (rc < 0)
                return rc;
            break;
        }
        default:
            PANIC("bad mnt_dir_step");
        }
    }
}

/* The reply being filled by one readdir call. */
struct mnt_meta_fill {
    fuse_req_t req;
    bool gives_entries; /* see struct mnt_dh */
    const struct mnt_readdir *r;
    size_t used;
};

/* Formats one entry (cookie next_off) into the reply buffer; returns the size it needs, which
 * exceeds the room left when it did not fit (and was not written). */
static size_t mnt_meta_dir_add(struct mnt_ctx *ctx, struct mnt_meta_fill *fill,
                               const struct mnt_dirent *de, uint64_t next_off)
{
    char *p = fill->r->buf + fill->used;
    size_t room = fill->r->size - fill->used;
    bool is_dot = next_off <= MNT_DIR_FIRST;

    if (fill->r->is_plus) {
        struct fuse_entry_param e;
        struct wire_attr a = de->attr;

        if (is_dot || !fill->gives_entries) {
            /* ino 0: the kernel makes no dentry and takes no lookup reference. */
            memset(&e, 0, sizeof(e));
            e.attr.st_ino = a.ino;
            e.attr.st_mode = a.mode;
        } else {
            mnt_meta_adjust(ctx, &a);
            mnt_attr_to_entry(&a, ctx->timeout_s, &e);
        }
        return fuse_add_direntry_plus(fill->req, p, room, de->name, &e, (off_t)next_off);
    }
    struct stat st = {.st_ino = de->attr.ino, .st_mode = de->attr.mode};
    return fuse_add_direntry(fill->req, p, room, de->name, &st, (off_t)next_off);
}

int mnt_meta_readdir(struct mnt_ctx *ctx, fuse_req_t req, struct mnt_dh *dh,
                     const struct mnt_readdir *r, size_t *len_out)
{
    struct mnt_meta_fill fill = {.req = req, .gives_entries = dh->gives_entries, .r = r,
                                 .used = 0};
    struct mnt_dirent dot;
    const struct mnt_dirent *de;
    uint64_t idx = r->off;
    int rc;

    pthread_mutex_lock(&dh->mu);
    if (idx == 0)
        mnt_dir_rewind(&dh->dir); /* a fresh listing for each pass from the start */
    while ((rc = mnt_meta_dir_entry(ctx, dh, idx, &dot, &de)) > 0) {
        size_t need = mnt_meta_dir_add(ctx, &fill, de, idx + 1);

        if (need > r->size - fill.used)
            break;
        fill.used += need;
        idx++;
    }
    pthread_mutex_unlock(&dh->mu);
    if (rc < 0 && fill.used == 0)
        return rc;
    *len_out = fill.used;
    return 0;
}
