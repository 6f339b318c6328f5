#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "panic.h"

int net_frame_peek(struct evbuffer *in, struct wire_frame *f)
{
    uint8_t hdr[WIRE_HDR_LEN];
    size_t avail = evbuffer_get_length(in);
    int rc;

    if (avail < WIRE_HDR_LEN)
        return 0;
    if (evbuffer_copyout(in, hdr, WIRE_HDR_LEN) != WIRE_HDR_LEN)
        return -ERR_PROTO;
    rc = wire_hdr_decode(hdr, &f->hdr);
    if (rc < 0)
        return rc;
    if (avail < WIRE_HDR_LEN + (size_t)f->hdr.body_len)
        return 0;
    uint8_t *all = evbuffer_pullup(in, (ev_ssize_t)(WIRE_HDR_LEN + f->hdr.body_len));
    ASSERT(all != NULL);
    f->body = all + WIRE_HDR_LEN;
    return wire_body_verify(&f->hdr, f->body) < 0 ? -ERR_CHECKSUM : 1;
}

void net_frame_drain(struct evbuffer *in, const struct wire_frame *f)
{
    evbuffer_drain(in, WIRE_HDR_LEN + (size_t)f->hdr.body_len);
}

void net_send_buf(struct bufferevent *bev, struct buf *b)
{
    if (b->len)
        bufferevent_write(bev, b->data, b->len);
    buf_reset(b);
}

static int net_resolve(const char *host, uint16_t port, int passive, struct addrinfo **out)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    char port_s[8];

    if (passive)
        hints.ai_flags = AI_PASSIVE;
    snprintf(port_s, sizeof(port_s), "%u", port);
    return getaddrinfo(host, port_s, &hints, out);
}

struct evconnlistener *net_listen(struct event_base *base, const char *host, uint16_t port,
                                  evconnlistener_cb cb, void *arg, char *err, size_t errlen)
{
    struct addrinfo *ai = NULL;
    int rc = net_resolve(host, port, 1, &ai);

    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
        ai->ai_addr, (int)ai->ai_addrlen);
    if (!l)
        snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(errno));
    freeaddrinfo(ai);
    return l;
}

uint16_t net_listener_port(struct evconnlistener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

struct bufferevent *net_connect(struct event_base *base, const char *host, uint16_t port)
{
    struct addrinfo *ai = NULL;

    if (net_resolve(host, port, 0, &ai) != 0)
        return NULL;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bufferevent_socket_connect(bev, ai->ai_addr, (int)ai->ai_addrlen) < 0) {
        bufferevent_free(bev);
        bev = NULL;
    } else {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    freeaddrinfo(ai);
    return bev;
}
