#include "dn_down.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "panic.h"

static void dn_down_tidy_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dn_down_pool *p = arg;

    (void)fd;
    (void)what;
    for (uint32_t i = 0; i < DN_DOWN_POOL_MAX; i++) {
        struct dn_down_slot *s = &p->slots[i];
        if (s->bev && s->is_dead) {
            bufferevent_free(s->bev);
            s->bev = NULL;
            s->is_dead = false;
        }
    }
}

void dn_down_pool_init(struct dn_down_pool *p, struct event_base *base)
{
    memset(p, 0, sizeof(*p));
    p->tidy_ev = event_new(base, -1, 0, dn_down_tidy_cb, p);
    ASSERT(p->tidy_ev != NULL);
    for (uint32_t i = 0; i < DN_DOWN_POOL_MAX; i++)
        p->slots[i].pool = p;
}

void dn_down_pool_fini(struct dn_down_pool *p)
{
    if (!p->tidy_ev)
        return;
    for (uint32_t i = 0; i < DN_DOWN_POOL_MAX; i++) {
        if (p->slots[i].bev)
            bufferevent_free(p->slots[i].bev);
        p->slots[i].bev = NULL;
    }
    event_free(p->tidy_ev);
    p->tidy_ev = NULL;
}

/* Detaches a pooled connection; it is freed from the tidy event. */
static void dn_down_slot_kill(struct dn_down_slot *s)
{
    ASSERT(s->bev != NULL && !s->is_dead);
    bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
    bufferevent_disable(s->bev, EV_READ | EV_WRITE);
    s->is_dead = true;
    event_active(s->pool->tidy_ev, 0, 0);
}

static void dn_down_idle_read_cb(struct bufferevent *bev, void *arg)
{
    struct dn_down_slot *s = arg;

    (void)bev;
    LOG_DEBUG("idle downstream %s:%u sent data: dropping it", s->host, s->port);
    dn_down_slot_kill(s);
}

static void dn_down_idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct dn_down_slot *s = arg;

    (void)bev;
    LOG_DEBUG("idle downstream %s:%u closed (event 0x%x)", s->host, s->port, what);
    dn_down_slot_kill(s);
}

static bool dn_down_slot_is_live(const struct dn_down_slot *s, const char *host, uint16_t port)
{
    return s->bev && !s->is_dead && s->port == port && strcmp(s->host, host) == 0;
}

struct bufferevent *dn_down_pool_take(struct dn_down_pool *p, const char *host, uint16_t port)
{
    for (uint32_t i = 0; i < DN_DOWN_POOL_MAX; i++) {
        struct dn_down_slot *s = &p->slots[i];
        if (!dn_down_slot_is_live(s, host, port))
            continue;
        if (evbuffer_get_length(bufferevent_get_input(s->bev)) != 0) {
            dn_down_slot_kill(s); /* a stray frame: the connection is out of step */
            continue;
        }
        struct bufferevent *bev = s->bev;
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
        bufferevent_disable(bev, EV_READ | EV_WRITE);
        s->bev = NULL;
        return bev;
    }
    return NULL;
}

bool dn_down_pool_give(struct dn_down_pool *p, const char *host, uint16_t port,
                       struct bufferevent *bev)
{
    struct dn_down_slot *free_slot = NULL;
    uint32_t same = 0;

    ASSERT(strlen(host) <= WIRE_HOST_MAX);
    for (uint32_t i = 0; i < DN_DOWN_POOL_MAX; i++) {
        struct dn_down_slot *s = &p->slots[i];
        if (dn_down_slot_is_live(s, host, port))
            same++;
        if (!s->bev && !free_slot)
            free_slot = s;
    }
    if (same >= DN_DOWN_PER_ADDR_MAX || !free_slot)
        return false;
    snprintf(free_slot->host, sizeof(free_slot->host), "%s", host);
    free_slot->port = port;
    free_slot->bev = bev;
    free_slot->is_dead = false;
    bufferevent_setcb(bev, dn_down_idle_read_cb, NULL, dn_down_idle_event_cb, free_slot);
    struct timeval idle = { .tv_sec = DN_DOWN_IDLE_S };
    bufferevent_set_timeouts(bev, &idle, NULL);
    bufferevent_disable(bev, EV_WRITE);
    bufferevent_enable(bev, EV_READ);
    return true;
}
