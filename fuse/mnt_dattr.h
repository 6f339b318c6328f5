/* mnt_dattr: the attributes of directories this mount just changed, as the namenode answered
 * the change (create, mknod, mkdir, unlink, rmdir, setattr).
 *
 * The kernel drops a directory's cached attributes whenever a name in it changes, and with
 * default_permissions it asks for them again before the next lookup in that directory: one
 * namenode round trip more per `touch`. Served from here for ttl_ms (the attribute timeout the
 * kernel itself applies), they are as fresh as the kernel's own cache would have been: changes
 * by other clients show within the same timeout. A rename's answer carries no attributes, so
 * it forgets both directories. An older answer never replaces a newer one (by ctime), since
 * concurrent changes in one directory can be answered in any order.
 *
 * A second use (mnt_dattr_init_any): the attributes of any inode as the namenode last
 * answered, which the mount's permission checks read instead of asking again (mnt_perm.h),
 * for the same timeout the kernel would have kept them.
 *
 * Direct-mapped by inode number (a collision evicts); times come in as arguments. Thread-safe. */
#ifndef DFS_MNT_DATTR_H
#define DFS_MNT_DATTR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

enum { MNT_DATTR_SLOTS = 256 };

struct mnt_dattr_slot {
    uint64_t ino; /* 0: empty */
    uint64_t expires_ms;
    struct wire_attr attr;
};

struct mnt_dattr {
    pthread_mutex_t mu;
    uint64_t ttl_ms;
    bool is_dirs_only;
    uint32_t slot_count;
    struct mnt_dattr_slot *slots; /* guarded by mu */
};

/* MNT_DATTR_SLOTS slots of directories' attributes. */
void mnt_dattr_init(struct mnt_dattr *d, uint64_t ttl_ms);
/* slot_count slots that keep the attributes of any inode (the mount's permission checks use
 * one: see mnt_perm.h). */
void mnt_dattr_init_any(struct mnt_dattr *d, uint64_t ttl_ms, uint32_t slot_count);
void mnt_dattr_fini(struct mnt_dattr *d);
/* Keeps a directory's attributes (anything else is ignored unless made with
 * mnt_dattr_init_any) until now_ms + ttl_ms. */
void mnt_dattr_put(struct mnt_dattr *d, const struct wire_attr *a, uint64_t now_ms);
/* The kept attributes of ino if they have not expired at now_ms, and in *left_ms how long they
 * still may be used (handed to the kernel as its timeout, so that nothing outlives ttl_ms). */
bool mnt_dattr_get(struct mnt_dattr *d, uint64_t ino, uint64_t now_ms, struct wire_attr *out,
                   uint64_t *left_ms);
void mnt_dattr_forget(struct mnt_dattr *d, uint64_t ino);

#endif
