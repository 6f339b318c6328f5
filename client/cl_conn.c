#include "cl_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
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
