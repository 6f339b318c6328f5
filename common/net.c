#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "err.h"
#include "panic.h"

/* One readv() into reserved space of in; commits what arrived. Returns the count, or <= 0
 * (nothing, EOF or an error: left for the bufferevent to see). */
static ssize_t net_read_into(evutil_socket_t fd, struct evbuffer *in, size_t want)
{
    struct evbuffer_iovec v[2];
    struct iovec io[2];
    int n = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);

    if (n <= 0)
        return -1;
    size_t room = want; /* the space reserved can be larger than asked for */
    for (int i = 0; i < n; i++) {
        size_t len = v[i].iov_len < room ? v[i].iov_len : room;
        io[i] = (struct iovec){ .iov_base = v[i].iov_base, .iov_len = len };
        room -= len;
    }
    ssize_t r;
    do {
        r = readv(fd, io, n);
    } while (r < 0 && errno == EINTR);
    size_t left = r > 0 ? (size_t)r : 0;
    for (int i = 0; i < n; i++) {
        v[i].iov_len = left < v[i].iov_len ? left : v[i].iov_len;
        left -= v[i].iov_len;
    }
    int rc = evbuffer_commit_space(in, v, r > 0 ? n : 0);
    ASSERT(rc == 0);
    return r;
}

size_t net_read_more(struct bufferevent *bev, size_t in_max, size_t max_call)
{
    evutil_socket_t fd = bufferevent_getfd(bev);
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t total = 0;

    if (fd < 0)
        return 0;
    /* A bufferevent keeps the end of its input frozen outside its own reads. */
    evbuffer_unfreeze(in, 0);
    while (evbuffer_get_length(in) < in_max) {
        size_t want = in_max - evbuffer_get_length(in);
        want = want < max_call ? want : max_call;
        ssize_t r = net_read_into(fd, in, want);
        if (r <= 0)
            break;
        total += (size_t)r;
        if ((size_t)r < want)
            break; /* the socket is empty */
    }
    evbuffer_freeze(in, 0);
    return total;
}

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

void net_flush(struct bufferevent *bev)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);

    if (fd < 0 || evbuffer_get_length(out) == 0)
        return;
    /* A bufferevent keeps the start of its output frozen outside its own writes. */
    evbuffer_unfreeze(out, 1);
    evbuffer_write(out, fd); /* what the socket does not take now, the bufferevent sends */
    evbuffer_freeze(out, 1);
}

void net_send_now(struct bufferevent *bev, struct buf *b)
{
    evutil_socket_t fd = bufferevent_getfd(bev);
    size_t sent = 0;

    /* Nothing queued before it: straight to the socket. Through the bufferevent, the write
     * would arm its write event (an epoll_ctl), and the loop would wake once more afterwards
     * to find nothing left and disarm it (another): per reply, on every hop. */
    if (fd >= 0 && b->len > 0 && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        ssize_t n;
        do {
            n = send(fd, b->data, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        sent = n > 0 ? (size_t)n : 0; /* an error is the bufferevent's to find and report */
    }
    if (sent < b->len) {
        bufferevent_write(bev, b->data + sent, b->len - sent);
        net_flush(bev);
    }
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
