/* net: libevent glue shared by the daemons — listening, dialing and cutting frames out of an
 * evbuffer. No decisions live here. Call only from the thread that runs the event base. */
#ifndef DFS_NET_H
#define DFS_NET_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "buf.h"
#include "wire.h"

enum { NET_LIBEVENT_READ_MAX = 4096 /* bytes libevent 2.1 reads per read event, at most */ };

/* Looks at the front of in for one complete frame. Returns 1 and fills *f (its body points
 * into in and stays valid until net_frame_drain()), 0 if more bytes are needed, or a negative
 * error (-ERR_PROTO bad header, -ERR_VERSION, -ERR_CHECKSUM bad body): close the connection. */
int net_frame_peek(struct evbuffer *in, struct wire_frame *f);
/* Removes the frame returned by net_frame_peek() from in. */
void net_frame_drain(struct evbuffer *in, const struct wire_frame *f);
/* Reads what bev's socket already holds straight into bev's input, up to in_max bytes in the
 * input and max_call bytes per read call, without blocking. libevent 2.1 reads at most 4 KiB
 * per read event, so a 1 MiB packet would otherwise take 256 turns of the loop (and as many
 * epoll_wait and readv calls). EOF and errors are left in the socket for bev to report. Returns
 * the bytes read. Plain socket bufferevents only. */
size_t net_read_more(struct bufferevent *bev, size_t in_max, size_t max_call);
/* Queues b's bytes on bev and empties b. */
void net_send_buf(struct bufferevent *bev, struct buf *b);
/* Writes what bev has queued to its socket now, as far as the socket takes it without
 * blocking; the bufferevent sends the rest (and reports any error) as usual. A socket
 * bufferevent sends only when the loop next finds the socket writable: one more turn of the
 * loop, and its epoll_wait, before every reply. Plain socket bufferevents only. */
void net_flush(struct bufferevent *bev);
/* Sends b's bytes now and empties b: straight to the socket when nothing is queued on bev
 * (without arming bev's write event), and what the socket does not take is queued on bev and
 * sent as by net_flush(). Bytes keep their order with everything sent through bev. */
void net_send_now(struct bufferevent *bev, struct buf *b);
/* Listens on host:port (port 0 picks one). Returns NULL with a message in err on failure. */
struct evconnlistener *net_listen(struct event_base *base, const char *host, uint16_t port,
                                  evconnlistener_cb cb, void *arg, char *err, size_t errlen);
/* The port a listener is bound to. */
uint16_t net_listener_port(struct evconnlistener *l);
/* Starts a non-blocking connect; completion or failure arrives in bev's event callback.
 * Returns NULL if host does not resolve. The bufferevent closes its socket when freed. */
struct bufferevent *net_connect(struct event_base *base, const char *host, uint16_t port);

#endif
