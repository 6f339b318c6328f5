/* Unit tests for namenode/nn_journal: a seeded random sequence of namespace ops (successes
 * and failures) is applied live and logged; reopening the directory must rebuild exactly the
 * live namespace (compared as image bytes), with or without a checkpoint in the middle. A
 * torn or garbage tail is cut off, a corrupt image or an unappliable record is refused, and a
 * locked directory cannot be opened twice. Records are written with direct I/O where the file
 * system allows it; that path and the page-cache path write the same bytes, and a switch from
 * one to the other mid-log loses nothing. Failing flushes (swapped-in sync ops) are reported,
 * and a checkpoint that fails part-way loses no record. Each test works in its own mkdtemp
 * directory. A seeded mutation fuzz feeds damaged images and records to the decoders (no
 * directory): each is refused or loads into a valid namespace, and an accepted record
 * applies cleanly. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "check_run.h"
#include "test_mutate.h"
#include "test_rng.h"
#include "err.h"
#include "nn_journal.h"
#include "nn_ns.h"
#include "nn_ns_image.h"

enum { BS = 64 * 1024, T0 = 5000 };

/* ---- helpers ---- */

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/nn_journal_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    static const char *const files[] = { "image", "image.tmp", "edits", "lock", "edits.copy",
                                          "probe" };
    char path[128];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static off_t file_size(const char *name)
{
    char path[128];
    struct stat st;

    path_of(path, sizeof(path), name);
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

static void truncate_file(const char *name, off_t len)
{
    char path[128];

    path_of(path, sizeof(path), name);
    ck_assert_int_eq(truncate(path, len), 0);
}

static void append_file(const char *name, const void *p, size_t len)
{
    char path[128];

    path_of(path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
    close(fd);
}

static void read_whole(const char *name, struct buf *out)
{
    char path[128];
    uint8_t tmp[4096];
    ssize_t n;

    path_of(path, sizeof(path), name);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    buf_init(out);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        buf_put(out, tmp, (size_t)n);
    close(fd);
}

static void write_whole(const char *name, const struct buf *b)
{
    char path[128];

    path_of(path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b->data, b->len), (ssize_t)b->len);
    close(fd);
}

static void image_of(const struct nn_ns *ns, struct buf *b)
{
    buf_init(b);
    nn_ns_image_encode(ns, b);
}

static void assert_same_image(const struct buf *a, const struct nn_ns *ns)
{
    struct buf b;

    nn_ns_assert_valid(ns);
    image_of(ns, &b);
    ck_assert_uint_eq(a->len, b.len);
    ck_assert_int_eq(memcmp(a->data, b.data, a->len), 0);
    buf_fini(&b);
}

/* Reopens dir into a fresh namespace and checks it equals live. */
static void assert_reopen_equals(const struct nn_ns *live, uint64_t want_replayed)
{
    struct nn_journal j;
    struct nn_ns ns;
    struct buf want;
    uint64_t replayed;

    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), 0);
    ck_assert_uint_eq(replayed, want_replayed);
    image_of(live, &want);
    assert_same_image(&want, &ns);
    buf_fini(&want);
    nn_ns_fini(&ns);
    nn_journal_close(&j);
}

/* The tests' randomness (test_rng.h), seeded by each test. */
static uint64_t rng_state;

static uint64_t rng_below(uint64_t n)
{
    return test_rng_below(&rng_state, n);
}

static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
static const char *const clients[] = { "c1", "c2" };

/* An inode number that probably exists (sometimes one that does not). */
static uint64_t pick_ino(const struct nn_ns *ns)
{
    if (rng_below(4) == 0)
        return NN_ROOT_INO;
    return 1 + rng_below(ns->next_ino);
}

/* Fills prev with the file's open last block (sometimes with a wrong gen), or id 0. */
static void pick_prev(const struct nn_ns *ns, struct nn_op *op)
{
    const struct nn_inode *in = nn_ns_get(ns, op->ino);

    if (!in || nn_inode_blk_count(in) == 0 ||
        nn_inode_blk(in, nn_inode_blk_count(in) - 1).is_committed)
        return;
    struct nn_blkref last = nn_inode_blk(in, nn_inode_blk_count(in) - 1);
    op->blk = (struct wire_blk){ last.id, last.gen + (rng_below(20) == 0) };
    op->blk_len = rng_below(BS + 1);
}

/* A random op over the current namespace: every kind, many of them failing. */
static void random_op(const struct nn_ns *ns, uint64_t now, struct nn_op *op)
{
    memset(op, 0, sizeof(*op));
    op->kind = (uint8_t)(1 + rng_below(NN_OP_KIND_MAX));
    if (op->kind == NN_OP_ADD_BLOCK || op->kind == NN_OP_COMPLETE)
        op->kind = rng_below(3) ? op->kind : NN_OP_CREATE; /* keep files coming */
    op->now_ms = now;
    op->parent = pick_ino(ns);
    op->new_parent = pick_ino(ns);
    op->ino = pick_ino(ns);
    snprintf(op->name, sizeof(op->name), "%s", names[rng_below(8)]);
    snprintf(op->new_name, sizeof(op->new_name), "%s", names[rng_below(8)]);
    snprintf(op->client, sizeof(op->client), "%s", clients[rng_below(2)]);
    op->mode = (uint32_t)rng_below(01000);
    op->uid = (uint32_t)rng_below(3);
    op->gid = (uint32_t)rng_below(3);
    op->block_size = BS;
    op->replication = 3;
    switch (op->kind) {
    case NN_OP_OPEN_WRITE:
        op->flags = WIRE_OPEN_WRITE | (rng_below(2) ? WIRE_OPEN_TRUNC : 0);
        break;
    case NN_OP_RENAME:
        op->flags = rng_below(4) == 0 ? WIRE_RENAME_NOREPLACE : 0;
        break;
    case NN_OP_SETATTR:
        op->flags = (uint32_t)rng_below(64);
        op->size = rng_below(3) ? 0 : rng_below(1000);
        op->atime_ms = rng_below(1000);
        op->mtime_ms = rng_below(1000);
        break;
    case NN_OP_ADD_BLOCK:
    case NN_OP_COMPLETE:
        pick_prev(ns, op);
        break;
    default:
        break;
    }
}

struct run_stats {
    uint64_t ok;
    uint64_t failed;
};

/* Applies count random ops live, logging the successful ones, syncing in random batches. */
static void run_ops(struct nn_journal *j, struct nn_ns *ns, int count, uint64_t *now,
                    struct run_stats *st)
{
    for (int i = 0; i < count; i++) {
        struct nn_op op;
        struct nn_op_result res = { 0 };
        random_op(ns, ++*now, &op);
        int rc = nn_ns_apply(ns, &op, &res);
        nn_blk_list_fini(&res.freed);
        if (rc == 0) {
            nn_journal_append(j, &op);
            st->ok++;
        } else {
            st->failed++;
        }
        if (rng_below(8) == 0)
            ck_assert_int_eq(nn_journal_sync(j), 0);
    }
    ck_assert_int_eq(nn_journal_sync(j), 0);
    ck_assert(!nn_journal_has_batch(j));
    nn_ns_assert_valid(ns);
}

static void open_fresh(struct nn_journal *j, struct nn_ns *ns)
{
    uint64_t replayed = 99;

    ck_assert_int_eq(nn_journal_open(j, dir, ns, T0, &replayed), 0);
    ck_assert_uint_eq(replayed, 0);
}

/* Applies op live and logs it; returns the result code. */
static int apply_logged(struct nn_journal *j, struct nn_ns *ns, const struct nn_op *op)
{
    struct nn_op_result res = { 0 };
    int rc = nn_ns_apply(ns, op, &res);

    nn_blk_list_fini(&res.freed);
    if (rc == 0) {
        nn_journal_append(j, op);
        ck_assert_int_eq(nn_journal_sync(j), 0);
    }
    return rc;
}

static struct nn_op mkdir_op(const char *name)
{
    struct nn_op op;

    memset(&op, 0, sizeof(op));
    op.kind = NN_OP_MKDIR;
    op.now_ms = T0 + 1;
    op.parent = NN_ROOT_INO;
    op.mode = 0755;
    snprintf(op.name, sizeof(op.name), "%s", name);
    return op;
}

/* ---- tests ---- */

START_TEST(test_nn_journal_fresh_dir_is_formatted_with_root_only)
{
    struct nn_journal j;
    struct nn_ns ns;
    char sub[128];
    uint64_t replayed = 7;

    path_of(sub, sizeof(sub), "sub");
    ck_assert_int_eq(nn_journal_open(&j, sub, &ns, T0, &replayed), 0);
    ck_assert_uint_eq(replayed, 0);
    ck_assert_uint_eq(ns.inodes.count, 1);
    ck_assert_uint_eq(nn_ns_get(&ns, NN_ROOT_INO)->mtime_ms, T0);
    ck_assert_uint_eq(nn_journal_pending_ops(&j), 0);
    nn_ns_fini(&ns);
    nn_journal_close(&j);
    /* The format survives: a reopen gets the same root, not a new one. */
    ck_assert_int_eq(nn_journal_open(&j, sub, &ns, T0 + 99, &replayed), 0);
    ck_assert_uint_eq(nn_ns_get(&ns, NN_ROOT_INO)->mtime_ms, T0);
    nn_ns_fini(&ns);
    nn_journal_close(&j);
    static const char *const files[] = { "image", "edits", "lock" };
    for (size_t i = 0; i < 3; i++) {
        char p[192];
        snprintf(p, sizeof(p), "%s/%s", sub, files[i]);
        ck_assert_int_eq(unlink(p), 0);
    }
    ck_assert_int_eq(rmdir(sub), 0);
}
END_TEST

START_TEST(test_nn_journal_replay_of_random_ops_equals_live_state)
{
    struct nn_journal j;
    struct nn_ns live;
    struct run_stats st = { 0, 0 };
    uint64_t now = T0;

    rng_state = 0x9E3779B97F4A7C15ULL;
    open_fresh(&j, &live);
    run_ops(&j, &live, 2000, &now, &st);
    /* The mix must exercise both outcomes and build a non-trivial tree. */
    ck_assert_uint_gt(st.ok, 250);
    ck_assert_uint_gt(st.failed, 400);
    ck_assert_uint_gt(live.inodes.count, 5);
    ck_assert_uint_eq(nn_journal_pending_ops(&j), st.ok);
    nn_journal_close(&j);
    assert_reopen_equals(&live, st.ok);
    /* Twice: a reopen that replays must not change the log. */
    assert_reopen_equals(&live, st.ok);
    nn_ns_fini(&live);
}
END_TEST

START_TEST(test_nn_journal_replay_after_checkpoint_equals_live_state)
{
    struct nn_journal j;
    struct nn_ns live;
    struct run_stats st = { 0, 0 };
    uint64_t now = T0, replayed;

    rng_state = 0xD1B54A32D192ED03ULL;
    open_fresh(&j, &live);
    run_ops(&j, &live, 1000, &now, &st);
    ck_assert_int_eq(nn_journal_checkpoint(&j, &live), 0);
    ck_assert_uint_eq(nn_journal_pending_ops(&j), 0);
    ck_assert_int_eq(file_size("edits"), 0);
    uint64_t before = st.ok;
    run_ops(&j, &live, 1000, &now, &st);
    ck_assert_uint_eq(nn_journal_pending_ops(&j), st.ok - before);
    nn_journal_close(&j);
    assert_reopen_equals(&live, st.ok - before);

    /* Continue on the reopened journal: appends after a replay keep their index order. */
    struct nn_ns ns2;
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns2, 1, &replayed), 0);
    uint64_t mid = st.ok;
    rng_state = 0x1234567ULL;
    ck_assert_uint_eq(replayed, mid - before);
    run_ops(&j, &ns2, 300, &now, &st);
    ck_assert_uint_gt(st.ok, mid);
    nn_journal_close(&j);
    assert_reopen_equals(&ns2, st.ok - before);
    nn_ns_fini(&ns2);
    nn_ns_fini(&live);
}
END_TEST

START_TEST(test_nn_journal_checkpoint_then_crash_before_log_truncate_replays_nothing)
{
    struct nn_journal j;
    struct nn_ns live;
    struct run_stats st = { 0, 0 };
    struct buf edits;
    uint64_t now = T0;

    rng_state = 42;
    open_fresh(&j, &live);
    run_ops(&j, &live, 300, &now, &st);
    read_whole("edits", &edits);
    ck_assert_uint_gt(edits.len, 0);
    ck_assert_int_eq(nn_journal_checkpoint(&j, &live), 0);
    nn_journal_close(&j);
    /* As if the crash came between the image rename and the log truncate. */
    write_whole("edits", &edits);
    buf_fini(&edits);
    assert_reopen_equals(&live, 0);
    nn_ns_fini(&live);
}
END_TEST

/* The end of the records in the edits file: the file itself runs on into zero-filled space. */
static off_t records_end;

/* Logs a few ops, then one more; returns the end of the records before the last (the end after
 * it goes to records_end) and both images. */
static off_t log_then_one_more(struct nn_ns *live, struct buf *img_before, struct buf *img_after)
{
    struct nn_journal j;
    static const char *const dirs[] = { "a", "b", "c", "d" };

    open_fresh(&j, live);
    for (size_t i = 0; i < 4; i++) {
        struct nn_op op = mkdir_op(dirs[i]);
        ck_assert_int_eq(apply_logged(&j, live, &op), 0);
    }
    image_of(live, img_before);
    off_t size = (off_t)j.write_off;
    struct nn_op op = mkdir_op("last");
    ck_assert_int_eq(apply_logged(&j, live, &op), 0);
    image_of(live, img_after);
    records_end = (off_t)j.write_off;
    ck_assert_int_ge(file_size("edits"), records_end); /* zero-filled beyond */
    nn_journal_close(&j);
    return size;
}

START_TEST(test_nn_journal_torn_tail_is_cut_and_earlier_records_survive)
{
    struct nn_ns live;
    struct buf before, after;
    off_t good = log_then_one_more(&live, &before, &after);
    off_t full = records_end;

    ck_assert_int_gt(full, good);
    struct buf edits;
    read_whole("edits", &edits);
    /* Every cut inside the last record loses exactly that record. */
    for (off_t cut = good + 1; cut < full; cut++) {
        struct nn_journal j;
        struct nn_ns ns;
        uint64_t replayed;
        write_whole("edits", &edits);
        truncate_file("edits", cut);
        ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), 0);
        ck_assert_uint_eq(replayed, 4);
        assert_same_image(&before, &ns);
        ck_assert_int_eq(file_size("edits"), good); /* the torn bytes are gone */
        nn_ns_fini(&ns);
        nn_journal_close(&j);
    }
    /* After the cut the log takes new records again. */
    struct nn_journal j;
    struct nn_ns ns;
    uint64_t replayed;
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), 0);
    struct nn_op op = mkdir_op("again");
    ck_assert_int_eq(apply_logged(&j, &ns, &op), 0);
    nn_journal_close(&j);
    assert_reopen_equals(&ns, 5);
    nn_ns_fini(&ns);
    buf_fini(&edits);
    buf_fini(&before);
    buf_fini(&after);
    nn_ns_fini(&live);
}
END_TEST

START_TEST(test_nn_journal_garbage_tail_is_cut)
{
    struct nn_ns live;
    struct buf before, after;
    off_t good = log_then_one_more(&live, &before, &after);
    off_t full = records_end;
    uint8_t junk[40];

    truncate_file("edits", full); /* junk right after the last record */

    for (size_t n = 1; n <= sizeof(junk); n += 13) {
        struct nn_journal j;
        struct nn_ns ns;
        uint64_t replayed;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)(0xA5 ^ (i * 7));
        append_file("edits", junk, n);
        ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), 0);
        ck_assert_uint_eq(replayed, 5);
        assert_same_image(&after, &ns);
        ck_assert_int_eq(file_size("edits"), full);
        nn_ns_fini(&ns);
        nn_journal_close(&j);
    }
    /* A record whose checksum does not match (a flipped payload byte) ends the log there. */
    struct buf edits;
    read_whole("edits", &edits);
    edits.data[edits.len - 1] ^= 1;
    write_whole("edits", &edits);
    buf_fini(&edits);
    struct nn_journal j;
    struct nn_ns ns;
    uint64_t replayed;
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), 0);
    ck_assert_uint_eq(replayed, 4);
    assert_same_image(&before, &ns);
    ck_assert_int_eq(file_size("edits"), good);
    nn_ns_fini(&ns);
    nn_journal_close(&j);
    buf_fini(&before);
    buf_fini(&after);
    nn_ns_fini(&live);
}
END_TEST

START_TEST(test_nn_journal_corrupt_image_is_refused)
{
    struct nn_ns live;
    struct buf before, after, img;
    struct nn_journal j;
    struct nn_ns ns;
    uint64_t replayed;

    log_then_one_more(&live, &before, &after);
    read_whole("image", &img);
    /* A flipped byte in the header and in the body; then a short file. */
    size_t offs[] = { 0, 5, 10, 20, img.len - 1 };
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        img.data[offs[i]] ^= 0x10;
        write_whole("image", &img);
        ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), -ERR_CORRUPT);
        img.data[offs[i]] ^= 0x10;
    }
    img.len -= 1;
    write_whole("image", &img);
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), -ERR_CORRUPT);
    img.len = 10;
    write_whole("image", &img);
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), -ERR_CORRUPT);
    buf_fini(&img);
    buf_fini(&before);
    buf_fini(&after);
    nn_ns_fini(&live);
}
END_TEST

START_TEST(test_nn_journal_record_that_fails_to_apply_is_corrupt)
{
    struct nn_journal j;
    struct nn_ns live, ns;
    uint64_t replayed;

    open_fresh(&j, &live);
    struct nn_op op = mkdir_op("a");
    ck_assert_int_eq(apply_logged(&j, &live, &op), 0);
    /* Only successful ops are logged; a logged duplicate mkdir means the log is damaged. */
    nn_journal_append(&j, &op);
    ck_assert_int_eq(nn_journal_sync(&j), 0);
    nn_journal_close(&j);
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), -ERR_CORRUPT);
    nn_ns_fini(&live);
}
END_TEST

START_TEST(test_nn_journal_second_open_of_locked_dir_is_ebusy)
{
    struct nn_journal j, j2;
    struct nn_ns ns, ns2;
    uint64_t replayed;

    open_fresh(&j, &ns);
    ck_assert_int_eq(nn_journal_open(&j2, dir, &ns2, 1, &replayed), -EBUSY);
    nn_journal_close(&j);
    /* Once released, the directory opens again. */
    ck_assert_int_eq(nn_journal_open(&j2, dir, &ns2, 1, &replayed), 0);
    nn_journal_close(&j2);
    nn_ns_fini(&ns2);
    nn_ns_fini(&ns);
}
END_TEST

START_TEST(test_nn_journal_unsynced_batch_is_not_durable)
{
    struct nn_journal j;
    struct nn_ns live;
    struct buf img;

    open_fresh(&j, &live);
    struct nn_op op = mkdir_op("kept");
    ck_assert_int_eq(apply_logged(&j, &live, &op), 0);
    image_of(&live, &img);
    op = mkdir_op("lost");
    struct nn_op_result res = { 0 };
    ck_assert_int_eq(nn_ns_apply(&live, &op, &res), 0);
    nn_journal_append(&j, &op);
    ck_assert(nn_journal_has_batch(&j));
    nn_journal_close(&j); /* a crash before the group commit */
    struct nn_ns ns;
    uint64_t replayed;
    ck_assert_int_eq(nn_journal_open(&j, dir, &ns, 1, &replayed), 0);
    ck_assert_uint_eq(replayed, 1);
    assert_same_image(&img, &ns);
    nn_journal_close(&j);
    nn_ns_fini(&ns);
    buf_fini(&img);
    nn_ns_fini(&live);
}
END_TEST

/* A fresh journal, the live namespace its ops went to, and the ops' clock and counts. */
struct logged {
    struct nn_journal j;
    struct nn_ns live;
    struct run_stats st;
    uint64_t now;
};

/* Opens a fresh journal in dir, with the tests' randomness at seed. */
static void logged_open(struct logged *l, uint64_t seed)
{
    l->st = (struct run_stats){ 0, 0 };
    l->now = T0;
    rng_state = seed;
    open_fresh(&l->j, &l->live);
}

static void logged_run(struct logged *l, int count)
{
    run_ops(&l->j, &l->live, count, &l->now, &l->st);
}

/* Closes the journal; a reopen must replay want_replayed records into the live namespace. */
static void logged_close_and_check(struct logged *l, uint64_t want_replayed)
{
    nn_journal_close(&l->j);
    assert_reopen_equals(&l->live, want_replayed);
    nn_ns_fini(&l->live);
}

/* 1 if a file in dir can be opened for direct I/O (the journal's own precondition). */
static int dir_allows_direct_io(void)
{
    char path[128];

    path_of(path, sizeof(path), "probe");
    int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0644);
    int ok = fd >= 0;
    if (fd < 0)
        ck_assert(errno == EINVAL || errno == EOPNOTSUPP);
    else
        close(fd);
    unlink(path);
    return ok;
}

/* 1 if a direct write of 64 bytes at offset 64 is refused in dir (a disk's sectors are 512
 * bytes or more; some file systems take any alignment). */
static int dir_refuses_64_byte_direct_writes(void)
{
    char path[128];
    uint8_t *mem = aligned_alloc(4096, 4096);

    ck_assert_ptr_nonnull(mem);
    memset(mem, 0, 4096);
    path_of(path, sizeof(path), "probe");
    int fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, mem, 4096, 0), 4096);
    ssize_t n = pwrite(fd, mem + 64, 64, 64);
    int refused = n < 0 && (errno == EINVAL || errno == EOPNOTSUPP);
    close(fd);
    unlink(path);
    free(mem);
    return refused;
}

START_TEST(test_nn_journal_writes_direct_where_the_file_system_allows)
{
    struct logged l;
    int direct = dir_allows_direct_io();

    logged_open(&l, 0xA24BAED4963EE407ULL);
    ck_assert_int_eq(nn_journal_is_direct(&l.j), direct);
    logged_run(&l, 500);
    ck_assert_int_eq(nn_journal_is_direct(&l.j), direct);
    logged_close_and_check(&l, l.st.ok);
}
END_TEST

/* Runs the same seeded ops on a fresh directory, direct or through the page cache; returns the
 * whole edits file (records, then the zero-filled space) and removes the directory's files. */
static uint64_t seeded_log(int page_cache, struct buf *edits)
{
    struct logged l;

    logged_open(&l, 0x9FB21C651E98DF25ULL);
    if (page_cache)
        nn_journal_use_page_cache(&l.j);
    ck_assert_int_eq(nn_journal_is_direct(&l.j), page_cache ? 0 : dir_allows_direct_io());
    logged_run(&l, 1500);
    uint64_t records_len = l.j.write_off;
    nn_journal_close(&l.j);
    read_whole("edits", edits);
    nn_ns_fini(&l.live);
    teardown();
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    return records_len;
}

START_TEST(test_nn_journal_direct_and_page_cache_paths_write_the_same_log)
{
    struct buf direct, cached;

    uint64_t records_len = seeded_log(0, &direct);
    ck_assert_uint_eq(seeded_log(1, &cached), records_len);
    ck_assert_uint_gt(records_len, 8 * 4096); /* many blocks, many partial ones rewritten */
    ck_assert_uint_eq(direct.len, cached.len);
    ck_assert_int_eq(memcmp(direct.data, cached.data, direct.len), 0);
    buf_fini(&direct);
    buf_fini(&cached);
}
END_TEST

/* The switch to the page cache mid-log (what a refused direct write does): the partial block
 * the direct path wrote last is then extended through the page cache. */
START_TEST(test_nn_journal_switch_to_page_cache_mid_log_keeps_every_record)
{
    struct logged l;
    uint64_t replayed;

    logged_open(&l, 0xE7037ED1A0B428DBULL);
    logged_run(&l, 700);
    nn_journal_use_page_cache(&l.j);
    ck_assert_int_eq(nn_journal_is_direct(&l.j), 0);
    logged_run(&l, 700);
    nn_journal_close(&l.j);
    assert_reopen_equals(&l.live, l.st.ok);
    /* A reopen writes direct again, after the records the page cache wrote. */
    struct nn_ns ns;
    ck_assert_int_eq(nn_journal_open(&l.j, dir, &ns, 1, &replayed), 0);
    uint64_t before = l.st.ok;
    run_ops(&l.j, &ns, 300, &l.now, &l.st);
    ck_assert_uint_gt(l.st.ok, before);
    nn_journal_close(&l.j);
    assert_reopen_equals(&ns, l.st.ok);
    nn_ns_fini(&ns);
    nn_ns_fini(&l.live);
}
END_TEST

/* A direct write the file system refuses (here: 64-byte alignment on a disk of 512-byte
 * sectors) turns the direct path off, and the refused batch goes through the page cache. */
START_TEST(test_nn_journal_refused_direct_write_falls_back_and_loses_nothing)
{
    struct logged l;
    int direct = dir_allows_direct_io();
    int refuses = direct && dir_refuses_64_byte_direct_writes();

    logged_open(&l, 0x5851F42D4C957F2DULL);
    ck_assert_int_eq(nn_journal_is_direct(&l.j), direct);
    ck_assert_uint_eq(l.j.write_off, 0); /* nothing staged yet: the alignment may change */
    l.j.dio_align = 64;
    logged_run(&l, 400);
    ck_assert_int_eq(nn_journal_is_direct(&l.j), direct && !refuses);
    logged_close_and_check(&l, l.st.ok);
}
END_TEST

/* Batches far larger than the staging buffer's first size, across the log's 8 MiB extents. */
START_TEST(test_nn_journal_big_batches_across_extents_keep_every_record)
{
    struct nn_journal j;
    struct nn_ns live;
    struct nn_op op;

    open_fresh(&j, &live);
    memset(&op, 0, sizeof(op));
    op.kind = NN_OP_SETATTR;
    op.ino = NN_ROOT_INO;
    op.flags = WIRE_SET_MTIME;
    memset(op.name, 'n', 200); /* ignored by setattr, but logged: bigger records */
    uint64_t count = 0;
    while (j.write_off < (uint64_t)(8 << 20) + 300 * 1024) {
        for (int i = 0; i < 3001; i++) {
            op.now_ms = T0 + 1 + count;
            op.mtime_ms = count++;
            struct nn_op_result res = { 0 };
            ck_assert_int_eq(nn_ns_apply(&live, &op, &res), 0);
            nn_journal_append(&j, &op);
        }
        ck_assert_int_eq(nn_journal_sync(&j), 0);
    }
    nn_journal_close(&j);
    assert_reopen_equals(&live, count);
    nn_ns_fini(&live);
}
END_TEST

/* Flushes that fail with EIO for one fd (or every fd: FAIL_EVERY_FD), else the real ones. */
enum { FAIL_NONE = -2, FAIL_EVERY_FD = -1 };
static int failing_fd = FAIL_NONE;

static int flush_fails(int fd)
{
    return failing_fd == FAIL_EVERY_FD || (failing_fd >= 0 && fd == failing_fd);
}

static int fake_fsync(int fd)
{
    if (flush_fails(fd)) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

static int fake_fdatasync(int fd)
{
    if (flush_fails(fd)) {
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

static const struct nn_journal_sync_ops fake_sync_ops = {.fsync = fake_fsync,
                                                         .fdatasync = fake_fdatasync};

/* A checkpoint whose log truncate went through but whose fsync failed: the log is empty, so
 * the records after it must start at its beginning, or the reopen would not find them. */
START_TEST(test_nn_journal_checkpoint_whose_log_fsync_fails_keeps_later_records)
{
    struct logged l;

    logged_open(&l, 0x2545F4914F6CDD1DULL);
    l.j.sync_ops = &fake_sync_ops;
    logged_run(&l, 300);
    failing_fd = l.j.log_fd;
    ck_assert_int_eq(nn_journal_checkpoint(&l.j, &l.live), -EIO);
    failing_fd = FAIL_NONE;
    ck_assert_int_eq(file_size("edits"), 0);
    uint64_t before = l.st.ok;
    logged_run(&l, 300);
    ck_assert_uint_gt(l.st.ok, before);
    logged_close_and_check(&l, l.st.ok - before);
}
END_TEST

/* A checkpoint whose image cannot be made durable changes nothing on disk: the old image and
 * the whole log still give the live namespace. */
START_TEST(test_nn_journal_checkpoint_whose_image_fsync_fails_keeps_the_log)
{
    struct logged l;

    logged_open(&l, 0x94D049BB133111EBULL);
    l.j.sync_ops = &fake_sync_ops;
    logged_run(&l, 300);
    failing_fd = FAIL_EVERY_FD;
    ck_assert_int_eq(nn_journal_checkpoint(&l.j, &l.live), -EIO);
    failing_fd = FAIL_NONE;
    ck_assert_uint_eq(nn_journal_pending_ops(&l.j), l.st.ok);
    logged_close_and_check(&l, l.st.ok);
}
END_TEST

/* A failed flush is reported, both when the log grows and when a batch is committed through
 * the page cache, so that the namenode acknowledges nothing of that batch. */
START_TEST(test_nn_journal_failed_flush_is_reported)
{
    struct nn_journal j;
    struct nn_ns live;

    open_fresh(&j, &live);
    j.sync_ops = &fake_sync_ops;
    failing_fd = j.log_fd;
    struct nn_op op = mkdir_op("a");
    struct nn_op_result res = { 0 };
    ck_assert_int_eq(nn_ns_apply(&live, &op, &res), 0);
    nn_journal_append(&j, &op);
    ck_assert_int_eq(nn_journal_sync(&j), -EIO); /* the new extent's fsync */
    failing_fd = FAIL_NONE;
    ck_assert_int_eq(nn_journal_sync(&j), 0);
    nn_journal_use_page_cache(&j);
    op = mkdir_op("b");
    ck_assert_int_eq(nn_ns_apply(&live, &op, &res), 0);
    nn_journal_append(&j, &op);
    failing_fd = j.log_fd;
    ck_assert_int_eq(nn_journal_sync(&j), -EIO); /* the batch's fdatasync */
    failing_fd = FAIL_NONE;
    nn_journal_close(&j);
    nn_ns_fini(&live);
}
END_TEST

/* ---- mutation fuzz of the on-disk decoders ---- */

/* The image and the records are checksummed, but a checksum vouches only for the bytes the
 * namenode wrote, so a namenode bug, a version skew or a collision still reaches the decoders:
 * they must refuse what they cannot load and never crash, and what they accept must be a
 * namespace that keeps its invariants. Mutants of real encodings get past the first fields,
 * which random bytes never do. */

enum { FUZZ_SEEDS = 3, FUZZ_IMAGE_MUTANTS = 2000, FUZZ_OP_POOL = 64, FUZZ_OP_MUTANTS = 6000 };

/* The mutant being tried, for failure messages: (seed, idx) alone rebuild it (fuzz_reseed). */
static struct {
    const char *target;
    uint64_t seed;
    unsigned idx;
    const uint8_t *b;
    size_t n;
    char log[160]; /* the mutations applied */
} fuzz_at;

/* Names the mutant, with its bytes in hex when it is short (records are). */
static void fuzz_describe(char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "%s seed %#" PRIx64 " mutant %u (%zu bytes):%s",
                                fuzz_at.target, fuzz_at.seed, fuzz_at.idx, fuzz_at.n,
                                fuzz_at.log);
    for (size_t i = 0; fuzz_at.b && fuzz_at.n <= 256 && i < fuzz_at.n && k + 4 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%02x", i ? "" : " hex ", fuzz_at.b[i]);
}

/* nn_ns_assert_valid() and the namespace's ASSERTs abort(), which check shows only as a
 * signal: name the mutant on stderr first. The abort is synchronous (our own call), so the
 * handler may format. SA_RESETHAND: abort() then ends the process as before. */
static void fuzz_on_abort(int sig)
{
    char msg[1024];

    (void)sig;
    if (!fuzz_at.target)
        return; /* told already (a sanitizer's hook, then its abort) */
    fuzz_describe(msg, sizeof(msg));
    fuzz_at.target = NULL;
    ssize_t w = write(2, "fuzz: died on ", 14);
    w = write(2, msg, strlen(msg));
    w = write(2, "\n", 1);
    (void)w;
}

/* ASan and UBSan end the process their own way: they call this hook first, when built in. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void fuzz_on_sanitizer_death(void)
{
    fuzz_on_abort(0);
}

static struct sigaction fuzz_old_abort;

static void fuzz_begin(const char *target)
{
    struct sigaction sa;

    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(fuzz_on_sanitizer_death);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fuzz_on_abort;
    sa.sa_flags = SA_RESETHAND;
    ck_assert_int_eq(sigaction(SIGABRT, &sa, &fuzz_old_abort), 0);
    fuzz_at.target = target;
}

static void fuzz_end(void)
{
    sigaction(SIGABRT, &fuzz_old_abort, NULL);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(NULL);
    fuzz_at.target = NULL;
}

static void fuzz_fail(const char *what, int line)
{
    char msg[1024];

    fuzz_describe(msg, sizeof(msg));
    fuzz_end(); /* ck_abort_msg() does not return here */
    ck_abort_msg("line %d: %s: %s", line, what, msg);
}

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(#cond, __LINE__);                                                            \
    } while (0)

/* Each mutant gets its own stream, so a failing one is rebuilt from (seed, idx) alone. */
static void fuzz_reseed(uint64_t seed, unsigned idx)
{
    rng_state = seed ^ (0x9E3779B97F4A7C15ULL * (idx + 1ULL));
    test_rng_next(&rng_state);
    fuzz_at.seed = seed;
    fuzz_at.idx = idx;
    fuzz_at.log[0] = '\0';
}

static void fuzz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fuzz_note(const char *fmt, ...)
{
    size_t k = strlen(fuzz_at.log);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(fuzz_at.log + k, sizeof(fuzz_at.log) - k, fmt, ap);
    va_end(ap);
}

/* A heap mutant with room to grow by a few bytes. */
struct mutant {
    uint8_t *b;
    size_t n, cap;
};

static void mutant_from(struct mutant *m, const struct buf *sample)
{
    m->cap = sample->len + 32;
    m->b = malloc(m->cap);
    ck_assert_ptr_nonnull(m->b);
    memcpy(m->b, sample->data, sample->len);
    m->n = sample->len;
}

/* The edges of a width-byte integer and the values the decoders and nn_ns_apply() compare
 * with (block unit, name and id caps, file types, op kinds): where a missing or off-by-one
 * check lets a value through. */
static uint64_t edge_value(unsigned width)
{
    uint64_t top = test_width_top(width), max = test_width_max(width);
    const uint64_t v[] = { 0, 1, 2, max, max - 1, top, top - 1, NN_BLOCK_UNIT,
                           NN_BLOCK_UNIT - 1, WIRE_NAME_MAX, WIRE_NAME_MAX + 1, WIRE_ID_MAX,
                           WIRE_ID_MAX + 1, S_IFDIR | 0755, S_IFREG | 0644, S_IFLNK | 0777,
                           NN_OP_KIND_MAX, NN_OP_KIND_MAX + 1 };
    return v[rng_below(sizeof(v) / sizeof(v[0]))] & max;
}

static void mut_flip(struct mutant *m)
{
    size_t at = rng_below(m->n);
    unsigned bit = (unsigned)rng_below(8);

    m->b[at] ^= (uint8_t)(1u << bit);
    fuzz_note(" flip@%zu.%u", at, bit);
}

/* A byte that names and strings treat specially: a name "." or with a '/', a NUL inside. */
static void mut_byte(struct mutant *m)
{
    static const uint8_t v[] = { 0, '/', '.', 0x7f, 0x80, 0xff };
    size_t at = rng_below(m->n);

    m->b[at] = v[rng_below(sizeof(v))];
    fuzz_note(" byte@%zu=%#x", at, m->b[at]);
}

/* A u16, u32 or u64 at any offset (fields follow strings, so none is aligned): an edge value,
 * or a quarter of the time the old value +-1, which turns an inode number, a block id or a
 * count into its neighbour. */
static void mut_word(struct mutant *m)
{
    unsigned width = 2u << rng_below(3);

    if (m->n < width)
        return;
    size_t at = rng_below(m->n - width + 1);
    uint64_t v = edge_value(width);
    if (rng_below(4) == 0)
        v = test_le_get(m->b + at, width) + (rng_below(2) ? 1 : (uint64_t)-1);
    test_le_put(m->b + at, width, v);
    fuzz_note(" u%u@%zu=%#" PRIx64, 8 * width, at, v);
}

static void mut_insert(struct mutant *m)
{
    size_t k = 1 + rng_below(4), at = rng_below(m->n + 1);

    if (m->n + k > m->cap)
        return;
    memmove(m->b + at + k, m->b + at, m->n - at);
    for (size_t i = 0; i < k; i++)
        m->b[at + i] = (uint8_t)test_rng_next(&rng_state);
    m->n += k;
    fuzz_note(" insert@%zu+%zu", at, k);
}

static void mut_delete(struct mutant *m)
{
    size_t k = 1 + rng_below(m->n < 4 ? m->n : 4), at = rng_below(m->n - k + 1);

    memmove(m->b + at, m->b + at + k, m->n - at - k);
    m->n -= k;
    fuzz_note(" delete@%zu-%zu", at, k);
}

static void mut_truncate(struct mutant *m)
{
    m->n = rng_below(m->n);
    fuzz_note(" cut@%zu", m->n);
}

static int looks_like_mode(uint64_t v)
{
    return (S_ISDIR(v) || S_ISREG(v)) && (v & ~(uint64_t)(S_IFMT | 07777)) == 0;
}

/* Gives a u32 that looks like a mode (one uniformly, by reservoir) another file type: a file
 * with a lease or blocks becomes a directory, a directory with entries a file. Random bytes
 * would need two bits at once in the one right word. */
static void mut_mode(struct mutant *m)
{
    static const uint32_t types[] = { S_IFDIR, S_IFREG, S_IFLNK, 0 };
    size_t pick = SIZE_MAX, seen = 0;

    for (size_t at = 0; at + 4 <= m->n; at++)
        if (looks_like_mode(test_le_get(m->b + at, 4)) && rng_below(++seen) == 0)
            pick = at;
    if (pick == SIZE_MAX)
        return;
    uint32_t v = (uint32_t)test_le_get(m->b + pick, 4) & 07777;
    v |= types[rng_below(sizeof(types) / sizeof(types[0]))];
    test_le_put(m->b + pick, 4, v);
    fuzz_note(" mode@%zu=%#o", pick, v);
}

typedef void mut_fn(struct mutant *m);
/* Value changes twice as often as shape changes: those are what reach the deep checks. */
static mut_fn *const mutations[] = { mut_flip, mut_flip,   mut_byte,   mut_word,    mut_word,
                                     mut_mode, mut_insert, mut_delete, mut_truncate };

/* Mostly one mutation, so most mutants stay near enough to valid to reach the fields behind
 * the damaged one; a quarter stack two or three. */
static void mutate(struct mutant *m)
{
    unsigned ops = rng_below(4) ? 1 : 2 + (unsigned)rng_below(2);

    for (unsigned i = 0; i < ops && m->n > 0; i++)
        mutations[rng_below(sizeof(mutations) / sizeof(mutations[0]))](m);
}

/* An exact-size heap copy of the mutant, so ASan sees any read past its end. */
static uint8_t *exact_copy(const struct mutant *m)
{
    uint8_t *p = malloc(m->n ? m->n : 1);

    ck_assert_ptr_nonnull(p);
    memcpy(p, m->b, m->n);
    fuzz_at.b = p;
    fuzz_at.n = m->n;
    return p;
}

/* Whether the mutant first differs from the sample in its second half: an accepted one shows
 * that the decoder read that far and took what it found. */
static int differs_deep(const uint8_t *p, size_t n, const struct buf *sample)
{
    size_t i = 0;

    while (i < n && i < sample->len && p[i] == sample->data[i])
        i++;
    return i >= sample->len / 2;
}

struct fuzz_counts {
    unsigned accepted;
    unsigned deep;    /* accepted, first changed byte in the second half */
    unsigned applied; /* records: accepted and applied successfully */
};

static void ns_from_image(struct nn_ns *ns, const struct buf *img)
{
    nn_ns_init(ns, T0);
    FUZZ_CHECK(nn_ns_image_decode(ns, img->data, img->len) == 0);
}

static int apply_op(struct nn_ns *ns, const struct nn_op *op)
{
    struct nn_op_result res = { 0 };
    int rc = nn_ns_apply(ns, op, &res);

    nn_blk_list_fini(&res.freed);
    return rc;
}

/* Names the file's open last block as op's previous one, committed at a random length (id 0:
 * there is none). */
static void set_open_last(const struct nn_ns *ns, struct nn_op *op)
{
    const struct nn_inode *in = nn_ns_get(ns, op->ino);
    uint32_t n = nn_inode_blk_count(in);

    op->blk = (struct wire_blk){ 0, 0 };
    op->blk_len = 0;
    if (n == 0 || nn_inode_blk(in, n - 1).is_committed)
        return;
    struct nn_blkref last = nn_inode_blk(in, n - 1);
    op->blk = (struct wire_blk){ last.id, last.gen };
    op->blk_len = rng_below(BS + 1);
}

/* Gives file ino one to three more blocks, committing each before the next, and then closes
 * it or (half the time) leaves it open with its last block uncommitted. */
static void file_add_blocks(struct nn_ns *ns, uint64_t ino, uint64_t *now)
{
    const char *holder = nn_ns_lease_holder(ns, nn_ns_get(ns, ino));
    unsigned blocks = 1 + (unsigned)rng_below(3), close = (unsigned)rng_below(2);
    struct nn_op op;

    memset(&op, 0, sizeof(op));
    op.ino = ino;
    snprintf(op.client, sizeof(op.client), "%s", holder ? holder : "c1");
    for (unsigned i = 0; i < blocks + close; i++) {
        op.kind = i < blocks ? NN_OP_ADD_BLOCK : NN_OP_COMPLETE;
        op.now_ms = ++*now;
        set_open_last(ns, &op);
        ck_assert_int_eq(apply_op(ns, &op), 0);
    }
}

/* A namespace grown by count seeded random ops, then blocks for most files (random ops seldom
 * name a file with its lease holder): directories, open and closed files, files of one and of
 * several blocks, open last blocks. */
static void build_ns(struct nn_ns *ns, uint64_t seed, int count)
{
    uint64_t files[64], now = T0;
    size_t n = 0, pos = 0;
    const struct nn_inode *in;

    rng_state = seed;
    nn_ns_init(ns, T0);
    for (int i = 0; i < count; i++) {
        struct nn_op op;
        random_op(ns, ++now, &op);
        apply_op(ns, &op);
    }
    while ((in = nn_ns_next(ns, &pos)) != NULL && n < 64)
        if (!nn_inode_is_dir(in))
            files[n++] = in->ino;
    for (size_t i = 0; i < n; i++)
        if (rng_below(3))
            file_add_blocks(ns, files[i], &now);
    nn_ns_assert_valid(ns);
}

/* What the image decoder checks and nn_ns_assert_valid() does not, as nn_ns_apply() only
 * makes such namespaces: directories and regular files only, no block longer than its
 * file's block size. */
static void check_decoded_inodes(const struct nn_ns *ns)
{
    size_t pos = 0;
    const struct nn_inode *in;

    while ((in = nn_ns_next(ns, &pos)) != NULL) {
        FUZZ_CHECK(S_ISDIR(in->mode) || S_ISREG(in->mode));
        for (uint32_t i = 0; i < nn_inode_blk_count(in); i++)
            FUZZ_CHECK(nn_inode_blk(in, i).len <= nn_inode_block_size(in));
    }
}

/* Whether a and b hold the same bytes, in any order. */
static int same_byte_counts(const uint8_t *a, const uint8_t *b, size_t n)
{
    long count[256] = { 0 };

    for (size_t i = 0; i < n; i++) {
        count[a[i]]++;
        count[b[i]]--;
    }
    for (size_t v = 0; v < 256; v++)
        if (count[v])
            return 0;
    return 1;
}

/* An accepted image re-encodes to its own records, perhaps in another order (a changed name
 * can move a file among its siblings), so to the same bytes in some order: a value the
 * decoder silently rounds or truncates shows. That re-encoding must be a fixed point. */
static void check_image_recode(const struct nn_ns *ns, const uint8_t *p, size_t n)
{
    struct buf once, twice;
    struct nn_ns again;

    image_of(ns, &once);
    FUZZ_CHECK(once.len == n && same_byte_counts(once.data, p, n));
    ns_from_image(&again, &once);
    nn_ns_assert_valid(&again);
    image_of(&again, &twice);
    FUZZ_CHECK(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
    buf_fini(&once);
    buf_fini(&twice);
    nn_ns_fini(&again);
}

/* Loading an image is followed by replay: ops on an accepted namespace keep its invariants. */
static void apply_random_ops(struct nn_ns *ns, int count)
{
    for (int i = 0; i < count; i++) {
        struct nn_op op;
        struct nn_op_result res = { 0 };
        random_op(ns, T0 + 100000 + (uint64_t)i, &op);
        int rc = nn_ns_apply(ns, &op, &res);
        nn_blk_list_fini(&res.freed);
        FUZZ_CHECK(rc <= 0);
        nn_ns_assert_valid(ns);
    }
}

static void fuzz_image_one(const struct mutant *m, const struct buf *sample,
                           struct fuzz_counts *c)
{
    uint8_t *p = exact_copy(m);
    struct nn_ns ns;

    nn_ns_init(&ns, T0);
    int rc = nn_ns_image_decode(&ns, p, m->n);
    FUZZ_CHECK(rc == 0 || rc == -ERR_CORRUPT);
    if (rc == 0) {
        nn_ns_assert_valid(&ns);
        check_decoded_inodes(&ns);
        check_image_recode(&ns, p, m->n);
        apply_random_ops(&ns, 3);
        c->accepted++;
        c->deep += differs_deep(p, m->n, sample);
    }
    nn_ns_fini(&ns); /* also after a refusal: the decoder leaves it safe to fini */
    free(p);
    fuzz_at.b = NULL;
}

/* Decodes FUZZ_IMAGE_MUTANTS mutants of the image of a namespace grown from seed. */
static void fuzz_images_of(uint64_t seed, int ops, struct fuzz_counts *c)
{
    struct nn_ns ns;
    struct buf sample;

    build_ns(&ns, seed, ops);
    image_of(&ns, &sample);
    ck_assert_uint_gt(ns.file_count, 3);
    ck_assert_uint_gt(ns.dir_count, 2);
    ck_assert_uint_gt(ns.blk_count, 3);
    for (unsigned k = 0; k < FUZZ_IMAGE_MUTANTS; k++) {
        struct mutant m;
        mutant_from(&m, &sample);
        fuzz_reseed(seed, k);
        mutate(&m);
        fuzz_image_one(&m, &sample, c);
        free(m.b);
    }
    buf_fini(&sample);
    nn_ns_fini(&ns);
}

/* Too few accepted, or none changed past the middle, and the fuzz would pass while testing
 * only the header: the fixed seeds give at least three times these. */
enum {
    FUZZ_IMAGE_MIN_ACCEPTED = FUZZ_SEEDS * FUZZ_IMAGE_MUTANTS / 12,
    FUZZ_IMAGE_MIN_DEEP = FUZZ_SEEDS * FUZZ_IMAGE_MUTANTS / 24,
};

START_TEST(test_nn_journal_image_mutants_decode_safely)
{
    static const uint64_t seeds[FUZZ_SEEDS] = { 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL,
                                                0x27D4EB2F165667C5ULL };
    struct fuzz_counts c = { 0 };

    fuzz_begin("image");
    for (unsigned s = 0; s < FUZZ_SEEDS; s++)
        fuzz_images_of(seeds[s], 300 + 200 * (int)s, &c);
    fuzz_end();
    ck_assert_msg(c.accepted >= FUZZ_IMAGE_MIN_ACCEPTED, "%u image mutants accepted", c.accepted);
    ck_assert_msg(c.deep >= FUZZ_IMAGE_MIN_DEEP, "%u accepted past the middle", c.deep);
}
END_TEST

/* Applies op to a copy of the namespace of img: a success must keep the invariants, a failure
 * must be a negative error and change nothing. Returns whether it succeeded. */
static int op_applies_cleanly(const struct buf *img, const struct nn_op *op)
{
    struct nn_ns ns;
    struct nn_op_result res = { 0 };
    struct buf after;

    ns_from_image(&ns, img);
    int rc = nn_ns_apply(&ns, op, &res);
    nn_blk_list_fini(&res.freed);
    FUZZ_CHECK(rc <= 0);
    nn_ns_assert_valid(&ns);
    image_of(&ns, &after);
    FUZZ_CHECK(rc == 0 || (after.len == img->len && !memcmp(after.data, img->data, img->len)));
    buf_fini(&after);
    nn_ns_fini(&ns);
    return rc == 0;
}

/* The record codec is canonical (fixed-width fields, length-prefixed strings without NULs,
 * every byte consumed): an accepted record re-encodes to exactly its own bytes. */
static void fuzz_op_one(const struct mutant *m, const struct buf *sample, const struct buf *img,
                        struct fuzz_counts *c)
{
    uint8_t *p = exact_copy(m);
    struct nn_op op;
    struct buf again;

    int rc = nn_op_decode(p, m->n, &op);
    FUZZ_CHECK(rc == 0 || rc == -ERR_PROTO);
    if (rc == 0) {
        buf_init(&again);
        nn_op_encode(&op, &again);
        FUZZ_CHECK(again.len == m->n && memcmp(again.data, p, m->n) == 0);
        buf_fini(&again);
        c->accepted++;
        c->deep += differs_deep(p, m->n, sample);
        c->applied += (unsigned)op_applies_cleanly(img, &op);
    }
    free(p);
    fuzz_at.b = NULL;
}

/* Random ops over ns, encoded: every kind, with the names, inodes and blocks ns has. */
static void op_pool(const struct nn_ns *ns, struct buf *pool, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct nn_op op;
        random_op(ns, T0 + 50000 + i, &op);
        buf_init(&pool[i]);
        nn_op_encode(&op, &pool[i]);
    }
}

/* As for images: the fixed seed gives at least three times these. */
enum {
    FUZZ_OP_MIN_ACCEPTED = FUZZ_OP_MUTANTS / 6,
    FUZZ_OP_MIN_DEEP = FUZZ_OP_MUTANTS / 10,
    FUZZ_OP_MIN_APPLIED = FUZZ_OP_MUTANTS / 30,
};

START_TEST(test_nn_journal_record_mutants_decode_and_apply_safely)
{
    const uint64_t seed = 0x85EBCA77C2B2AE63ULL;
    struct fuzz_counts c = { 0 };
    struct buf pool[FUZZ_OP_POOL], img;
    struct nn_ns ns;

    build_ns(&ns, seed, 600);
    image_of(&ns, &img);
    op_pool(&ns, pool, FUZZ_OP_POOL);
    fuzz_begin("record");
    for (unsigned k = 0; k < FUZZ_OP_MUTANTS; k++) {
        struct mutant m;
        fuzz_reseed(seed, k);
        const struct buf *sample = &pool[rng_below(FUZZ_OP_POOL)];
        mutant_from(&m, sample);
        mutate(&m);
        fuzz_op_one(&m, sample, &img, &c);
        free(m.b);
    }
    fuzz_end();
    ck_assert_msg(c.accepted >= FUZZ_OP_MIN_ACCEPTED, "%u records accepted", c.accepted);
    ck_assert_msg(c.deep >= FUZZ_OP_MIN_DEEP, "%u accepted past the middle", c.deep);
    ck_assert_msg(c.applied >= FUZZ_OP_MIN_APPLIED, "%u accepted records applied", c.applied);
    for (size_t i = 0; i < FUZZ_OP_POOL; i++)
        buf_fini(&pool[i]);
    buf_fini(&img);
    nn_ns_fini(&ns);
}
END_TEST

static Suite *nn_journal_suite(void)
{
    Suite *s = suite_create("nn_journal");
    TCase *tc = tcase_create("journal");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nn_journal_fresh_dir_is_formatted_with_root_only);
    tcase_add_test(tc, test_nn_journal_replay_of_random_ops_equals_live_state);
    tcase_add_test(tc, test_nn_journal_replay_after_checkpoint_equals_live_state);
    tcase_add_test(tc, test_nn_journal_checkpoint_then_crash_before_log_truncate_replays_nothing);
    tcase_add_test(tc, test_nn_journal_torn_tail_is_cut_and_earlier_records_survive);
    tcase_add_test(tc, test_nn_journal_garbage_tail_is_cut);
    tcase_add_test(tc, test_nn_journal_corrupt_image_is_refused);
    tcase_add_test(tc, test_nn_journal_record_that_fails_to_apply_is_corrupt);
    tcase_add_test(tc, test_nn_journal_second_open_of_locked_dir_is_ebusy);
    tcase_add_test(tc, test_nn_journal_unsynced_batch_is_not_durable);
    tcase_add_test(tc, test_nn_journal_writes_direct_where_the_file_system_allows);
    tcase_add_test(tc, test_nn_journal_direct_and_page_cache_paths_write_the_same_log);
    tcase_add_test(tc, test_nn_journal_switch_to_page_cache_mid_log_keeps_every_record);
    tcase_add_test(tc, test_nn_journal_refused_direct_write_falls_back_and_loses_nothing);
    tcase_add_test(tc, test_nn_journal_big_batches_across_extents_keep_every_record);
    tcase_add_test(tc, test_nn_journal_checkpoint_whose_log_fsync_fails_keeps_later_records);
    tcase_add_test(tc, test_nn_journal_checkpoint_whose_image_fsync_fails_keeps_the_log);
    tcase_add_test(tc, test_nn_journal_failed_flush_is_reported);
    suite_add_tcase(s, tc);
    TCase *fz = tcase_create("decoder_fuzz"); /* no directory: decoders only */
    tcase_set_timeout(fz, 60);
    tcase_add_test(fz, test_nn_journal_image_mutants_decode_safely);
    tcase_add_test(fz, test_nn_journal_record_mutants_decode_and_apply_safely);
    suite_add_tcase(s, fz);
    return s;
}

int main(void)
{
    return check_run(nn_journal_suite());
}
