#include "mnt_dnames.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csum.h"
#include "panic.h"
#include "u64map.h"
#include "xmalloc.h"

struct mnt_dname {
    struct mnt_dname *next;
    uint64_t hash;
    char name[];
};

void mnt_dnames_init(struct mnt_dnames *d, uint64_t ttl_ms)
{
    memset(d, 0, sizeof(*d));
    ASSERT(pthread_mutex_init(&d->mu, NULL) == 0);
    d->ttl_ms = ttl_ms;
}

static void mnt_dnames_clear(struct mnt_dnames_dir *dir)
{
    for (uint32_t i = 0; i < dir->bucket_count; i++) {
        for (struct mnt_dname *n = dir->buckets[i], *next; n; n = next) {
            next = n->next;
            free(n);
        }
    }
    free(dir->buckets);
    memset(dir, 0, sizeof(*dir));
}

void mnt_dnames_fini(struct mnt_dnames *d)
{
    for (int i = 0; i < MNT_DNAMES_SLOTS; i++)
        mnt_dnames_clear(&d->dirs[i]);
    pthread_mutex_destroy(&d->mu);
}

static struct mnt_dnames_dir *mnt_dnames_slot(struct mnt_dnames *d, uint64_t ino)
{
    return &d->dirs[u64map_mix(ino) % MNT_DNAMES_SLOTS];
}

/* The kept directory ino, or NULL. */
static struct mnt_dnames_dir *mnt_dnames_find(struct mnt_dnames *d, uint64_t ino)
{
    struct mnt_dnames_dir *dir = mnt_dnames_slot(d, ino);

    return ino != 0 && dir->ino == ino ? dir : NULL;
}

/* The link pointing at name's node (or at the NULL ending its chain). */
static struct mnt_dname **mnt_dnames_link(struct mnt_dnames_dir *dir, const char *name,
                                          uint64_t hash)
{
    struct mnt_dname **pp = &dir->buckets[hash & (dir->bucket_count - 1)];

    while (*pp && ((*pp)->hash != hash || strcmp((*pp)->name, name) != 0))
        pp = &(*pp)->next;
    return pp;
}

static void mnt_dnames_grow(struct mnt_dnames_dir *dir)
{
    uint32_t old_count = dir->bucket_count;
    struct mnt_dname **old = dir->buckets;

    dir->bucket_count = old_count ? old_count * 2 : 64;
    dir->buckets = xcalloc(dir->bucket_count, sizeof(*dir->buckets));
    for (uint32_t i = 0; i < old_count; i++) {
        for (struct mnt_dname *n = old[i], *next; n; n = next) {
            next = n->next;
            struct mnt_dname **head = &dir->buckets[n->hash & (dir->bucket_count - 1)];
            n->next = *head;
            *head = n;
        }
    }
    free(old);
}

static uint64_t mnt_dnames_hash(const char *name)
{
    return csum_chunk(name, strlen(name));
}

/* Adds name; false if the directory is full (the caller drops it). */
static bool mnt_dnames_insert(struct mnt_dnames_dir *dir, const char *name)
{
    uint64_t hash = mnt_dnames_hash(name);
    size_t len = strlen(name);

    if (dir->count == MNT_DNAMES_NAMES_MAX)
        return false;
    if (dir->count >= dir->bucket_count)
        mnt_dnames_grow(dir);
    struct mnt_dname **pp = mnt_dnames_link(dir, name, hash);
    if (*pp)
        return true; /* already listed */
    struct mnt_dname *n = xmalloc(sizeof(*n) + len + 1);
    n->next = NULL;
    n->hash = hash;
    memcpy(n->name, name, len + 1);
    *pp = n;
    dir->count++;
    return true;
}

static void mnt_dnames_delete(struct mnt_dnames_dir *dir, const char *name)
{
    if (dir->bucket_count == 0)
        return;
    struct mnt_dname **pp = mnt_dnames_link(dir, name, mnt_dnames_hash(name));
    struct mnt_dname *n = *pp;
    if (n) {
        *pp = n->next;
        free(n);
        dir->count--;
    }
}

void mnt_dnames_made(struct mnt_dnames *d, const struct wire_attr *a, uint64_t now_ms)
{
    if (!S_ISDIR(a->mode) || a->ino == 0)
        return;
    pthread_mutex_lock(&d->mu);
    struct mnt_dnames_dir *dir = mnt_dnames_slot(d, a->ino);
    mnt_dnames_clear(dir);
    dir->ino = a->ino;
    dir->change = a->change;
    dir->confirmed_ms = now_ms;
    pthread_mutex_unlock(&d->mu);
}

/* Applies this mount's change of name in a kept directory, if the answer shows it was the only
 * change since the last one seen; drops the directory otherwise. */
static void mnt_dnames_changed(struct mnt_dnames *d, const struct wire_attr *after,
                               const char *name, bool is_added, uint64_t now_ms)
{
    pthread_mutex_lock(&d->mu);
    struct mnt_dnames_dir *dir = mnt_dnames_find(d, after->ino);
    if (dir != NULL && after->change == dir->change + 1) {
        bool is_kept = true;
        if (is_added)
            is_kept = mnt_dnames_insert(dir, name);
        else
            mnt_dnames_delete(dir, name);
        dir->change = after->change;
        dir->confirmed_ms = now_ms;
        if (!is_kept)
            mnt_dnames_clear(dir);
    } else if (dir != NULL) {
        mnt_dnames_clear(dir);
    }
    pthread_mutex_unlock(&d->mu);
}

void mnt_dnames_added(struct mnt_dnames *d, const struct wire_attr *dir_after, const char *name,
                      uint64_t now_ms)
{
    mnt_dnames_changed(d, dir_after, name, true, now_ms);
}

void mnt_dnames_removed(struct mnt_dnames *d, const struct wire_attr *dir_after,
                        const char *name, uint64_t now_ms)
{
    mnt_dnames_changed(d, dir_after, name, false, now_ms);
}

void mnt_dnames_forget(struct mnt_dnames *d, uint64_t ino)
{
    pthread_mutex_lock(&d->mu);
    struct mnt_dnames_dir *dir = mnt_dnames_find(d, ino);
    if (dir != NULL)
        mnt_dnames_clear(dir);
    pthread_mutex_unlock(&d->mu);
}

void mnt_dnames_seen(struct mnt_dnames *d, const struct wire_attr *a, uint64_t now_ms)
{
    pthread_mutex_lock(&d->mu);
    struct mnt_dnames_dir *dir = mnt_dnames_find(d, a->ino);
    if (dir != NULL && S_ISDIR(a->mode) && a->change == dir->change)
        dir->confirmed_ms = now_ms > dir->confirmed_ms ? now_ms : dir->confirmed_ms;
    else if (dir != NULL)
        mnt_dnames_clear(dir);
    pthread_mutex_unlock(&d->mu);
}

bool mnt_dnames_is_absent(struct mnt_dnames *d, uint64_t parent, const char *name,
                          uint64_t now_ms, uint64_t *left_ms)
{
    bool is_absent = false;

    pthread_mutex_lock(&d->mu);
    struct mnt_dnames_dir *dir = mnt_dnames_find(d, parent);
    if (dir != NULL && now_ms >= dir->confirmed_ms && now_ms - dir->confirmed_ms < d->ttl_ms) {
        is_absent = dir->count == 0 || !*mnt_dnames_link(dir, name, mnt_dnames_hash(name));
        *left_ms = d->ttl_ms - (now_ms - dir->confirmed_ms);
    }
    pthread_mutex_unlock(&d->mu);
    return is_absent;
}
