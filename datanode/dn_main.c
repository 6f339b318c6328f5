/* dfs-datanode: wiring only — parse arguments and config, open the store, start the data plane
 * (dn_server) and the control plane (dn_nn), run the loop until SIGTERM/SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cfg.h"
#include "dn_nn.h"
#include "dn_server.h"
#include "dn_store.h"
#include "err.h"
#include "log.h"
#include "panic.h"

enum {
    DN_EXIT_OK = 0,
    DN_EXIT_FAIL = 1,
    DN_EXIT_USAGE = 2,
    DN_MMAP_THRESHOLD = 16 << 20, /* > a whole frame (4 MiB body) and a socket read chunk */
    DN_TRIM_THRESHOLD = 64 << 20,
};

/* Every 1 MiB packet and socket read allocates and frees MiB-sized blocks. With glibc's
 * defaults some of them are served by mmap, so each one faults in and zeroes fresh pages;
 * keeping them on the heap reuses warm memory (perf: ~5% of the datanode's CPU was
 * page faults and clear_page). Memory above DN_TRIM_THRESHOLD is still given back. */
static void dn_tune_malloc(void)
{
    if (mallopt(M_MMAP_THRESHOLD, DN_MMAP_THRESHOLD) != 1)
        LOG_WARN("mallopt M_MMAP_THRESHOLD failed");
    if (mallopt(M_TRIM_THRESHOLD, DN_TRIM_THRESHOLD) != 1)
        LOG_WARN("mallopt M_TRIM_THRESHOLD failed");
}

struct dn_ctx {
    struct cfg cfg;
    char listen_host[WIRE_HOST_MAX + 1];
    uint16_t listen_port;
    char data_dir[4096];
    struct event_base *base;
    struct dn_store store;
    struct dn_server server;
    struct dn_nn nn;
    struct event *sigterm_ev;
    struct event *sigint_ev;
};

static void dn_usage(FILE *f)
{
    fprintf(f, "usage: dfs-datanode [-c FILE] [-o key=value]...\n");
}

/* Parses the command line into ctx->cfg; returns 0 or DN_EXIT_USAGE. */
static int dn_parse_args(struct dn_ctx *ctx, int argc, char **argv)
{
    char err[512];
    int opt;

    while ((opt = getopt(argc, argv, "c:o:h")) != -1) {
        int rc = 0;
        if (opt == 'c')
            rc = cfg_load_file(&ctx->cfg, optarg, err, sizeof(err));
        else if (opt == 'o')
            rc = cfg_set(&ctx->cfg, optarg, err, sizeof(err));
        else {
            dn_usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? -1 : DN_EXIT_USAGE;
        }
        if (rc < 0) {
            fprintf(stderr, "dfs-datanode: %s\n", err);
            return DN_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        dn_usage(stderr);
        return DN_EXIT_USAGE;
    }
    return 0;
}

/* Validates the keys this daemon uses; returns 0 or DN_EXIT_USAGE. */
static int dn_check_cfg(struct dn_ctx *ctx)
{
    enum log_level level;
    const char *dirs = cfg_str(&ctx->cfg, CFG_DN_DIRS);
    size_t dir_len = strcspn(dirs, ",");

    if (log_parse_level(cfg_str(&ctx->cfg, CFG_LOG_LEVEL), &level) < 0) {
        fprintf(stderr, "dfs-datanode: log.level: bad value\n");
        return DN_EXIT_USAGE;
    }
    log_set_level(level);
    if (cfg_parse_hostport(cfg_str(&ctx->cfg, CFG_DN_LISTEN), ctx->listen_host,
                           sizeof(ctx->listen_host), &ctx->listen_port) < 0) {
        fprintf(stderr, "dfs-datanode: dn.listen: expected host:port\n");
        return DN_EXIT_USAGE;
    }
    if (dir_len == 0 || dir_len >= sizeof(ctx->data_dir)) {
        fprintf(stderr, "dfs-datanode: dn.dirs: expected a directory\n");
        return DN_EXIT_USAGE;
    }
    memcpy(ctx->data_dir, dirs, dir_len);
    ctx->data_dir[dir_len] = '\0';
    const char *adv = cfg_str(&ctx->cfg, CFG_DN_ADVERTISE);
    if (adv[0] == '\0' && (strcmp(ctx->listen_host, "0.0.0.0") == 0 ||
                            strcmp(ctx->listen_host, "::") == 0))
        LOG_WARN("dn.advertise is empty and dn.listen is a wildcard: peers cannot dial %s",
                 ctx->listen_host);
    if (dirs[dir_len] == ',')
        LOG_WARN("dn.dirs: only the first directory is used: %s", ctx->data_dir);
    return 0;
}

static void dn_on_finalized(void *arg, const struct wire_blk_len *e)
{
    struct dn_ctx *ctx = arg;
    dn_nn_block_received(&ctx->nn, e);
}

static void dn_on_corrupt(void *arg, const struct wire_blk_len *e)
{
    struct dn_ctx *ctx = arg;
    dn_nn_block_corrupt(&ctx->nn, e);
}

static uint32_t dn_active_writes(void *arg)
{
    struct dn_ctx *ctx = arg;
    return ctx->server.active_writes;
}

static void dn_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct dn_ctx *ctx = arg;

    (void)what;
    LOG_INFO("signal %d: shutting down", (int)sig);
    event_base_loopbreak(ctx->base);
}

/* Starts the data and control planes; returns 0 or DN_EXIT_FAIL / DN_EXIT_USAGE. */
static int dn_start(struct dn_ctx *ctx)
{
    char err[512];
    const char *adv = cfg_str(&ctx->cfg, CFG_DN_ADVERTISE);
    struct dn_server_cfg scfg = {
        .cluster_id = cfg_str(&ctx->cfg, CFG_CLUSTER_ID), .node_id = ctx->store.node_id,
        .listen_host = ctx->listen_host, .listen_port = ctx->listen_port,
        .on_finalized = dn_on_finalized, .on_corrupt = dn_on_corrupt, .replica_fn_arg = ctx,
    };
    if (dn_server_open(&ctx->server, ctx->base, &ctx->store, &scfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "dfs-datanode: %s\n", err);
        return DN_EXIT_FAIL;
    }
    struct dn_nn_cfg ncfg = {
        .nn_addr = cfg_str(&ctx->cfg, CFG_NN_ADDR), .cluster_id = scfg.cluster_id,
        .node_id = ctx->store.node_id, .advertise_host = adv[0] ? adv : ctx->listen_host,
        .data_port = ctx->server.port,
        .heartbeat_ms = (uint32_t)cfg_u64(&ctx->cfg, CFG_HEARTBEAT_MS),
        .report_secs = cfg_u64(&ctx->cfg, CFG_DN_REPORT_SECS),
        .active_writes = dn_active_writes, .active_writes_arg = ctx,
    };
    if (dn_nn_open(&ctx->nn, ctx->base, &ctx->store, &ncfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "dfs-datanode: %s\n", err);
        dn_server_close(&ctx->server);
        return DN_EXIT_USAGE;
    }
    return 0;
}

static int dn_run(struct dn_ctx *ctx)
{
    char err[512];
    int rc = dn_store_open(&ctx->store, ctx->data_dir, cfg_str(&ctx->cfg, CFG_CLUSTER_ID),
                           cfg_u64(&ctx->cfg, CFG_DN_CAPACITY), err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "dfs-datanode: %s\n", err);
        return DN_EXIT_FAIL;
    }
    LOG_INFO("data dir=%s node_id=%s replicas=%" PRIu64, ctx->data_dir, ctx->store.node_id,
             ctx->store.replica_count);
    ctx->base = event_base_new();
    ASSERT(ctx->base != NULL);
    ctx->sigterm_ev = evsignal_new(ctx->base, SIGTERM, dn_signal_cb, ctx);
    ctx->sigint_ev = evsignal_new(ctx->base, SIGINT, dn_signal_cb, ctx);
    evsignal_add(ctx->sigterm_ev, NULL);
    evsignal_add(ctx->sigint_ev, NULL);
    rc = dn_start(ctx);
    if (rc == 0) {
        event_base_dispatch(ctx->base);
        dn_nn_close(&ctx->nn);
        dn_server_close(&ctx->server);
    }
    event_free(ctx->sigterm_ev);
    event_free(ctx->sigint_ev);
    event_base_free(ctx->base);
    dn_store_close(&ctx->store);
    return rc;
}

int main(int argc, char **argv)
{
    static struct dn_ctx ctx; /* large (pipes per connection live elsewhere); not a global */

    signal(SIGPIPE, SIG_IGN);
    dn_tune_malloc();
    cfg_init(&ctx.cfg);
    int rc = dn_parse_args(&ctx, argc, argv);
    if (rc == 0)
        rc = dn_check_cfg(&ctx);
    if (rc == 0)
        rc = dn_run(&ctx);
    cfg_fini(&ctx.cfg);
    return rc < 0 ? DN_EXIT_OK : rc;
}
