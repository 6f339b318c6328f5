/* dfs-namenode: wiring only — configuration, state load, server, signals. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cfg.h"
#include "err.h"
#include "log.h"
#include "nn_server.h"

struct nn_main {
    struct cfg cfg;
    struct nn_state st;
    struct nn_journal journal;
    struct event_base *base;
    struct nn_server *srv;
};

static uint64_t nn_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dfs-namenode [-c FILE] [-o key=value]...\n"
               "  -c FILE       load configuration from FILE (docs/OPERATIONS.md)\n"
               "  -o key=value  set one configuration key (after -c)\n");
}

static int parse_args(struct cfg *cfg, int argc, char **argv)
{
    char err[512];
    int opt;

    while ((opt = getopt(argc, argv, "c:o:h")) != -1) {
        int rc = 0;
        if (opt == 'c')
            rc = cfg_load_file(cfg, optarg, err, sizeof(err));
        else if (opt == 'o')
            rc = cfg_set(cfg, optarg, err, sizeof(err));
        else {
            usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 1 : -EINVAL;
        }
        if (rc < 0) {
            fprintf(stderr, "dfs-namenode: %s\n", err);
            return rc;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

static int load_state(struct nn_main *m)
{
    uint64_t replayed;
    const char *dir = cfg_str(&m->cfg, CFG_NN_DIR);
    int rc = nn_journal_open(&m->journal, dir, &m->st.ns, nn_wall_ms(), &replayed);

    if (rc < 0) {
        LOG_ERROR("cannot open namenode directory %s: %s", dir, err_str(rc));
        return rc;
    }
    LOG_INFO("namespace loaded dir=%s files=%llu dirs=%llu blocks=%llu replayed=%llu", dir,
             (unsigned long long)m->st.ns.file_count, (unsigned long long)m->st.ns.dir_count,
             (unsigned long long)m->st.ns.blk_count, (unsigned long long)replayed);
    nn_ns_start_changes(&m->st.ns, nn_change_base(m->journal.last_index));
    m->st.journal = &m->journal;
    m->st.cluster_id = cfg_str(&m->cfg, CFG_CLUSTER_ID);
    m->st.block_size = cfg_u64(&m->cfg, CFG_BLOCK_SIZE);
    m->st.replication = (uint16_t)cfg_u64(&m->cfg, CFG_REPLICATION);
    m->st.heartbeat_ms = (uint32_t)cfg_u64(&m->cfg, CFG_HEARTBEAT_MS);
    nn_blocks_init(&m->st.blocks, &m->st.ns);
    nn_dns_init(&m->st.dns, cfg_u64(&m->cfg, CFG_DN_DEAD_MS));
    /* Until the datanodes have had time to register and report, every block looks lost:
     * nothing is ordered before serve() sets not_before_ms. */
    struct nn_repl_opts ro = {
        .streams_per_dn = (uint32_t)cfg_u64(&m->cfg, CFG_REPL_STREAMS),
        .timeout_ms = cfg_u64(&m->cfg, CFG_REPL_TIMEOUT_MS),
        .scan_per_tick = NN_REPL_SCAN_PER_TICK,
        .not_before_ms = UINT64_MAX,
    };
    nn_repl_init(&m->st.repl, &ro);
    rc = nn_state_rebuild_blocks(&m->st);
    if (rc < 0) {
        LOG_ERROR("namespace in %s is inconsistent: %s", dir, err_str(rc));
        return rc;
    }
    m->st.now_ms = nn_wall_ms();
    rc = nn_state_spend_unsynced_blk_ids(&m->st);
    if (rc < 0)
        LOG_ERROR("cannot log in %s: %s", dir, err_str(rc));
    return rc;
}

/* Durations are added to the clock: bounded so that the sums never wrap. */
#define NN_MS_MAX (UINT64_C(30) * 24 * 3600 * 1000)

static int nn_ms_is_valid(const struct cfg *cfg, enum cfg_key k)
{
    return cfg_u64(cfg, k) >= 1 && cfg_u64(cfg, k) <= NN_MS_MAX;
}

static int check_cfg(const struct cfg *cfg)
{
    uint64_t bs = cfg_u64(cfg, CFG_BLOCK_SIZE), rep = cfg_u64(cfg, CFG_REPLICATION);
    enum log_level level;

    if (!nn_ns_file_shape_is_valid(bs, 1)) {
        fprintf(stderr, "dfs-namenode: dfs.block_size must be a multiple of 64K up to 2G\n");
        return -EINVAL;
    }
    if (!nn_ns_file_shape_is_valid(NN_BLOCK_UNIT, rep)) {
        fprintf(stderr, "dfs-namenode: dfs.replication must be 1..%d\n", NN_REPLICATION_MAX);
        return -EINVAL;
    }
    if (!nn_ms_is_valid(cfg, CFG_REPL_INTERVAL_MS) || !nn_ms_is_valid(cfg, CFG_REPL_TIMEOUT_MS) ||
        !nn_ms_is_valid(cfg, CFG_DN_DEAD_MS)) {
        fprintf(stderr, "dfs-namenode: nn.replication_interval_ms, nn.replication_timeout_ms "
                        "and nn.dn_dead_ms must be 1..%llu (30 days)\n",
                (unsigned long long)NN_MS_MAX);
        return -EINVAL;
    }
    /* Dead means several heartbeats missed, and the monitor looks more often than half the
     * dead time (a longer gap between its looks it takes for a stall of its own). */
    if (cfg_u64(cfg, CFG_HEARTBEAT_MS) * 2 > cfg_u64(cfg, CFG_DN_DEAD_MS) ||
        cfg_u64(cfg, CFG_REPL_INTERVAL_MS) * 4 > cfg_u64(cfg, CFG_DN_DEAD_MS)) {
        fprintf(stderr, "dfs-namenode: nn.dn_dead_ms must be at least twice dfs.heartbeat_ms "
                        "and four times nn.replication_interval_ms\n");
        return -EINVAL;
    }
    if (cfg_u64(cfg, CFG_REPL_STREAMS) == 0 || cfg_u64(cfg, CFG_REPL_STREAMS) > NN_REPL_STREAMS_MAX) {
        fprintf(stderr, "dfs-namenode: nn.replication_streams must be 1..%d\n",
                NN_REPL_STREAMS_MAX);
        return -EINVAL;
    }
    if (log_parse_level(cfg_str(cfg, CFG_LOG_LEVEL), &level) < 0) {
        fprintf(stderr, "dfs-namenode: bad log.level\n");
        return -EINVAL;
    }
    log_set_level(level);
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct nn_main *m = arg;

    LOG_INFO("signal %d: checkpointing and stopping", (int)sig);
    int rc = nn_server_checkpoint(m->srv);
    if (rc < 0)
        LOG_ERROR("checkpoint at shutdown failed: %s", err_str(rc));
    event_base_loopbreak(m->base);
}

static int serve(struct nn_main *m)
{
    struct nn_server_opts opts = {
        .listen_port = 0,
        .checkpoint_ops = cfg_u64(&m->cfg, CFG_CHECKPOINT_OPS),
        .checkpoint_ms = cfg_u64(&m->cfg, CFG_CHECKPOINT_SECS) * 1000,
        .replication_interval_ms = cfg_u64(&m->cfg, CFG_REPL_INTERVAL_MS),
        .now_ms = nn_wall_ms,
    };
    char host[WIRE_HOST_MAX + 1], err[256];

    if (cfg_parse_hostport(cfg_str(&m->cfg, CFG_NN_LISTEN), host, sizeof(host),
                           &opts.listen_port) < 0) {
        LOG_ERROR("bad nn.listen '%s'", cfg_str(&m->cfg, CFG_NN_LISTEN));
        return -EINVAL;
    }
    opts.listen_host = host;
    m->base = event_base_new();
    m->srv = nn_server_new(m->base, &m->st, &opts, err, sizeof(err));
    if (!m->srv) {
        LOG_ERROR("%s", err);
        event_base_free(m->base);
        return -EADDRINUSE;
    }
    struct event *sigterm = evsignal_new(m->base, SIGTERM, on_signal, m);
    struct event *sigint = evsignal_new(m->base, SIGINT, on_signal, m);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    LOG_INFO("namenode listening on %s:%u cluster=%s", host, nn_server_port(m->srv),
             m->st.cluster_id);
    /* From now on the datanodes can register; each has nn.dn_dead_ms to do it. */
    m->st.repl.opts.not_before_ms = nn_wall_ms() + cfg_u64(&m->cfg, CFG_DN_DEAD_MS);
    event_base_dispatch(m->base);
    event_free(sigterm);
    event_free(sigint);
    nn_server_free(m->srv);
    event_base_free(m->base);
    return 0;
}

/* The namespace is millions of small objects that live long, next to a few big buffers that
 * come and go (each checkpoint's image, grown tables). glibc raises its mmap threshold every
 * time such a buffer is freed, after which the next ones come from the heap and leave holes
 * that the small objects only partly refill: about 40 bytes per file of resident memory in a
 * run of 1M creates with checkpoints. A fixed threshold keeps every buffer of 1 MiB or more in
 * its own mapping, returned to the system when freed. */
enum { NN_MMAP_THRESHOLD = 1 << 20 };

int main(int argc, char **argv)
{
    struct nn_main m;
    int rc;

    mallopt(M_MMAP_THRESHOLD, NN_MMAP_THRESHOLD);
    memset(&m, 0, sizeof(m));
    signal(SIGPIPE, SIG_IGN);
    cfg_init(&m.cfg);
    rc = parse_args(&m.cfg, argc, argv);
    if (rc == 0)
        rc = check_cfg(&m.cfg);
    if (rc == 0)
        rc = load_state(&m);
    if (rc == 0) {
        rc = serve(&m);
        nn_repl_fini(&m.st.repl);
        nn_dns_fini(&m.st.dns);
        nn_blocks_fini(&m.st.blocks);
        nn_ns_fini(&m.st.ns);
        nn_journal_close(&m.journal);
    }
    cfg_fini(&m.cfg);
    return rc == 0 || rc == 1 ? 0 : (rc == -EINVAL ? 2 : 1);
}
