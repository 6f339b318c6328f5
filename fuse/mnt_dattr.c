#include "mnt_dattr.h"

#include <string.h>
#include <sys/stat.h>

#include "panic.h"
#include "u64map.h"

void mnt_dattr_init(struct mnt_dattr *d, uint64_t ttl_ms)
{
    memset(d, 0, sizeof(*d));
    ASSERT(pthread_mutex_init(&d->mu, NULL) == 0);
    d->ttl_ms = ttl_ms;
}

void mnt_dattr_fini(struct mnt_dattr *d)
{
    pthread_mutex_destroy(&d->mu);
}

static struct mnt_dattr_slot *mnt_dattr_slot(struct mnt_dattr *d, uint64_t ino)
{
    return &d->slots[u64map_mix(ino) % MNT_DATTR_SLOTS];
}

void mnt_dattr_put(struct mnt_dattr *d, const struct wire_attr *a, uint64_t now_ms)
{
    if (!S_ISDIR(a->mode) || a->ino == 0)
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
