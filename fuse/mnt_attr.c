/* mnt_attr: pure attribute, flag and statfs conversions (see mnt_attr.h). */
#include "mnt_attr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <string.h>

#include "panic.h"

static struct timespec mnt_attr_timespec(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    return ts;
}

uint64_t mnt_attr_ms(const struct timespec *ts)
{
    if (ts->tv_sec < 0) {
        return 0;
    }
    return (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000;
}

void mnt_attr_to_stat(const struct wire_attr *a, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = a->ino;
    st->st_mode = a->mode;
    st->st_nlink = a->nlink;
    st->st_uid = a->uid;
    st->st_gid = a->gid;
    st->st_size = (off_t)a->size;
    st->st_blocks = (blkcnt_t)(a->size / 512 + (a->size % 512 != 0));
    st->st_blksize = MNT_ATTR_BLKSIZE;
    st->st_atim = mnt_attr_timespec(a->atime_ms);
    st->st_mtim = mnt_attr_timespec(a->mtime_ms);
    st->st_ctim = mnt_attr_timespec(a->ctime_ms);
}

void mnt_attr_to_entry(const struct wire_attr *a, double timeout_s, struct fuse_entry_param *e)
{
    ASSERT(a->ino != 0);
    memset(e, 0, sizeof(*e));
    e->ino = a->ino;
    e->generation = 0;
    e->attr_timeout = timeout_s;
    e->entry_timeout = timeout_s;
    mnt_attr_to_stat(a, &e->attr);
}

void mnt_attr_setattr_req(uint64_t ino, const struct stat *st, int to_set, uint64_t now_ms,
                          struct wire_nn_setattr *out)
{
    memset(out, 0, sizeof(*out));
    out->ino = ino;
    if (to_set & FUSE_SET_ATTR_MODE) {
        out->valid |= WIRE_SET_MODE;
        out->mode = st->st_mode;
    }
    if (to_set & FUSE_SET_ATTR_UID) {
        out->valid |= WIRE_SET_UID;
        out->uid = st->st_uid;
    }
    if (to_set & FUSE_SET_ATTR_GID) {
        out->valid |= WIRE_SET_GID;
        out->gid = st->st_gid;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        out->valid |= WIRE_SET_SIZE;
        out->size = st->st_size < 0 ? 0 : (uint64_t)st->st_size;
    }
    if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
        out->valid |= WIRE_SET_ATIME;
        out->atime_ms = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now_ms : mnt_attr_ms(&st->st_atim);
    }
    if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
        out->valid |= WIRE_SET_MTIME;
        out->mtime_ms = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now_ms : mnt_attr_ms(&st->st_mtim);
    }
}

int mnt_attr_open_mode(int flags, struct mnt_open_mode *out)
{
    struct mnt_open_mode m = {.is_trunc = (flags & O_TRUNC) != 0,
                              .is_append = (flags & O_APPEND) != 0};

    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        m.is_read = true;
        break;
    case O_WRONLY:
        m.is_write = true;
        break;
    case O_RDWR:
        m.is_read = true;
        m.is_write = true;
        break;
    default:
        return -EINVAL;
    }
    if (m.is_trunc) {
        m.wire_flags |= WIRE_OPEN_TRUNC;
    }
    if (m.is_append) {
        m.wire_flags |= WIRE_OPEN_APPEND;
    }
    *out = m;
    return 0;
}

int mnt_attr_rename_flags(unsigned int flags, uint32_t *out)
{
    if (flags == 0) {
        *out = 0;
        return 0;
    }
    if (flags == RENAME_NOREPLACE) {
        *out = WIRE_RENAME_NOREPLACE;
        return 0;
    }
    return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT, unknown bits */
}

void mnt_attr_statfs(const struct wire_nn_statfs_ok *s, struct statvfs *out)
{
    uint64_t files_max = s->files > MNT_ATTR_FILES_MAX ? s->files : MNT_ATTR_FILES_MAX;
    uint64_t remaining = s->remaining < s->capacity ? s->remaining : s->capacity;

    memset(out, 0, sizeof(*out));
    out->f_bsize = MNT_ATTR_BLKSIZE;
    out->f_frsize = MNT_ATTR_BLKSIZE;
    out->f_blocks = s->capacity / MNT_ATTR_BLKSIZE;
    out->f_bfree = remaining / MNT_ATTR_BLKSIZE;
    out->f_bavail = out->f_bfree;
    out->f_files = files_max;
    out->f_ffree = files_max - s->files;
    out->f_favail = out->f_ffree;
    out->f_namemax = MNT_ATTR_NAME_MAX;
}
