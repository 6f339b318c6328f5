/* libdfs against a tiny in-process fake cluster: one namenode and two datanode ports (the
 * second serves corrupted data, so the reader must fail over). Exercises the glue: pool,
 * HELLO, CREATE / ADD_BLOCK / COMPLETE / OPEN-append, the write pipeline with acks, and
 * streaming reads with checksum verification. Not a protocol conformance test. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "check_run.h"
#include "csum.h"
#include "dfs.h"
#include "err.h"
#include "sock.h"

enum { FAKE_BLOCK_SIZE = 300000, FAKE_BLKS_MAX = 64, FILE_INO = 2 };

struct fake_blk {
    uint64_t id, offset, len;
    uint8_t data[FAKE_BLOCK_SIZE];
};

struct fake {
    pthread_mutex_t mu;
    int listen_fd[2];
    uint16_t port[2];
    int has_file, is_open;
    uint64_t size;
    struct fake_blk *blks[FAKE_BLKS_MAX];
    uint32_t count;
    int bad_reads;
    int sync_pkts;  /* LAST packets that asked for SYNC */
    int dn_syncs;   /* DN_SYNC requests */
    int completes;  /* NN_COMPLETE requests */
    int get_blocks; /* NN_GET_BLOCKS requests */
    int dn_reads;   /* DN_READ requests */
    int refuse_first_pkt; /* the datanode leaves the open unanswered and fails the first
                             packet with ERR_CHECKSUM, as a node whose packet failed before
                             its downstream answered */
};

struct fake_conn {
    struct fake *f;
    int fd;
    int is_bad;
    struct fake_blk *wblk;
    struct buf in, out;
};

static struct fake_blk *fake_find(struct fake *f, uint64_t id)
{
    for (uint32_t i = 0; i < f->count; i++)
        if (f->blks[i]->id == id)
            return f->blks[i];
    return NULL;
}

static struct wire_attr fake_attr(struct fake *f, uint64_t ino)
{
    struct wire_attr a = { .ino = ino, .nlink = 1, .block_size = FAKE_BLOCK_SIZE,
                           .replication = 2 };
    a.mode = ino == 1 ? S_IFDIR | 0755 : S_IFREG | 0644;
    a.size = ino == 1 ? 0 : f->size;
    a.is_open = (uint8_t)f->is_open;
    return a;
}

static void fake_commit(struct fake *f, struct wire_blk b, uint64_t len)
{
    struct fake_blk *k = b.id ? fake_find(f, b.id) : NULL;
    if (k) {
        k->len = len;
        f->size = k->offset + len;
    }
}

static void fake_reply(struct fake_conn *c, const struct wire_frame *req, uint16_t status)
{
    wire_frame_end(&c->out, 0, req->hdr.type + 1, req->hdr.req_id, status);
    sock_write_all(c->fd, c->out.data, c->out.len);
}

static void fake_add_block(struct fake_conn *c, struct wire_nn_add_block *m)
{
    struct fake *f = c->f;
    fake_commit(f, m->prev, m->prev_len);
    struct fake_blk *k = calloc(1, sizeof(*k));
    k->id = 100 + f->count;
    k->offset = f->size;
    f->blks[f->count++] = k;
    struct wire_nn_add_block_ok ok = { .blk = { k->id, 1 }, .offset = k->offset,
                                       .target_count = 2 };
    ok.targets[0] = (struct wire_dn_addr){ wire_str_c("dn0"), wire_str_c("127.0.0.1"),
                                           f->port[0] };
    ok.targets[1] = (struct wire_dn_addr){ wire_str_c("dn1"), wire_str_c("127.0.0.1"),
                                           f->port[1] };
    wire_nn_add_block_ok_encode(&c->out, &ok);
}

static void fake_get_blocks(struct fake_conn *c)
{
    struct fake *f = c->f;
    wire_nn_get_blocks_ok_begin(&c->out, f->size);
    for (uint32_t i = 0; i < f->count; i++) {
        if (f->blks[i]->len == 0)
            continue;
        struct wire_located_blk e = { .blk = { f->blks[i]->id, 1 }, .offset = f->blks[i]->offset,
                                      .len = f->blks[i]->len, .loc_count = 2 };
        e.locs[0] = (struct wire_dn_addr){ wire_str_c("dn0"), wire_str_c("127.0.0.1"),
                                           f->port[0] };
        e.locs[1] = (struct wire_dn_addr){ wire_str_c("dn1"), wire_str_c("127.0.0.1"),
                                           f->port[1] };
        wire_nn_get_blocks_ok_put(&c->out, WIRE_HDR_LEN, &e);
    }
}

static int fake_write_pkt(struct fake_conn *c, const struct wire_frame *fr)
{
    struct wire_dn_write_pkt p;
    uint64_t csums[WIRE_PKT_CSUMS_MAX];

    ck_assert_int_eq(wire_dn_write_pkt_decode(fr->body, fr->hdr.body_len, &p), 0);
    ck_assert_ptr_nonnull(c->wblk);
    ck_assert_uint_le(p.offset + p.data_len, FAKE_BLOCK_SIZE);
    ck_assert(p.data_len == WIRE_PKT_DATA_MAX || (p.flags & WIRE_PKT_LAST));
    ck_assert_uint_gt(p.data_len, 0);
    if (p.flags & WIRE_PKT_SYNC) {
        ck_assert(p.flags & WIRE_PKT_LAST); /* SYNC only ever rides on LAST */
        c->f->sync_pkts++;
    }
    for (uint32_t i = 0; i < p.csum_count; i++)
        csums[i] = wire_csum_at(p.csums_raw, i);
    ck_assert_int_eq(csum_verify(p.data, p.data_len, csums, NULL), 0);
    memcpy(c->wblk->data + p.offset, p.data, p.data_len);
    struct wire_dn_write_ack a = { .seq = p.seq, .failed_idx = WIRE_ACK_NO_FAILED };
    wire_dn_write_ack_encode(&c->out, &a);
    return 0;
}

/* Streams [offset, offset + len) of a block in 64 KiB frames (the bad port flips a byte). */
static void fake_read(struct fake_conn *c, const struct wire_frame *fr)
{
    struct wire_dn_read m;
    uint8_t chunk[CSUM_CHUNK_SIZE], raw[8];

    ck_assert_int_eq(wire_dn_read_decode(fr->body, fr->hdr.body_len, &m), 0);
    ck_assert_uint_eq(m.offset % CSUM_CHUNK_SIZE, 0);
    pthread_mutex_lock(&c->f->mu);
    struct fake_blk *k = fake_find(c->f, m.blk.id);
    c->f->bad_reads += c->is_bad;
    c->f->dn_reads++;
    pthread_mutex_unlock(&c->f->mu);
    uint64_t end = m.offset + m.len < k->len ? m.offset + m.len : k->len;
    for (uint64_t off = m.offset; off < end; off += CSUM_CHUNK_SIZE) {
        uint32_t n = (uint32_t)(end - off < CSUM_CHUNK_SIZE ? end - off : CSUM_CHUNK_SIZE);
        memcpy(chunk, k->data + off, n);
        le_put_u64(raw, csum_chunk(chunk, n));
        chunk[0] ^= (uint8_t)c->is_bad;
        struct wire_dn_read_data d = { .offset = off, .data_len = n, .data = chunk,
                                       .csum_count = 1, .csums_raw = raw };
        d.flags = off + n >= end ? WIRE_READ_EOF : 0;
        buf_reset(&c->out);
        wire_frame_begin(&c->out);
        wire_dn_read_data_encode(&c->out, &d);
        wire_frame_end(&c->out, 0, WIRE_DN_READ_DATA, fr->hdr.req_id, 0);
        if (sock_write_all(c->fd, c->out.data, c->out.len) < 0)
            return;
    }
}

static int fake_dispatch_nn(struct fake_conn *c, const struct wire_frame *fr)
{
    struct fake *f = c->f;
    struct wire_attr a;
    switch (fr->hdr.type) {
    case WIRE_NN_GETATTR: {
        struct wire_nn_ino m;
        ck_assert_int_eq(wire_nn_ino_decode(fr->body, fr->hdr.body_len, &m), 0);
        a = fake_attr(f, m.ino);
        wire_attr_encode(&c->out, &a);
        return 0;
    }
    case WIRE_NN_LOOKUP:
        if (!f->has_file)
            return -ENOENT;
        a = fake_attr(f, FILE_INO);
        wire_attr_encode(&c->out, &a);
        return 0;
    case WIRE_NN_CREATE: {
        struct wire_nn_create m;
        ck_assert_int_eq(wire_nn_create_decode(fr->body, fr->hdr.body_len, &m), 0);
        if (f->has_file)
            return -EEXIST;
        f->has_file = 1;
        f->is_open = !(m.flags & WIRE_CREATE_NO_LEASE);
        struct wire_nn_entry_ok e = { .attr = fake_attr(f, FILE_INO),
                                      .parent = fake_attr(f, 1) };
        wire_nn_entry_ok_encode(&c->out, &e);
        return 0;
    }
    case WIRE_DN_SYNC: {
        struct wire_dn_sync m;
        ck_assert_int_eq(wire_dn_sync_decode(fr->body, fr->hdr.body_len, &m), 0);
        f->dn_syncs++;
        return fake_find(f, m.blk.id) ? 0 : -ERR_NO_BLOCK;
    }
    default:
        return -ENOSYS;
    }
}

static int fake_dispatch(struct fake_conn *c, const struct wire_frame *fr)
{
    struct wire_nn_add_block ab;
    struct wire_nn_complete cm;
    struct wire_dn_write_open wo;
    struct wire_attr a;
    switch (fr->hdr.type) {
    case WIRE_NN_ADD_BLOCK:
        ck_assert_int_eq(wire_nn_add_block_decode(fr->body, fr->hdr.body_len, &ab), 0);
        c->f->is_open = 1; /* the first block takes the lease */
        fake_add_block(c, &ab);
        return 0;
    case WIRE_NN_COMPLETE:
        ck_assert_int_eq(wire_nn_complete_decode(fr->body, fr->hdr.body_len, &cm), 0);
        ck_assert_int_eq(c->f->is_open, 1); /* only the lease holder completes */
        fake_commit(c->f, cm.last, cm.last_len);
        c->f->is_open = 0;
        c->f->completes++;
        a = fake_attr(c->f, FILE_INO);
        wire_attr_encode(&c->out, &a);
        return 0;
    case WIRE_NN_GET_BLOCKS:
        c->f->get_blocks++;
        fake_get_blocks(c);
        return 0;
    case WIRE_DN_WRITE_OPEN:
        ck_assert_int_eq(wire_dn_write_open_decode(fr->body, fr->hdr.body_len, &wo), 0);
        c->wblk = fake_find(c->f, wo.blk.id);
        return c->wblk ? 0 : -ERR_NO_BLOCK;
    case WIRE_DN_WRITE_PKT: return fake_write_pkt(c, fr);
    default: return fake_dispatch_nn(c, fr);
    }
}

static void *fake_conn_main(void *arg)
{
    struct fake_conn *c = arg;
    struct wire_frame fr;

    while (sock_read_frame(c->fd, &c->in, &fr) == 0) {
        if (fr.hdr.type == WIRE_DN_READ) {
            fake_read(c, &fr);
            continue;
        }
        buf_reset(&c->out);
        wire_frame_begin(&c->out);
        int rc = 0;
        if (fr.hdr.type == WIRE_HELLO) {
            struct wire_hello h = { .version = WIRE_VERSION, .node_kind = WIRE_NODE_NAMENODE,
                                    .cluster_id = wire_str_c("dfs"), .node_id = wire_str_c("nn") };
            wire_hello_encode(&c->out, &h);
        } else {
            pthread_mutex_lock(&c->f->mu);
            rc = fake_dispatch(c, &fr);
            pthread_mutex_unlock(&c->f->mu);
        }
        if (rc < 0)
            c->out.len = WIRE_HDR_LEN;
        if (c->f->refuse_first_pkt && fr.hdr.type == WIRE_DN_WRITE_OPEN)
            continue; /* no answer to the open yet */
        if (c->f->refuse_first_pkt && fr.hdr.type == WIRE_DN_WRITE_PKT) {
            struct wire_dn_write_pkt p;
            ck_assert_int_eq(wire_dn_write_pkt_decode(fr.body, fr.hdr.body_len, &p), 0);
            struct wire_dn_write_ack a = { .seq = p.seq, .status = err_to_wire(-ERR_CHECKSUM),
                                           .failed_idx = 0 };
            buf_reset(&c->out);
            wire_frame_begin(&c->out);
            wire_dn_write_ack_encode(&c->out, &a);
            fake_reply(c, &fr, 0);
            break; /* and the node hangs up */
        }
        fake_reply(c, &fr, err_to_wire(rc));
    }
    close(c->fd);
    buf_fini(&c->in);
    buf_fini(&c->out);
    free(c);
    return NULL;
}

struct fake_listener {
    struct fake *f;
    int idx;
};

static void *fake_accept_main(void *arg)
{
    struct fake_listener *l = arg;
    for (;;) {
        int fd = accept(l->f->listen_fd[l->idx], NULL, NULL);
        if (fd < 0)
            return NULL;
        struct fake_conn *c = calloc(1, sizeof(*c));
        *c = (struct fake_conn){ .f = l->f, .fd = fd, .is_bad = l->idx == 1 };
        buf_init(&c->in);
        buf_init(&c->out);
        pthread_t t;
        pthread_create(&t, NULL, fake_conn_main, c);
        pthread_detach(t);
    }
}

static struct fake *fake_start(void)
{
    static struct fake_listener ls[2];
    struct fake *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
        socklen_t len = sizeof(sa);
        f->listen_fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(bind(f->listen_fd[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(f->listen_fd[i], 16), 0);
        getsockname(f->listen_fd[i], (struct sockaddr *)&sa, &len);
        f->port[i] = ntohs(sa.sin_port);
        ls[i] = (struct fake_listener){ f, i };
        pthread_t t;
        pthread_create(&t, NULL, fake_accept_main, &ls[i]);
        pthread_detach(t);
    }
    return f;
}

/* A client of the fake namenode (cfg is kept by the caller and finished after the client). */
static struct dfs_client *fake_client(struct fake *f, struct cfg *cfg)
{
    char kv[64], err[128];
    struct dfs_client *c;

    cfg_init(cfg);
    snprintf(kv, sizeof(kv), "nn.addr=127.0.0.1:%u", f->port[0]);
    ck_assert_int_eq(cfg_set(cfg, kv, err, sizeof(err)), 0);
    ck_assert_int_eq(dfs_client_new(cfg, &c), 0);
    return c;
}

/* Creates the fake's one file, "f" in the root. */
static struct dfs_writer *fake_create(struct dfs_client *c)
{
    struct wire_nn_create req = { .parent = 1, .name = wire_str_c("f"), .mode = S_IFREG | 0644 };
    struct dfs_writer *w;

    ck_assert_int_eq(dfs_create(c, &req, NULL, NULL, &w), 0);
    return w;
}

START_TEST(test_cl_fake_write_flush_append_then_read_back)
{
    struct fake *f = fake_start();
    struct cfg cfg;
    struct dfs_client *c;
    struct dfs_writer *w;
    struct dfs_reader *r;
    enum { TOTAL = 2500000, FIRST = 700001 };
    uint8_t *data = malloc(TOTAL), *back = malloc(TOTAL);

    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (uint8_t)((i * 2654435761u) >> 13);
    c = fake_client(f, &cfg);
    w = fake_create(c);
    ck_assert_int_eq(dfs_writer_write(w, data, 10, 5), -EOPNOTSUPP);
    size_t off = 0;
    for (size_t step = 1; off < FIRST; step = step * 3 + 1) { /* uneven write sizes */
        size_t n = FIRST - off < step ? FIRST - off : step;
        ck_assert_int_eq(dfs_writer_write(w, data + off, n, off), (ssize_t)n);
        off += n;
    }
    ck_assert_int_eq(dfs_writer_flush(w), 0);
    ck_assert_uint_eq(f->size, FIRST);
    ck_assert_int_eq(f->is_open, 0);
    ck_assert_int_eq(dfs_writer_write(w, data + off, TOTAL - off, off), TOTAL - off);
    ck_assert_uint_eq(dfs_writer_size(w), TOTAL);
    ck_assert_int_eq(dfs_writer_close(w), 0);
    ck_assert_uint_eq(f->size, TOTAL);

    struct wire_attr a;
    ck_assert_int_eq(dfs_resolve(c, "/f", &a), 0);
    ck_assert_uint_eq(a.size, TOTAL);
    ck_assert_int_eq(dfs_resolve(c, "/f/x", &a), -ENOTDIR);
    ck_assert_int_eq(dfs_open_read(c, FILE_INO, &r), 0);
    for (off = 0; off < TOTAL;) { /* sequential, across blocks */
        ssize_t n = dfs_reader_pread(r, back + off, 77777, off);
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
    }
    ck_assert_int_eq(memcmp(back, data, TOTAL), 0);
    ck_assert_int_eq(dfs_reader_pread(r, back, 10, TOTAL), 0);
    ck_assert_int_eq(dfs_reader_pread(r, back, 100, 1234567), 100); /* random access */
    ck_assert_int_eq(memcmp(back, data + 1234567, 100), 0);
    ck_assert_int_eq(dfs_reader_pread(r, back, 100, TOTAL - 50), 50);
    ck_assert_int_gt(f->bad_reads, 0); /* some block preferred the corrupt replica first */
    dfs_reader_close(r);
    dfs_client_free(c);
    cfg_fini(&cfg);
    free(data);
    free(back);
}
END_TEST

/* close() leaves replicas unsynced; fsync() syncs the open block with its LAST packet and
 * every earlier block with DN_SYNC to each replica; an empty file needs no COMPLETE. */
/* The client sends packets right behind the open; a node that fails one before the pipeline
 * answered the open sends the failed ack in the open's place. The writer reports the ack's
 * error, not a protocol error. */
START_TEST(test_cl_fake_packet_failed_before_the_open_answer)
{
    struct fake *f = fake_start();
    struct cfg cfg;
    struct dfs_client *c;
    struct dfs_writer *w;
    uint8_t data[100] = { 1 };

    f->refuse_first_pkt = 1;
    c = fake_client(f, &cfg);
    w = fake_create(c);
    ck_assert_int_eq(dfs_writer_write(w, data, sizeof(data), 0), (ssize_t)sizeof(data));
    ck_assert_int_eq(dfs_writer_flush(w), -ERR_CHECKSUM);
    ck_assert_int_eq(dfs_writer_close(w), -ERR_CHECKSUM);
    dfs_client_free(c);
    cfg_fini(&cfg);
}
END_TEST

START_TEST(test_cl_fake_sync_reaches_every_replica_and_empty_file_needs_no_complete)
{
    struct fake *f = fake_start();
    struct cfg cfg;
    struct dfs_client *c;
    struct dfs_writer *w;
    enum { TOTAL = FAKE_BLOCK_SIZE * 2 + 1000 };
    uint8_t *data = calloc(1, TOTAL);

    c = fake_client(f, &cfg);
    w = fake_create(c);
    ck_assert_int_eq(f->is_open, 0); /* created without a lease */
    ck_assert_int_eq(dfs_writer_flush(w), 0);
    ck_assert_int_eq(f->completes, 0); /* nothing was written: nothing to commit */
    ck_assert_int_eq(dfs_writer_write(w, data, TOTAL, 0), TOTAL);
    ck_assert_int_eq(f->sync_pkts, 0); /* two full blocks ended without SYNC */
    ck_assert_int_eq(dfs_writer_sync(w), 0);
    ck_assert_int_eq(f->sync_pkts, 1);    /* the open third block */
    ck_assert_int_eq(f->dn_syncs, 2 * 2); /* two earlier blocks x two replicas */
    ck_assert_int_eq(f->completes, 1);
    ck_assert_uint_eq(f->size, TOTAL);
    ck_assert_int_eq(dfs_writer_sync(w), 0); /* nothing left to sync */
    ck_assert_int_eq(f->dn_syncs, 4);
    ck_assert_int_eq(dfs_writer_close(w), 0);
    ck_assert_int_eq(f->completes, 1);
    dfs_client_free(c);
    cfg_fini(&cfg);
    free(data);
}
END_TEST

static int fake_count(struct fake *f, const int *counter)
{
    pthread_mutex_lock(&f->mu);
    int n = *counter;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* A prefetch asks for the blocks and the first bytes before any read; the read that follows
 * takes them without asking the namenode again (and fails over if the replica asked was the
 * corrupt one); once reading has begun, a prefetch does nothing. */
START_TEST(test_cl_fake_prefetch_asks_before_the_first_read)
{
    struct fake *f = fake_start();
    struct cfg cfg;
    struct dfs_client *c;
    struct dfs_writer *w;
    struct dfs_reader *r;
    enum { TOTAL = 100000 }; /* within the first window: the prefetch asks for all of it */
    uint8_t *data = malloc(TOTAL), *back = malloc(TOTAL);

    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    c = fake_client(f, &cfg);
    w = fake_create(c);
    ck_assert_int_eq(dfs_writer_write(w, data, TOTAL, 0), TOTAL);
    ck_assert_int_eq(dfs_writer_close(w), 0);
    ck_assert_int_eq(dfs_open_read(c, FILE_INO, &r), 0);
    ck_assert_int_eq(fake_count(f, &f->get_blocks), 0);
    dfs_reader_prefetch(r);
    ck_assert_int_eq(fake_count(f, &f->get_blocks), 1);
    for (int i = 0; i < 5000 && fake_count(f, &f->dn_reads) == 0; i++)
        usleep(1000); /* the fake datanode takes the request on its own thread */
    ck_assert_int_eq(fake_count(f, &f->dn_reads), 1);
    ck_assert_int_eq(dfs_reader_pread(r, back, TOTAL, 0), TOTAL);
    ck_assert_int_eq(memcmp(back, data, TOTAL), 0);
    ck_assert_int_eq(fake_count(f, &f->get_blocks), 1);
    int reads = fake_count(f, &f->dn_reads);
    ck_assert_int_le(reads, 2); /* the prefetched stream, or one failover from a bad replica */
    ck_assert_int_eq(reads - 1, fake_count(f, &f->bad_reads));
    dfs_reader_prefetch(r);
    ck_assert_int_eq(fake_count(f, &f->get_blocks), 1);
    ck_assert_int_eq(fake_count(f, &f->dn_reads), reads);
    dfs_reader_close(r);
    dfs_client_free(c);
    cfg_fini(&cfg);
    free(data);
    free(back);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_fake");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cl_fake_write_flush_append_then_read_back);
    tcase_add_test(tc, test_cl_fake_sync_reaches_every_replica_and_empty_file_needs_no_complete);
    tcase_add_test(tc, test_cl_fake_packet_failed_before_the_open_answer);
    tcase_add_test(tc, test_cl_fake_prefetch_asks_before_the_first_read);
    suite_add_tcase(s, tc);
    return check_run(s);
}
