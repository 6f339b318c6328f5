/* garbage_client: throws malformed and hostile input at one running dfs daemon (a namenode or
 * a datanode) over TCP, the way a broken or malicious peer would, and checks what comes back.
 * Used by tests/integration/test_garbage_input.sh against a real cluster.
 *
 * Groups of cases (each case on its own connection unless said otherwise):
 *   A  raw random bytes (256 KiB, less than a header, random after a correct magic)
 *   B  bad headers: wrong magic, wrong header checksum, version 0, wrong body checksum;
 *      before and after a valid HELLO; behind a valid request in the same segment; and
 *      behind 200000 pipelined requests whose replies pile up in the server (read late
 *      through a small receive buffer): every one of them must still be answered whole
 *   C  body sizes: body_len above WIRE_BODY_MAX (must be refused without the body), bodies
 *      that never come (hang up mid-body, small and large), a full WIRE_BODY_MAX random
 *      body, a HELLO and a request sent one byte at a time
 *   D  every message type the server handles, and unknown ones, with correct checksums but
 *      random or truncated bodies: as the first frame, after a valid HELLO (one frame per
 *      connection), all variants of a type pipelined on one connection, a burst of 2000
 *   E  connection churn: 200 connections opened and dropped (half headers, RSTs, HELLO
 *      without reading the reply), up to 40 open at once
 *   H  well-formed HELLOs of another cluster or protocol version (must be refused), odd node
 *      kinds, empty and over-long ids
 *   F  well-formed frames with hostile fields: namenode read requests with extreme inodes,
 *      offsets and lengths, names a decoder must refuse; datanode reads of a real block at
 *      bad offsets (the data that comes back must match the file), a whole-block read with
 *      a bad header behind it or abandoned, syncs with wrong gens, writes of a made-up
 *      block followed by bad packets, pipelines aimed at the datanode itself, the namenode
 *      or a closed port
 *   G  (datanode) this helper as the downstream of a forwarded write, answering with
 *      garbage: random bytes, bad headers, error or bogus HELLO_OK / WRITE_OPEN_OK, acks
 *      with random bodies, unknown seqs, odd failed_idx, the wrong type, half a frame
 * Nothing here can change a real file: no namespace change is ever well formed, and writes
 * use block ids the namenode never allocates.
 *
 * What is checked on this side: every byte that comes back is a well-formed frame (header and
 * body checksums), answers the request it follows (type = request type + 1, same req_id, in
 * request order), has an empty body when its status is an error, and decodes as that reply's
 * message when its status is 0; a request of an unknown type is never answered with success;
 * bad headers make the server close the connection (within IO_TIMEOUT_MS); a complete request
 * gets an answer or a close, never silence; data read back matches the file and its chunk
 * checksums. After every case a fresh connection must complete a HELLO (the daemon is alive
 * and serving). Every socket read has a deadline, so this never hangs.
 *
 * Randomness is seeded per case from --seed and the case number, so `--only N` replays
 * case N byte for byte. Each case runs in a child process: a failed case prints what it
 * expected, what was sent (length and the first bytes in hex) and the command that replays it,
 * and the next case runs; if the server stops answering, everything stops.
 *
 * Usage: garbage_client --role nn|dn --addr HOST:PORT --cluster ID --seed N
 *            [--nn-port P] [--victim NAME] [--blk ID:GEN --file PATH] [--only N]
 *            [--max-failures N (20)] [-v]
 * Exit status: 0 all cases passed; 1 some failed (each is reported; after the server stops
 * answering, or after --max-failures, the rest are not run); 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

enum {
    IO_TIMEOUT_MS = 3000, /* every wait for a reply or a close */
    QUIET_MS = 100,       /* how long a half-sent frame must get no answer */
    VARIANTS = 14,        /* garbage bodies per message type in group D */
    CHURN_CONNS = 200,
    CHURN_BATCH = 40,
    DUMP_BYTES = 96,
};

/* ---- options and state ---- */

static const char *opt_role;
static char opt_host[256];
static uint16_t opt_port;
static const char *opt_cluster;
static uint64_t opt_seed;
static uint16_t opt_nn_port;
static const char *opt_victim;
static struct wire_blk opt_blk;
static const char *opt_file;
static long opt_only = -1;
static int opt_verbose;
static int is_nn;

static uint8_t *file_data; /* --file, the real block's contents (block offset 0 = file 0) */
static size_t file_len;

static struct wire_dn_write_ack last_ack; /* of the last success reply to a DN_WRITE_PKT */
static uint64_t rng_state;
static long case_no;
static char case_desc[256];
static struct buf case_input; /* what this case sent (first 64 KiB), for the failure report */
static size_t case_input_total;
static const char *group_name;

/* Each case runs in a child process (so one failure does not stop the others); the counters
 * live in shared memory. */
struct counters {
    long cases, frames, replies_ok, replies_err, closed, resets, data_frames;
};
static struct counters *counters, group_start; /* counters: mmap(MAP_SHARED) */
static int in_child;
static char reading_what[160]; /* the reply being read, for messages */
static uint64_t next_req_id = 1000;
static long failures, opt_max_failures = 20;
static char failed_list[512];

/* ---- helpers ---- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rng_range(uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + (uint32_t)(rng_next() % ((uint64_t)hi - lo + 1));
}

static void rng_fill(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)rng_next();
}

static void dump_input(void)
{
    size_t n = case_input.len < DUMP_BYTES ? case_input.len : DUMP_BYTES;

    fprintf(stderr, "  input sent on the case's connection(s): %zu bytes; first %zu:\n",
            case_input_total, n);
    for (size_t i = 0; i < n; i += 32) {
        fprintf(stderr, "   ");
        for (size_t k = i; k < n && k < i + 32; k++)
            fprintf(stderr, " %02x", case_input.data[k]);
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "  replay: garbage_client --role %s --addr %s:%u --cluster %s --seed %" PRIu64
            " --only %ld%s%s%s%s\n",
            opt_role, opt_host, opt_port, opt_cluster, opt_seed, case_no,
            opt_victim ? " --victim " : "", opt_victim ? opt_victim : "",
            opt_file ? " --file " : "", opt_file ? opt_file : "");
    if (opt_blk.id)
        fprintf(stderr, "          --blk 0x%016" PRIx64 ":%" PRIu64 "\n", opt_blk.id, opt_blk.gen);
    if (opt_nn_port)
        fprintf(stderr, "          --nn-port %u\n", opt_nn_port);
}

static _Noreturn __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "garbage_client[%s %s:%u] FAIL in case %ld (group %s: %s): ", opt_role,
            opt_host, opt_port, case_no, group_name ? group_name : "-", case_desc);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    dump_input();
    fflush(stderr);
    exit(1);
}

static void group_begin(const char *name)
{
    group_name = name;
    group_start = *counters;
}

static void group_end(void)
{
    if (in_child)
        exit(0); /* the last case of the group is done */
    printf("garbage_client[%s %s:%u] group %s: %ld cases, %ld frames sent; answers: %ld ok, "
           "%ld error, %ld read-data frames; %ld closed by the server (%ld of them reset)\n",
           opt_role, opt_host, opt_port, group_name, counters->cases - group_start.cases,
           counters->frames - group_start.frames, counters->replies_ok - group_start.replies_ok,
           counters->replies_err - group_start.replies_err,
           counters->data_frames - group_start.data_frames, counters->closed - group_start.closed,
           counters->resets - group_start.resets);
    fflush(stdout);
}

/* Starts case number ++case_no; returns 0 if --only skips it. */
static __attribute__((format(printf, 1, 2))) int case_begin(const char *fmt, ...)
{
    va_list ap;

    case_no++;
    va_start(ap, fmt);
    vsnprintf(case_desc, sizeof(case_desc), fmt, ap);
    va_end(ap);
    if (in_child)
        exit(0); /* the previous case is done */
    if (opt_only >= 0 && case_no != opt_only)
        return 0;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid > 0) {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            return 0;
        failures++;
        size_t used = strlen(failed_list);
        snprintf(failed_list + used, sizeof(failed_list) - used, "%s%ld", used ? " " : "",
                 case_no);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
            fprintf(stderr, "garbage_client[%s %s:%u] the server stopped answering after case "
                    "%ld: stopping\n", opt_role, opt_host, opt_port, case_no);
            exit(1);
        }
        if (!WIFEXITED(status))
            fprintf(stderr, "garbage_client: case %ld: the helper died (signal %d)\n", case_no,
                    WTERMSIG(status));
        if (failures >= opt_max_failures) {
            fprintf(stderr, "garbage_client: %ld failed cases (%s): stopping\n", failures,
                    failed_list);
            exit(1);
        }
        return 0;
    }
    in_child = 1;
    next_req_id = 1000 + (uint64_t)case_no * 1000000;
    rng_state = opt_seed * 0x100000001b3ULL ^ ((uint64_t)case_no << 32) ^ 0x6761726261676521ULL;
    (void)rng_next();
    buf_reset(&case_input);
    case_input_total = 0;
    counters->cases++;
    if (opt_verbose)
        printf("  case %ld [%s] %s\n", case_no, group_name, case_desc);
    return 1;
}

/* ---- connections ---- */

static int conn_open(void)
{
    int fd = sock_connect(opt_host, opt_port, IO_TIMEOUT_MS);

    if (fd < 0)
        die("cannot connect: %s", err_str(fd));
    return fd;
}

/* Sends p; the server may already have closed (that is allowed): returns 0 or -errno. */
static int send_bytes(int fd, const void *p, size_t len)
{
    size_t room = case_input.len < 65536 ? 65536 - case_input.len : 0;

    buf_put(&case_input, p, len < room ? len : room);
    case_input_total += len;
    int rc = sock_write_all(fd, p, len);
    if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
        die("send of %zu bytes failed: %s", len, err_str(rc));
    return rc;
}

/* Drop with RST instead of FIN. */
static void conn_reset(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

enum rd { RD_FRAME = 1, RD_CLOSED = 0, RD_TIMEOUT = -1 };

/* Reads exactly len bytes before deadline: 1, 0 at a clean EOF before the first byte, or
 * RD_TIMEOUT. A reset counts as a close; EOF inside the bytes is a truncated frame. */
static int read_exact(int fd, uint8_t *p, size_t len, uint64_t deadline, int *is_reset)
{
    size_t got = 0;

    while (got < len) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return RD_TIMEOUT;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n = poll(&pfd, 1, (int)(deadline - now));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("poll: %s", strerror(errno));
        if (n == 0)
            return RD_TIMEOUT;
        ssize_t r = recv(fd, p + got, len - got, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0 && errno == ECONNRESET) {
            *is_reset = 1;
            return RD_CLOSED; /* whatever was in flight may be lost with a reset */
        }
        if (r < 0)
            die("recv: %s", strerror(errno));
        if (r == 0) {
            if (got > 0)
                die("the server closed the connection inside a frame (%zu of %zu bytes of the "
                    "%s of the %s)",
                    got, len, len == WIRE_HDR_LEN ? "header" : "body", reading_what);
            return RD_CLOSED;
        }
        got += (size_t)r;
    }
    return RD_FRAME;
}

/* Reads one frame: RD_FRAME (checked header and body checksum), RD_CLOSED or RD_TIMEOUT. */
static int read_frame(int fd, struct buf *st, struct wire_frame *f, int timeout_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    int is_reset = 0;

    buf_reset(st);
    uint8_t *hdr = buf_extend(st, WIRE_HDR_LEN);
    int rc = read_exact(fd, hdr, WIRE_HDR_LEN, deadline, &is_reset);
    if (rc != RD_FRAME) {
        if (rc == RD_CLOSED) {
            counters->closed++;
            counters->resets += is_reset;
        }
        return rc;
    }
    rc = wire_hdr_decode(st->data, &f->hdr);
    if (rc < 0)
        die("the server sent a frame header that does not decode (%s)", err_str(rc));
    buf_extend(st, f->hdr.body_len);
    rc = read_exact(fd, st->data + WIRE_HDR_LEN, f->hdr.body_len, deadline, &is_reset);
    if (rc == RD_TIMEOUT)
        die("a reply body of %u bytes did not arrive within %d ms", f->hdr.body_len,
            timeout_ms);
    if (rc == RD_CLOSED) {
        if (!is_reset)
            die("the server closed the connection inside a reply body");
        counters->closed++;
        counters->resets++;
        return RD_CLOSED;
    }
    f->body = st->data + WIRE_HDR_LEN;
    if (wire_body_verify(&f->hdr, f->body) < 0)
        die("reply type %u req %" PRIu64 ": body checksum mismatch", f->hdr.type,
            f->hdr.req_id);
    return RD_FRAME;
}

/* Whether a request of this type is handled by the server under test. */
static int is_handled(uint16_t type)
{
    if (type == WIRE_HELLO)
        return 1;
    if (is_nn)
        return (type >= WIRE_NN_LOOKUP && type <= WIRE_NN_REPORT && type % 2 == 0) ||
               (type >= WIRE_DN_REGISTER && type <= WIRE_DN_BLOCK_CORRUPT && type % 2 == 0);
    return type == WIRE_DN_WRITE_OPEN || type == WIRE_DN_WRITE_PKT || type == WIRE_DN_READ ||
           type == WIRE_DN_SYNC;
}

/* Decodes a success reply's body as the message the request type is answered with. */
static int decode_ok_body(uint16_t req_type, const struct wire_frame *f)
{
    const uint8_t *b = f->body;
    size_t n = f->hdr.body_len;
    union {
        struct wire_hello hello;
        struct wire_attr attr;
        struct wire_nn_entry_ok entry;
        struct wire_nn_readdir_ok rd;
        struct wire_nn_statfs_ok statfs;
        struct wire_nn_add_block_ok ab;
        struct wire_nn_get_blocks_ok gb;
        struct wire_nn_report_ok rep;
        struct wire_dn_register_ok reg;
        struct wire_dn_heartbeat_ok hb;
        struct wire_dn_write_ack ack;
        struct wire_dn_read_data data;
    } m;
    int rc;

    switch (req_type) {
    case WIRE_HELLO:
        rc = wire_hello_decode(b, n, &m.hello);
        if (rc == 0 && wire_hello_check(&m.hello, opt_cluster) < 0)
            die("HELLO_OK of another cluster or version");
        return rc;
    case WIRE_NN_LOOKUP:
    case WIRE_NN_GETATTR:
    case WIRE_NN_SETATTR:
    case WIRE_NN_OPEN:
    case WIRE_NN_UNLINK:
    case WIRE_NN_RMDIR:
    case WIRE_NN_COMPLETE:
        return wire_attr_decode(b, n, &m.attr);
    case WIRE_NN_MKDIR:
    case WIRE_NN_CREATE:
        return wire_nn_entry_ok_decode(b, n, &m.entry);
    case WIRE_NN_READDIR:
        rc = wire_nn_readdir_ok_decode(b, n, &m.rd);
        if (rc == 0) {
            struct wire_nn_dirent e;
            for (uint32_t i = 0; i < m.rd.count; i++)
                wire_nn_readdir_ok_next(&m.rd, &e);
        }
        return rc;
    case WIRE_NN_STATFS:
        return wire_nn_statfs_ok_decode(b, n, &m.statfs);
    case WIRE_NN_ADD_BLOCK:
        return wire_nn_add_block_ok_decode(b, n, &m.ab);
    case WIRE_NN_GET_BLOCKS:
        rc = wire_nn_get_blocks_ok_decode(b, n, &m.gb);
        if (rc == 0) {
            struct wire_located_blk e;
            for (uint32_t i = 0; i < m.gb.count; i++)
                wire_nn_get_blocks_ok_next(&m.gb, &e);
        }
        return rc;
    case WIRE_NN_REPORT:
        rc = wire_nn_report_ok_decode(b, n, &m.rep);
        if (rc == 0) {
            struct wire_dn_row e;
            for (uint32_t i = 0; i < m.rep.count; i++)
                wire_nn_report_ok_next(&m.rep, &e);
        }
        return rc;
    case WIRE_DN_REGISTER:
        return wire_dn_register_ok_decode(b, n, &m.reg);
    case WIRE_DN_HEARTBEAT:
        rc = wire_dn_heartbeat_ok_decode(b, n, &m.hb);
        if (rc == 0) {
            struct wire_dn_cmd e;
            for (uint32_t i = 0; i < m.hb.count; i++)
                wire_dn_heartbeat_ok_next(&m.hb, &e);
        }
        return rc;
    case WIRE_DN_WRITE_PKT:
        rc = wire_dn_write_ack_decode(b, n, &m.ack);
        last_ack = m.ack;
        return rc;
    case WIRE_DN_READ:
        return wire_dn_read_data_decode(b, n, &m.data);
    case WIRE_NN_RENAME:
    case WIRE_DN_BLOCK_REPORT:
    case WIRE_DN_BLOCK_RECEIVED:
    case WIRE_DN_BLOCK_DELETED:
    case WIRE_DN_BLOCK_CORRUPT:
    case WIRE_DN_WRITE_OPEN:
    case WIRE_DN_SYNC:
        return n == 0 ? 0 : -ERR_PROTO;
    default:
        die("request type %u (%s, not handled by this server) was answered with success",
            req_type, wire_type_name(req_type));
    }
}

/* Checks a DN_READ_DATA frame against the file and its own checksums; *next_off is where the
 * next frame must start. Returns whether it is the last. */
static int check_read_data(const struct wire_frame *f, uint64_t *next_off)
{
    struct wire_dn_read_data d;

    if (wire_dn_read_data_decode(f->body, f->hdr.body_len, &d) < 0)
        die("DN_READ_DATA req %" PRIu64 " does not decode", f->hdr.req_id);
    if (d.offset != *next_off)
        die("DN_READ_DATA at offset %" PRIu64 ", expected %" PRIu64, d.offset, *next_off);
    if (wire_csums_verify(d.data, d.data_len, d.csums_raw) < 0)
        die("DN_READ_DATA at offset %" PRIu64 ": data does not match its checksums", d.offset);
    if (file_data && d.data_len > 0) {
        if (d.offset > file_len || d.data_len > file_len - d.offset)
            die("DN_READ_DATA returned %u bytes at %" PRIu64 ", beyond the %zu-byte block",
                d.data_len, d.offset, file_len);
        if (memcmp(d.data, file_data + d.offset, d.data_len) != 0)
            die("DN_READ_DATA at %" PRIu64 " (%u bytes) differs from the file", d.offset,
                d.data_len);
    }
    *next_off = d.offset + d.data_len;
    counters->data_frames++;
    return (d.flags & WIRE_READ_EOF) != 0;
}

enum ans { ANS_REPLY_OK, ANS_REPLY_ERR, ANS_CLOSED, ANS_TIMEOUT };

/* Reads the answer to the request (req_type, req_id): a checked reply (all DN_READ_DATA
 * frames of a read), a close, or a timeout. read_off: where a DN_READ started. */
static enum ans read_answer(int fd, uint16_t req_type, uint64_t req_id, uint64_t read_off,
                            uint16_t *status_out)
{
    struct buf st;
    struct wire_frame f;
    enum ans a;

    buf_init(&st);
    snprintf(reading_what, sizeof(reading_what), "reply to %s req %" PRIu64,
             wire_type_name(req_type), req_id);
    int rc = read_frame(fd, &st, &f, IO_TIMEOUT_MS);
    if (rc == RD_CLOSED || rc == RD_TIMEOUT) {
        buf_fini(&st);
        return rc == RD_CLOSED ? ANS_CLOSED : ANS_TIMEOUT;
    }
    uint16_t want = (uint16_t)(req_type + 1);
    if (f.hdr.type != want || f.hdr.req_id != req_id)
        die("expected the reply to type %u (%s) req %" PRIu64 ", got type %u (%s) req %" PRIu64
            " status %u",
            req_type, wire_type_name(req_type), req_id, f.hdr.type, wire_type_name(f.hdr.type),
            f.hdr.req_id, f.hdr.status);
    if (status_out)
        *status_out = f.hdr.status;
    if (f.hdr.status != 0) {
        if (f.hdr.body_len != 0)
            die("error reply (status %u) to type %u has a %u-byte body", f.hdr.status,
                req_type, f.hdr.body_len);
        counters->replies_err++;
        a = ANS_REPLY_ERR;
    } else if (req_type == WIRE_DN_READ) {
        uint64_t off = read_off;
        while (!check_read_data(&f, &off)) {
            snprintf(reading_what, sizeof(reading_what),
                     "DN_READ_DATA frame at block offset %" PRIu64 " of req %" PRIu64, off,
                     req_id);
            rc = read_frame(fd, &st, &f, IO_TIMEOUT_MS);
            if (rc == RD_TIMEOUT)
                die("a read's next DN_READ_DATA did not come within %d ms", IO_TIMEOUT_MS);
            if (rc == RD_CLOSED)
                die("the server closed the connection in the middle of a read");
            if (f.hdr.type != want || f.hdr.req_id != req_id)
                die("in a read: got type %u req %" PRIu64, f.hdr.type, f.hdr.req_id);
            if (f.hdr.status != 0) {
                if (f.hdr.body_len != 0)
                    die("error DN_READ_DATA has a body");
                break; /* a read may fail part way (an error frame ends it) */
            }
        }
        counters->replies_ok++;
        a = ANS_REPLY_OK;
    } else {
        if (decode_ok_body(req_type, &f) < 0)
            die("success reply to type %u (%s) has a body (%u bytes) that does not decode",
                req_type, wire_type_name(req_type), f.hdr.body_len);
        counters->replies_ok++;
        a = ANS_REPLY_OK;
    }
    buf_fini(&st);
    return a;
}

/* Expects the server to close the connection (having answered nothing, or only with errors
 * to req_type/req_id). */
static void expect_close(int fd, uint16_t req_type, uint64_t req_id, const char *why)
{
    for (int i = 0; i < 4; i++) {
        uint16_t status = 0;
        enum ans a = read_answer(fd, req_type, req_id, 0, &status);
        if (a == ANS_CLOSED)
            return;
        if (a == ANS_TIMEOUT)
            die("%s: the server neither closed the connection nor answered within %d ms", why,
                IO_TIMEOUT_MS);
        if (a == ANS_REPLY_OK)
            die("%s: answered with success", why);
    }
    die("%s: the server keeps answering instead of closing", why);
}

/* The server must not answer (nor close) within QUIET_MS: it is waiting for more bytes. */
static void expect_quiet(int fd, const char *why)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int n = poll(&pfd, 1, QUIET_MS);

    if (n > 0) {
        uint8_t c;
        ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r > 0)
            die("%s: the server sent something for an incomplete frame", why);
        /* closed: allowed (a server may give up on a peer), counted */
        counters->closed++;
    }
}

/* ---- frames ---- */

/* A frame with a correct header (and body checksum) around body. */
static void frame_make(struct buf *out, uint16_t type, uint64_t req_id, const void *body,
                       size_t len)
{
    size_t start = wire_frame_begin(out);

    buf_put(out, body, len);
    wire_frame_end(out, start, type, req_id, 0);
}

/* A header with any fields; its checksum is right unless hdr_csum_xor != 0. */
static void hdr_make(uint8_t p[WIRE_HDR_LEN], uint32_t magic, uint16_t version, uint16_t type,
                     uint64_t req_id, uint32_t body_len, uint32_t body_csum, uint32_t hdr_csum_xor)
{
    le_put_u32(p + 0, magic);
    le_put_u16(p + 4, version);
    le_put_u16(p + 6, type);
    le_put_u64(p + 8, req_id);
    le_put_u32(p + 16, body_len);
    le_put_u16(p + 20, 0);
    le_put_u16(p + 22, 0);
    le_put_u32(p + 24, body_csum);
    le_put_u32(p + 28, csum32(p, 28) ^ hdr_csum_xor);
}

static void send_frame(int fd, uint16_t type, uint64_t req_id, const void *body, size_t len)
{
    struct buf b;

    buf_init(&b);
    frame_make(&b, type, req_id, body, len);
    send_bytes(fd, b.data, b.len);
    counters->frames++;
    buf_fini(&b);
}

/* HELLO on fd; it must succeed. kind: WIRE_NODE_CLIENT or WIRE_NODE_DATANODE. */
static void hello(int fd, uint8_t kind)
{
    struct buf b;
    uint64_t id = next_req_id++;

    buf_init(&b);
    wire_hello_frame(&b, WIRE_HELLO, id, kind, opt_cluster,
                     kind == WIRE_NODE_DATANODE ? "garbage-dn" : "garbage-client");
    send_bytes(fd, b.data, b.len);
    counters->frames++;
    buf_fini(&b);
    uint16_t status = 0;
    enum ans a = read_answer(fd, WIRE_HELLO, id, 0, &status);
    if (a != ANS_REPLY_OK)
        die("a valid HELLO was not accepted (%s, status %u)",
            a == ANS_CLOSED ? "closed" : a == ANS_TIMEOUT ? "timeout" : "error", status);
}

static int conn_hello(uint8_t kind)
{
    int fd = conn_open();

    hello(fd, kind);
    return fd;
}

/* After every case: a new connection must still get through a HELLO. */
static void probe(void)
{
    for (int attempt = 0;; attempt++) {
        int fd = sock_connect(opt_host, opt_port, IO_TIMEOUT_MS);
        int rc = fd < 0 ? fd : sock_hello(fd, opt_cluster, WIRE_NODE_CLIENT, "garbage-probe");
        if (fd >= 0)
            close(fd);
        if (rc == 0)
            return;
        if (attempt == 2) {
            fprintf(stderr, "garbage_client[%s %s:%u] FAIL: after case %ld (group %s: %s) the "
                    "server no longer completes a HELLO on a new connection: %s\n",
                    opt_role, opt_host, opt_port, case_no, group_name, case_desc, err_str(rc));
            dump_input();
            fflush(stderr);
            exit(3);
        }
        usleep(300 * 1000);
    }
}

/* Sample valid bodies of every request type (fields that name nothing real). */
static void sample_body(uint16_t type, struct buf *b)
{
    const uint64_t no_ino = 0x7a7a7a7a7a7aULL; /* no such inode */
    struct wire_blk no_blk = { 0xb0d1e5c0ffee0001ULL, 7 };

    buf_reset(b);
    switch (type) {
    case WIRE_HELLO: {
        struct wire_hello m = { WIRE_VERSION, WIRE_NODE_CLIENT, wire_str_c(opt_cluster),
                                wire_str_c("garbage-sample") };
        wire_hello_encode(b, &m);
        break;
    }
    case WIRE_NN_LOOKUP:
    case WIRE_NN_UNLINK:
    case WIRE_NN_RMDIR: {
        struct wire_nn_name m = { no_ino, wire_str_c("no-such-name") };
        wire_nn_name_encode(b, &m);
        break;
    }
    case WIRE_NN_GETATTR: {
        struct wire_nn_ino m = { no_ino };
        wire_nn_ino_encode(b, &m);
        break;
    }
    case WIRE_NN_SETATTR: {
        struct wire_nn_setattr m = { .ino = no_ino, .valid = WIRE_SET_MODE, .mode = 0600 };
        wire_nn_setattr_encode(b, &m);
        break;
    }
    case WIRE_NN_MKDIR: {
        struct wire_nn_mkdir m = { no_ino, wire_str_c("no-such-dir"), 0755, 0, 0 };
        wire_nn_mkdir_encode(b, &m);
        break;
    }
    case WIRE_NN_CREATE: {
        struct wire_nn_create m = { no_ino, wire_str_c("no-such-file"), 0644, 0, 0, 0, 0, 0 };
        wire_nn_create_encode(b, &m);
        break;
    }
    case WIRE_NN_OPEN: {
        struct wire_nn_open m = { no_ino, WIRE_OPEN_WRITE };
        wire_nn_open_encode(b, &m);
        break;
    }
    case WIRE_NN_RENAME: {
        struct wire_nn_rename m = { no_ino, wire_str_c("a"), no_ino, wire_str_c("b"), 0 };
        wire_nn_rename_encode(b, &m);
        break;
    }
    case WIRE_NN_READDIR: {
        struct wire_nn_readdir m = { no_ino, wire_str_c(""), 100 };
        wire_nn_readdir_encode(b, &m);
        break;
    }
    case WIRE_NN_ADD_BLOCK: {
        struct wire_nn_add_block m = { no_ino, { 0, 0 }, 0 };
        wire_nn_add_block_encode(b, &m);
        break;
    }
    case WIRE_NN_COMPLETE: {
        struct wire_nn_complete m = { no_ino, no_blk, 5 };
        wire_nn_complete_encode(b, &m);
        break;
    }
    case WIRE_NN_GET_BLOCKS: {
        struct wire_nn_get_blocks m = { no_ino, 0, 1 << 20 };
        wire_nn_get_blocks_encode(b, &m);
        break;
    }
    case WIRE_DN_REGISTER: {
        struct wire_dn_register m = {
            { wire_str_c("garbage-dn"), wire_str_c("127.0.0.1"), 1 }, 1 << 30, 0, 1 << 30 };
        wire_dn_register_encode(b, &m);
        break;
    }
    case WIRE_DN_HEARTBEAT: {
        struct wire_dn_heartbeat m = { 1 << 30, 0, 1 << 30, 0 };
        wire_dn_heartbeat_encode(b, &m);
        break;
    }
    case WIRE_DN_BLOCK_REPORT:
    case WIRE_DN_BLOCK_RECEIVED:
    case WIRE_DN_BLOCK_DELETED:
    case WIRE_DN_BLOCK_CORRUPT: {
        struct wire_blk_len e = { no_blk, 4096 };
        wire_dn_blocks_begin(b, type == WIRE_DN_BLOCK_REPORT ? WIRE_REPORT_LAST : 0);
        wire_dn_blocks_put(b, 0, &e);
        wire_dn_blocks_put(b, 0, &e);
        break;
    }
    case WIRE_DN_WRITE_OPEN: {
        struct wire_dn_write_open m = { .blk = no_blk, .target_count = 1 };
        m.targets[0] = (struct wire_dn_addr){ wire_str_c("nobody"), wire_str_c("127.0.0.1"), 1 };
        wire_dn_write_open_encode(b, &m);
        break;
    }
    case WIRE_DN_WRITE_PKT: {
        uint8_t data[100], csums[8];
        memset(data, 0x5a, sizeof(data));
        le_put_u64(csums, csum_chunk(data, sizeof(data)));
        struct wire_dn_write_pkt m = { 0, 0, 0, sizeof(data), data, 1, csums };
        wire_dn_write_pkt_encode(b, &m);
        break;
    }
    case WIRE_DN_READ: {
        struct wire_dn_read m = { no_blk, 0, 4096 };
        wire_dn_read_encode(b, &m);
        break;
    }
    case WIRE_DN_SYNC: {
        struct wire_dn_sync m = { no_blk };
        wire_dn_sync_encode(b, &m);
        break;
    }
    default:
        break; /* unknown types: empty sample */
    }
}

/* Garbage body number v for type: random bytes of assorted lengths, a valid sample cut
 * short, or the sample with a trailing byte. Never a body that decodes to a valid sample. */
static void garbage_body(uint16_t type, int v, struct buf *b)
{
    struct buf sample;
    size_t len;

    buf_init(&sample);
    sample_body(type, &sample);
    buf_reset(b);
    switch (v) {
    case 0:
        len = 0;
        break;
    case 1:
        len = 1;
        break;
    case 2:
        len = 3;
        break;
    case 3:
    case 4:
    case 5:
        len = rng_range(4, 64);
        break;
    case 6:
        len = rng_range(65, 4096);
        break;
    case 7:
        len = rng_range(4097, 100000); /* across the datanode's 64 KiB in-place limit */
        break;
    case 8:
    case 9:
    case 10:
    case 11:
        if (sample.len > 1) { /* cut short */
            len = rng_range(1, (uint32_t)sample.len - 1);
            buf_put(b, sample.data, len);
            buf_fini(&sample);
            return;
        }
        len = rng_range(1, 16);
        break;
    case 12: /* a trailing byte */
        buf_put(b, sample.data, sample.len);
        buf_put_u8(b, (uint8_t)rng_next());
        buf_fini(&sample);
        return;
    default: /* the sample's length, random bytes; or all 0xff (huge counts and lengths) */
        len = sample.len ? sample.len : 24;
        memset(buf_extend(b, len), 0xff, len);
        buf_fini(&sample);
        return;
    }
    rng_fill(buf_extend(b, len), len);
    buf_fini(&sample);
}

static const uint16_t nn_types[] = {
    WIRE_HELLO,           WIRE_NN_LOOKUP,      WIRE_NN_GETATTR,       WIRE_NN_SETATTR,
    WIRE_NN_MKDIR,        WIRE_NN_CREATE,      WIRE_NN_OPEN,          WIRE_NN_UNLINK,
    WIRE_NN_RMDIR,        WIRE_NN_RENAME,      WIRE_NN_READDIR,       WIRE_NN_STATFS,
    WIRE_NN_ADD_BLOCK,    WIRE_NN_COMPLETE,    WIRE_NN_GET_BLOCKS,    WIRE_NN_REPORT,
    WIRE_DN_REGISTER,     WIRE_DN_HEARTBEAT,   WIRE_DN_BLOCK_REPORT,  WIRE_DN_BLOCK_RECEIVED,
    WIRE_DN_BLOCK_DELETED, WIRE_DN_BLOCK_CORRUPT,
};
static const uint16_t dn_types[] = { WIRE_HELLO, WIRE_DN_WRITE_OPEN, WIRE_DN_WRITE_PKT,
                                     WIRE_DN_READ, WIRE_DN_SYNC };
/* Not requests of the server under test (replies, the other daemon's, unused numbers). */
static const uint16_t nn_unknown[] = { 0, 2, 3, 9, 11, 39, 40, 59, 61, 80, 82, 84, 86, 100,
                                       127, 128, 255, 4096, 0x7fff, 0xfffe, 0xffff };
static const uint16_t dn_unknown[] = { 0, 2, 3, 10, 30, 38, 60, 62, 64, 79, 81, 83, 85, 87,
                                       88, 127, 128, 255, 4096, 0x7fff, 0xfffe, 0xffff };

/* The node kind to say HELLO as, for a request of type (the namenode checks roles). */
static uint8_t kind_for(uint16_t type, int v)
{
    if (is_nn && type >= WIRE_DN_REGISTER && type <= WIRE_DN_BLOCK_DELETED)
        return v % 3 == 2 ? WIRE_NODE_CLIENT : WIRE_NODE_DATANODE;
    return is_nn && v % 4 == 3 ? WIRE_NODE_DATANODE : WIRE_NODE_CLIENT;
}

/* ---- group A: raw random bytes ---- */

static void group_random_bytes(void)
{
    group_begin("A-random-bytes");
    static const size_t sizes[] = { 256 * 1024, 31, 4096, 256 * 1024 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int after_hello = 0; after_hello < 2; after_hello++) {
            if (!case_begin("%zu random bytes%s%s", sizes[i],
                            i == 2   ? " after the magic"
                            : i == 3 ? " after the magic and version"
                                     : "",
                            after_hello ? " after HELLO" : ""))
                continue;
            size_t len = sizes[i];
            uint8_t *p = malloc(len);
            rng_fill(p, len);
            if (i == 2)
                le_put_u32(p, WIRE_MAGIC);
            if (i == 3) { /* a header with a correct magic and version, the rest random */
                le_put_u32(p, WIRE_MAGIC);
                le_put_u16(p + 4, WIRE_VERSION);
            }
            int fd = after_hello ? conn_hello(WIRE_NODE_CLIENT) : conn_open();
            send_bytes(fd, p, len);
            if (len < WIRE_HDR_LEN)
                expect_quiet(fd, "fewer bytes than a header");
            else
                expect_close(fd, 0, 0, "random bytes");
            close(fd);
            free(p);
            probe();
        }
    }
    group_end();
}

/* ---- group B: bad headers ---- */

/* COUNT requests (type, body) on one connection, then a header with a wrong checksum, sent
 * without reading while the server can take them, from a socket with a small receive
 * buffer: the replies pile up in the server. Every request must still get its whole reply,
 * in order, before the connection closes. */
static void many_then_bad(uint16_t type, const struct buf *body, int count)
{
    struct buf all;
    uint64_t first = next_req_id;

    buf_init(&all);
    for (int i = 0; i < count; i++)
        frame_make(&all, type, next_req_id++, body->data, body->len);
    uint8_t *h = buf_extend(&all, WIRE_HDR_LEN);
    uint64_t bad_id = next_req_id++;
    hdr_make(h, WIRE_MAGIC, WIRE_VERSION, type, bad_id, 0, csum32(NULL, 0), 0x8000);
    counters->frames += count + 1;

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 64 * 1024;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt_port) };
    struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };
    if (fd < 0 || inet_pton(AF_INET, opt_host, &sa.sin_addr) != 1)
        die("socket or address %s", opt_host);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die("cannot connect: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    hello(fd, WIRE_NODE_CLIENT);
    buf_put(&case_input, all.data, all.len < 4096 ? all.len : 4096);
    case_input_total += all.len;

    /* Send everything; only if the server stops taking bytes (it may push back when replies
     * pile up) read some replies, then go on sending. */
    size_t sent = 0;
    int answered = 0;
    while (sent < all.len) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int n = poll(&pfd, 1, 200);
        if (n > 0) {
            ssize_t w = send(fd, all.data + sent, all.len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                die("send after %zu of %zu bytes: %s (the server closed early?)", sent, all.len,
                    strerror(errno));
            if (w > 0)
                sent += (size_t)w;
            continue;
        }
        for (int k = 0; k < 1000 && answered < count; k++, answered++) {
            if (read_answer(fd, type, first + (uint64_t)answered, 0, NULL) >= ANS_CLOSED)
                die("reply %d of %d: none (closed or timeout) while sending", answered + 1,
                    count);
        }
    }
    usleep(300 * 1000); /* let the server reach the bad header with the replies still queued */
    for (; answered < count; answered++) {
        enum ans a = read_answer(fd, type, first + (uint64_t)answered, 0, NULL);
        if (a == ANS_CLOSED || a == ANS_TIMEOUT)
            die("only %d of %d pipelined %s requests were answered before a bad header "
                "behind them closed the connection (%s)",
                answered, count, wire_type_name(type), a == ANS_CLOSED ? "closed" : "timeout");
    }
    expect_close(fd, type, bad_id, "bad header after many requests");
    close(fd);
    buf_fini(&all);
}

static void group_bad_headers(void)
{
    group_begin("B-bad-headers");
    static const char *const what[] = { "wrong magic", "wrong header checksum", "version 0",
                                        "wrong body checksum", "magic byte-swapped",
                                        "header checksum of another header" };
    struct buf body;

    buf_init(&body);
    for (size_t w = 0; w < sizeof(what) / sizeof(what[0]); w++) {
        for (int after_hello = 0; after_hello < 2; after_hello++) {
            if (!case_begin("%s%s", what[w], after_hello ? " after HELLO" : ""))
                continue;
            uint16_t type = after_hello ? (is_nn ? WIRE_NN_STATFS : WIRE_DN_READ) : WIRE_HELLO;
            sample_body(type, &body);
            uint32_t bcsum = csum32(body.data, body.len);
            uint64_t id = next_req_id++;
            uint8_t h[WIRE_HDR_LEN];
            switch (w) {
            case 0:
                hdr_make(h, WIRE_MAGIC ^ (uint32_t)rng_range(1, 0xffffff), WIRE_VERSION, type,
                         id, (uint32_t)body.len, bcsum, 0);
                break;
            case 1:
                hdr_make(h, WIRE_MAGIC, WIRE_VERSION, type, id, (uint32_t)body.len, bcsum,
                         1u << rng_range(0, 31));
                break;
            case 2:
                hdr_make(h, WIRE_MAGIC, 0, type, id, (uint32_t)body.len, bcsum, 0);
                break;
            case 3:
                if (body.len == 0) { /* a body to be wrong about */
                    buf_put_u64(&body, rng_next());
                    bcsum = csum32(body.data, body.len);
                }
                hdr_make(h, WIRE_MAGIC, WIRE_VERSION, type, id, (uint32_t)body.len,
                         bcsum ^ (1u << rng_range(0, 31)), 0);
                break;
            case 4:
                hdr_make(h, __builtin_bswap32(WIRE_MAGIC), WIRE_VERSION, type, id,
                         (uint32_t)body.len, bcsum, 0);
                break;
            default: { /* the checksum field of a different (valid) header */
                uint8_t other[WIRE_HDR_LEN];
                hdr_make(other, WIRE_MAGIC, WIRE_VERSION, type, id + 1, (uint32_t)body.len,
                         bcsum, 0);
                hdr_make(h, WIRE_MAGIC, WIRE_VERSION, type, id, (uint32_t)body.len, bcsum, 0);
                memcpy(h + 28, other + 28, 4);
                break;
            }
            }
            int fd = after_hello ? conn_hello(kind_for(type, 0)) : conn_open();
            send_bytes(fd, h, sizeof(h));
            send_bytes(fd, body.data, body.len);
            counters->frames++;
            expect_close(fd, type, id, what[w]);
            close(fd);
            probe();
        }
    }
    /* A valid request and a bad header in one write: the request is answered, then the
     * connection closed. */
    for (size_t w = 0; w < 3; w++) {
        if (!case_begin("a valid request, then %s in the same segment", what[w]))
            continue;
        uint16_t type = is_nn ? WIRE_NN_STATFS : WIRE_DN_SYNC;
        struct buf all;
        buf_init(&all);
        sample_body(type, &body);
        uint64_t id = next_req_id++;
        frame_make(&all, type, id, body.data, body.len);
        uint8_t *h = buf_extend(&all, WIRE_HDR_LEN);
        hdr_make(h, w == 0 ? WIRE_MAGIC ^ 0x100 : WIRE_MAGIC, w == 2 ? 0 : WIRE_VERSION, type,
                 id + 1, 0, csum32(NULL, 0), w == 1 ? 0x80 : 0);
        int fd = conn_hello(WIRE_NODE_CLIENT);
        send_bytes(fd, all.data, all.len);
        counters->frames += 2;
        enum ans a = read_answer(fd, type, id, 0, NULL);
        if (a == ANS_TIMEOUT || a == ANS_CLOSED)
            die("the valid request before the bad header got %s",
                a == ANS_TIMEOUT ? "no answer" : "no answer (closed)");
        expect_close(fd, type, id + 1, "bad header after a valid request");
        close(fd);
        buf_fini(&all);
        probe();
    }
    if (case_begin("%d well-formed requests pipelined (each gets an answer), then a wrong "
                   "header checksum; replies read late", 200000)) {
        /* answered without a log line: STATFS by the namenode, an unknown type (an error
         * reply) by a datanode */
        uint16_t type = is_nn ? WIRE_NN_STATFS : 0x7fff;
        buf_reset(&body);
        many_then_bad(type, &body, 200000);
        probe();
    }
    buf_fini(&body);
    group_end();
}

/* ---- group C: body sizes ---- */

static void group_body_sizes(void)
{
    group_begin("C-body-sizes");
    static const uint32_t too_big[] = { WIRE_BODY_MAX + 1, 0x7fffffff, 0xffffffff };
    uint16_t types[3] = { WIRE_HELLO, is_nn ? WIRE_NN_CREATE : WIRE_DN_WRITE_PKT,
                          is_nn ? WIRE_DN_BLOCK_REPORT : WIRE_DN_READ };

    /* body_len over the cap: refused at the header, before any body byte */
    for (size_t i = 0; i < 3; i++) {
        for (int t = 0; t < 3; t++) {
            if (!case_begin("body_len %u announced for %s, no body sent", too_big[i],
                            wire_type_name(types[t])))
                continue;
            uint64_t id = next_req_id++;
            uint8_t h[WIRE_HDR_LEN];
            hdr_make(h, WIRE_MAGIC, WIRE_VERSION, types[t], id, too_big[i],
                     (uint32_t)rng_next(), 0);
            int fd = t == 0 ? conn_open() : conn_hello(kind_for(types[t], 0));
            send_bytes(fd, h, sizeof(h));
            counters->frames++;
            expect_close(fd, types[t], id, "oversized body_len");
            close(fd);
            probe();
        }
    }
    /* bodies that never come: part of the body, a pause, then hang up (FIN or RST) */
    static const uint32_t lens[][2] = { { 1000, 500 },          { 70000, 40000 },
                                        { WIRE_BODY_MAX, 100000 }, { WIRE_BODY_MAX, 0 },
                                        { 65537, 65536 },       { 8, 7 } };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int t = 0; t < 3; t++) {
            int rst = (int)(i + (size_t)t) % 2;
            if (!case_begin("body_len %u for %s, %u body bytes sent, then %s", lens[i][0],
                            wire_type_name(types[t]), lens[i][1], rst ? "RST" : "FIN"))
                continue;
            uint64_t id = next_req_id++;
            uint8_t *body = malloc(lens[i][1] + 1);
            rng_fill(body, lens[i][1]);
            uint8_t h[WIRE_HDR_LEN];
            hdr_make(h, WIRE_MAGIC, WIRE_VERSION, types[t], id, lens[i][0],
                     (uint32_t)rng_next(), 0);
            int fd = t == 0 ? conn_open() : conn_hello(kind_for(types[t], 0));
            send_bytes(fd, h, sizeof(h));
            send_bytes(fd, body, lens[i][1]);
            counters->frames++;
            expect_quiet(fd, "incomplete body");
            if (rst)
                conn_reset(fd);
            else
                close(fd);
            free(body);
            probe();
        }
    }
    /* a HELLO and a request, one byte per segment: answered normally */
    if (case_begin("a HELLO and a request sent one byte at a time")) {
        struct buf all, body;
        buf_init(&all);
        buf_init(&body);
        uint16_t type = is_nn ? WIRE_NN_STATFS : WIRE_DN_SYNC;
        uint64_t hid = next_req_id++, id = next_req_id++;
        wire_hello_frame(&all, WIRE_HELLO, hid, WIRE_NODE_CLIENT, opt_cluster, "garbage-slow");
        sample_body(type, &body);
        frame_make(&all, type, id, body.data, body.len);
        counters->frames += 2;
        int fd = conn_open();
        for (size_t i = 0; i < all.len; i++) {
            send_bytes(fd, all.data + i, 1);
            if (i % 8 == 7)
                usleep(200);
        }
        if (read_answer(fd, WIRE_HELLO, hid, 0, NULL) != ANS_REPLY_OK)
            die("a HELLO sent byte by byte was not accepted");
        enum ans a = read_answer(fd, type, id, 0, NULL);
        if (a == ANS_TIMEOUT || a == ANS_CLOSED)
            die("a request sent byte by byte got no answer");
        close(fd);
        buf_fini(&all);
        buf_fini(&body);
        probe();
    }
    /* a full WIRE_BODY_MAX random body with correct checksums */
    for (int t = 0; t < 3; t++) {
        if (!case_begin("%u random body bytes (the cap) for %s", WIRE_BODY_MAX,
                        wire_type_name(types[t])))
            continue;
        uint64_t id = next_req_id++;
        uint8_t *body = malloc(WIRE_BODY_MAX);
        rng_fill(body, WIRE_BODY_MAX);
        int fd = t == 0 ? conn_open() : conn_hello(kind_for(types[t], 0));
        send_frame(fd, types[t], id, body, WIRE_BODY_MAX);
        enum ans a = read_answer(fd, types[t], id, 0, NULL);
        if (a == ANS_TIMEOUT)
            die("a complete %u-byte frame got neither an answer nor a close", WIRE_BODY_MAX);
        if (a == ANS_REPLY_OK)
            die("a random %u-byte body was accepted", WIRE_BODY_MAX);
        close(fd);
        free(body);
        probe();
    }
    group_end();
}

/* ---- group D: typed garbage ---- */

/* One garbage frame of type (variant v) on a fresh connection, after HELLO unless pre_hello. */
static void typed_one(uint16_t type, int v, int pre_hello)
{
    struct buf body;
    uint16_t status = 0;

    buf_init(&body);
    garbage_body(type, v, &body);
    uint64_t id = next_req_id++;
    int fd = pre_hello ? conn_open() : conn_hello(kind_for(type, v));
    send_frame(fd, type, id, body.data, body.len);
    enum ans a = read_answer(fd, type, id, 0, &status);
    if (a == ANS_TIMEOUT)
        die("a complete frame (type %u, %zu-byte body) got neither an answer nor a close "
            "within %d ms",
            type, body.len, IO_TIMEOUT_MS);
    if (pre_hello && a == ANS_REPLY_OK && type != WIRE_HELLO)
        die("a %s before HELLO was answered with success", wire_type_name(type));
    /* Still open: one more valid HELLO-free request must get an answer or a close too. */
    if (a == ANS_REPLY_OK || a == ANS_REPLY_ERR) {
        uint64_t id2 = next_req_id++;
        uint16_t t2 = is_nn ? WIRE_NN_STATFS : WIRE_DN_SYNC;
        struct buf s;
        buf_init(&s);
        sample_body(t2, &s);
        send_frame(fd, t2, id2, s.data, s.len);
        a = read_answer(fd, t2, id2, 0, &status);
        if (a == ANS_TIMEOUT)
            die("after that answer, a follow-up %s got neither an answer nor a close",
                wire_type_name(t2));
        buf_fini(&s);
    }
    close(fd);
    buf_fini(&body);
}

/* Every variant of type pipelined on one connection: answers must come in request order. */
static void typed_pipelined(uint16_t type)
{
    struct buf all, body;
    uint64_t ids[VARIANTS];

    buf_init(&all);
    buf_init(&body);
    int fd = conn_hello(kind_for(type, 0));
    for (int v = 0; v < VARIANTS; v++) {
        garbage_body(type, v, &body);
        ids[v] = next_req_id++;
        frame_make(&all, type, ids[v], body.data, body.len);
        counters->frames++;
    }
    send_bytes(fd, all.data, all.len);
    for (int v = 0; v < VARIANTS; v++) {
        enum ans a = read_answer(fd, type, ids[v], 0, NULL);
        if (a == ANS_CLOSED)
            break;
        if (a == ANS_TIMEOUT)
            die("pipelined frame %d of %d (type %u) got neither an answer nor a close", v + 1,
                VARIANTS, type);
    }
    close(fd);
    buf_fini(&all);
    buf_fini(&body);
}

/* BURST garbage frames of one type in one write, then every answer, in order. */
enum { BURST = 2000 };
static void typed_burst(uint16_t type)
{
    struct buf all, body;
    uint64_t first = next_req_id;

    buf_init(&all);
    buf_init(&body);
    for (int i = 0; i < BURST; i++) {
        garbage_body(type, 1 + i % 6, &body); /* short bodies, mostly undecodable */
        frame_make(&all, type, next_req_id++, body.data, body.len);
        counters->frames++;
    }
    int fd = conn_hello(WIRE_NODE_CLIENT);
    send_bytes(fd, all.data, all.len);
    for (int i = 0; i < BURST; i++) {
        enum ans a = read_answer(fd, type, first + (uint64_t)i, 0, NULL);
        if (a == ANS_TIMEOUT || a == ANS_CLOSED)
            die("frame %d of a burst of %d %s got %s", i + 1, BURST, wire_type_name(type),
                a == ANS_TIMEOUT ? "no answer" : "a closed connection");
    }
    close(fd);
    buf_fini(&all);
    buf_fini(&body);
}

static void group_typed(void)
{
    const uint16_t *types = is_nn ? nn_types : dn_types;
    size_t ntypes = is_nn ? sizeof(nn_types) / sizeof(nn_types[0])
                          : sizeof(dn_types) / sizeof(dn_types[0]);
    const uint16_t *unk = is_nn ? nn_unknown : dn_unknown;
    size_t nunk = is_nn ? sizeof(nn_unknown) / sizeof(nn_unknown[0])
                        : sizeof(dn_unknown) / sizeof(dn_unknown[0]);

    group_begin("D-typed-garbage");
    for (size_t i = 0; i < ntypes + nunk; i++) {
        uint16_t type = i < ntypes ? types[i] : unk[i - ntypes];
        if (is_handled(type) != (i < ntypes))
            die("internal: type table");
        for (int v = 0; v < VARIANTS; v++) {
            if (case_begin("type %u (%s) garbage body variant %d after HELLO", type,
                           wire_type_name(type), v)) {
                typed_one(type, v, 0);
                probe();
            }
        }
        if (case_begin("type %u (%s) random body as the first frame", type,
                       wire_type_name(type))) {
            typed_one(type, 3, 1);
            probe();
        }
        if (case_begin("type %u (%s): %d garbage frames pipelined", type, wire_type_name(type),
                       VARIANTS)) {
            typed_pipelined(type);
            probe();
        }
    }
    uint16_t bt = is_nn ? WIRE_NN_LOOKUP : WIRE_DN_SYNC;
    if (case_begin("%d garbage %s frames in one burst", BURST, wire_type_name(bt))) {
        typed_burst(bt);
        probe();
    }
    group_end();
}

/* ---- group E: connection churn ---- */

static void group_churn(void)
{
    group_begin("E-churn");
    if (case_begin("%d connections opened and dropped, %d at a time", CHURN_CONNS,
                   CHURN_BATCH)) {
        struct buf hb;
        buf_init(&hb);
        wire_hello_frame(&hb, WIRE_HELLO, 1, WIRE_NODE_CLIENT, opt_cluster, "garbage-churn");
        for (int done = 0; done < CHURN_CONNS; done += CHURN_BATCH) {
            int fds[CHURN_BATCH];
            for (int k = 0; k < CHURN_BATCH; k++) {
                fds[k] = conn_open();
                switch ((done + k) % 6) {
                case 0: /* nothing */
                    break;
                case 1: /* half a header */
                case 4:
                    send_bytes(fds[k], hb.data, WIRE_HDR_LEN / 2);
                    break;
                case 2: /* a whole HELLO, reply never read */
                    send_bytes(fds[k], hb.data, hb.len);
                    counters->frames++;
                    break;
                case 3: /* a HELLO and half of the next header */
                    send_bytes(fds[k], hb.data, hb.len);
                    send_bytes(fds[k], hb.data, 20);
                    counters->frames++;
                    break;
                default: /* one random byte */
                    send_bytes(fds[k], (uint8_t[]){ (uint8_t)rng_next() }, 1);
                    break;
                }
            }
            for (int k = 0; k < CHURN_BATCH; k++) {
                if ((done + k) % 2)
                    conn_reset(fds[k]);
                else
                    close(fds[k]);
            }
        }
        buf_fini(&hb);
        probe();
    }
    group_end();
}

/* ---- group F: well-formed frames with hostile fields ---- */

static void nn_request(uint16_t type, const struct buf *body, const char *what)
{
    uint64_t id = next_req_id++;
    int fd = conn_hello(WIRE_NODE_CLIENT);

    send_frame(fd, type, id, body->data, body->len);
    enum ans a = read_answer(fd, type, id, 0, NULL);
    if (a == ANS_TIMEOUT || a == ANS_CLOSED)
        die("%s: a well-formed %s got %s", what, wire_type_name(type),
            a == ANS_TIMEOUT ? "no answer" : "a closed connection");
    close(fd);
}

/* A request, then a half-close: the peer is done sending, not reading, so the reply (after
 * the request's commit) must still come, and then the close. */
static void nn_request_then_half_close(uint16_t type, const struct buf *body, const char *what)
{
    uint64_t id = next_req_id++;
    int fd = conn_hello(WIRE_NODE_CLIENT);

    send_frame(fd, type, id, body->data, body->len);
    if (shutdown(fd, SHUT_WR) < 0)
        die("shutdown: %s", strerror(errno));
    if (read_answer(fd, type, id, 0, NULL) != ANS_REPLY_OK)
        die("%s: a %s before a half-close got no reply", what, wire_type_name(type));
    expect_close(fd, type, id + 1, "half-close after a request");
    close(fd);
}

static uint64_t nn_lookup_ino(const char *name)
{
    struct buf b, st;
    struct wire_frame f;
    struct wire_attr attr;
    struct wire_nn_name m = { 1, wire_str_c(name) };
    uint64_t id = next_req_id++;
    int fd = conn_hello(WIRE_NODE_CLIENT);

    buf_init(&b);
    buf_init(&st);
    size_t start = wire_frame_begin(&b);
    wire_nn_name_encode(&b, &m);
    wire_frame_end(&b, start, WIRE_NN_LOOKUP, id, 0);
    if (sock_rpc(fd, &b, WIRE_NN_LOOKUP, id, &st, &f) < 0 ||
        wire_attr_decode(f.body, f.hdr.body_len, &attr) < 0)
        die("cannot look up /%s", name);
    close(fd);
    buf_fini(&b);
    buf_fini(&st);
    return attr.ino;
}

static void group_hostile_nn(void)
{
    struct buf b;
    uint64_t victim = opt_victim ? nn_lookup_ino(opt_victim) : 1;
    const uint64_t inos[] = { 0, 1, victim, UINT64_MAX, victim + 1000000 };
    const uint64_t offs[][2] = { { 0, 0 },
                                 { 0, UINT64_MAX },
                                 { UINT64_MAX, 1 },
                                 { UINT64_MAX - 1, UINT64_MAX },
                                 { 1ULL << 63, 1ULL << 63 },
                                 { 12345, 1 },
                                 { (uint64_t)1 << 40, 4096 } };

    group_begin("F-hostile-fields");
    buf_init(&b);
    for (size_t i = 0; i < sizeof(inos) / sizeof(inos[0]); i++) {
        for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            if (!case_begin("NN_GET_BLOCKS ino %" PRIu64 " offset %" PRIu64 " len %" PRIu64,
                            inos[i], offs[k][0], offs[k][1]))
                continue;
            struct wire_nn_get_blocks m = { inos[i], offs[k][0], offs[k][1] };
            buf_reset(&b);
            wire_nn_get_blocks_encode(&b, &m);
            nn_request(WIRE_NN_GET_BLOCKS, &b, "get_blocks");
            probe();
        }
        static const uint32_t maxes[] = { 0, 1, UINT32_MAX };
        for (size_t k = 0; k < 3; k++) {
            if (!case_begin("NN_READDIR ino %" PRIu64 " max %u", inos[i], maxes[k]))
                continue;
            struct wire_nn_readdir m = { inos[i], wire_str_c(k == 1 ? "\xff\xff" : ""),
                                         maxes[k] };
            buf_reset(&b);
            wire_nn_readdir_encode(&b, &m);
            nn_request(WIRE_NN_READDIR, &b, "readdir");
            probe();
        }
        if (case_begin("NN_GETATTR ino %" PRIu64, inos[i])) {
            struct wire_nn_ino m = { inos[i] };
            buf_reset(&b);
            wire_nn_ino_encode(&b, &m);
            nn_request(WIRE_NN_GETATTR, &b, "getattr");
            probe();
        }
        if (case_begin("NN_LOOKUP parent %" PRIu64 " of a 255-byte name", inos[i])) {
            char name[256];
            memset(name, 'q', 255);
            name[255] = 0;
            struct wire_nn_name m = { inos[i], wire_str_c(name) };
            buf_reset(&b);
            wire_nn_name_encode(&b, &m);
            nn_request(WIRE_NN_LOOKUP, &b, "lookup");
            probe();
        }
    }
    if (case_begin("NN_GETATTR of the victim, then a half-close")) {
        struct wire_nn_ino m = { victim };
        buf_reset(&b);
        wire_nn_ino_encode(&b, &m);
        nn_request_then_half_close(WIRE_NN_GETATTR, &b, "getattr");
        probe();
    }
    /* names a decoder must refuse: the frame gets an error, the namespace no change */
    static const char *const bad_names[] = { "", ".", "..", "a/b", "/" };
    for (size_t k = 0; k < sizeof(bad_names) / sizeof(bad_names[0]); k++) {
        if (!case_begin("NN_MKDIR in the root named \"%s\"", bad_names[k]))
            continue;
        struct wire_nn_mkdir m = { 1, wire_str_c(bad_names[k]), 0755, 0, 0 };
        buf_reset(&b);
        wire_nn_mkdir_encode(&b, &m);
        uint64_t id = next_req_id++;
        int fd = conn_hello(WIRE_NODE_CLIENT);
        send_frame(fd, WIRE_NN_MKDIR, id, b.data, b.len);
        enum ans a = read_answer(fd, WIRE_NN_MKDIR, id, 0, NULL);
        if (a != ANS_REPLY_ERR && a != ANS_CLOSED)
            die("mkdir of a bad name: %s", a == ANS_REPLY_OK ? "accepted" : "no answer");
        close(fd);
        probe();
    }
    buf_fini(&b);
    group_end();
}

/* DN_READ of blk at off/len; the data that comes back is checked against the file. */
static void dn_read_case(struct wire_blk blk, uint64_t off, uint64_t len)
{
    struct buf b;
    struct wire_dn_read m = { blk, off, len };
    uint64_t id = next_req_id++;
    int fd = conn_hello(WIRE_NODE_CLIENT);

    buf_init(&b);
    wire_dn_read_encode(&b, &m);
    send_frame(fd, WIRE_DN_READ, id, b.data, b.len);
    enum ans a = read_answer(fd, WIRE_DN_READ, id, off, NULL);
    if (a == ANS_TIMEOUT || a == ANS_CLOSED)
        die("a well-formed DN_READ got %s", a == ANS_TIMEOUT ? "no answer" : "a close");
    close(fd);
    buf_fini(&b);
}

/* A read of the real block with a write of a made-up block pipelined behind it (its open and
 * one packet, LAST or not), then a half-close. The read's reply must come whole, then the
 * open's answer; a write missing packets can never finish and must end with a close, one
 * whose LAST arrived finishes with a success ack first. Never a connection left hanging. */
static void dn_write_behind_read_then_half_close(struct wire_blk blk, int with_last)
{
    static uint8_t data[CSUM_CHUNK_SIZE];
    uint8_t csums[8];
    struct buf all, b;
    struct wire_blk wblk = { 0xbe41dc105e000000ULL | (uint64_t)(case_no & 0xffff), 1 };
    struct wire_dn_read rd = { blk, 0, UINT64_MAX };
    struct wire_dn_write_open open = { .blk = wblk, .target_count = 0 };
    uint64_t read_id = next_req_id++, open_id = next_req_id++, pkt_id = next_req_id++;

    buf_init(&all);
    buf_init(&b);
    rng_fill(data, sizeof(data));
    le_put_u64(csums, csum_chunk(data, sizeof(data)));
    wire_dn_read_encode(&b, &rd);
    frame_make(&all, WIRE_DN_READ, read_id, b.data, b.len);
    buf_reset(&b);
    wire_dn_write_open_encode(&b, &open);
    frame_make(&all, WIRE_DN_WRITE_OPEN, open_id, b.data, b.len);
    buf_reset(&b);
    struct wire_dn_write_pkt pkt = { 0, 0, with_last ? WIRE_PKT_LAST : 0, sizeof(data), data, 1,
                                     csums };
    wire_dn_write_pkt_encode(&b, &pkt);
    frame_make(&all, WIRE_DN_WRITE_PKT, pkt_id, b.data, b.len);
    counters->frames += 3;
    int fd = conn_hello(WIRE_NODE_CLIENT);
    send_bytes(fd, all.data, all.len);
    if (shutdown(fd, SHUT_WR) < 0)
        die("shutdown: %s", strerror(errno));
    if (read_answer(fd, WIRE_DN_READ, read_id, 0, NULL) != ANS_REPLY_OK)
        die("the read before a pipelined write and a half-close did not complete");
    enum ans a = read_answer(fd, WIRE_DN_WRITE_OPEN, open_id, 0, NULL);
    if (a == ANS_TIMEOUT)
        die("the write's open behind a read and a half-close got no answer");
    if (a == ANS_REPLY_OK) {
        enum ans pa = read_answer(fd, WIRE_DN_WRITE_PKT, pkt_id, 0, NULL);
        if (pa == ANS_TIMEOUT)
            die("the packet of a write behind a read and a half-close got no answer");
        if (with_last && (pa != ANS_REPLY_OK || last_ack.status != 0))
            die("a whole write (LAST sent) behind a read and a half-close was not acked");
    }
    expect_close(fd, WIRE_DN_WRITE_PKT, pkt_id + 1, "half-close with a write behind a read");
    close(fd);
    buf_fini(&all);
    buf_fini(&b);
}

/* A write of a made-up block: DN_WRITE_OPEN (0 targets), then the packets in pkts. */
static void dn_bogus_write(int variant)
{
    struct buf b, all;
    struct wire_blk blk = { 0xb0d1e5c0ffee0000ULL | (uint64_t)(case_no & 0xffff), 1 };
    struct wire_dn_write_open open = { .blk = blk, .target_count = 0 };
    uint64_t open_id = next_req_id++;
    uint8_t data[4096], csums[8];
    uint16_t status = 0;

    buf_init(&b);
    buf_init(&all);
    rng_fill(data, sizeof(data));
    le_put_u64(csums, csum_chunk(data, 4096) ^ (variant == 2 ? 1 : 0)); /* 2: bad csum */
    wire_dn_write_open_encode(&b, &open);
    frame_make(&all, WIRE_DN_WRITE_OPEN, open_id, b.data, b.len);
    counters->frames++;
    uint64_t pkt_id = next_req_id++;
    uint16_t pkt_type = WIRE_DN_WRITE_PKT;
    buf_reset(&b);
    struct wire_dn_write_pkt pkt = { 0, 0, 0, 4096, data, 1, csums };
    switch (variant) {
    case 0: /* random body */
        rng_fill(buf_extend(&b, 300), 300);
        break;
    case 1: /* offset not where the replica ends */
        pkt.offset = 4096;
        wire_dn_write_pkt_encode(&b, &pkt);
        break;
    case 2: /* chunk checksum mismatch (LAST: would finalize if accepted) */
        pkt.flags = WIRE_PKT_LAST;
        wire_dn_write_pkt_encode(&b, &pkt);
        break;
    case 3: /* a seq from the future */
        pkt.seq = 5;
        wire_dn_write_pkt_encode(&b, &pkt);
        break;
    case 4: /* offset not on a chunk boundary */
        pkt.offset = 100;
        wire_dn_write_pkt_encode(&b, &pkt);
        break;
    case 5: /* a second open while the first is open */
        pkt_type = WIRE_DN_WRITE_OPEN;
        wire_dn_write_open_encode(&b, &open);
        break;
    case 6: /* a read while writing */
        pkt_type = WIRE_DN_READ;
        wire_dn_read_encode(&b, &(struct wire_dn_read){ blk, 0, 4096 });
        break;
    case 7: { /* a packet at the size cap, random */
        size_t n = WIRE_BODY_MAX;
        rng_fill(buf_extend(&b, n), n);
        break;
    }
    case 8: /* a packet cut short */
        wire_dn_write_pkt_encode(&b, &pkt);
        b.len = rng_range(1, (uint32_t)b.len - 1);
        break;
    default: /* nothing: hang up with the replica open */
        break;
    }
    if (variant <= 8) {
        frame_make(&all, pkt_type, pkt_id, b.data, b.len);
        counters->frames++;
    }
    int fd = conn_hello(WIRE_NODE_CLIENT);
    send_bytes(fd, all.data, all.len);
    enum ans a = read_answer(fd, WIRE_DN_WRITE_OPEN, open_id, 0, &status);
    if (a == ANS_TIMEOUT)
        die("DN_WRITE_OPEN of a new block got no answer");
    if (a == ANS_REPLY_ERR)
        die("DN_WRITE_OPEN of a new block with no targets was refused (status %u)", status);
    if (a == ANS_REPLY_OK && variant <= 8) {
        a = read_answer(fd, pkt_type, pkt_id, 0, &status);
        if (a == ANS_TIMEOUT)
            die("the bad %s after an open got neither an answer nor a close",
                wire_type_name(pkt_type));
        if (a == ANS_REPLY_OK && pkt_type == WIRE_DN_WRITE_PKT && last_ack.status == 0)
            die("a bad packet (variant %d) was acknowledged as written (seq %" PRIu64 ")",
                variant, last_ack.seq);
        if (a == ANS_REPLY_OK && pkt_type != WIRE_DN_WRITE_PKT)
            die("%s while a write is open was answered with success",
                wire_type_name(pkt_type));
    }
    if (variant % 2)
        conn_reset(fd);
    else
        close(fd);
    buf_fini(&b);
    buf_fini(&all);
}

/* A write of a made-up block whose pipeline points at target_port (127.0.0.1) n times. */
static void dn_bogus_pipeline(uint16_t target_port, uint32_t n)
{
    struct buf b;
    struct wire_blk blk = { 0xb0d1e5c0ffee0000ULL | (uint64_t)(case_no & 0xffff), 1 };
    struct wire_dn_write_open open = { .blk = blk, .target_count = n };
    uint64_t id = next_req_id++;

    for (uint32_t i = 0; i < n; i++)
        open.targets[i] = (struct wire_dn_addr){ wire_str_c("garbage-target"),
                                                 wire_str_c("127.0.0.1"), target_port };
    buf_init(&b);
    wire_dn_write_open_encode(&b, &open);
    int fd = conn_hello(WIRE_NODE_CLIENT);
    send_frame(fd, WIRE_DN_WRITE_OPEN, id, b.data, b.len);
    enum ans a = read_answer(fd, WIRE_DN_WRITE_OPEN, id, 0, NULL);
    if (a == ANS_TIMEOUT)
        die("DN_WRITE_OPEN with targets 127.0.0.1:%u x%u: no answer within %d ms", target_port,
            n, IO_TIMEOUT_MS);
    close(fd);
    buf_fini(&b);
}

/* ---- group G: a datanode's downstream answers with garbage ---- */

/* A listening socket on 127.0.0.1 (ephemeral port in *port). */
static int fake_listen(uint16_t *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        die("fake downstream: cannot listen: %s", strerror(errno));
    *port = ntohs(sa.sin_port);
    return fd;
}

static int fake_accept(int lfd)
{
    struct pollfd pfd = { .fd = lfd, .events = POLLIN };
    struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };

    if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1)
        die("the datanode did not connect to its downstream (this helper) within %d ms",
            IO_TIMEOUT_MS);
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        die("accept: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Reads the next frame the datanode sends downstream; it must be of type want. */
static void fake_expect(int fd, uint16_t want, struct wire_frame *f, struct buf *st)
{
    snprintf(reading_what, sizeof(reading_what), "%s the datanode sends downstream",
             wire_type_name(want));
    int rc = read_frame(fd, st, f, IO_TIMEOUT_MS);
    if (rc != RD_FRAME)
        die("downstream: expected %s from the datanode, got %s", wire_type_name(want),
            rc == RD_CLOSED ? "a close" : "nothing");
    if (f->hdr.type != want)
        die("downstream: expected %s from the datanode, got type %u", wire_type_name(want),
            f->hdr.type);
}

/* Sends a reply frame (any type, status, body) downstream -> datanode. */
static void fake_send(int fd, uint16_t type, uint64_t req_id, uint16_t status, const void *body,
                      size_t len)
{
    struct buf b;

    buf_init(&b);
    size_t start = wire_frame_begin(&b);
    buf_put(&b, body, len);
    wire_frame_end(&b, start, type, req_id, status);
    send_bytes(fd, b.data, b.len);
    counters->frames++;
    buf_fini(&b);
}

static void fake_ack(int fd, uint64_t req_id, uint64_t seq, uint16_t status, uint8_t failed_idx)
{
    struct buf b;
    struct wire_dn_write_ack ack = { seq, status, failed_idx };

    buf_init(&b);
    wire_dn_write_ack_encode(&b, &ack);
    fake_send(fd, WIRE_DN_WRITE_ACK, req_id, 0, b.data, b.len);
    buf_fini(&b);
}

enum { BAD_DOWN_VARIANTS = 18 };
static const char *const bad_down_what[BAD_DOWN_VARIANTS] = {
    "random bytes instead of HELLO_OK",
    "a header with a wrong checksum",
    "a HELLO_OK header announcing a body over the cap",
    "HELLO_OK with an error status",
    "HELLO_OK with a random body, then a close",
    "a close right after HELLO_OK",
    "WRITE_OPEN_OK with the wrong req_id and a random body, then a close",
    "WRITE_OPEN_OK twice",
    "an ack with a random body",
    "an ack of a seq never sent",
    "an ack carrying an error, failed_idx 254",
    "an ack carrying an error, failed_idx 255 (none)",
    "a DN_READ_DATA instead of an ack",
    "an ack with a header error status",
    "half an ack, then a close",
    "an ack before WRITE_OPEN_OK",
    "HELLO_OK of another cluster",
    "HELLO_OK answering another req_id",
};

/* The answer to an open followed at once by a packet: DN_WRITE_OPEN_OK (open_id), or an
 * error DN_WRITE_ACK (pkt_id) in its place (docs/PROTOCOL.md, write pipeline step 2).
 * Returns ANS_REPLY_OK (open answered with success), ANS_REPLY_ERR (the open failed, or the
 * packet failed in its place: *ack_first set), ANS_CLOSED or ANS_TIMEOUT. */
static enum ans read_open_answer(int fd, uint64_t open_id, uint64_t pkt_id, int *ack_first)
{
    struct buf st;
    struct wire_frame f;
    struct wire_dn_write_ack ack;
    enum ans a;

    *ack_first = 0;
    buf_init(&st);
    snprintf(reading_what, sizeof(reading_what), "answer to DN_WRITE_OPEN req %" PRIu64,
             open_id);
    int rc = read_frame(fd, &st, &f, IO_TIMEOUT_MS);
    if (rc != RD_FRAME) {
        buf_fini(&st);
        return rc == RD_CLOSED ? ANS_CLOSED : ANS_TIMEOUT;
    }
    if (f.hdr.status != 0 && f.hdr.body_len != 0)
        die("error reply (status %u, type %u) with a %u-byte body", f.hdr.status, f.hdr.type,
            f.hdr.body_len);
    if (f.hdr.type == WIRE_DN_WRITE_OPEN_OK && f.hdr.req_id == open_id) {
        if (f.hdr.status == 0 && f.hdr.body_len != 0)
            die("DN_WRITE_OPEN_OK with a %u-byte body", f.hdr.body_len);
        a = f.hdr.status == 0 ? ANS_REPLY_OK : ANS_REPLY_ERR;
    } else if (f.hdr.type == WIRE_DN_WRITE_ACK && f.hdr.req_id == pkt_id) {
        *ack_first = 1;
        if (f.hdr.status == 0) {
            if (wire_dn_write_ack_decode(f.body, f.hdr.body_len, &ack) < 0)
                die("DN_WRITE_ACK body does not decode");
            if (ack.status == 0)
                die("a packet was acked with success before its open was answered");
        }
        a = ANS_REPLY_ERR;
    } else {
        die("expected DN_WRITE_OPEN_OK req %" PRIu64 " or an error DN_WRITE_ACK req %" PRIu64
            " in its place, got type %u (%s) req %" PRIu64 " status %u",
            open_id, pkt_id, f.hdr.type, wire_type_name(f.hdr.type), f.hdr.req_id,
            f.hdr.status);
    }
    if (a == ANS_REPLY_OK)
        counters->replies_ok++;
    else
        counters->replies_err++;
    buf_fini(&st);
    return a;
}

/* Client -> datanode: WRITE_OPEN {made-up block, targets [this helper]} and one packet (not
 * LAST); this helper, as the downstream, answers per variant. The datanode must answer the
 * client (an error, or a close) and survive. */
static void dn_bad_downstream(int variant)
{
    struct buf b, st, all;
    struct wire_frame f;
    uint16_t port;
    int lfd = fake_listen(&port);
    struct wire_blk blk = { 0xb0d1e5c0ffee0000ULL | (uint64_t)(case_no & 0xffff), 1 };
    struct wire_dn_write_open open = { .blk = blk, .target_count = 1 };
    static uint8_t data[CSUM_CHUNK_SIZE]; /* one whole chunk: a packet that is not LAST */
    uint8_t csums[8];
    uint64_t open_id = next_req_id++, pkt_id = next_req_id++;

    open.targets[0] =
        (struct wire_dn_addr){ wire_str_c("garbage-down"), wire_str_c("127.0.0.1"), port };
    buf_init(&b);
    buf_init(&st);
    buf_init(&all);
    rng_fill(data, sizeof(data));
    le_put_u64(csums, csum_chunk(data, sizeof(data)));
    wire_dn_write_open_encode(&b, &open);
    frame_make(&all, WIRE_DN_WRITE_OPEN, open_id, b.data, b.len);
    buf_reset(&b);
    struct wire_dn_write_pkt pkt = { 0, 0, 0, sizeof(data), data, 1, csums };
    wire_dn_write_pkt_encode(&b, &pkt);
    frame_make(&all, WIRE_DN_WRITE_PKT, pkt_id, b.data, b.len);
    counters->frames += 2;

    int up = conn_hello(WIRE_NODE_CLIENT);
    send_bytes(up, all.data, all.len);
    int down = fake_accept(lfd);
    fake_expect(down, WIRE_HELLO, &f, &st);
    uint64_t hello_id = f.hdr.req_id;
    struct buf hb;
    buf_init(&hb);
    wire_hello_frame(&hb, WIRE_HELLO_OK, hello_id, WIRE_NODE_DATANODE, opt_cluster,
                     "garbage-down");
    uint8_t junk[4096];
    rng_fill(junk, sizeof(junk));
    uint8_t h[WIRE_HDR_LEN];
    switch (variant) {
    case 0:
        send_bytes(down, junk, sizeof(junk));
        break;
    case 1:
        hdr_make(h, WIRE_MAGIC, WIRE_VERSION, WIRE_HELLO_OK, hello_id, 0, csum32(NULL, 0), 4);
        send_bytes(down, h, sizeof(h));
        break;
    case 2:
        hdr_make(h, WIRE_MAGIC, WIRE_VERSION, WIRE_HELLO_OK, hello_id, 0xfffffff0, 0, 0);
        send_bytes(down, h, sizeof(h));
        break;
    case 3:
        fake_send(down, WIRE_HELLO_OK, hello_id, err_to_wire(-ERR_CLUSTER), NULL, 0);
        break;
    case 4:
        fake_send(down, WIRE_HELLO_OK, hello_id, 0, junk, 77);
        break;
    case 16:
        buf_reset(&hb);
        wire_hello_frame(&hb, WIRE_HELLO_OK, hello_id, WIRE_NODE_DATANODE, "another-cluster",
                         "garbage-down");
        send_bytes(down, hb.data, hb.len);
        break;
    case 17:
        buf_reset(&hb);
        wire_hello_frame(&hb, WIRE_HELLO_OK, hello_id + 1, WIRE_NODE_DATANODE, opt_cluster,
                         "garbage-down");
        send_bytes(down, hb.data, hb.len);
        break;
    default:
        send_bytes(down, hb.data, hb.len);
        break;
    }
    if (variant >= 5 && variant < 16) {
        fake_expect(down, WIRE_DN_WRITE_OPEN, &f, &st);
        uint64_t down_open_id = f.hdr.req_id;
        switch (variant) {
        case 5:
            break;
        case 6:
            fake_send(down, WIRE_DN_WRITE_OPEN_OK, down_open_id + 12345, 0, junk, 40);
            break;
        case 15:
            fake_ack(down, pkt_id, 0, 0, WIRE_ACK_NO_FAILED);
            break;
        default:
            fake_send(down, WIRE_DN_WRITE_OPEN_OK, down_open_id, 0, NULL, 0);
            break;
        }
        if (variant >= 7 && variant != 15) {
            fake_expect(down, WIRE_DN_WRITE_PKT, &f, &st);
            uint64_t down_pkt_id = f.hdr.req_id;
            switch (variant) {
            case 7:
                fake_send(down, WIRE_DN_WRITE_OPEN_OK, down_open_id, 0, NULL, 0);
                break;
            case 8:
                fake_send(down, WIRE_DN_WRITE_ACK, down_pkt_id, 0, junk, 11);
                break;
            case 9:
                fake_ack(down, down_pkt_id, 9, 0, WIRE_ACK_NO_FAILED);
                break;
            case 10:
                fake_ack(down, down_pkt_id, 0, err_to_wire(-ERR_CHECKSUM), 254);
                break;
            case 11:
                fake_ack(down, down_pkt_id, 0, err_to_wire(-ERR_CHECKSUM), WIRE_ACK_NO_FAILED);
                break;
            case 12:
                fake_send(down, WIRE_DN_READ_DATA, down_pkt_id, 0, junk, 100);
                break;
            case 13:
                fake_send(down, WIRE_DN_WRITE_ACK, down_pkt_id, err_to_wire(-EIO), NULL, 0);
                break;
            default: { /* 14 */
                struct buf ab;
                struct wire_dn_write_ack ack = { 0, 0, WIRE_ACK_NO_FAILED };
                buf_init(&ab);
                size_t start = wire_frame_begin(&ab);
                wire_dn_write_ack_encode(&ab, &ack);
                wire_frame_end(&ab, start, WIRE_DN_WRITE_ACK, down_pkt_id, 0);
                send_bytes(down, ab.data, ab.len / 2);
                buf_fini(&ab);
                break;
            }
            }
        }
    }
    /* Those that leave the datanode waiting for more then hang up (a silent downstream is
     * waited for DN_DOWN_TIMEOUT_S, as it should be). */
    if (variant == 4 || variant == 5 || variant == 6 || variant == 14) {
        close(down);
        down = -1;
    }

    /* Upstream: the open's answer, then the packet's (or a close); no success for a packet
     * the downstream never acknowledged properly. */
    uint16_t status = 0;
    int ack_first = 0;
    enum ans a = read_open_answer(up, open_id, pkt_id, &ack_first);
    (void)ack_first;
    if (a == ANS_TIMEOUT)
        die("the client got no answer to its WRITE_OPEN after the downstream sent %s",
            bad_down_what[variant]);
    /* An answer that is not one (a body where none belongs, another req_id, another cluster)
     * must fail the open, not open a pipeline through a peer that never agreed to it. */
    if (a == ANS_REPLY_OK && (variant == 4 || variant == 6 || variant >= 16))
        die("the open succeeded after the downstream sent %s", bad_down_what[variant]);
    /* After a failed open the packets behind it get no answer of their own: the open's
     * error (or the error ack in its place) answers the whole write. */
    if (a == ANS_REPLY_OK) {
        a = read_answer(up, WIRE_DN_WRITE_PKT, pkt_id, 0, &status);
        if (a == ANS_TIMEOUT)
            die("the client got no answer to its packet after the downstream sent %s",
                bad_down_what[variant]);
        if (a == ANS_REPLY_OK && last_ack.status == 0)
            die("the packet was acknowledged as written on every replica after the downstream "
                "sent %s",
                bad_down_what[variant]);
    }
    if (down >= 0)
        close(down);
    close(up);
    close(lfd);
    buf_fini(&hb);
    buf_fini(&b);
    buf_fini(&st);
    buf_fini(&all);
}

static void group_bad_downstream(void)
{
    group_begin("G-bad-downstream");
    for (int v = 0; v < BAD_DOWN_VARIANTS; v++) {
        if (case_begin("downstream answers the forwarded write with %s", bad_down_what[v])) {
            dn_bad_downstream(v);
            probe();
        }
    }
    group_end();
}

static void group_hostile_dn(void)
{
    group_begin("F-hostile-fields");
    if (opt_blk.id) {
        struct wire_blk blk = opt_blk;
        const uint64_t flen = file_len;
        const uint64_t reads[][2] = {
            { 0, 0 },          { 0, 1 },          { 1, 100 },          { 4095, 2 },
            { 65535, 65537 },  { 65536, UINT64_MAX }, { flen, 1 },     { flen - 1, 10 },
            { flen + 1, 1 },   { (flen + 65535) / 65536 * 65536, 4096 }, { UINT64_MAX, 1 },
            { UINT64_MAX - 10, 100 }, { UINT64_MAX - 65535, UINT64_MAX },
            { 1ULL << 63, 1ULL << 63 }, { 0, UINT64_MAX },
        };
        for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
            if (case_begin("DN_READ real block offset %" PRIu64 " len %" PRIu64, reads[i][0],
                           reads[i][1])) {
                dn_read_case(blk, reads[i][0], reads[i][1]);
                probe();
            }
        }
        for (int how = 0; how < 4; how++) {
            if (!case_begin("DN_READ of the whole block, then %s",
                            (const char *[]){ "a bad header pipelined behind it",
                                              "hang up without reading (FIN)",
                                              "hang up without reading (RST)",
                                              "a half-close (the whole reply must follow)" }[how]))
                continue;
            struct buf all, b;
            buf_init(&all);
            buf_init(&b);
            struct wire_dn_read m = { blk, 0, UINT64_MAX };
            wire_dn_read_encode(&b, &m);
            uint64_t id = next_req_id++;
            frame_make(&all, WIRE_DN_READ, id, b.data, b.len);
            counters->frames++;
            if (how == 0) {
                uint8_t *h = buf_extend(&all, WIRE_HDR_LEN);
                hdr_make(h, WIRE_MAGIC, WIRE_VERSION, WIRE_DN_READ, id + 1, 0, 0, 0x1);
            }
            int fd = conn_hello(WIRE_NODE_CLIENT);
            send_bytes(fd, all.data, all.len);
            if (how == 0 || how == 3) {
                if (how == 3 && shutdown(fd, SHUT_WR) < 0)
                    die("shutdown: %s", strerror(errno));
                if (read_answer(fd, WIRE_DN_READ, id, 0, NULL) != ANS_REPLY_OK)
                    die("the read before the %s did not complete", how ? "half-close" : "bad header");
                expect_close(fd, WIRE_DN_READ, id + 1, how ? "half-close after a read" : "bad header after a read");
                close(fd);
            } else {
                usleep(20 * 1000);
                if (how == 2)
                    conn_reset(fd);
                else
                    close(fd);
            }
            buf_fini(&all);
            buf_fini(&b);
            probe();
        }
        for (int with_last = 0; with_last < 2; with_last++) {
            if (case_begin("DN_READ, a write %s pipelined behind it, then a half-close",
                           with_last ? "with its LAST packet" : "missing packets")) {
                dn_write_behind_read_then_half_close(blk, with_last);
                probe();
            }
        }
        const struct wire_blk others[] = { { blk.id, blk.gen + 1 }, { blk.id, 0 },
                                           { blk.id, UINT64_MAX }, { blk.id + 1000000, blk.gen },
                                           { 0, 0 } };
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
            if (case_begin("DN_READ block %" PRIu64 " gen %" PRIu64, others[i].id,
                           others[i].gen)) {
                dn_read_case(others[i], 0, 65536);
                probe();
            }
            if (case_begin("DN_SYNC block %" PRIu64 " gen %" PRIu64, others[i].id,
                           others[i].gen)) {
                struct buf b;
                struct wire_dn_sync m = { others[i] };
                buf_init(&b);
                wire_dn_sync_encode(&b, &m);
                uint64_t id = next_req_id++;
                int fd = conn_hello(WIRE_NODE_CLIENT);
                send_frame(fd, WIRE_DN_SYNC, id, b.data, b.len);
                if (read_answer(fd, WIRE_DN_SYNC, id, 0, NULL) != ANS_REPLY_ERR)
                    die("DN_SYNC of a block this node does not hold was not refused");
                close(fd);
                buf_fini(&b);
                probe();
            }
        }
    }
    for (int v = 0; v < 10; v++) {
        if (case_begin("DN_WRITE_OPEN of a made-up block, then bad packet variant %d", v)) {
            dn_bogus_write(v);
            probe();
        }
    }
    const struct {
        uint16_t port;
        uint32_t n;
        const char *what;
    } pipes[] = {
        { opt_port, 1, "itself" },
        { opt_port, WIRE_TARGETS_MAX, "itself, 16 times" },
        { opt_nn_port, 1, "the namenode" },
        { 1, 1, "a closed port" },
    };
    for (size_t i = 0; i < sizeof(pipes) / sizeof(pipes[0]); i++) {
        if (pipes[i].port == 0)
            continue;
        if (case_begin("DN_WRITE_OPEN of a made-up block with a pipeline to %s",
                       pipes[i].what)) {
            dn_bogus_pipeline(pipes[i].port, pipes[i].n);
            probe();
        }
    }
    group_end();
}

/* ---- group H: well-formed HELLOs that must be refused (or are harmless) ---- */

static void group_handshake(void)
{
    char long_id[300];
    static const struct {
        uint16_t version;
        uint8_t kind;
        int cluster; /* 0 right, 1 wrong, 2 empty, 3 255 bytes */
        int node;    /* 0 normal, 1 empty, 2 65 bytes, 3 255 bytes */
        int must_refuse;
    } hs[] = {
        { WIRE_VERSION, WIRE_NODE_CLIENT, 1, 0, 1 },
        { WIRE_VERSION, WIRE_NODE_CLIENT, 2, 0, 1 },
        { WIRE_VERSION, WIRE_NODE_CLIENT, 3, 0, 1 },
        { 1, WIRE_NODE_CLIENT, 0, 0, 1 },
        { WIRE_VERSION + 1, WIRE_NODE_CLIENT, 0, 0, 1 },
        { 0xffff, WIRE_NODE_CLIENT, 0, 0, 1 },
        { WIRE_VERSION, 0, 0, 0, 0 },
        { WIRE_VERSION, WIRE_NODE_NAMENODE, 0, 0, 0 },
        { WIRE_VERSION, 99, 0, 0, 0 },
        { WIRE_VERSION, WIRE_NODE_CLIENT, 0, 1, 0 },
        { WIRE_VERSION, WIRE_NODE_CLIENT, 0, 2, 0 },
        { WIRE_VERSION, WIRE_NODE_DATANODE, 0, 3, 0 },
    };
    static const char *const cluster_what[] = { "right", "wrong", "empty", "255 bytes" };
    static const char *const node_what[] = { "normal", "empty", "65 bytes", "255 bytes" };

    group_begin("H-handshake");
    memset(long_id, 'x', sizeof(long_id));
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        if (!case_begin("HELLO version %u kind %u cluster id %s node id %s", hs[i].version,
                        hs[i].kind, cluster_what[hs[i].cluster], node_what[hs[i].node]))
            continue;
        struct wire_hello m = { hs[i].version, hs[i].kind, wire_str_c(opt_cluster),
                                wire_str_c("garbage-hs") };
        if (hs[i].cluster == 1)
            m.cluster_id = wire_str_c("another-cluster");
        else if (hs[i].cluster == 2)
            m.cluster_id = wire_str_c("");
        else if (hs[i].cluster == 3)
            m.cluster_id = (struct wire_str){ long_id, 255 };
        if (hs[i].node == 1)
            m.node_id = wire_str_c("");
        else if (hs[i].node == 2)
            m.node_id = (struct wire_str){ long_id, 65 };
        else if (hs[i].node == 3)
            m.node_id = (struct wire_str){ long_id, 255 };
        struct buf b;
        buf_init(&b);
        wire_hello_encode(&b, &m);
        uint64_t id = next_req_id++;
        int fd = conn_open();
        send_frame(fd, WIRE_HELLO, id, b.data, b.len);
        uint16_t status = 0;
        enum ans a = read_answer(fd, WIRE_HELLO, id, 0, &status);
        if (a == ANS_TIMEOUT)
            die("HELLO got neither an answer nor a close");
        if (a == ANS_REPLY_OK && hs[i].must_refuse)
            die("a HELLO of another cluster or protocol version was accepted");
        if (a == ANS_REPLY_ERR)
            expect_close(fd, WIRE_HELLO, id, "refused HELLO"); /* refused: then closed */
        close(fd);
        buf_fini(&b);
        probe();
    }
    group_end();
}

/* ---- main ---- */

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: garbage_client --role nn|dn --addr HOST:PORT --cluster ID --seed N "
                    "[--nn-port P] [--victim NAME] [--blk ID:GEN --file PATH] [--only N] "
                    "[--max-failures N] [-v]\n");
    exit(2);
}

static void load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat stt;

    if (!f || fstat(fileno(f), &stt) != 0) {
        fprintf(stderr, "garbage_client: cannot open %s\n", path);
        exit(2);
    }
    file_len = (size_t)stt.st_size;
    file_data = malloc(file_len ? file_len : 1);
    if (fread(file_data, 1, file_len, f) != file_len) {
        fprintf(stderr, "garbage_client: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *addr = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-v") == 0) {
            opt_verbose = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--role") == 0)
            opt_role = v;
        else if (strcmp(a, "--addr") == 0)
            addr = v;
        else if (strcmp(a, "--cluster") == 0)
            opt_cluster = v;
        else if (strcmp(a, "--seed") == 0)
            opt_seed = strtoull(v, NULL, 0);
        else if (strcmp(a, "--nn-port") == 0)
            opt_nn_port = (uint16_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--victim") == 0)
            opt_victim = v;
        else if (strcmp(a, "--blk") == 0) { /* ID (0x... for hex) : GEN */
            char *end;
            opt_blk.id = strtoull(v, &end, 0);
            if (*end != ':')
                usage();
            opt_blk.gen = strtoull(end + 1, &end, 10);
            if (*end)
                usage();
        } else if (strcmp(a, "--file") == 0)
            opt_file = v;
        else if (strcmp(a, "--max-failures") == 0)
            opt_max_failures = strtol(v, NULL, 10);
        else if (strcmp(a, "--only") == 0)
            opt_only = strtol(v, NULL, 10);
        else
            usage();
    }
    if (!opt_role || !addr || !opt_cluster || (strcmp(opt_role, "nn") && strcmp(opt_role, "dn")))
        usage();
    is_nn = strcmp(opt_role, "nn") == 0;
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof(opt_host))
        usage();
    memcpy(opt_host, addr, (size_t)(colon - addr));
    opt_port = (uint16_t)strtoul(colon + 1, NULL, 10);
    if (opt_file)
        load_file(opt_file);
    if (opt_blk.id && !opt_file)
        usage();
    buf_init(&case_input);
    counters = mmap(NULL, sizeof(*counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                    -1, 0);
    if (counters == MAP_FAILED) {
        perror("mmap");
        return 2;
    }

    uint64_t t0 = now_ms();
    group_name = "start";
    probe();
    group_random_bytes();
    group_bad_headers();
    group_body_sizes();
    group_typed();
    group_churn();
    group_handshake();
    if (is_nn)
        group_hostile_nn();
    else
        group_hostile_dn();
    if (!is_nn)
        group_bad_downstream();
    if (in_child)
        exit(0);
    group_name = "end";
    probe();
    if (failures) {
        fprintf(stderr, "garbage_client[%s %s:%u] %ld of %ld cases FAILED: %s\n", opt_role,
                opt_host, opt_port, failures, counters->cases, failed_list);
        return 1;
    }
    printf("garbage_client[%s %s:%u] PASS: %ld cases, %ld frames, %ld ok and %ld error answers, "
           "%ld closes by the server, in %.1f s; the server answered a HELLO after every case\n",
           opt_role, opt_host, opt_port, counters->cases, counters->frames, counters->replies_ok,
           counters->replies_err, counters->closed, (double)(now_ms() - t0) / 1000.0);
    buf_fini(&case_input);
    free(file_data);
    return 0;
}
