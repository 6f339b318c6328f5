/* cl_conn: the client's pool of namenode connections and the one way every client socket is
 * opened (connect with the client timeout, then HELLO as kind CLIENT with the client's name).
 *
 * The pool owns its idle fds. A caller takes one fd for exactly one round trip and then either
 * gives it back (the connection is healthy and idle) or closes it (any transport error). An
 * idle connection the peer has closed meanwhile (namenode restart) is detected when taken and
 * replaced by a fresh one. Thread-safe: mu guards the idle list; everything else is immutable
 * after cl_conn_pool_init(). Glue: does socket I/O, never decides retries (cl_client does). */
#ifndef DFS_CL_CONN_H
#define DFS_CL_CONN_H

#include <pthread.h>
#include <stdint.h>

#include "wire.h"

enum {
    CL_CONN_IDLE_MAX = 8,
    CL_DN_IDLE_PER_ADDR_MAX = 4, /* idle datanode connections kept per host:port */
    CL_DN_IDLE_MAX = 64,         /* ... and in all */
    CL_DN_IDLE_MS = 10000,       /* an idle datanode connection unused this long is closed */
};

/* One idle, HELLO'd datanode connection. */
struct cl_dn_idle_slot {
    char host[WIRE_HOST_MAX + 1];
    uint16_t port;
    int fd;
    uint64_t since_ms; /* when it was given back */
};

/* The idle datanode connections, oldest first. Pure bookkeeping: fds are only numbers here;
 * the caller closes every fd these functions hand back. */
struct cl_dn_idle {
    struct cl_dn_idle_slot slots[CL_DN_IDLE_MAX];
    uint32_t count;
};

/* Who the client is and where the namenode is; copied into the pool. */
struct cl_conn_id {
    char cluster_id[WIRE_ID_MAX + 1];
    char node_id[WIRE_ID_MAX + 1]; /* the lease holder name: the same for every connection */
    int timeout_ms;
};

struct cl_conn_pool {
    struct cl_conn_id id;
    char nn_host[WIRE_HOST_MAX + 1];
    uint16_t nn_port;
    pthread_mutex_t mu;
    int idle_fds[CL_CONN_IDLE_MAX]; /* guarded by mu */
    uint32_t idle_count;            /* guarded by mu */
    struct cl_dn_idle dn_idle;      /* guarded by mu; idle datanode connections */
};

void cl_conn_pool_init(struct cl_conn_pool *p, const struct cl_conn_id *id, const char *nn_host,
                       uint16_t nn_port);
/* Closes every idle connection. No fd may be taken out at this point. */
void cl_conn_pool_fini(struct cl_conn_pool *p);
/* Returns a connected, HELLO'd fd to the namenode: an idle one if any is still open (then
 * *is_pooled = 1), else a fresh one. Errors: transport errors, -ERR_CLUSTER, -ERR_VERSION. */
int cl_conn_take(struct cl_conn_pool *p, int *fd_out, int *is_pooled);
/* Returns a healthy idle fd to the pool (closed if the pool is full). */
void cl_conn_give(struct cl_conn_pool *p, int fd);
/* Returns a connected, HELLO'd fd to the datanode host:port: the most recently given back idle
 * one that is still open (*is_pooled = 1), else a fresh one. Closes expired idle fds. */
int cl_conn_dn_take(struct cl_conn_pool *p, const char *host, uint16_t port, int *fd_out,
                    int *is_pooled);
/* Returns a healthy idle datanode fd (its last exchange completed cleanly) to the pool; the
 * pool may close it or an older one to stay within its limits. */
void cl_conn_dn_give(struct cl_conn_pool *p, const char *host, uint16_t port, int fd);

/* ---- the pure part of the datanode pool ---- */
/* Removes every slot idle for CL_DN_IDLE_MS or more; their fds go to fds_out (room for
 * CL_DN_IDLE_MAX). Returns how many. */
uint32_t cl_dn_idle_expire(struct cl_dn_idle *d, uint64_t now_ms, int *fds_out);
/* Removes and returns the most recently given fd for host:port, or -1. */
int cl_dn_idle_take(struct cl_dn_idle *d, const char *host, uint16_t port);
/* Adds fd for host:port. Returns the fd the caller must close to stay within the limits
 * (the oldest of that address, or the oldest of all), or -1. */
int cl_dn_idle_give(struct cl_dn_idle *d, const char *host, uint16_t port, int fd,
                    uint64_t now_ms);

/* Dials host:port and HELLOs as a client. Returns the fd or a negative error. */
int cl_conn_dial(const struct cl_conn_id *id, const char *host, uint16_t port);
/* Builds the client name "<host>-<pid>-<8 hex digits>" into out (WIRE_ID_MAX + 1 bytes); the
 * host part is truncated so the whole name fits. Pure. */
void cl_conn_client_name(const char *host, long pid, uint32_t rnd, char out[WIRE_ID_MAX + 1]);

#endif
