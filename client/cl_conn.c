#include "cl_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "panic.h"
#include "sock.h"

void cl_conn_client_name(const char *host, long pid, uint32_t rnd, char out[WIRE_ID_MAX + 1])
{
    char tail[40];
    int tail_len = snprintf(tail, sizeof(tail), "-%ld-%08x", pid, rnd);

    ASSERT(tail_len > 0 && tail_len < (int)sizeof(tail));
    int host_max = WIRE_ID_MAX - tail_len;
    int host_len = (int)strnlen(host, (size_t)host_max);
    snprintf(out, WIRE_ID_MAX + 1, "%.*s%s", host_len, host, tail);
    ASSERT(strlen(out) <= WIRE_ID_MAX);
}

void cl_conn_pool_init(struct cl_conn_pool *p, const struct cl_conn_id *id, const char *nn_host,
                       uint16_t nn_port)
{
    ASSERT(strlen(nn_host) <= WIRE_HOST_MAX);
    memset(p, 0, sizeof(*p));
    p->id = *id;
    snprintf(p->nn_host, sizeof(p->nn_host), "%s", nn_host);
    p->nn_port = nn_port;
    pthread_mutex_init(&p->mu, NULL);
}

void cl_conn_pool_fini(struct cl_conn_pool *p)
{
    for (uint32_t i = 0; i < p->idle_count; i++)
        close(p->idle_fds[i]);
    p->idle_count = 0;
    for (uint32_t i = 0; i < p->dn_idle.count; i++)
        close(p->dn_idle.slots[i].fd);
    p->dn_idle.count = 0;
    pthread_mutex_destroy(&p->mu);
}

int cl_conn_dial(const struct cl_conn_id *id, const char *host, uint16_t port)
{
    int fd = sock_connect(host, port, id->timeout_ms);
    int rc;

    if (fd < 0)
        return fd;
    rc = sock_hello(fd, id->cluster_id, WIRE_NODE_CLIENT, id->node_id);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* An idle connection must have nothing to read: readable means EOF, a reset, or a stray
 * frame, and in every case it is unusable. */
static int cl_conn_is_alive(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int n;

    do {
        n = poll(&pfd, 1, 0);
    } while (n < 0 && errno == EINTR);
    return n == 0;
}

static int cl_conn_pop_idle(struct cl_conn_pool *p)
{
    int fd = -1;

    pthread_mutex_lock(&p->mu);
    if (p->idle_count > 0)
        fd = p->idle_fds[--p->idle_count];
    pthread_mutex_unlock(&p->mu);
    return fd;
}

int cl_conn_take(struct cl_conn_pool *p, int *fd_out, int *is_pooled)
{
    int fd;

    while ((fd = cl_conn_pop_idle(p)) >= 0) {
        if (cl_conn_is_alive(fd)) {
            *fd_out = fd;
            *is_pooled = 1;
            return 0;
        }
        close(fd);
    }
    fd = cl_conn_dial(&p->id, p->nn_host, p->nn_port);
    if (fd < 0)
        return fd;
    *fd_out = fd;
    *is_pooled = 0;
    return 0;
}

void cl_conn_give(struct cl_conn_pool *p, int fd)
{
    ASSERT(fd >= 0);
    pthread_mutex_lock(&p->mu);
    if (p->idle_count < CL_CONN_IDLE_MAX) {
        p->idle_fds[p->idle_count++] = fd;
        fd = -1;
    }
    pthread_mutex_unlock(&p->mu);
    if (fd >= 0)
        close(fd);
}

/* ---- datanode connections: pure bookkeeping ---- */

static void cl_dn_idle_remove(struct cl_dn_idle *d, uint32_t i)
{
    ASSERT(i < d->count);
    memmove(&d->slots[i], &d->slots[i + 1], sizeof(d->slots[0]) * (d->count - i - 1));
    d->count--;
}

static int cl_dn_idle_is_addr(const struct cl_dn_idle_slot *s, const char *host, uint16_t port)
{
    return s->port == port && strcmp(s->host, host) == 0;
}

uint32_t cl_dn_idle_expire(struct cl_dn_idle *d, uint64_t now_ms, int *fds_out)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < d->count;) {
        if (now_ms - d->slots[i].since_ms >= CL_DN_IDLE_MS) {
            fds_out[n++] = d->slots[i].fd;
            cl_dn_idle_remove(d, i);
        } else {
            i++;
        }
    }
    return n;
}

int cl_dn_idle_take(struct cl_dn_idle *d, const char *host, uint16_t port)
{
    for (uint32_t i = d->count; i-- > 0;) {
        if (cl_dn_idle_is_addr(&d->slots[i], host, port)) {
            int fd = d->slots[i].fd;
            cl_dn_idle_remove(d, i);
            return fd;
        }
    }
    return -1;
}

int cl_dn_idle_give(struct cl_dn_idle *d, const char *host, uint16_t port, int fd,
                    uint64_t now_ms)
{
    uint32_t same = 0, oldest_same = 0;
    int evicted = -1;

    ASSERT(fd >= 0 && strlen(host) <= WIRE_HOST_MAX);
    for (uint32_t i = d->count; i-- > 0;) {
        if (cl_dn_idle_is_addr(&d->slots[i], host, port)) {
            same++;
            oldest_same = i;
        }
    }
    if (same >= CL_DN_IDLE_PER_ADDR_MAX || d->count == CL_DN_IDLE_MAX) {
        uint32_t victim = same >= CL_DN_IDLE_PER_ADDR_MAX ? oldest_same : 0;
        evicted = d->slots[victim].fd;
        cl_dn_idle_remove(d, victim);
    }
    struct cl_dn_idle_slot *s = &d->slots[d->count++];
    snprintf(s->host, sizeof(s->host), "%s", host);
    s->port = port;
    s->fd = fd;
    s->since_ms = now_ms;
    return evicted;
}

/* ---- datanode connections: glue ---- */

static uint64_t cl_conn_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cl_conn_close_all(const int *fds, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        close(fds[i]);
}

int cl_conn_dn_take(struct cl_conn_pool *p, const char *host, uint16_t port, int *fd_out,
                    int *is_pooled)
{
    int expired[CL_DN_IDLE_MAX];
    uint32_t expired_count;
    int fd;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        expired_count = cl_dn_idle_expire(&p->dn_idle, cl_conn_now_ms(), expired);
        fd = cl_dn_idle_take(&p->dn_idle, host, port);
        pthread_mutex_unlock(&p->mu);
        cl_conn_close_all(expired, expired_count);
        if (fd < 0 || cl_conn_is_alive(fd))
            break;
        close(fd); /* the datanode closed it meanwhile (restart, idle timeout) */
    }
    *is_pooled = fd >= 0;
    if (fd < 0)
        fd = cl_conn_dial(&p->id, host, port);
    if (fd < 0)
        return fd;
    *fd_out = fd;
    return 0;
}

void cl_conn_dn_give(struct cl_conn_pool *p, const char *host, uint16_t port, int fd)
{
    ASSERT(fd >= 0);
    pthread_mutex_lock(&p->mu);
    int evicted = cl_dn_idle_give(&p->dn_idle, host, port, fd, cl_conn_now_ms());
    pthread_mutex_unlock(&p->mu);
    if (evicted >= 0)
        close(evicted);
}
