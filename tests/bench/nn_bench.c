/* nn_bench: namenode metadata throughput without FUSE, in the spirit of HDFS's
 * NNThroughputBenchmark. N threads, each with its own connection and directory, issue
 * create (+ complete), lookup, rename and unlink RPCs; the tool prints ops/s and p50/p99
 * latency per operation. With --rss-pid it also reports the namenode's resident memory per
 * file after the create phase (keep --keep to leave the files in place for that).
 *
 * usage: dfs-nn-bench -n HOST:PORT [-C cluster] [-t threads] [-f files_per_thread] [-p pid]
 *                     [--keep] */
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
};

struct bench_thread {
    const struct bench_opts *o;
    int idx;
    int fd;
    uint64_t req_id;
    uint64_t dir_ino;
    struct buf req, storage;
    uint64_t *lat_ns; /* files entries for the current phase */
    int rc;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sends the frame being built in t->req (body already encoded after begin). */
static int bench_call(struct bench_thread *t, size_t start, uint16_t type, struct wire_attr *attr)
{
    struct wire_frame reply;
    uint64_t id = ++t->req_id;

    wire_frame_end(&t->req, start, type, id, 0);
    int rc = sock_rpc(t->fd, &t->req, type, id, &t->storage, &reply);
    buf_reset(&t->req);
    if (rc == 0 && attr)
        rc = wire_attr_decode(reply.body, reply.hdr.body_len, attr);
    return rc;
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
        struct wire_nn_complete c = { .ino = a.ino };
        start = wire_frame_begin(&t->req);
        wire_nn_complete_encode(&t->req, &c);
        return bench_call(t, start, WIRE_NN_COMPLETE, NULL);
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
    static const struct option longs[] = { { "keep", no_argument, NULL, 'k' }, { 0 } };
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
        if (opt == '?')
            return -EINVAL;
    }
    return o->threads >= 1 && o->threads <= 256 && o->files >= 1 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    int rc;

    if (parse_opts(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: dfs-nn-bench -n HOST:PORT [-C cluster] [-t threads] "
                        "[-f files_per_thread] [-p namenode_pid] [--keep]\n");
        return 2;
    }
    struct bench_thread *ts = xcalloc((size_t)o.threads, sizeof(*ts));
    for (int i = 0; i < o.threads; i++) {
        ts[i] = (struct bench_thread){ .o = &o, .idx = i };
        buf_init(&ts[i].req);
        buf_init(&ts[i].storage);
        ts[i].lat_ns = xmalloc(sizeof(uint64_t) * o.files);
        rc = bench_connect(&ts[i]);
        if (rc < 0) {
            fprintf(stderr, "nn-bench: connect: %s\n", err_str(rc));
            return 1;
        }
    }
    long rss0 = o.rss_pid ? rss_kib(o.rss_pid) : -1;
    rc = run_phase(ts, &o, PHASE_CREATE);
    if (rc == 0 && rss0 >= 0) {
        long rss1 = rss_kib(o.rss_pid);
        printf("nn_rss_bytes_per_file %.1f\n",
               (double)(rss1 - rss0) * 1024.0 / (double)((uint64_t)o.threads * o.files));
    }
    for (int p = PHASE_LOOKUP; rc == 0 && p <= (o.keep ? PHASE_LOOKUP : PHASE_UNLINK); p++)
        rc = run_phase(ts, &o, p);
    for (int i = 0; i < o.threads; i++) {
        close(ts[i].fd);
        buf_fini(&ts[i].req);
        buf_fini(&ts[i].storage);
        free(ts[i].lat_ns);
    }
    free(ts);
    return rc < 0 ? 1 : 0;
}
