/* mnt_attr: pure conversions between the dfs wire types and the structures FUSE speaks —
 * wire_attr -> struct stat / fuse_entry_param, a FUSE setattr (struct stat + FUSE_SET_ATTR_*
 * mask) -> wire_nn_setattr, open(2) flags -> write mode and WIRE_OPEN_* flags, renameat2 flags
 * -> WIRE_RENAME_*, and statfs_ok -> struct statvfs.
 *
 * No I/O, no clock (the caller passes now_ms for *_NOW times), no allocation: callable from
 * any thread. Everything here is unit-tested in tests/unit/test_mnt_attr.c. */
#ifndef DFS_MNT_ATTR_H
#define DFS_MNT_ATTR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <fuse_lowlevel.h>

#include "wire.h"

enum {
    MNT_ATTR_BLKSIZE = 64 * 1024, /* st_blksize and statfs f_bsize: one checksum chunk */
    MNT_ATTR_NAME_MAX = WIRE_NAME_MAX,
};
/* dfs has no inode limit; statfs reports this many inodes in total. */
#define MNT_ATTR_FILES_MAX ((uint64_t)1 << 32)

/* Fills st from a: ino, mode, nlink, uid, gid, size, blocks = ceil(size / 512),
 * blksize = MNT_ATTR_BLKSIZE, and the three times from their millisecond values. */
void mnt_attr_to_stat(const struct wire_attr *a, struct stat *st);

/* Fills e for fuse_reply_entry()/fuse_reply_create(): e->ino = a->ino (dfs inode numbers are
 * FUSE inode numbers), generation 0, both timeouts = timeout_s, attr from mnt_attr_to_stat(). */
void mnt_attr_to_entry(const struct wire_attr *a, double timeout_s, struct fuse_entry_param *e);

/* Milliseconds since the epoch for a timespec; times before the epoch clamp to 0. */
uint64_t mnt_attr_ms(const struct timespec *ts);

/* Builds the namenode request for a FUSE setattr on ino. to_set is the FUSE_SET_ATTR_* mask;
 * MODE/UID/GID/SIZE/ATIME/MTIME map to WIRE_SET_*, ATIME_NOW/MTIME_NOW use now_ms, and the
 * bits the namenode has no use for (CTIME, FORCE, KILL_*, ...) are ignored. */
void mnt_attr_setattr_req(uint64_t ino, const struct stat *st, int to_set, uint64_t now_ms,
                          struct wire_nn_setattr *out);

/* What an open(2) asks for. */
struct mnt_open_mode {
    bool is_read;
    bool is_write;
    bool is_trunc;        /* O_TRUNC */
    bool is_append;       /* O_APPEND */
    uint32_t wire_flags;  /* WIRE_OPEN_TRUNC / WIRE_OPEN_APPEND for dfs_open_write() */
};
/* Translates open flags. -EINVAL for an access mode other than O_RDONLY, O_WRONLY, O_RDWR. */
int mnt_attr_open_mode(int flags, struct mnt_open_mode *out);

/* Translates renameat2() flags: 0 -> 0, RENAME_NOREPLACE -> WIRE_RENAME_NOREPLACE.
 * RENAME_EXCHANGE, RENAME_WHITEOUT and unknown bits are -EINVAL. */
int mnt_attr_rename_flags(unsigned int flags, uint32_t *out);

/* Fills out from the namenode's totals: f_bsize = f_frsize = MNT_ATTR_BLKSIZE, blocks from
 * capacity/remaining, f_files = MNT_ATTR_FILES_MAX (or the file count if larger), f_namemax
 * MNT_ATTR_NAME_MAX. */
void mnt_attr_statfs(const struct wire_nn_statfs_ok *s, struct statvfs *out);

#endif
