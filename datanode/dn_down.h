/* dn_down: a datanode's idle downstream connections (libevent glue). After a write pipeline
 * finished cleanly (LAST acked by the downstream), its connection to the next datanode is
 * kept here, HELLO done, keyed by host:port, so the next DN_WRITE_OPEN to the same datanode
 * skips the connect and the handshake. Bounded: DN_DOWN_PER_ADDR_MAX per address and
 * DN_DOWN_POOL_MAX in all (a connection that does not fit is refused and the caller drops it).
 * An idle connection that sees EOF, an error, any byte, or DN_DOWN_IDLE_S of silence is
 * detached at once and freed from a deferred event, never inside its own callback.
 * Loop thread only. */
#ifndef DFS_DN_DOWN_H
#define DFS_DN_DOWN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "wire.h"

enum {
    DN_DOWN_POOL_MAX = 16,
    DN_DOWN_PER_ADDR_MAX = 2,
    DN_DOWN_IDLE_S = 30, /* well below the peer's idle timeout (DN_IDLE_TIMEOUT_S) */
};

struct dn_down_pool;

struct dn_down_slot {
    struct dn_down_pool *pool;
    struct bufferevent *bev; /* NULL: free */
    bool is_dead;            /* detached; freed by the pool's tidy event */
    char host[WIRE_HOST_MAX + 1];
    uint16_t port;
};

struct dn_down_pool {
    struct event *tidy_ev;
    struct dn_down_slot slots[DN_DOWN_POOL_MAX];
};

void dn_down_pool_init(struct dn_down_pool *p, struct event_base *base);
/* Frees every pooled connection. Not from inside a pooled connection's callback. */
void dn_down_pool_fini(struct dn_down_pool *p);
/* Removes and returns an idle connection to host:port with nothing pending, or NULL. Its
 * callbacks are cleared and it is disabled: the caller sets its own. */
struct bufferevent *dn_down_pool_take(struct dn_down_pool *p, const char *host, uint16_t port);
/* Keeps bev (idle, healthy, its input drained or about to be) for host:port. Returns false
 * if the pool is full for that address or in all: the caller keeps ownership then. Safe
 * inside bev's own callbacks. */
bool dn_down_pool_give(struct dn_down_pool *p, const char *host, uint16_t port,
                       struct bufferevent *bev);

#endif
