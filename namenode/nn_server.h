/* nn_server: the namenode's libevent glue. It accepts connections, cuts frames, hands each to
 * nn_rpc_dispatch(), and at the end of every loop turn (a lowest-priority event) makes the
 * journal batch durable with one fdatasync (group commit) before sending any reply of that
 * turn. It also runs the checkpoint timer and the replication monitor's. Connections are freed only from that deferred event,
 * never inside their own callbacks. One thread: the loop's. */
#ifndef DFS_NN_SERVER_H
#define DFS_NN_SERVER_H

#include <stdint.h>

#include <event2/event.h>

#include "nn_rpc.h"

typedef uint64_t nn_clock_fn(void);

struct nn_server_opts {
    const char *listen_host;
    uint16_t listen_port;
    uint64_t checkpoint_ops;
    uint64_t checkpoint_ms;
    uint64_t replication_interval_ms; /* period of the replication monitor (nn_repl.h) */
    nn_clock_fn *now_ms;
};

struct nn_server;

/* Listens and registers events on base. NULL with a message in err on failure. The state is
 * borrowed for the server's lifetime. */
struct nn_server *nn_server_new(struct event_base *base, struct nn_state *st,
                                const struct nn_server_opts *opts, char *err, size_t errlen);
uint16_t nn_server_port(const struct nn_server *srv);
/* Writes a checkpoint now (used at clean shutdown). 0 or -errno. */
int nn_server_checkpoint(struct nn_server *srv);
void nn_server_free(struct nn_server *srv);

#endif
