/* mnt_dnames: every name of a few directories this mount made and has been the only one to
 * change since, so that a lookup of a new name there is answered "no such entry" without a
 * namenode round trip.
 *
 * Creating a file costs the kernel a lookup of its name first, under the directory's lock, so
 * each create in a directory waits for one namenode round trip more than it needs: a `tar x`,
 * `cp -r`, `git checkout` or `touch` into a fresh directory pays it once per file. A
 * directory made by this mount starts here empty. The namenode's answer to each create and
 * removal this mount makes in it carries the directory's change counter (wire_attr.change,
 * +1 per entry added or removed): one above the last value seen means this mount's change was
 * the only one, and the name is added or removed here; any other value, a rename, a refused
 * or failed change, or mnt_dnames_forget() drops the directory; so does a getattr or opendir
 * whose answer shows another counter. While kept, and confirmed by an answer within ttl_ms
 * (at most MNT_DNAMES_TTL_MAX_MS, and at most the kernel's entry timeout), a name not listed
 * is absent: a name another client created meanwhile shows within that time, or at once
 * after this mount's next change or listing there (or a getattr the namenode answers).
 *
 * MNT_DNAMES_SLOTS directories (direct-mapped by inode number: a collision evicts), each up to
 * MNT_DNAMES_NAMES_MAX names (one more drops it; at most ~35 MiB of names in all). Times come
 * in as arguments. Thread-safe. */
#ifndef DFS_MNT_DNAMES_H
#define DFS_MNT_DNAMES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

enum {
    MNT_DNAMES_SLOTS = 8,
    MNT_DNAMES_NAMES_MAX = 16384,
    MNT_DNAMES_TTL_MAX_MS = 200, /* "absent" lasts at most this long after the last answer */
};

struct mnt_dname;

struct mnt_dnames_dir {
    uint64_t ino;          /* 0: empty */
    uint64_t change;       /* the directory's counter after the last change seen */
    uint64_t confirmed_ms; /* when the namenode last answered with it */
    uint32_t count;
    uint32_t bucket_count; /* a power of two, or 0 */
    struct mnt_dname **buckets;
};

struct mnt_dnames {
    pthread_mutex_t mu;
    uint64_t ttl_ms;
    struct mnt_dnames_dir dirs[MNT_DNAMES_SLOTS]; /* guarded by mu */
};

void mnt_dnames_init(struct mnt_dnames *d, uint64_t ttl_ms);
void mnt_dnames_fini(struct mnt_dnames *d);
/* This mount made the directory dir (the namenode's answer): it starts empty. */
void mnt_dnames_made(struct mnt_dnames *d, const struct wire_attr *dir, uint64_t now_ms);
/* This mount added name to a directory; dir_after is the directory as the namenode answered. */
void mnt_dnames_added(struct mnt_dnames *d, const struct wire_attr *dir_after, const char *name,
                      uint64_t now_ms);
/* This mount removed name from a directory; dir_after as answered. */
void mnt_dnames_removed(struct mnt_dnames *d, const struct wire_attr *dir_after,
                        const char *name, uint64_t now_ms);
void mnt_dnames_forget(struct mnt_dnames *d, uint64_t ino);
/* The namenode answered a directory's attributes (a getattr, an opendir): an unchanged
 * counter confirms the list, another drops it (someone else changed the directory). */
void mnt_dnames_seen(struct mnt_dnames *d, const struct wire_attr *dir, uint64_t now_ms);
/* Whether name is known absent from directory parent at now_ms; if so, *left_ms is how long
 * that may be cached (what is left of ttl_ms). */
bool mnt_dnames_is_absent(struct mnt_dnames *d, uint64_t parent, const char *name,
                          uint64_t now_ms, uint64_t *left_ms);

#endif
