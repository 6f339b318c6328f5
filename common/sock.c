#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"

static int sock_wait_connected(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    int err = 0;
    socklen_t len = sizeof(err);
    int n = poll(&pfd, 1, timeout_ms);

    if (n == 0)
        return -ETIMEDOUT;
    if (n < 0)
        return -errno;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    return err ? -err : 0;
}

/* Back to blocking mode, with every later send/receive bounded by timeout_ms. */
static void sock_set_blocking_timeouts(int fd, int timeout_ms)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    int one = 1;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int sock_try_addr(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        rc = errno == EINPROGRESS ? sock_wait_connected(fd, timeout_ms) : -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    sock_set_blocking_timeouts(fd, timeout_ms);
    return fd;
}

int sock_connect(const char *host, uint16_t port, int timeout_ms)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char port_s[8];
    int rc = -EHOSTUNREACH;

    snprintf(port_s, sizeof(port_s), "%u", port);
    if (getaddrinfo(host, port_s, &hints, &res) != 0)
        return -EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = sock_try_addr(ai, timeout_ms);
        if (rc >= 0)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

int sock_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *q = p;

    while (len) {
        ssize_t n = send(fd, q, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        q += n;
        len -= (size_t)n;
    }
    return 0;
}

static int sock_read_all(int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sock_read_frame(int fd, struct buf *storage, struct wire_frame *f)
{
    int rc;

    buf_reset(storage);
    uint8_t *hdr = buf_extend(storage, WIRE_HDR_LEN);
    rc = sock_read_all(fd, hdr, WIRE_HDR_LEN);
    if (rc < 0)
        return rc;
    rc = wire_hdr_decode(storage->data, &f->hdr);
    if (rc < 0)
        return rc;
    buf_extend(storage, f->hdr.body_len);
    rc = sock_read_all(fd, storage->data + WIRE_HDR_LEN, f->hdr.body_len);
    if (rc < 0)
        return rc;
    f->body = storage->data + WIRE_HDR_LEN;
    return wire_body_verify(&f->hdr, f->body);
}

int sock_read_reply(int fd, uint16_t req_type, uint64_t req_id, struct buf *storage,
                    struct wire_frame *reply)
{
    int rc = sock_read_frame(fd, storage, reply);

    if (rc < 0)
        return rc;
    if (reply->hdr.req_id != req_id || reply->hdr.type != req_type + 1)
        return -ERR_PROTO;
    return 0;
}

int sock_rpc(int fd, const struct buf *req, uint16_t req_type, uint64_t req_id,
             struct buf *storage, struct wire_frame *reply)
{
    int rc = sock_write_all(fd, req->data, req->len);

    if (rc == 0)
        rc = sock_read_reply(fd, req_type, req_id, storage, reply);
    return rc < 0 ? rc : err_from_wire(reply->hdr.status);
}

int sock_hello(int fd, const char *cluster_id, uint8_t node_kind, const char *node_id)
{
    struct buf req, storage;
    struct wire_frame reply;
    struct wire_hello peer;
    int rc;

    buf_init(&req);
    buf_init(&storage);
    wire_hello_frame(&req, WIRE_HELLO, 1, node_kind, cluster_id, node_id);
    rc = sock_rpc(fd, &req, WIRE_HELLO, 1, &storage, &reply);
    if (rc == 0)
        rc = wire_hello_decode(reply.body, reply.hdr.body_len, &peer);
    if (rc == 0)
        rc = wire_hello_check(&peer, cluster_id);
    buf_fini(&req);
    buf_fini(&storage);
    return rc;
}
