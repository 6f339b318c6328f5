/* Integration test of the datanode: starts 3 real dfs-datanode processes on 127.0.0.1 with
 * ephemeral ports and a tiny in-process fake namenode, writes a multi-packet block through the
 * 3-node pipeline with blocking sockets, reads it back from every node, checks the finalized
 * files, detects a flipped byte on disk, a bad chunk checksum in a write, a wrong cluster,
 * namenode-driven deletion, two blocks on one connection (downstream connections reused),
 * a pipeline through a node restarted since its last use, and a pipeline whose last node is
 * dead.
 * Usage: dn_pipeline_test PATH/TO/dfs-datanode. Kills only the pids it started; removes its
 * temp directory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "csum.h"
#include "err.h"
#include "sock.h"
#include "wire.h"

enum { NODES = 3, NN_CONNS_MAX = 16, TIMEOUT_MS = 10000 };

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                          \
            test_fail();                                                                           \
        }                                                                                          \
    } while (0)

struct fake_nn {
    int listen_fd;
    uint16_t port;
    atomic_int stop;
    atomic_int registered;
    atomic_int reports;
    atomic_int received;
    atomic_int deleted;
    atomic_uint_fast64_t delete_id; /* non-zero: send DELETE {id, 1} once per connection */
    pthread_t thread;
};

struct test_env {
    char tmp[256];
    pid_t pids[NODES];
    uint16_t ports[NODES];
    struct fake_nn nn;
};

static struct test_env *env_for_cleanup; /* only so CHECK can clean up before exiting */

static void test_cleanup(void)
{
    struct test_env *env = env_for_cleanup;
    char cmd[512];

    if (!env)
        return;
    for (int i = 0; i < NODES; i++) {
        if (env->pids[i] > 0) {
            kill(env->pids[i], SIGTERM);
            waitpid(env->pids[i], NULL, 0);
            env->pids[i] = 0;
        }
    }
    if (env->tmp[0] && !getenv("DN_TEST_KEEP")) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", env->tmp);
    }
    env_for_cleanup = NULL;
}

static _Noreturn void test_fail(void)
{
    if (env_for_cleanup && env_for_cleanup->tmp[0])
        fprintf(stderr, "datanode logs: %s/dn*.log\n", env_for_cleanup->tmp);
    if (env_for_cleanup)
        setenv("DN_TEST_KEEP", "1", 0);
    test_cleanup();
    exit(1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- fake namenode ---- */

static void nn_reply(int fd, uint16_t type, uint64_t req_id, struct buf *b, size_t start)
{
    wire_frame_end(b, start, type, req_id, 0);
    CHECK(sock_write_all(fd, b->data, b->len) == 0);
    buf_reset(b);
}

/* Answers one frame; returns -1 to drop the connection. */
static int nn_handle(struct fake_nn *nn, int fd, const struct wire_frame *f, int *has_deleted)
{
    struct buf b;
    struct wire_dn_blocks blocks;
    uint16_t type = f->hdr.type;

    buf_init(&b);
    size_t start = wire_frame_begin(&b);
    if (type == WIRE_HELLO) {
        struct wire_hello h = { WIRE_VERSION, WIRE_NODE_NAMENODE, wire_str_c("dfs"),
                                wire_str_c("fake-nn") };
        wire_hello_encode(&b, &h);
    } else if (type == WIRE_DN_REGISTER) {
        struct wire_dn_register_ok r = { .heartbeat_ms = 200 };
        wire_dn_register_ok_encode(&b, &r);
        atomic_fetch_add(&nn->registered, 1);
    } else if (type == WIRE_DN_HEARTBEAT) {
        size_t body = b.len;
        uint64_t id = atomic_load(&nn->delete_id);
        wire_dn_heartbeat_ok_begin(&b);
        if (id && !*has_deleted) {
            struct wire_dn_cmd cmd = { .kind = WIRE_CMD_DELETE, .blk = { id, 1 } };
            wire_dn_heartbeat_ok_put(&b, body, &cmd);
            *has_deleted = 1;
        }
    } else if (type == WIRE_DN_BLOCK_REPORT || type == WIRE_DN_BLOCK_RECEIVED ||
               type == WIRE_DN_BLOCK_DELETED) {
        CHECK(wire_dn_blocks_decode(f->body, f->hdr.body_len, &blocks) == 0);
        atomic_int *counter = type == WIRE_DN_BLOCK_REPORT     ? &nn->reports
                              : type == WIRE_DN_BLOCK_RECEIVED ? &nn->received
                                                               : &nn->deleted;
        atomic_fetch_add(counter, type == WIRE_DN_BLOCK_REPORT ? 1 : (int)blocks.count);
    } else {
        buf_fini(&b);
        return -1;
    }
    nn_reply(fd, (uint16_t)(type + 1), f->hdr.req_id, &b, start);
    buf_fini(&b);
    return 0;
}

static void *nn_thread(void *arg)
{
    struct fake_nn *nn = arg;
    struct pollfd pfds[NN_CONNS_MAX + 1] = { { .fd = nn->listen_fd, .events = POLLIN } };
    int has_deleted[NN_CONNS_MAX + 1] = { 0 };
    nfds_t n = 1;
    struct buf storage;
    struct wire_frame f;

    buf_init(&storage);
    while (!atomic_load(&nn->stop)) {
        if (poll(pfds, n, 100) <= 0)
            continue;
        for (nfds_t i = 1; i < n; i++) {
            if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (sock_read_frame(pfds[i].fd, &storage, &f) < 0 ||
                nn_handle(nn, pfds[i].fd, &f, &has_deleted[i]) < 0) {
                close(pfds[i].fd);
                pfds[i] = pfds[n - 1];
                has_deleted[i] = has_deleted[n - 1];
                n--;
                i--;
            }
        }
        if ((pfds[0].revents & POLLIN) && n <= NN_CONNS_MAX) {
            int fd = accept(nn->listen_fd, NULL, NULL);
            if (fd >= 0) {
                has_deleted[n] = 0;
                pfds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
            }
        }
    }
    for (nfds_t i = 0; i < n; i++)
        close(pfds[i].fd);
    buf_fini(&storage);
    return NULL;
}

static void nn_start(struct fake_nn *nn)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    nn->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(nn->listen_fd >= 0);
    CHECK(bind(nn->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(listen(nn->listen_fd, 16) == 0);
    CHECK(getsockname(nn->listen_fd, (struct sockaddr *)&a, &len) == 0);
    nn->port = ntohs(a.sin_port);
    CHECK(pthread_create(&nn->thread, NULL, nn_thread, nn) == 0);
}

static void nn_stop(struct fake_nn *nn)
{
    atomic_store(&nn->stop, 1);
    pthread_join(nn->thread, NULL);
}

static void wait_for(atomic_int *v, int at_least, const char *what)
{
    uint64_t deadline = now_ms() + TIMEOUT_MS;

    while (atomic_load(v) < at_least && now_ms() < deadline)
        usleep(20 * 1000);
    if (atomic_load(v) < at_least) {
        fprintf(stderr, "FAIL: %s: %d < %d\n", what, atomic_load(v), at_least);
        test_fail();
    }
}

/* ---- datanode processes ---- */

/* Starts node i listening on port (0: ephemeral). */
static void dn_start(struct test_env *env, int i, const char *bin, uint16_t port)
{
    char dirs[400], nn_addr[64], log[400], listen[64];

    snprintf(listen, sizeof(listen), "dn.listen=127.0.0.1:%u", port);
    snprintf(dirs, sizeof(dirs), "dn.dirs=%s/dn%d", env->tmp, i);
    snprintf(nn_addr, sizeof(nn_addr), "nn.addr=127.0.0.1:%u", env->nn.port);
    snprintf(log, sizeof(log), "%s/dn%d.log", env->tmp, i);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(127);
        execl(bin, bin, "-o", dirs, "-o", listen, "-o", nn_addr, "-o",
              "cluster.id=dfs", "-o", "dfs.heartbeat_ms=200", "-o", "log.level=debug",
              (char *)NULL);
        _exit(127);
    }
    env->pids[i] = pid;
}

/* Finds "listening host=... port=N" in node i's log. */
static uint16_t dn_port_from_log(struct test_env *env, int i)
{
    char path[400], line[1024];
    uint64_t deadline = now_ms() + TIMEOUT_MS;

    snprintf(path, sizeof(path), "%s/dn%d.log", env->tmp, i);
    while (now_ms() < deadline) {
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f)) {
            char *p = strstr(line, "listening host=");
            p = p ? strstr(p, "port=") : NULL;
            if (p) {
                fclose(f);
                return (uint16_t)strtoul(p + 5, NULL, 10);
            }
        }
        if (f)
            fclose(f);
        usleep(20 * 1000);
    }
    fprintf(stderr, "FAIL: datanode %d did not report its port\n", i);
    test_fail();
}

/* ---- client side ---- */

static int dn_dial(struct test_env *env, int i)
{
    int fd = sock_connect("127.0.0.1", env->ports[i], TIMEOUT_MS);
    CHECK(fd >= 0);
    CHECK(sock_hello(fd, "dfs", WIRE_NODE_CLIENT, "test-client") == 0);
    return fd;
}

/* Sends WRITE_OPEN (req_id 77) on node first's fd with the given downstream nodes. */
static void write_open_send(struct test_env *env, int fd, struct wire_blk blk, const int *down,
                            uint32_t down_count)
{
    struct wire_dn_write_open m = { .blk = blk, .target_count = down_count };
    struct buf req;

    for (uint32_t i = 0; i < down_count; i++)
        m.targets[i] = (struct wire_dn_addr){ wire_str_c("node"), wire_str_c("127.0.0.1"),
                                              env->ports[down[i]] };
    buf_init(&req);
    size_t start = wire_frame_begin(&req);
    wire_dn_write_open_encode(&req, &m);
    wire_frame_end(&req, start, WIRE_DN_WRITE_OPEN, 77, 0);
    CHECK(sock_write_all(fd, req.data, req.len) == 0);
    buf_fini(&req);
}

/* Reads the WRITE_OPEN_OK; returns its rc. */
static int write_open_reply(int fd)
{
    struct buf storage;
    struct wire_frame f;

    buf_init(&storage);
    CHECK(sock_read_frame(fd, &storage, &f) == 0);
    CHECK(f.hdr.type == WIRE_DN_WRITE_OPEN_OK && f.hdr.req_id == 77);
    buf_fini(&storage);
    return err_from_wire(f.hdr.status);
}

/* WRITE_OPEN on node first with the given downstream nodes; returns the reply's rc. */
static int write_open(struct test_env *env, int fd, struct wire_blk blk, const int *down,
                      uint32_t down_count)
{
    write_open_send(env, fd, blk, down, down_count);
    return write_open_reply(fd);
}

static void send_pkt(int fd, uint64_t seq, const uint8_t *data, uint64_t off, uint32_t len,
                     int is_last, int corrupt)
{
    uint64_t c[WIRE_PKT_CSUMS_MAX];
    uint8_t raw[8 * WIRE_PKT_CSUMS_MAX];
    struct buf b;

    csum_chunks(data + off, len, c);
    for (uint32_t i = 0; i < csum_chunk_count(len); i++)
        le_put_u64(raw + 8 * i, c[i] ^ (corrupt && i == 0 ? 1 : 0));
    struct wire_dn_write_pkt m = { .seq = seq, .offset = off,
                                   .flags = is_last ? WIRE_PKT_LAST : 0, .data_len = len,
                                   .data = data + off, .csum_count = csum_chunk_count(len),
                                   .csums_raw = raw };
    buf_init(&b);
    size_t start = wire_frame_begin(&b);
    wire_dn_write_pkt_encode(&b, &m);
    wire_frame_end(&b, start, WIRE_DN_WRITE_PKT, 1000 + seq, 0);
    CHECK(sock_write_all(fd, b.data, b.len) == 0);
    buf_fini(&b);
}

static void read_ack(int fd, struct wire_dn_write_ack *ack, uint64_t *req_id)
{
    struct buf storage;
    struct wire_frame f;

    buf_init(&storage);
    CHECK(sock_read_frame(fd, &storage, &f) == 0);
    CHECK(f.hdr.type == WIRE_DN_WRITE_ACK);
    CHECK(f.hdr.status == 0);
    CHECK(wire_dn_write_ack_decode(f.body, f.hdr.body_len, ack) == 0);
    *req_id = f.hdr.req_id;
    buf_fini(&storage);
}

/* Writes data[0..len) as blk through nodes[0] -> nodes[1] -> nodes[2] over fd (connected to
 * nodes[0]), all packets at once. */
static void write_pkts(int fd, const uint8_t *data, uint64_t len);

static void write_block_on(struct test_env *env, int fd, struct wire_blk blk,
                           const uint8_t *data, uint64_t len)
{
    const int down[] = { 1, 2 };

    CHECK(write_open(env, fd, blk, down, 2) == 0);
    write_pkts(fd, data, len);
}

/* Sends data[0..len) in packets (the last flagged LAST); returns how many. */
static uint64_t send_pkts(int fd, const uint8_t *data, uint64_t len)
{
    uint64_t seq = 0, off = 0;

    do {
        uint32_t n = len - off > WIRE_PKT_DATA_MAX ? WIRE_PKT_DATA_MAX : (uint32_t)(len - off);
        send_pkt(fd, seq++, data, off, n, off + n == len, 0);
        off += n;
    } while (off < len);
    return seq;
}

/* Reads and checks the acks of count packets sent by send_pkts(). */
static void read_acks(int fd, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        struct wire_dn_write_ack ack;
        uint64_t req_id;
        read_ack(fd, &ack, &req_id);
        CHECK(ack.seq == i);
        CHECK(req_id == 1000 + i);
        CHECK(ack.status == 0);
    }
}

/* Sends data[0..len) in packets (the last flagged LAST) and checks every ack. */
static void write_pkts(int fd, const uint8_t *data, uint64_t len)
{
    read_acks(fd, send_pkts(fd, data, len));
}

static void write_block(struct test_env *env, struct wire_blk blk, const uint8_t *data,
                        uint64_t len)
{
    int fd = dn_dial(env, 0);
    write_block_on(env, fd, blk, data, len);
    close(fd);
}

/* Reads [off, off + len) of blk from node i into out; returns 0 or the error status's rc.
 * *got is the number of bytes received. */
static int read_block(struct test_env *env, int i, struct wire_blk blk, uint64_t off,
                      uint64_t len, uint8_t *out, uint64_t *got)
{
    int fd = dn_dial(env, i);
    struct wire_dn_read m = { .blk = blk, .offset = off, .len = len };
    struct buf b;
    struct wire_frame f;
    struct wire_dn_read_data d;
    int rc = 0;

    buf_init(&b);
    size_t start = wire_frame_begin(&b);
    wire_dn_read_encode(&b, &m);
    wire_frame_end(&b, start, WIRE_DN_READ, 5, 0);
    CHECK(sock_write_all(fd, b.data, b.len) == 0);
    *got = 0;
    for (;;) {
        CHECK(sock_read_frame(fd, &b, &f) == 0);
        CHECK(f.hdr.type == WIRE_DN_READ_DATA);
        CHECK(f.hdr.req_id == 5);
        if (f.hdr.status != 0) {
            rc = err_from_wire(f.hdr.status);
            break;
        }
        CHECK(wire_dn_read_data_decode(f.body, f.hdr.body_len, &d) == 0);
        CHECK(d.offset == off + *got);
        for (uint32_t c = 0; c < d.csum_count; c++) {
            uint32_t at = c * CSUM_CHUNK_SIZE;
            uint32_t n = d.data_len - at < CSUM_CHUNK_SIZE ? d.data_len - at : CSUM_CHUNK_SIZE;
            CHECK(csum_chunk(d.data + at, n) == wire_csum_at(d.csums_raw, c));
        }
        memcpy(out + *got, d.data, d.data_len);
        *got += d.data_len;
        if (d.flags & WIRE_READ_EOF)
            break;
    }
    buf_fini(&b);
    close(fd);
    return rc;
}

static void replica_path(struct test_env *env, int i, struct wire_blk blk, const char *ext,
                         char *out, size_t cap)
{
    snprintf(out, cap, "%s/dn%d/finalized/subdir%02x/blk_%016" PRIx64 "_%" PRIu64 ".%s",
             env->tmp, i, (unsigned)(blk.id & 0xff), blk.id, blk.gen, ext);
}

static void check_files(struct test_env *env, struct wire_blk blk, uint64_t len)
{
    char path[600];
    struct stat st;

    for (int i = 0; i < NODES; i++) {
        replica_path(env, i, blk, "data", path, sizeof(path));
        CHECK(stat(path, &st) == 0);
        CHECK((uint64_t)st.st_size == len);
        replica_path(env, i, blk, "csum", path, sizeof(path));
        CHECK(stat(path, &st) == 0);
        CHECK((uint64_t)st.st_size == 32 + 8 * (uint64_t)csum_chunk_count(len));
    }
}

static void flip_byte(struct test_env *env, int i, struct wire_blk blk, uint64_t off)
{
    char path[600];
    uint8_t b;

    replica_path(env, i, blk, "data", path, sizeof(path));
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(pread(fd, &b, 1, (off_t)off) == 1);
    b ^= 0x40;
    CHECK(pwrite(fd, &b, 1, (off_t)off) == 1);
    close(fd);
}

/* A packet whose first chunk checksum is wrong is refused by the first node. */
static void test_bad_packet_checksum(struct test_env *env, const uint8_t *data)
{
    const int down[] = { 1, 2 };
    int fd = dn_dial(env, 0);
    struct buf storage;
    struct wire_frame f;
    struct wire_dn_write_ack ack;

    CHECK(write_open(env, fd, (struct wire_blk){ 0x2222, 1 }, down, 2) == 0);
    send_pkt(fd, 0, data, 0, CSUM_CHUNK_SIZE, 0, 1);
    buf_init(&storage);
    CHECK(sock_read_frame(fd, &storage, &f) == 0);
    CHECK(f.hdr.type == WIRE_DN_WRITE_ACK);
    CHECK(wire_dn_write_ack_decode(f.body, f.hdr.body_len, &ack) == 0);
    CHECK(err_from_wire(ack.status) == -ERR_CHECKSUM);
    CHECK(ack.failed_idx == 0);
    buf_fini(&storage);
    close(fd);
}

static void test_wrong_cluster(struct test_env *env)
{
    int fd = sock_connect("127.0.0.1", env->ports[1], TIMEOUT_MS);
    CHECK(fd >= 0);
    CHECK(sock_hello(fd, "other", WIRE_NODE_CLIENT, "x") == -ERR_CLUSTER);
    close(fd);
}

/* Full write and read-back of a multi-packet block through three nodes. */
static void test_write_and_read(struct test_env *env, struct wire_blk blk, const uint8_t *data,
                                uint64_t len, uint8_t *got_buf)
{
    uint64_t got;

    write_block(env, blk, data, len);
    wait_for(&env->nn.received, NODES, "BLOCK_RECEIVED from every node");
    check_files(env, blk, len);
    for (int i = 0; i < NODES; i++) {
        memset(got_buf, 0, len);
        CHECK(read_block(env, i, blk, 0, len, got_buf, &got) == 0);
        CHECK(got == len);
        CHECK(memcmp(got_buf, data, len) == 0);
    }
    /* A range read returns whole chunks covering it. */
    CHECK(read_block(env, 1, blk, WIRE_PKT_DATA_MAX, 70000, got_buf, &got) == 0);
    CHECK(got == 2 * CSUM_CHUNK_SIZE);
    CHECK(memcmp(got_buf, data + WIRE_PKT_DATA_MAX, got) == 0);
    /* Past the end: one empty EOF frame. */
    CHECK(read_block(env, 1, blk, 64 * WIRE_PKT_DATA_MAX, 10, got_buf, &got) == 0);
    CHECK(got == 0);
    CHECK(read_block(env, 1, (struct wire_blk){ 0x999, 1 }, 0, 10, got_buf, &got) ==
          -ERR_NO_BLOCK);
}

static void test_corruption_detected(struct test_env *env, struct wire_blk blk, uint64_t len,
                                     uint8_t *got_buf)
{
    uint64_t got;

    flip_byte(env, 2, blk, 2 * WIRE_PKT_DATA_MAX + 5);
    CHECK(read_block(env, 2, blk, 0, len, got_buf, &got) == -ERR_CHECKSUM);
    CHECK(got <= 2 * WIRE_PKT_DATA_MAX);
    CHECK(read_block(env, 0, blk, 0, len, got_buf, &got) == 0); /* other replicas are fine */
}

static void test_delete_from_namenode(struct test_env *env, struct wire_blk blk,
                                      uint8_t *got_buf)
{
    uint64_t got;

    atomic_store(&env->nn.delete_id, blk.id);
    wait_for(&env->nn.deleted, NODES, "BLOCK_DELETED from every node");
    for (int i = 0; i < NODES; i++)
        CHECK(read_block(env, i, blk, 0, 10, got_buf, &got) == -ERR_NO_BLOCK);
}

static void read_ack_any(int fd, struct wire_dn_write_ack *ack)
{
    struct buf storage;
    struct wire_frame f;

    buf_init(&storage);
    CHECK(sock_read_frame(fd, &storage, &f) == 0);
    CHECK(f.hdr.type == WIRE_DN_WRITE_ACK);
    CHECK(f.hdr.status == 0);
    CHECK(wire_dn_write_ack_decode(f.body, f.hdr.body_len, ack) == 0);
    buf_fini(&storage);
}

static int dir_is_empty(const char *path)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "[ -z \"$(ls -A '%s')\" ]", path);
    return system(cmd) == 0;
}

/* The last node dies mid-write: the next packet is acked with ERR_PIPELINE and failed_idx 2
 * (counted from the first node), and the partial replicas are dropped. Then an open through
 * the dead node fails, and the connection stays usable. */
static void test_dead_downstream(struct test_env *env, const uint8_t *data)
{
    const int down[] = { 1, 2 };
    struct wire_dn_write_ack ack;
    char rbw[400];

    int fd = dn_dial(env, 0);
    CHECK(write_open(env, fd, (struct wire_blk){ 0x4444, 1 }, down, 2) == 0);
    send_pkt(fd, 0, data, 0, WIRE_PKT_DATA_MAX, 0, 0);
    read_ack_any(fd, &ack);
    CHECK(ack.seq == 0 && ack.status == 0);
    kill(env->pids[2], SIGKILL);
    waitpid(env->pids[2], NULL, 0);
    env->pids[2] = 0;
    usleep(200 * 1000);
    send_pkt(fd, 1, data, WIRE_PKT_DATA_MAX, WIRE_PKT_DATA_MAX, 0, 0);
    read_ack_any(fd, &ack);
    CHECK(ack.seq == 1);
    CHECK(err_from_wire(ack.status) == -ERR_PIPELINE);
    CHECK(ack.failed_idx == 2);
    close(fd);
    usleep(200 * 1000);
    for (int i = 0; i < 2; i++) {
        snprintf(rbw, sizeof(rbw), "%s/dn%d/rbw", env->tmp, i);
        CHECK(dir_is_empty(rbw));
    }
    fd = dn_dial(env, 0);
    CHECK(write_open(env, fd, (struct wire_blk){ 0x3333, 1 }, down, 2) == -ERR_PIPELINE);
    CHECK(write_open(env, fd, (struct wire_blk){ 0x3333, 1 }, NULL, 0) == 0);
    close(fd);
}

/* How many HELLOs node i has received so far (its debug log names every frame). */
static int hello_count(struct test_env *env, int i)
{
    char path[400], line[1024];
    int n = 0;

    snprintf(path, sizeof(path), "%s/dn%d.log", env->tmp, i);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    while (fgets(line, sizeof(line), f))
        n += strstr(line, "frame type=HELLO ") != NULL;
    fclose(f);
    return n;
}

static void check_read_back(struct test_env *env, struct wire_blk blk, const uint8_t *data,
                            uint64_t len, uint8_t *got_buf)
{
    uint64_t got;

    check_files(env, blk, len);
    for (int i = 0; i < NODES; i++) {
        CHECK(read_block(env, i, blk, 0, len, got_buf, &got) == 0);
        CHECK(got == len);
        CHECK(memcmp(got_buf, data, len) == 0);
    }
}

/* Two blocks one after the other on one client connection: the first node takes the second
 * WRITE_OPEN on the same connection, and the downstream connections of the first pipeline
 * are reused (no new HELLO downstream), and both blocks are on every node. */
static void test_two_blocks_one_conn(struct test_env *env, const uint8_t *data,
                                     uint8_t *got_buf)
{
    const struct wire_blk a = { 0x6601, 1 }, b = { 0x6602, 1 };
    int fd = dn_dial(env, 0);

    write_block_on(env, fd, a, data, 5000);
    int hellos[NODES] = { hello_count(env, 1), hello_count(env, 2) };
    write_block_on(env, fd, b, data + 7, WIRE_PKT_DATA_MAX + 3);
    CHECK(hello_count(env, 1) == hellos[0]);
    CHECK(hello_count(env, 2) == hellos[1]);
    close(fd);
    check_read_back(env, a, data, 5000, got_buf);
    check_read_back(env, b, data + 7, WIRE_PKT_DATA_MAX + 3, got_buf);
}

/* The middle node is killed (-9) and started again on the same port while the first node
 * holds an idle pooled connection to it: the next pipeline still succeeds. The first node is
 * stopped meanwhile and the next WRITE_OPEN queued before the kill, so that it most likely
 * takes the stale connection before it notices the EOF (and must dial a fresh one). With
 * is_eager the block's packets are queued behind the open too, as the client sends them: the
 * first node forwards them into the stale connection and must send them again after the open
 * on the fresh one. */
static void test_restarted_downstream(struct test_env *env, const char *bin,
                                      const uint8_t *data, uint8_t *got_buf, int is_eager)
{
    const struct wire_blk a = { 0x6701 + 0x100 * (uint64_t)is_eager, 1 };
    const struct wire_blk b = { a.id + 1, 1 };
    const uint64_t len = 8192; /* one packet: the first node reads it with the open */
    const int down[] = { 1, 2 };
    uint64_t count = 0;
    int fd = dn_dial(env, 0);

    write_block_on(env, fd, a, data, 4096);
    CHECK(kill(env->pids[0], SIGSTOP) == 0);
    write_open_send(env, fd, b, down, 2);
    if (is_eager)
        count = send_pkts(fd, data + 1, len);
    usleep(50 * 1000);
    kill(env->pids[1], SIGKILL);
    waitpid(env->pids[1], NULL, 0);
    env->pids[1] = 0;
    char log[400];
    snprintf(log, sizeof(log), "%s/dn1.log", env->tmp);
    CHECK(unlink(log) == 0); /* so the port is read from the new process's log */
    dn_start(env, 1, bin, env->ports[1]);
    CHECK(dn_port_from_log(env, 1) == env->ports[1]);
    CHECK(kill(env->pids[0], SIGCONT) == 0);
    CHECK(write_open_reply(fd) == 0);
    if (is_eager)
        read_acks(fd, count);
    else
        write_pkts(fd, data + 1, len);
    close(fd);
    check_read_back(env, a, data, 4096, got_buf);
    check_read_back(env, b, data + 1, len, got_buf);
}

/* The client does not wait for the WRITE_OPEN_OK: every packet of the block follows the open
 * at once. The nodes take them while the open travels down, and the answer to the open still
 * comes first, then the acks in order; every node has the block. */
static void test_packets_follow_open(struct test_env *env, const uint8_t *data,
                                     uint8_t *got_buf)
{
    const struct wire_blk blk = { 0x6901, 1 };
    const uint64_t len = 2 * WIRE_PKT_DATA_MAX + 5000;
    const int down[] = { 1, 2 };
    int fd = dn_dial(env, 0);

    write_open_send(env, fd, blk, down, 2);
    uint64_t count = send_pkts(fd, data + 3, len);
    CHECK(write_open_reply(fd) == 0);
    read_acks(fd, count);
    close(fd);
    check_read_back(env, blk, data + 3, len, got_buf);
}

/* The open goes downstream before the first node creates its own replica; when that create
 * fails (here: a leftover being-written file of the same block), the open is refused and the
 * nodes downstream, which had created theirs, drop them. */
static void test_local_create_fails_after_forward(struct test_env *env)
{
    const struct wire_blk blk = { 0x6d01, 1 };
    const int down[] = { 1, 2 };
    char path[400];

    snprintf(path, sizeof(path), "%s/dn0/rbw/blk_%016" PRIx64 "_%" PRIu64 ".data", env->tmp,
             blk.id, blk.gen);
    int leftover = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(leftover >= 0);
    close(leftover);
    int fd = dn_dial(env, 0);
    CHECK(write_open(env, fd, blk, down, 2) == -EEXIST);
    close(fd);
    CHECK(unlink(path) == 0);
    usleep(300 * 1000);
    for (int i = 1; i < NODES; i++) {
        snprintf(path, sizeof(path), "%s/dn%d/rbw", env->tmp, i);
        CHECK(dir_is_empty(path));
    }
}

/* The client sends a small block's open and its only (LAST) packet and hangs up at once, many
 * times: the first node finalizes its replica while its downstream has not answered yet, then
 * loses the client. It must drop that downstream with the connection (its answers arriving
 * later must not reach freed memory) and stay up; a write afterwards works on every node. */
static void test_client_gone_behind_last(struct test_env *env, const uint8_t *data,
                                         uint8_t *got_buf)
{
    const int down[] = { 1, 2 };

    for (uint64_t i = 0; i < 40; i++) {
        int fd = dn_dial(env, 0);
        write_open_send(env, fd, (struct wire_blk){ 0x6b00 + i, 1 }, down, 2);
        send_pkts(fd, data + i, 4096 + i);
        close(fd);
    }
    usleep(300 * 1000);
    for (int i = 0; i < NODES; i++)
        CHECK(kill(env->pids[i], 0) == 0);
    write_block(env, (struct wire_blk){ 0x6c01, 1 }, data, 9000);
    check_read_back(env, (struct wire_blk){ 0x6c01, 1 }, data, 9000, got_buf);
}

/* A corrupt packet right behind the open: the first node refuses it before the pipeline has
 * answered the open; the client gets the checksum error (the open's answer may come first)
 * and no node keeps a replica of the block. */
static void test_bad_packet_follows_open(struct test_env *env, const uint8_t *data)
{
    const int down[] = { 1, 2 };
    struct wire_dn_write_ack ack;
    struct wire_frame f;
    struct buf storage;
    char path[400];
    int fd = dn_dial(env, 0);

    write_open_send(env, fd, (struct wire_blk){ 0x6a01, 1 }, down, 2);
    send_pkt(fd, 0, data, 0, CSUM_CHUNK_SIZE, 1, 1);
    buf_init(&storage);
    CHECK(sock_read_frame(fd, &storage, &f) == 0);
    if (f.hdr.type == WIRE_DN_WRITE_OPEN_OK) {
        CHECK(f.hdr.status == 0);
        CHECK(sock_read_frame(fd, &storage, &f) == 0);
    }
    CHECK(f.hdr.type == WIRE_DN_WRITE_ACK);
    CHECK(wire_dn_write_ack_decode(f.body, f.hdr.body_len, &ack) == 0);
    CHECK(err_from_wire(ack.status) == -ERR_CHECKSUM);
    buf_fini(&storage);
    close(fd);
    usleep(200 * 1000);
    for (int i = 0; i < NODES; i++) {
        replica_path(env, i, (struct wire_blk){ 0x6a01, 1 }, "data", path, sizeof(path));
        CHECK(access(path, F_OK) != 0);
        snprintf(path, sizeof(path), "%s/dn%d/rbw", env->tmp, i);
        CHECK(dir_is_empty(path));
    }
}

/* A full 64 MiB block, all packets sent before any ack is read, read back in one request. */
static void test_big_block(struct test_env *env, uint8_t *big, uint8_t *got_buf, uint64_t len)
{
    const struct wire_blk blk = { 0x5555, 1 };
    uint64_t got;

    write_block(env, blk, big, len);
    CHECK(read_block(env, 2, blk, 0, len, got_buf, &got) == 0);
    CHECK(got == len);
    CHECK(memcmp(got_buf, big, len) == 0);
}

static void setup(struct test_env *env, const char *bin)
{
    snprintf(env->tmp, sizeof(env->tmp), "/tmp/dn_pipeline_test.XXXXXX");
    CHECK(mkdtemp(env->tmp) != NULL);
    nn_start(&env->nn);
    for (int i = 0; i < NODES; i++)
        dn_start(env, i, bin, 0);
    for (int i = 0; i < NODES; i++)
        env->ports[i] = dn_port_from_log(env, i);
    wait_for(&env->nn.registered, NODES, "registrations");
    wait_for(&env->nn.reports, NODES, "block reports");
}

int main(int argc, char **argv)
{
    static struct test_env env;
    const uint64_t len = 3 * WIRE_PKT_DATA_MAX + 100000; /* 4 packets, the last partial */
    const uint64_t big_len = 64 * WIRE_PKT_DATA_MAX;
    const struct wire_blk blk = { 0x0123456789abcdefULL, 1 };

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH/TO/dfs-datanode\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    env_for_cleanup = &env;
    uint8_t *data = malloc(big_len), *got = malloc(big_len);
    CHECK(data && got);
    for (uint64_t i = 0; i < big_len; i++)
        data[i] = (uint8_t)((i * 2654435761u) >> 13);
    setup(&env, argv[1]);
    test_wrong_cluster(&env);
    test_write_and_read(&env, blk, data, len, got);
    test_bad_packet_checksum(&env, data);
    test_corruption_detected(&env, blk, len, got);
    test_delete_from_namenode(&env, blk, got);
    test_two_blocks_one_conn(&env, data, got);
    test_restarted_downstream(&env, argv[1], data, got, 0);
    test_restarted_downstream(&env, argv[1], data, got, 1);
    test_packets_follow_open(&env, data, got);
    test_bad_packet_follows_open(&env, data);
    test_client_gone_behind_last(&env, data, got);
    test_local_create_fails_after_forward(&env);
    test_big_block(&env, data, got, big_len);
    test_dead_downstream(&env, data);
    for (int i = 0; i < 2; i++) { /* the survivors exit 0 on SIGTERM */
        int status;
        kill(env.pids[i], SIGTERM);
        CHECK(waitpid(env.pids[i], &status, 0) == env.pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        env.pids[i] = 0;
    }
    nn_stop(&env.nn);
    test_cleanup();
    free(data);
    free(got);
    printf("dn_pipeline_test: ok\n");
    return 0;
}
