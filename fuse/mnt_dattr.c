#include "mnt_dattr.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "panic.h"
#include "u64map.h"
#include "xmalloc.h"

static void mnt_dattr_init_with(struct mnt_dattr *d, uint64_t ttl_ms, uint32_t slot_count,
                                bool is_dirs_only)
{
    ASSERT(slot_count > 0);
    memset(d, 0, sizeof(*d));
    ASSERT(pthread_mutex_init(&d->mu, NULL) == 0);
    d->ttl_ms = ttl_ms;
    d->is_dirs_only = is_dirs_only;
    d->slot_count = slot_count;
    d->slots = xcalloc(slot_count, sizeof(*d->slots));
}

void mnt_dattr_init(struct mnt_dattr *d, uint64_t ttl_ms)
{
    mnt_dattr_init_with(d, ttl_ms, MNT_DATTR_SLOTS, true);
}

void mnt_dattr_init_any(struct mnt_dattr *d, uint64_t ttl_ms, uint32_t slot_count)
{
    mnt_dattr_init_with(d, ttl_ms, slot_count, false);
}

void mnt_dattr_fini(struct mnt_dattr *d)
{
    pthread_mutex_destroy(&d->mu);
    free(d->slots);
}

static struct mnt_dattr_slot *mnt_dattr_slot(struct mnt_dattr *d, uint64_t ino)
{
    return &d->slots[u64map_mix(ino) % d->slot_count];
}

void mnt_dattr_put(struct mnt_dattr *d, const struct wire_attr *a, uint64_t now_ms)
{
    if ((d->is_dirs_only && !S_ISDIR(a->mode)) || a->ino == 0)
        return;
    pthread_mutex_lock(&d->mu);
    struct mnt_dattr_slot *s = mnt_dattr_slot(d, a->ino);
    if (s->ino != a->ino || a->ctime_ms >= s->attr.ctime_ms) {
        s->ino = a->ino;
        s->attr = *a;
        s->expires_ms = now_ms + d->ttl_ms;
    }
    pthread_mutex_unlock(&d->mu);
}

bool mnt_dattr_get(struct mnt_dattr *d, uint64_t ino, uint64_t now_ms, struct wire_attr *out,
                   uint64_t *left_ms)
{
    bool is_hit;

    pthread_mutex_lock(&d->mu);
    struct mnt_dattr_slot *s = mnt_dattr_slot(d, ino);
    is_hit = ino != 0 && s->ino == ino && now_ms < s->expires_ms;
    if (is_hit) {
        *out = s->attr;
        *left_ms = s->expires_ms - now_ms;
    }
    pthread_mutex_unlock(&d->mu);
    return is_hit;
}

void mnt_dattr_forget(struct mnt_dattr *d, uint64_t ino)
{
    pthread_mutex_lock(&d->mu);
    struct mnt_dattr_slot *s = mnt_dattr_slot(d, ino);
    if (s->ino == ino)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&d->mu);
}
