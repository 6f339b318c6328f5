/* mnt_perm: the POSIX permission rules the mount applies itself, so that the kernel need not
 * (no default_permissions: see docs/MOUNTING.md, "Permissions"). With default_permissions the
 * kernel asks for a directory's attributes again before every new name in it, because each
 * change drops them; here the attributes come from the mount's own cache (mnt_dattr), as
 * fresh as the kernel's would have been, and a caller with uid 0 needs none for most checks.
 *
 * The rules are the kernel's generic ones (generic_permission, may_delete's sticky check,
 * setattr_prepare's chown/chmod/utimes rules), for a caller identified by uid and gid as FUSE
 * gives them: uid 0 stands for a caller with CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_CHOWN, as
 * on any file system without capability-aware clients. Supplementary groups are asked for
 * through who->is_in_group, and only when the answer can change the decision (reading them
 * costs FUSE a file read in /proc).
 *
 * Pure: no I/O, no clock, no allocation. Unit-tested in tests/unit/test_mnt_perm.c. */
#ifndef DFS_MNT_PERM_H
#define DFS_MNT_PERM_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/* The access bits, as in access(2): X_OK, W_OK, R_OK. */
enum { MNT_PERM_X = 1, MNT_PERM_W = 2, MNT_PERM_R = 4 };

/* Who makes a request. is_in_group (may be NULL: no supplementary groups) answers whether gid
 * is one of the caller's supplementary groups; it may be called several times per request. */
struct mnt_who {
    uint32_t uid;
    uint32_t gid;
    bool (*is_in_group)(void *arg, uint32_t gid);
    void *arg;
};

/* Whether the caller is root (and so needs no attributes for a check, see below). */
bool mnt_perm_is_root(const struct mnt_who *w);
/* Whether gid is the caller's primary group or one of its supplementary groups. */
bool mnt_perm_in_group(const struct mnt_who *w, uint32_t gid);
/* Whether root's answer for mask on an inode of unknown kind is "yes" without its attributes:
 * root may read, write and search anything; only executing a file needs an x bit. */
bool mnt_perm_root_needs_no_attr(const struct mnt_who *w, int mask);

/* Whether every class (owner, group, others) may search directory dir. The kernel walks a
 * path through the names it keeps without asking the mount, so only names of such a
 * directory may be kept. */
bool mnt_perm_dir_is_open(const struct wire_attr *dir);

/* May the caller access a with mask (MNT_PERM_*; 0 asks only for existence)? 0 or -EACCES. */
int mnt_perm_check(const struct wire_attr *a, const struct mnt_who *w, int mask);

/* The mask an open(2) with flags needs: read and/or write by the access mode, write for
 * O_TRUNC, and execute instead of read for the kernel's open of a program (__FMODE_EXEC). */
int mnt_perm_open_mask(int flags);

/* In a sticky directory, only the owner of the directory, of the entry, or root may remove or
 * rename the entry. Whether that rule needs the entry's attributes for this caller: */
bool mnt_perm_sticky_needs_entry(const struct wire_attr *dir, const struct mnt_who *w);
/* 0, or -EPERM when the sticky rule forbids removing entry from dir. */
int mnt_perm_check_sticky(const struct wire_attr *dir, const struct wire_attr *entry,
                          const struct mnt_who *w);

/* The group and mode of a new name in dir made by w (mode includes the S_IFMT type), as the
 * kernel's inode_init_owner gives them: in a setgid directory the name takes the directory's
 * group, and a new directory the setgid bit too; elsewhere the creator's group. (The kernel
 * itself drops a new file's S_ISGID where the creator may not have it, before asking.) */
void mnt_perm_new_owner(const struct wire_attr *dir, const struct mnt_who *w, uint32_t *mode,
                        uint32_t *gid);

/* What a setattr asks for besides req->valid's WIRE_SET_* bits. */
enum {
    MNT_PERM_SET_TIMES_NOW = 1, /* the times set are set to "now" (utimensat(NULL)) */
    MNT_PERM_SET_BY_FH = 2,     /* through an open file (ftruncate): its open was checked */
};
/* May the caller change a as req asks? Changing the mode, explicit times, and (to a group one
 * belongs to) the group need ownership; the owner only by root; both times to "now" (`touch`;
 * only one of them counts as explicit, as in the kernel) ownership or write permission; the
 * size write permission unless through an open file. A mode change by a non-root caller
 * outside the file's group loses S_ISGID, as the kernel does: req->mode is adjusted then.
 * 0, -EPERM or -EACCES. */
int mnt_perm_setattr(const struct wire_attr *a, struct wire_nn_setattr *req, int how,
                     const struct mnt_who *w);

#endif
