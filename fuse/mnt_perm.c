#include "mnt_perm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* The kernel's __FMODE_EXEC: it marks the open of a program by execve(), and open(2) itself
 * cannot set it (the kernel masks it out of user flags), so it reaches FUSE only from exec. */
enum { MNT_PERM_FMODE_EXEC = 040 };

bool mnt_perm_is_root(const struct mnt_who *w)
{
    return w->uid == 0;
}

bool mnt_perm_in_group(const struct mnt_who *w, uint32_t gid)
{
    return w->gid == gid || (w->is_in_group != NULL && w->is_in_group(w->arg, gid));
}

bool mnt_perm_root_needs_no_attr(const struct mnt_who *w, int mask)
{
    return mnt_perm_is_root(w) && !(mask & MNT_PERM_X);
}

static bool mnt_perm_grants(uint32_t bits, int mask)
{
    return (bits & (uint32_t)mask) == (uint32_t)mask;
}

/* The permission bits (rwx) of the caller's class for a. The group class is decided without
 * the supplementary groups when it would not change the answer. */
static uint32_t mnt_perm_class_bits(const struct wire_attr *a, const struct mnt_who *w, int mask)
{
    uint32_t group = (a->mode >> 3) & 7, other = a->mode & 7;

    if (w->uid == a->uid)
        return (a->mode >> 6) & 7;
    if (w->gid == a->gid)
        return group;
    if (mnt_perm_grants(group, mask) == mnt_perm_grants(other, mask))
        return other;
    return mnt_perm_in_group(w, a->gid) ? group : other;
}

bool mnt_perm_dir_is_open(const struct wire_attr *dir)
{
    return (dir->mode & 0111) == 0111;
}

int mnt_perm_check(const struct wire_attr *a, const struct mnt_who *w, int mask)
{
    mask &= MNT_PERM_R | MNT_PERM_W | MNT_PERM_X;
    if (mask == 0)
        return 0;
    if (mnt_perm_is_root(w)) {
        bool is_exec_denied = (mask & MNT_PERM_X) && !S_ISDIR(a->mode) && !(a->mode & 0111);
        return is_exec_denied ? -EACCES : 0;
    }
    return mnt_perm_grants(mnt_perm_class_bits(a, w, mask), mask) ? 0 : -EACCES;
}

int mnt_perm_open_mask(int flags)
{
    int mask;

    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        mask = (flags & MNT_PERM_FMODE_EXEC) ? MNT_PERM_X : MNT_PERM_R;
        break;
    case O_WRONLY:
        mask = MNT_PERM_W;
        break;
    default:
        mask = MNT_PERM_R | MNT_PERM_W;
        break;
    }
    return (flags & O_TRUNC) ? mask | MNT_PERM_W : mask;
}

bool mnt_perm_sticky_needs_entry(const struct wire_attr *dir, const struct mnt_who *w)
{
    return (dir->mode & S_ISVTX) && !mnt_perm_is_root(w) && w->uid != dir->uid;
}

int mnt_perm_check_sticky(const struct wire_attr *dir, const struct wire_attr *entry,
                          const struct mnt_who *w)
{
    if (!mnt_perm_sticky_needs_entry(dir, w) || w->uid == entry->uid)
        return 0;
    return -EPERM;
}

void mnt_perm_new_owner(const struct wire_attr *dir, const struct mnt_who *w, uint32_t *mode,
                        uint32_t *gid)
{
    *gid = w->gid;
    if (!(dir->mode & S_ISGID))
        return;
    *gid = dir->gid;
    if (S_ISDIR(*mode))
        *mode |= S_ISGID;
}

/* chmod, chown and chgrp by a caller that is not root (setattr_prepare's rules). */
static int mnt_perm_owner_changes(const struct wire_attr *a, struct wire_nn_setattr *req,
                                  const struct mnt_who *w)
{
    bool is_owner = w->uid == a->uid;
    uint32_t gid = (req->valid & WIRE_SET_GID) ? req->gid : a->gid;

    if ((req->valid & WIRE_SET_UID) && (!is_owner || req->uid != a->uid))
        return -EPERM;
    if ((req->valid & WIRE_SET_GID) &&
        !(is_owner && (req->gid == a->gid || mnt_perm_in_group(w, req->gid))))
        return -EPERM;
    if (req->valid & WIRE_SET_MODE) {
        if (!is_owner)
            return -EPERM;
        if ((req->mode & S_ISGID) && !mnt_perm_in_group(w, gid))
            req->mode &= ~(uint32_t)S_ISGID;
    }
    return 0;
}

int mnt_perm_setattr(const struct wire_attr *a, struct wire_nn_setattr *req, int how,
                     const struct mnt_who *w)
{
    bool is_owner = w->uid == a->uid;
    int rc;

    if (mnt_perm_is_root(w))
        return 0;
    if ((req->valid & WIRE_SET_SIZE) && !(how & MNT_PERM_SET_BY_FH) &&
        (rc = mnt_perm_check(a, w, MNT_PERM_W)) < 0)
        return rc;
    if ((rc = mnt_perm_owner_changes(a, req, w)) < 0)
        return rc;
    uint32_t times = req->valid & (WIRE_SET_ATIME | WIRE_SET_MTIME);
    if (times != 0 && !is_owner) {
        bool is_touch =
            (how & MNT_PERM_SET_TIMES_NOW) && times == (WIRE_SET_ATIME | WIRE_SET_MTIME);
        return is_touch ? mnt_perm_check(a, w, MNT_PERM_W) : -EPERM;
    }
    return 0;
}
