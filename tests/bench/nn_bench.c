/* nn_bench: namenode metadata throughput without FUSE, in the spirit of HDFS's
 * NNThroughputBenchmark. N threads, each with its own connection and directory, issue
 * create (+ complete), lookup, rename and unlink RPCs; the tool prints ops/s and p50/p99
 * latency per operation. With --rss-pid it also reports the namenode's resident memory per
 * file after the create phase (keep --keep to leave the files in place for that).
 *
 * With --blocks N every file gets N committed blocks of 4 KiB (add_block ... complete). Block
 * placement needs live datanodes, so the bench registers three fake ones over their own
 * connections and heartbeats them every second; after the create phase they send a full block
 * report of every block, so the namenode also holds replica locations when RSS is measured.
 * No datanode ever receives data.
 *
 * usage: dfs-nn-bench -n HOST:PORT [-C cluster] [-t threads] [-f files_per_thread] [-p pid]
 *                     [--keep] [--blocks N] */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "err.h"
#include "sock.h"
#include "wire.h"
#include "xmalloc.h"

enum { PHASE_CREATE, PHASE_LOOKUP, PHASE_RENAME, PHASE_UNLINK, PHASE_COUNT };
static const char *const phase_names[PHASE_COUNT] = { "create", "lookup", "rename", "delete" };

struct bench_opts {
    char host[WIRE_HOST_MAX + 1];
    uint16_t port;
    const char *cluster_id;
    int threads;
    uint64_t files;
    int rss_pid;
    int keep;
    int blocks; /* committed blocks per created file */
};

enum { BENCH_DN_COUNT = 3, BENCH_BLK_LEN = 4096, BENCH_HEARTBEAT_MS = 1000 };

/* One fake datanode: a registered connection that heartbeats and sends block reports. */
struct bench_dn {
    pthread_mutex_t mu; /* guards everything below: the heartbeat thread shares the fd */
    int fd;
    uint64_t req_id;
    struct buf req, storage;
};

struct bench_dns {
    struct bench_dn dn[BENCH_DN_COUNT];
    pthread_t hb_thread;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int is_stopping; /* guarded by stop_mu */
};

struct bench_thread {
    const struct bench_opts *o;
    int idx;
    int fd;
    uint64_t req_id;
    uint64_t dir_ino;
    struct buf req, storage;
    uint64_t *lat_ns; /* files entries for the current phase */
    struct wire_blk *blks; /* with --blocks: every block created, files * blocks entries */
    uint64_t blk_count;
    int rc;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sends the frame being built in req (body already encoded after begin); *reply borrows
 * storage. */
static int bench_rpc(int fd, uint64_t *req_id, struct buf *req, size_t start, uint16_t type,
                     struct buf *storage, struct wire_frame *reply)
{
    uint64_t id = ++*req_id;

    wire_frame_end(req, start, type, id, 0);
    int rc = sock_rpc(fd, req, type, id, storage, reply);
    buf_reset(req);
    return rc;
}

/* One request; *attr (may be NULL) gets the attributes of the answer: the new inode's for a
 * create or mkdir (whose answers carry the directory's too). */
static int bench_call(struct bench_thread *t, size_t start, uint16_t type, struct wire_attr *attr)
{
    struct wire_frame reply;
    struct wire_nn_entry_ok e;
    int rc = bench_rpc(t->fd, &t->req_id, &t->req, start, type, &t->storage, &reply);

    if (rc < 0 || !attr)
        return rc;
    if (type != WIRE_NN_CREATE && type != WIRE_NN_MKDIR)
        return wire_attr_decode(reply.body, reply.hdr.body_len, attr);
    rc = wire_nn_entry_ok_decode(reply.body, reply.hdr.body_len, &e);
    if (rc == 0)
        *attr = e.attr;
    return rc;
}

/* Gives file ino o->blocks committed blocks, then completes it (with no blocks: complete). */
static int bench_write_blocks(struct bench_thread *t, uint64_t ino)
{
    struct wire_frame reply;
    struct wire_nn_add_block_ok ok;
    struct wire_blk prev = { 0, 0 };
    uint64_t prev_len = 0;
    size_t start;

    for (int b = 0; b < t->o->blocks; b++) {
        struct wire_nn_add_block m = { .ino = ino, .prev = prev, .prev_len = prev_len };
        start = wire_frame_begin(&t->req);
        wire_nn_add_block_encode(&t->req, &m);
        int rc = bench_rpc(t->fd, &t->req_id, &t->req, start, WIRE_NN_ADD_BLOCK, &t->storage,
                           &reply);
        if (rc == 0)
            rc = wire_nn_add_block_ok_decode(reply.body, reply.hdr.body_len, &ok);
        if (rc < 0)
            return rc;
        prev = ok.blk;
        prev_len = BENCH_BLK_LEN;
        t->blks[t->blk_count++] = ok.blk;
    }
    struct wire_nn_complete c = { .ino = ino, .last = prev, .last_len = prev_len };
    start = wire_frame_begin(&t->req);
    wire_nn_complete_encode(&t->req, &c);
    return bench_call(t, start, WIRE_NN_COMPLETE, NULL);
}

static int bench_mkdir(struct bench_thread *t, uint64_t parent, const char *name, uint64_t *ino)
{
    struct wire_nn_mkdir m = { .parent = parent, .name = wire_str_c(name), .mode = 0755 };
    struct wire_attr a;
    size_t start = wire_frame_begin(&t->req);

    wire_nn_mkdir_encode(&t->req, &m);
    int rc = bench_call(t, start, WIRE_NN_MKDIR, &a);
    if (rc == -EEXIST) {
        struct wire_nn_name l = { .parent = parent, .name = wire_str_c(name) };
        start = wire_frame_begin(&t->req);
        wire_nn_name_encode(&t->req, &l);
        rc = bench_call(t, start, WIRE_NN_LOOKUP, &a);
    }
    if (rc == 0)
        *ino = a.ino;
    return rc;
}

static int bench_op(struct bench_thread *t, int phase, uint64_t i)
{
    char name[64], name2[64];
    struct wire_attr a;
    size_t start = wire_frame_begin(&t->req);

    snprintf(name, sizeof(name), "f%" PRIu64, i);
    snprintf(name2, sizeof(name2), "r%" PRIu64, i);
    if (phase == PHASE_CREATE) {
        struct wire_nn_create m = { .parent = t->dir_ino, .name = wire_str_c(name), .mode = 0644 };
        wire_nn_create_encode(&t->req, &m);
        int rc = bench_call(t, start, WIRE_NN_CREATE, &a);
        if (rc < 0)
            return rc;
        return bench_write_blocks(t, a.ino);
    }
    if (phase == PHASE_LOOKUP) {
        struct wire_nn_name m = { .parent = t->dir_ino, .name = wire_str_c(name) };
        wire_nn_name_encode(&t->req, &m);
        return bench_call(t, start, WIRE_NN_LOOKUP, &a);
    }
    if (phase == PHASE_RENAME) {
        struct wire_nn_rename m = { .parent = t->dir_ino, .name = wire_str_c(name),
                                    .new_parent = t->dir_ino, .new_name = wire_str_c(name2) };
        wire_nn_rename_encode(&t->req, &m);
        return bench_call(t, start, WIRE_NN_RENAME, NULL);
    }
    struct wire_nn_name m = { .parent = t->dir_ino, .name = wire_str_c(name2) };
    wire_nn_name_encode(&t->req, &m);
    return bench_call(t, start, WIRE_NN_UNLINK, NULL);
}

/* ---- fake datanodes (--blocks) ---- */

static int bench_dn_call(struct bench_dn *dn, size_t start, uint16_t type)
{
    struct wire_frame reply;

    return bench_rpc(dn->fd, &dn->req_id, &dn->req, start, type, &dn->storage, &reply);
}

static int bench_dn_register(const struct bench_opts *o, struct bench_dn *dn, int idx)
{
    char node_id[64];
    size_t start;

    snprintf(node_id, sizeof(node_id), "nn-bench-dn-%d-%d", (int)getpid(), idx);
    dn->fd = sock_connect(o->host, o->port, 60000);
    if (dn->fd < 0)
        return dn->fd;
    int rc = sock_hello(dn->fd, o->cluster_id, WIRE_NODE_DATANODE, node_id);
    if (rc < 0)
        return rc;
    /* A made-up address: no client ever connects to it. */
    struct wire_dn_register m = {
        .self = { .node_id = wire_str_c(node_id), .host = wire_str_c("127.0.0.1"),
                  .port = (uint16_t)(1 + idx) },
        .capacity = 1ULL << 50, .remaining = 1ULL << 50,
    };
    start = wire_frame_begin(&dn->req);
    wire_dn_register_encode(&dn->req, &m);
    return bench_dn_call(dn, start, WIRE_DN_REGISTER);
}

static void bench_dn_heartbeat_all(struct bench_dns *d)
{
    for (int i = 0; i < BENCH_DN_COUNT; i++) {
        struct bench_dn *dn = &d->dn[i];
        struct wire_dn_heartbeat hb = { .capacity = 1ULL << 50, .remaining = 1ULL << 50 };
        pthread_mutex_lock(&dn->mu);
        size_t start = wire_frame_begin(&dn->req);
        wire_dn_heartbeat_encode(&dn->req, &hb);
        int rc = bench_dn_call(dn, start, WIRE_DN_HEARTBEAT);
        pthread_mutex_unlock(&dn->mu);
        if (rc < 0)
            fprintf(stderr, "nn-bench: fake datanode heartbeat: %s\n", err_str(rc));
    }
}

static void *bench_dn_heartbeat_main(void *arg)
{
    struct bench_dns *d = arg;
    struct timespec deadline;

    pthread_mutex_lock(&d->stop_mu);
    while (!d->is_stopping) {
        pthread_mutex_unlock(&d->stop_mu);
        bench_dn_heartbeat_all(d);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += BENCH_HEARTBEAT_MS / 1000;
        pthread_mutex_lock(&d->stop_mu);
        if (!d->is_stopping)
            pthread_cond_timedwait(&d->stop_cv, &d->stop_mu, &deadline);
    }
    pthread_mutex_unlock(&d->stop_mu);
    return NULL;
}

static int bench_dns_start(struct bench_dns *d, const struct bench_opts *o)
{
    memset(d, 0, sizeof(*d));
    pthread_mutex_init(&d->stop_mu, NULL);
    pthread_cond_init(&d->stop_cv, NULL);
    for (int i = 0; i < BENCH_DN_COUNT; i++) {
        pthread_mutex_init(&d->dn[i].mu, NULL);
        buf_init(&d->dn[i].req);
        buf_init(&d->dn[i].storage);
        d->dn[i].fd = -1;
    }
    for (int i = 0; i < BENCH_DN_COUNT; i++) {
        int rc = bench_dn_register(o, &d->dn[i], i);
        if (rc < 0)
            return rc;
    }
    pthread_create(&d->hb_thread, NULL, bench_dn_heartbeat_main, d);
    return 0;
}

static void bench_dns_stop(struct bench_dns *d)
{
    pthread_mutex_lock(&d->stop_mu);
    d->is_stopping = 1;
    pthread_cond_signal(&d->stop_cv);
    pthread_mutex_unlock(&d->stop_mu);
    pthread_join(d->hb_thread, NULL);
    for (int i = 0; i < BENCH_DN_COUNT; i++) {
        if (d->dn[i].fd >= 0)
            close(d->dn[i].fd);
        buf_fini(&d->dn[i].req);
        buf_fini(&d->dn[i].storage);
        pthread_mutex_destroy(&d->dn[i].mu);
    }
    pthread_cond_destroy(&d->stop_cv);
    pthread_mutex_destroy(&d->stop_mu);
}

/* Sends one full block report of every created block from fake datanode dn. */
static int bench_dn_report(struct bench_dn *dn, const struct bench_thread *ts, int threads)
{
    uint64_t total = 0, sent = 0;
    int rc = 0;

    for (int i = 0; i < threads; i++)
        total += ts[i].blk_count;
    pthread_mutex_lock(&dn->mu);
    for (int i = 0; i < threads && rc == 0; i++) {
        for (uint64_t k = 0; k < ts[i].blk_count && rc == 0;) {
            uint8_t flags = sent == 0 ? WIRE_REPORT_FIRST : 0;
            uint64_t n = ts[i].blk_count - k < WIRE_BLOCKS_MAX ? ts[i].blk_count - k
                                                                 : WIRE_BLOCKS_MAX;
            flags |= sent + n == total ? WIRE_REPORT_LAST : 0;
            size_t start = wire_frame_begin(&dn->req), body = dn->req.len;
            wire_dn_blocks_begin(&dn->req, flags);
            for (uint64_t j = 0; j < n; j++) {
                struct wire_blk_len e = { .blk = ts[i].blks[k + j], .len = BENCH_BLK_LEN };
                wire_dn_blocks_put(&dn->req, body, &e);
            }
            rc = bench_dn_call(dn, start, WIRE_DN_BLOCK_REPORT);
            k += n;
            sent += n;
        }
    }
    pthread_mutex_unlock(&dn->mu);
    return rc;
}

static int bench_connect(struct bench_thread *t)
{
    char client[64], dir[64];
    uint64_t root_dir;

    t->fd = sock_connect(t->o->host, t->o->port, 60000);
    if (t->fd < 0)
        return t->fd;
    snprintf(client, sizeof(client), "nn-bench-%d-%d", (int)getpid(), t->idx);
    int rc = sock_hello(t->fd, t->o->cluster_id, WIRE_NODE_CLIENT, client);
    if (rc == 0)
        rc = bench_mkdir(t, 1, "nn-bench", &root_dir);
    snprintf(dir, sizeof(dir), "t%d", t->idx);
    if (rc == 0)
        rc = bench_mkdir(t, root_dir, dir, &t->dir_ino);
    return rc;
}

struct phase_run {
    struct bench_thread *t;
    int phase;
};

static void *bench_phase_main(void *arg)
{
    struct phase_run *r = arg;
    struct bench_thread *t = r->t;

    for (uint64_t i = 0; i < t->o->files && t->rc == 0; i++) {
        uint64_t t0 = mono_ns();
        t->rc = bench_op(t, r->phase, i);
        t->lat_ns[i] = mono_ns() - t0;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int run_phase(struct bench_thread *ts, const struct bench_opts *o, int phase)
{
    pthread_t th[256];
    struct phase_run runs[256];
    uint64_t total = (uint64_t)o->threads * o->files, n = 0;
    uint64_t *all = xmalloc(sizeof(*all) * total), t0 = mono_ns();

    for (int i = 0; i < o->threads; i++) {
        runs[i] = (struct phase_run){ &ts[i], phase };
        pthread_create(&th[i], NULL, bench_phase_main, &runs[i]);
    }
    for (int i = 0; i < o->threads; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(mono_ns() - t0) / 1e9;
    for (int i = 0; i < o->threads; i++) {
        if (ts[i].rc < 0) {
            fprintf(stderr, "nn-bench: %s failed: %s\n", phase_names[phase], err_str(ts[i].rc));
            free(all);
            return ts[i].rc;
        }
        memcpy(all + n, ts[i].lat_ns, sizeof(*all) * o->files);
        n += o->files;
    }
    qsort(all, n, sizeof(*all), cmp_u64);
    printf("nn_%s_ops_per_s %.0f\nnn_%s_p50_us %.1f\nnn_%s_p99_us %.1f\n", phase_names[phase],
           (double)n / secs, phase_names[phase], (double)all[n / 2] / 1e3, phase_names[phase],
           (double)all[n * 99 / 100] / 1e3);
    free(all);
    return 0;
}

static long rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    }
    fclose(f);
    return kib;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longs[] = { { "keep", no_argument, NULL, 'k' },
                                           { "blocks", required_argument, NULL, 'b' },
                                           { 0 } };
    int opt;

    *o = (struct bench_opts){ .cluster_id = "dfs", .threads = 4, .files = 10000 };
    snprintf(o->host, sizeof(o->host), "127.0.0.1");
    o->port = 9000;
    while ((opt = getopt_long(argc, argv, "n:C:t:f:p:", longs, NULL)) != -1) {
        if (opt == 'n' && cfg_parse_hostport(optarg, o->host, sizeof(o->host), &o->port) < 0)
            return -EINVAL;
        if (opt == 'C')
            o->cluster_id = optarg;
        if (opt == 't')
            o->threads = atoi(optarg);
        if (opt == 'f')
            o->files = strtoull(optarg, NULL, 10);
        if (opt == 'p')
            o->rss_pid = atoi(optarg);
        if (opt == 'k')
            o->keep = 1;
        if (opt == 'b')
            o->blocks = (int)strtol(optarg, NULL, 10);
        if (opt == '?')
            return -EINVAL;
    }
    if (o->blocks < 0 || o->blocks > 1024)
        return -EINVAL;
    return o->threads >= 1 && o->threads <= 256 && o->files >= 1 ? 0 : -EINVAL;
}

/* After the create phase: every fake datanode reports every block (with --blocks). */
static int bench_report_all(struct bench_dns *d, const struct bench_thread *ts, int threads)
{
    for (int i = 0; i < BENCH_DN_COUNT; i++) {
        int rc = bench_dn_report(&d->dn[i], ts, threads);
        if (rc < 0) {
            fprintf(stderr, "nn-bench: block report: %s\n", err_str(rc));
            return rc;
        }
    }
    return 0;
}

static int bench_threads_init(struct bench_thread *ts, const struct bench_opts *o)
{
    for (int i = 0; i < o->threads; i++) {
        ts[i] = (struct bench_thread){ .o = o, .idx = i };
        buf_init(&ts[i].req);
        buf_init(&ts[i].storage);
        ts[i].lat_ns = xmalloc(sizeof(uint64_t) * o->files);
        if (o->blocks)
            ts[i].blks = xcalloc(o->files * (uint64_t)o->blocks, sizeof(*ts[i].blks));
        int rc = bench_connect(&ts[i]);
        if (rc < 0) {
            fprintf(stderr, "nn-bench: connect: %s\n", err_str(rc));
            return rc;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    struct bench_dns dns;
    int rc;

    if (parse_opts(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: dfs-nn-bench -n HOST:PORT [-C cluster] [-t threads] "
                        "[-f files_per_thread] [-p namenode_pid] [--keep] [--blocks N]\n");
        return 2;
    }
    if (o.blocks && (rc = bench_dns_start(&dns, &o)) < 0) {
        fprintf(stderr, "nn-bench: fake datanode: %s\n", err_str(rc));
        return 1;
    }
    struct bench_thread *ts = xcalloc((size_t)o.threads, sizeof(*ts));
    if (bench_threads_init(ts, &o) < 0)
        return 1;
    long rss0 = o.rss_pid ? rss_kib(o.rss_pid) : -1;
    rc = run_phase(ts, &o, PHASE_CREATE);
    if (rc == 0 && o.blocks)
        rc = bench_report_all(&dns, ts, o.threads);
    if (rc == 0 && rss0 >= 0) {
        long rss1 = rss_kib(o.rss_pid);
        printf("nn_rss_bytes_per_file %.1f\n",
               (double)(rss1 - rss0) * 1024.0 / (double)((uint64_t)o.threads * o.files));
    }
    for (int p = PHASE_LOOKUP; rc == 0 && p <= (o.keep ? PHASE_LOOKUP : PHASE_UNLINK); p++)
        rc = run_phase(ts, &o, p);
    if (o.blocks)
        bench_dns_stop(&dns);
    for (int i = 0; i < o.threads; i++) {
        close(ts[i].fd);
        buf_fini(&ts[i].req);
        buf_fini(&ts[i].storage);
        free(ts[i].lat_ns);
        free(ts[i].blks);
    }
    free(ts);
    return rc < 0 ? 1 : 0;
}
