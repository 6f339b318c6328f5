/* Unit tests for namenode/nn_ns: the namespace state machine driven through nn_ns_apply()
 * (create, mkdir, rename, unlink, rmdir, setattr, leases, blocks), directory order, the
 * checkpoint image codec and the edit-log record codec. Every failing op must leave the
 * namespace byte-for-byte unchanged (compared through the image), and nn_ns_assert_valid()
 * runs after every step. Pure: no I/O. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "check_run.h"
#include "err.h"
#include "nn_ns.h"
#include "nn_ns_image.h"
#include "wire.h"

enum { BS = 1 << 20, T0 = 1000 };

/* ---- helpers ---- */

static struct nn_ns ns;

static void setup(void)
{
    nn_ns_init(&ns, T0);
}

static void teardown(void)
{
    nn_ns_fini(&ns);
}

/* Applies op; checks the invariants and that a failure freed nothing. res_out (optional) gets
 * the result, whose freed list the caller then owns. */
static int apply(const struct nn_op *op, struct nn_op_result *res_out)
{
    struct nn_op_result res = { 0 };
    int rc = nn_ns_apply(&ns, op, &res);

    nn_ns_assert_valid(&ns);
    if (rc < 0)
        ck_assert_uint_eq(res.freed.count, 0);
    if (res_out)
        *res_out = res;
    else
        nn_blk_list_fini(&res.freed);
    return rc;
}

static void image_of(struct buf *b)
{
    buf_init(b);
    nn_ns_image_encode(&ns, b);
}

/* Applies op, expects error want, and checks that the namespace did not change. */
static void expect_fail(const struct nn_op *op, int want)
{
    struct buf before, after;

    image_of(&before);
    uint64_t files = ns.file_count, dirs = ns.dir_count, blks = ns.blk_count;
    ck_assert_int_eq(apply(op, NULL), want);
    image_of(&after);
    ck_assert_uint_eq(before.len, after.len);
    ck_assert_int_eq(memcmp(before.data, after.data, before.len), 0);
    ck_assert_uint_eq(ns.file_count, files);
    ck_assert_uint_eq(ns.dir_count, dirs);
    ck_assert_uint_eq(ns.blk_count, blks);
    buf_fini(&before);
    buf_fini(&after);
}

static struct nn_op op_new(uint8_t kind)
{
    struct nn_op op;

    memset(&op, 0, sizeof(op));
    op.kind = kind;
    op.now_ms = T0 + 1;
    return op;
}

static struct nn_op op_mkdir(uint64_t parent, const char *name)
{
    struct nn_op op = op_new(NN_OP_MKDIR);

    op.parent = parent;
    snprintf(op.name, sizeof(op.name), "%s", name);
    op.mode = 0750;
    op.uid = 11;
    op.gid = 22;
    return op;
}

static struct nn_op op_create(uint64_t parent, const char *name, const char *client)
{
    struct nn_op op = op_new(NN_OP_CREATE);

    op.parent = parent;
    snprintf(op.name, sizeof(op.name), "%s", name);
    snprintf(op.client, sizeof(op.client), "%s", client);
    op.mode = 0644;
    op.uid = 33;
    op.gid = 44;
    op.block_size = BS;
    op.replication = 3;
    return op;
}

static struct nn_op op_name(uint8_t kind, uint64_t parent, const char *name)
{
    struct nn_op op = op_new(kind);

    op.parent = parent;
    snprintf(op.name, sizeof(op.name), "%s", name);
    return op;
}

static struct nn_op op_rename(uint64_t parent, const char *name, uint64_t new_parent,
                              const char *new_name, uint32_t flags)
{
    struct nn_op op = op_name(NN_OP_RENAME, parent, name);

    op.new_parent = new_parent;
    snprintf(op.new_name, sizeof(op.new_name), "%s", new_name);
    op.flags = flags;
    return op;
}

/* ADD_BLOCK or COMPLETE by client, committing blk with len. */
static struct nn_op op_blk(uint8_t kind, uint64_t ino, const char *client, struct wire_blk blk,
                           uint64_t len)
{
    struct nn_op op = op_new(kind);

    op.ino = ino;
    snprintf(op.client, sizeof(op.client), "%s", client);
    op.blk = blk;
    op.blk_len = len;
    return op;
}

static struct nn_op op_setattr(uint64_t ino, uint32_t flags, uint64_t size, const char *client)
{
    struct nn_op op = op_new(NN_OP_SETATTR);

    op.ino = ino;
    op.flags = flags;
    op.size = size;
    snprintf(op.client, sizeof(op.client), "%s", client);
    return op;
}

static uint64_t mkdir_ok(uint64_t parent, const char *name)
{
    struct nn_op op = op_mkdir(parent, name);
    struct nn_op_result res;

    ck_assert_int_eq(apply(&op, &res), 0);
    nn_blk_list_fini(&res.freed);
    return res.ino;
}

static uint64_t create_ok(uint64_t parent, const char *name, const char *client)
{
    struct nn_op op = op_create(parent, name, client);
    struct nn_op_result res;

    ck_assert_int_eq(apply(&op, &res), 0);
    nn_blk_list_fini(&res.freed);
    return res.ino;
}

static struct wire_blk add_block_ok(uint64_t ino, const char *client, struct wire_blk prev,
                                    uint64_t prev_len)
{
    struct nn_op op = op_blk(NN_OP_ADD_BLOCK, ino, client, prev, prev_len);
    struct nn_op_result res;

    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(res.ino, ino);
    nn_blk_list_fini(&res.freed);
    return res.blk;
}

static void complete_ok(uint64_t ino, const char *client, struct wire_blk last, uint64_t len)
{
    struct nn_op op = op_blk(NN_OP_COMPLETE, ino, client, last, len);

    ck_assert_int_eq(apply(&op, NULL), 0);
}

/* A closed file of two committed blocks (len1 + len2 bytes); returns its blocks in b[2]. */
static uint64_t file_with_blocks(uint64_t parent, const char *name, uint64_t len1,
                                 uint64_t len2, struct wire_blk b[2])
{
    uint64_t ino = create_ok(parent, name, "c1");
    static const struct wire_blk none = { 0, 0 };

    b[0] = add_block_ok(ino, "c1", none, 0);
    b[1] = add_block_ok(ino, "c1", b[0], len1);
    complete_ok(ino, "c1", b[1], len2);
    return ino;
}

static const struct nn_inode *lookup(uint64_t parent, const char *name)
{
    const struct nn_inode *in = NULL;

    if (nn_ns_lookup(&ns, parent, name, strlen(name), &in) < 0)
        return NULL;
    return in;
}

static int freed_has(const struct nn_blk_list *l, struct wire_blk b)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->v[i].id == b.id && l->v[i].gen == b.gen)
            return 1;
    }
    return 0;
}

static const struct wire_blk no_blk = { 0, 0 };

/* ---- create, mkdir, lookup ---- */

static uint64_t dir_change(uint64_t ino)
{
    struct wire_attr a;

    nn_ns_attr(nn_ns_get(&ns, ino), &a);
    return a.change;
}

/* A directory's change counter starts at the base and moves by one per entry added or
 * removed, and only then; files have none. */
START_TEST(test_nn_ns_dir_change_counts_entry_changes)
{
    struct wire_attr a;

    nn_ns_start_changes(&ns, nn_change_base(5u << 19));
    ck_assert_uint_eq(nn_change_base(5u << 19), 5u << 20);
    ck_assert_uint_eq(dir_change(NN_ROOT_INO), 5u << 20);
    uint64_t d = mkdir_ok(NN_ROOT_INO, "d");
    ck_assert_uint_eq(dir_change(NN_ROOT_INO), (5u << 20) + 1);
    ck_assert_uint_eq(dir_change(d), 5u << 20);
    uint64_t f = create_ok(d, "f", "c1");
    ck_assert_uint_eq(dir_change(d), (5u << 20) + 1);
    struct nn_op set = op_setattr(d, WIRE_SET_MODE, 0, "");
    set.mode = 0700;
    ck_assert_int_eq(apply(&set, NULL), 0); /* not an entry change */
    ck_assert_uint_eq(dir_change(d), (5u << 20) + 1);
    expect_fail((struct nn_op[]){ op_create(d, "f", "c2") }, -EEXIST);
    ck_assert_uint_eq(dir_change(d), (5u << 20) + 1);
    struct nn_op mv = op_rename(d, "f", d, "g", 0);
    ck_assert_int_eq(apply(&mv, NULL), 0);
    ck_assert_uint_eq(dir_change(d), (5u << 20) + 3); /* one removed, one added */
    struct nn_op rm = op_name(NN_OP_UNLINK, d, "g");
    ck_assert_int_eq(apply(&rm, NULL), 0);
    ck_assert_uint_eq(dir_change(d), (5u << 20) + 4);
    nn_ns_attr(nn_ns_get(&ns, NN_ROOT_INO), &a);
    ck_assert_uint_eq(a.change, (5u << 20) + 1);
    nn_ns_start_changes(&ns, nn_change_base(9u << 19)); /* a restart, records later */
    ck_assert_uint_eq(dir_change(d), 9u << 20);
    (void)f;
}
END_TEST

/* SPEND_BLK_IDS raises the next block id, never lowers it (and then changes nothing). */
START_TEST(test_nn_ns_spend_blk_ids_only_raises)
{
    struct nn_op op = op_new(NN_OP_SPEND_BLK_IDS);
    struct nn_op_result res = { 0 };

    op.size = 100;
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 0);
    ck_assert_uint_eq(ns.next_blk_id, 100);
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    ck_assert_uint_eq(add_block_ok(f, "c1", no_blk, 0).id, 100);
    op.size = 50;
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 1);
    ck_assert_uint_eq(ns.next_blk_id, 101);
}
END_TEST

START_TEST(test_nn_ns_init_has_only_root_dir)
{
    const struct nn_inode *root = nn_ns_get(&ns, NN_ROOT_INO);

    ck_assert_ptr_nonnull(root);
    ck_assert(S_ISDIR(root->mode));
    ck_assert_uint_eq(root->mode & 07777, 0755);
    ck_assert_uint_eq(nn_inode_nlink(root), 2);
    ck_assert_uint_eq(root->mtime_ms, T0);
    ck_assert_uint_eq(nn_inode_ent_count(root), 0);
    ck_assert_uint_eq(ns.dir_count, 1);
    ck_assert_uint_eq(ns.file_count, 0);
    ck_assert_ptr_null(nn_ns_get(&ns, 0));
    ck_assert_ptr_null(nn_ns_get(&ns, 2));
    nn_ns_assert_valid(&ns);
}
END_TEST

START_TEST(test_nn_ns_mkdir_then_lookup_finds_it)
{
    uint64_t a = mkdir_ok(NN_ROOT_INO, "a");
    const struct nn_inode *in = lookup(NN_ROOT_INO, "a");
    const struct nn_inode *root = nn_ns_get(&ns, NN_ROOT_INO);
    struct wire_attr attr;

    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(in->ino, a);
    ck_assert_uint_eq(in->mode, S_IFDIR | 0750);
    ck_assert_uint_eq(in->uid, 11);
    ck_assert_uint_eq(in->gid, 22);
    ck_assert_uint_eq(nn_inode_nlink(in), 2);
    ck_assert_uint_eq(in->parent, NN_ROOT_INO);
    ck_assert_uint_eq(nn_inode_nlink(root), 3);
    ck_assert_uint_eq(root->mtime_ms, T0 + 1);
    nn_ns_attr(in, &attr);
    ck_assert_uint_eq(attr.ino, a);
    ck_assert_uint_eq(attr.is_open, 0);
    ck_assert_uint_eq(ns.dir_count, 2);

    uint64_t b = mkdir_ok(a, "b");
    ck_assert_uint_ne(b, a);
    ck_assert_ptr_nonnull(lookup(a, "b"));
    ck_assert_ptr_null(lookup(NN_ROOT_INO, "b"));
}
END_TEST

START_TEST(test_nn_ns_create_makes_open_file_with_lease)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "client-1");
    const struct nn_inode *in = lookup(NN_ROOT_INO, "f");
    struct wire_attr attr;

    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(in->ino, f);
    ck_assert_uint_eq(in->mode, S_IFREG | 0644);
    ck_assert_uint_eq(nn_inode_nlink(in), 1);
    ck_assert_uint_eq(in->size, 0);
    ck_assert_uint_eq(nn_inode_block_size(in), BS);
    ck_assert_uint_eq(in->replication, 3);
    ck_assert_str_eq(nn_ns_lease_holder(&ns, in), "client-1");
    nn_ns_attr(in, &attr);
    ck_assert_uint_eq(attr.is_open, 1);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, NN_ROOT_INO)), 2); /* files do not count */
    ck_assert_uint_eq(ns.file_count, 1);
}
END_TEST

START_TEST(test_nn_ns_create_with_bad_params_is_einval)
{
    struct nn_op op = op_create(NN_ROOT_INO, "f", "c1");

    op.block_size = 0;
    expect_fail(&op, -EINVAL);
    op.block_size = 1000; /* not a multiple of 64 KiB */
    expect_fail(&op, -EINVAL);
    op.block_size = BS;
    op.replication = 0;
    expect_fail(&op, -EINVAL);
    op.replication = NN_REPLICATION_MAX + 1; /* more than a block's locations hold */
    expect_fail(&op, -EINVAL);
    op.replication = 3;
    op.block_size = (uint64_t)(NN_BLOCK_UNITS_MAX + 1) * NN_BLOCK_UNIT;
    expect_fail(&op, -EINVAL);
    op.block_size = BS;
    op.client[0] = '\0';
    expect_fail(&op, -EINVAL);
}
END_TEST

START_TEST(test_nn_ns_create_at_the_largest_shape_is_accepted)
{
    struct nn_op op = op_create(NN_ROOT_INO, "f", "c1");
    struct nn_op_result res = { 0 };

    op.block_size = (uint64_t)NN_BLOCK_UNITS_MAX * NN_BLOCK_UNIT;
    op.replication = NN_REPLICATION_MAX;
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(nn_inode_block_size(nn_ns_get(&ns, res.ino)), 1ULL << 31);
    ck_assert_uint_eq(nn_ns_get(&ns, res.ino)->replication, NN_REPLICATION_MAX);
}
END_TEST

/* Counters at NN_ID_MAX (only a damaged image or log gets them there) refuse new numbers
 * instead of wrapping to ones in use. */
START_TEST(test_nn_ns_ids_at_their_limit_are_enospc)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op mkdir_op = op_mkdir(NN_ROOT_INO, "d");
    struct nn_op create_op = op_create(NN_ROOT_INO, "g", "c1");
    struct nn_op add_op = op_blk(NN_OP_ADD_BLOCK, f, "c1", no_blk, 0);
    struct nn_op spend = op_new(NN_OP_SPEND_BLK_IDS);

    struct nn_op create_existing = op_create(NN_ROOT_INO, "f", "c1");

    ns.next_ino = NN_ID_MAX;
    expect_fail(&mkdir_op, -ENOSPC);
    expect_fail(&create_op, -ENOSPC);
    expect_fail(&create_existing, -EEXIST); /* the mount then opens the file: no new inode */
    spend.size = NN_ID_MAX + 1;
    expect_fail(&spend, -EINVAL);
    spend.size = NN_ID_MAX;
    ck_assert_int_eq(apply(&spend, NULL), 0);
    expect_fail(&add_op, -ENOSPC);
}
END_TEST

START_TEST(test_nn_ns_existing_name_is_eexist)
{
    mkdir_ok(NN_ROOT_INO, "d");
    create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_mkdir(NN_ROOT_INO, "d");
    expect_fail(&op, -EEXIST);
    op = op_mkdir(NN_ROOT_INO, "f");
    expect_fail(&op, -EEXIST);
    op = op_create(NN_ROOT_INO, "d", "c1");
    expect_fail(&op, -EEXIST);
    op = op_create(NN_ROOT_INO, "f", "c1");
    expect_fail(&op, -EEXIST);
}
END_TEST

START_TEST(test_nn_ns_missing_or_file_parent_is_rejected)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_mkdir(999, "x");

    expect_fail(&op, -ENOENT);
    op = op_create(999, "x", "c1");
    expect_fail(&op, -ENOENT);
    op = op_mkdir(0, "x");
    expect_fail(&op, -ENOENT);
    op = op_mkdir(f, "x");
    expect_fail(&op, -ENOTDIR);
    op = op_create(f, "x", "c1");
    expect_fail(&op, -ENOTDIR);
    op = op_name(NN_OP_UNLINK, 999, "x");
    expect_fail(&op, -ENOENT);
    op = op_name(NN_OP_UNLINK, NN_ROOT_INO, "nothing");
    expect_fail(&op, -ENOENT);
    op = op_name(NN_OP_RMDIR, NN_ROOT_INO, "nothing");
    expect_fail(&op, -ENOENT);
    op = op_rename(NN_ROOT_INO, "nothing", NN_ROOT_INO, "y", 0);
    expect_fail(&op, -ENOENT);
    op = op_rename(NN_ROOT_INO, "f", 999, "y", 0);
    expect_fail(&op, -ENOENT);
    op = op_rename(NN_ROOT_INO, "f", f, "y", 0);
    expect_fail(&op, -ENOTDIR);
}
END_TEST

static const char *const bad_names[] = { "", ".", "..", "a/b", "/", "abc/" };
enum { BAD_NAME_COUNT = sizeof(bad_names) / sizeof(bad_names[0]) };

START_TEST(test_nn_ns_invalid_names_are_einval)
{
    const char *name = bad_names[_i];

    mkdir_ok(NN_ROOT_INO, "d");
    struct nn_op op = op_mkdir(NN_ROOT_INO, name);
    expect_fail(&op, -EINVAL);
    op = op_create(NN_ROOT_INO, name, "c1");
    expect_fail(&op, -EINVAL);
    op = op_rename(NN_ROOT_INO, "d", NN_ROOT_INO, name, 0);
    expect_fail(&op, -EINVAL);
    op = op_name(NN_OP_UNLINK, NN_ROOT_INO, name);
    expect_fail(&op, -EINVAL);
    op = op_name(NN_OP_RMDIR, NN_ROOT_INO, name);
    expect_fail(&op, -EINVAL);
}
END_TEST

START_TEST(test_nn_ns_longest_name_is_accepted)
{
    char name[WIRE_NAME_MAX + 1];

    memset(name, 'x', WIRE_NAME_MAX);
    name[WIRE_NAME_MAX] = '\0';
    uint64_t d = mkdir_ok(NN_ROOT_INO, name);
    ck_assert_ptr_nonnull(lookup(NN_ROOT_INO, name));
    ck_assert_uint_eq(lookup(NN_ROOT_INO, name)->ino, d);
}
END_TEST

START_TEST(test_nn_ns_lookup_errors)
{
    const struct nn_inode *in;
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");

    ck_assert_int_eq(nn_ns_lookup(&ns, NN_ROOT_INO, "g", 1, &in), -ENOENT);
    ck_assert_int_eq(nn_ns_lookup(&ns, 999, "f", 1, &in), -ENOENT);
    ck_assert_int_eq(nn_ns_lookup(&ns, f, "f", 1, &in), -ENOTDIR);
    /* The name is taken by length, not NUL-terminated. */
    ck_assert_int_eq(nn_ns_lookup(&ns, NN_ROOT_INO, "fg", 1, &in), 0);
    ck_assert_uint_eq(in->ino, f);
}
END_TEST

START_TEST(test_nn_ns_unknown_op_kind_is_einval)
{
    struct nn_op op = op_mkdir(NN_ROOT_INO, "a");

    op.kind = 0;
    expect_fail(&op, -EINVAL);
    op.kind = NN_OP_KIND_MAX + 1;
    expect_fail(&op, -EINVAL);
}
END_TEST

/* ---- rename ---- */

START_TEST(test_nn_ns_rename_moves_entry_between_dirs)
{
    uint64_t a = mkdir_ok(NN_ROOT_INO, "a");
    uint64_t b = mkdir_ok(NN_ROOT_INO, "b");
    uint64_t f = create_ok(a, "f", "c1");
    uint64_t sub = mkdir_ok(a, "sub");
    struct nn_op op = op_rename(a, "f", b, "g", 0);

    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_ptr_null(lookup(a, "f"));
    ck_assert_uint_eq(lookup(b, "g")->ino, f);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->parent, b);

    op = op_rename(a, "sub", b, "sub2", 0);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, a)), 2);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, b)), 3);
    ck_assert_uint_eq(nn_ns_get(&ns, sub)->parent, b);

    /* Renaming within one directory. */
    op = op_rename(b, "g", b, "a-file", 0);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(lookup(b, "a-file")->ino, f);
    ck_assert_ptr_null(lookup(b, "g"));
}
END_TEST

START_TEST(test_nn_ns_rename_onto_file_replaces_it)
{
    struct wire_blk ab[2], bb[2];
    uint64_t a = file_with_blocks(NN_ROOT_INO, "a", 100, 50, ab);
    uint64_t b = file_with_blocks(NN_ROOT_INO, "b", 200, 70, bb);
    struct nn_op op = op_rename(NN_ROOT_INO, "b", NN_ROOT_INO, "a", 0);
    struct nn_op_result res;

    ck_assert_uint_eq(ns.blk_count, 4);
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(res.ino, b);
    ck_assert_uint_eq(res.freed.count, 2);
    ck_assert(freed_has(&res.freed, ab[0]));
    ck_assert(freed_has(&res.freed, ab[1]));
    nn_blk_list_fini(&res.freed);
    ck_assert_ptr_null(nn_ns_get(&ns, a));
    ck_assert_ptr_null(lookup(NN_ROOT_INO, "b"));
    ck_assert_uint_eq(lookup(NN_ROOT_INO, "a")->ino, b);
    ck_assert_uint_eq(lookup(NN_ROOT_INO, "a")->size, 270);
    ck_assert_uint_eq(ns.file_count, 1);
    ck_assert_uint_eq(ns.blk_count, 2);
}
END_TEST

START_TEST(test_nn_ns_rename_dir_onto_empty_dir_replaces_it)
{
    uint64_t a = mkdir_ok(NN_ROOT_INO, "a");
    uint64_t b = mkdir_ok(NN_ROOT_INO, "b");
    uint64_t x = mkdir_ok(a, "x");
    struct nn_op op = op_rename(NN_ROOT_INO, "a", NN_ROOT_INO, "b", 0);

    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, NN_ROOT_INO)), 4);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_ptr_null(nn_ns_get(&ns, b));
    ck_assert_uint_eq(lookup(NN_ROOT_INO, "b")->ino, a);
    ck_assert_ptr_null(lookup(NN_ROOT_INO, "a"));
    ck_assert_uint_eq(lookup(a, "x")->ino, x);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, NN_ROOT_INO)), 3);
    ck_assert_uint_eq(ns.dir_count, 3);
}
END_TEST

START_TEST(test_nn_ns_rename_dir_onto_nonempty_dir_is_enotempty)
{
    mkdir_ok(NN_ROOT_INO, "a");
    uint64_t b = mkdir_ok(NN_ROOT_INO, "b");
    create_ok(b, "f", "c1");
    struct nn_op op = op_rename(NN_ROOT_INO, "a", NN_ROOT_INO, "b", 0);

    expect_fail(&op, -ENOTEMPTY);
}
END_TEST

START_TEST(test_nn_ns_rename_dir_into_own_subtree_is_einval)
{
    uint64_t a = mkdir_ok(NN_ROOT_INO, "a");
    uint64_t b = mkdir_ok(a, "b");
    uint64_t c = mkdir_ok(b, "c");
    struct nn_op op = op_rename(NN_ROOT_INO, "a", c, "a", 0);

    expect_fail(&op, -EINVAL);
    op = op_rename(NN_ROOT_INO, "a", a, "self", 0);
    expect_fail(&op, -EINVAL);
    op = op_rename(a, "b", c, "b2", 0);
    expect_fail(&op, -EINVAL);
    /* Moving a directory up out of its parent is fine. */
    op = op_rename(b, "c", NN_ROOT_INO, "c", 0);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_ns_get(&ns, c)->parent, NN_ROOT_INO);
}
END_TEST

START_TEST(test_nn_ns_rename_noreplace_onto_existing_is_eexist)
{
    create_ok(NN_ROOT_INO, "a", "c1");
    create_ok(NN_ROOT_INO, "b", "c1");
    struct nn_op op = op_rename(NN_ROOT_INO, "a", NN_ROOT_INO, "b", WIRE_RENAME_NOREPLACE);

    expect_fail(&op, -EEXIST);
    /* Without a target it is an ordinary rename. */
    op = op_rename(NN_ROOT_INO, "a", NN_ROOT_INO, "c", WIRE_RENAME_NOREPLACE);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_ptr_nonnull(lookup(NN_ROOT_INO, "c"));
}
END_TEST

START_TEST(test_nn_ns_rename_kind_mismatch_is_rejected)
{
    mkdir_ok(NN_ROOT_INO, "d");
    create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_rename(NN_ROOT_INO, "f", NN_ROOT_INO, "d", 0);

    expect_fail(&op, -EISDIR);
    op = op_rename(NN_ROOT_INO, "d", NN_ROOT_INO, "f", 0);
    expect_fail(&op, -ENOTDIR);
}
END_TEST

START_TEST(test_nn_ns_rename_onto_itself_changes_nothing)
{
    create_ok(NN_ROOT_INO, "f", "c1");
    mkdir_ok(NN_ROOT_INO, "d");
    struct nn_op op = op_rename(NN_ROOT_INO, "f", NN_ROOT_INO, "f", 0);

    expect_fail(&op, 0);
    op = op_rename(NN_ROOT_INO, "d", NN_ROOT_INO, "d", 0);
    expect_fail(&op, 0);
}
END_TEST

/* ---- unlink, rmdir, nlink ---- */

START_TEST(test_nn_ns_unlink_file_frees_its_blocks)
{
    struct wire_blk b[2];
    uint64_t f = file_with_blocks(NN_ROOT_INO, "f", 10, 20, b);
    struct nn_op op = op_name(NN_OP_UNLINK, NN_ROOT_INO, "f");
    struct nn_op_result res;

    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(res.ino, f);
    ck_assert_uint_eq(res.freed.count, 2);
    ck_assert(freed_has(&res.freed, b[0]) && freed_has(&res.freed, b[1]));
    nn_blk_list_fini(&res.freed);
    ck_assert_ptr_null(nn_ns_get(&ns, f));
    ck_assert_ptr_null(lookup(NN_ROOT_INO, "f"));
    ck_assert_uint_eq(ns.file_count, 0);
    ck_assert_uint_eq(ns.blk_count, 0);
    ck_assert_uint_eq(nn_ns_get(&ns, NN_ROOT_INO)->mtime_ms, T0 + 1);
}
END_TEST

START_TEST(test_nn_ns_unlink_of_dir_is_eisdir)
{
    mkdir_ok(NN_ROOT_INO, "d");
    struct nn_op op = op_name(NN_OP_UNLINK, NN_ROOT_INO, "d");

    expect_fail(&op, -EISDIR);
}
END_TEST

START_TEST(test_nn_ns_rmdir_of_nonempty_dir_is_enotempty)
{
    uint64_t d = mkdir_ok(NN_ROOT_INO, "d");
    mkdir_ok(d, "e");
    struct nn_op op = op_name(NN_OP_RMDIR, NN_ROOT_INO, "d");

    expect_fail(&op, -ENOTEMPTY);
    op = op_name(NN_OP_RMDIR, d, "e");
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, d)), 2);
    op = op_name(NN_OP_RMDIR, NN_ROOT_INO, "d");
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_ptr_null(nn_ns_get(&ns, d));
    ck_assert_uint_eq(ns.dir_count, 1);
}
END_TEST

START_TEST(test_nn_ns_rmdir_of_file_is_enotdir)
{
    create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_name(NN_OP_RMDIR, NN_ROOT_INO, "f");

    expect_fail(&op, -ENOTDIR);
}
END_TEST

START_TEST(test_nn_ns_dir_nlink_counts_subdirs)
{
    const struct nn_inode *root = nn_ns_get(&ns, NN_ROOT_INO);
    uint64_t a = mkdir_ok(NN_ROOT_INO, "a");

    mkdir_ok(NN_ROOT_INO, "b");
    mkdir_ok(NN_ROOT_INO, "c");
    create_ok(NN_ROOT_INO, "f", "c1");
    create_ok(NN_ROOT_INO, "g", "c1");
    ck_assert_uint_eq(nn_inode_nlink(root), 5);
    struct nn_op op = op_name(NN_OP_RMDIR, NN_ROOT_INO, "c");
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_inode_nlink(root), 4);
    op = op_rename(NN_ROOT_INO, "b", a, "b", 0);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_inode_nlink(root), 3);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns, a)), 3);
    op = op_name(NN_OP_UNLINK, NN_ROOT_INO, "f");
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_inode_nlink(root), 3);
    ck_assert_uint_eq(nn_inode_nlink(lookup(NN_ROOT_INO, "g")), 1);
}
END_TEST

/* ---- leases, blocks, sizes ---- */

START_TEST(test_nn_ns_add_block_and_complete_need_the_lease)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_blk(NN_OP_ADD_BLOCK, f, "c2", no_blk, 0);

    expect_fail(&op, -ERR_LEASE);
    op = op_blk(NN_OP_COMPLETE, f, "c2", no_blk, 0);
    expect_fail(&op, -ERR_LEASE);
    op = op_blk(NN_OP_ADD_BLOCK, f, "", no_blk, 0);
    expect_fail(&op, -ERR_LEASE);
    struct nn_op ow = op_new(NN_OP_OPEN_WRITE);
    ow.ino = f;
    snprintf(ow.client, sizeof(ow.client), "c2");
    expect_fail(&ow, -ERR_LEASE);

    struct wire_blk b = add_block_ok(f, "c1", no_blk, 0);
    complete_ok(f, "c1", b, 5);
    ck_assert_ptr_null(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)));
    /* A closed file's lease is free: the next writer's first block takes it. */
    op = op_blk(NN_OP_ADD_BLOCK, f, "", no_blk, 0);
    expect_fail(&op, -EINVAL);
    ck_assert_int_eq(apply(&ow, NULL), 0);
    ck_assert_str_eq(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)), "c2");
    op = op_blk(NN_OP_ADD_BLOCK, f, "c2", no_blk, 0);
    ck_assert_int_eq(apply(&op, NULL), 0);
    /* Re-opening by the holder is allowed, but not while a block is being written. */
    expect_fail(&ow, -EBUSY);
}
END_TEST

/* A file created without a lease is closed; the first ADD_BLOCK takes the lease, and a failing
 * ADD_BLOCK takes nothing. */
START_TEST(test_nn_ns_first_block_takes_the_lease_of_a_file_created_without_one)
{
    struct nn_op op = op_create(NN_ROOT_INO, "f", "c1");
    struct nn_op_result res;

    op.flags = WIRE_CREATE_NO_LEASE;
    ck_assert_int_eq(apply(&op, &res), 0);
    uint64_t f = res.ino;
    ck_assert_ptr_null(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)));
    struct wire_attr a;
    nn_ns_attr(nn_ns_get(&ns, f), &a);
    ck_assert_uint_eq(a.is_open, 0);
    op = op_blk(NN_OP_COMPLETE, f, "c1", no_blk, 0);
    expect_fail(&op, -ERR_LEASE); /* nothing to complete without a lease */
    op = op_blk(NN_OP_ADD_BLOCK, f, "c2", (struct wire_blk){ 99, 1 }, 5);
    expect_fail(&op, -EINVAL); /* bad prev: fails, and the lease stays free */
    ck_assert_ptr_null(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)));
    struct wire_blk b = add_block_ok(f, "c2", no_blk, 0);
    ck_assert_str_eq(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)), "c2");
    op = op_blk(NN_OP_ADD_BLOCK, f, "c1", b, 10);
    expect_fail(&op, -ERR_LEASE);
    complete_ok(f, "c2", b, 10);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 10);
    ck_assert_ptr_null(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)));
}
END_TEST

START_TEST(test_nn_ns_block_ops_on_missing_or_dir_are_rejected)
{
    uint64_t d = mkdir_ok(NN_ROOT_INO, "d");
    struct nn_op op = op_blk(NN_OP_ADD_BLOCK, 999, "c1", no_blk, 0);

    expect_fail(&op, -ENOENT);
    op = op_blk(NN_OP_ADD_BLOCK, d, "c1", no_blk, 0);
    expect_fail(&op, -EISDIR);
    op = op_blk(NN_OP_COMPLETE, d, "c1", no_blk, 0);
    expect_fail(&op, -EISDIR);
    op = op_new(NN_OP_OPEN_WRITE);
    op.ino = d;
    snprintf(op.client, sizeof(op.client), "c1");
    expect_fail(&op, -EISDIR);
    op.ino = 999;
    expect_fail(&op, -ENOENT);
}
END_TEST

START_TEST(test_nn_ns_add_block_commits_previous_block_and_size)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_blk(NN_OP_ADD_BLOCK, f, "c1", no_blk, 0);
    struct nn_op_result res;

    ck_assert_int_eq(apply(&op, &res), 0);
    struct wire_blk b1 = res.blk;
    ck_assert_uint_ne(b1.id, 0);
    ck_assert_uint_eq(b1.gen, 1);
    ck_assert_uint_eq(res.blk_offset, 0);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 0);

    /* A second "first" block while one is open is refused, as is a wrong prev. */
    expect_fail(&op, -EINVAL);
    op = op_blk(NN_OP_ADD_BLOCK, f, "c1", (struct wire_blk){ b1.id + 100, 1 }, 10);
    expect_fail(&op, -EINVAL);
    op = op_blk(NN_OP_ADD_BLOCK, f, "c1", (struct wire_blk){ b1.id, 2 }, 10);
    expect_fail(&op, -ERR_STALE_GEN);
    op = op_blk(NN_OP_ADD_BLOCK, f, "c1", b1, BS + 1);
    expect_fail(&op, -EINVAL);

    op = op_blk(NN_OP_ADD_BLOCK, f, "c1", b1, BS);
    ck_assert_int_eq(apply(&op, &res), 0);
    struct wire_blk b2 = res.blk;
    ck_assert_uint_ne(b2.id, b1.id);
    ck_assert_uint_eq(res.blk_offset, BS);
    const struct nn_inode *in = nn_ns_get(&ns, f);
    ck_assert_uint_eq(in->size, BS);
    ck_assert_uint_eq(nn_inode_blk_count(in), 2);
    ck_assert_uint_eq(nn_inode_blk(in, 0).is_committed, 1);
    ck_assert_uint_eq(nn_inode_blk(in, 0).len, BS);
    ck_assert_uint_eq(nn_inode_blk(in, 1).is_committed, 0);

    /* COMPLETE must name the open block too. */
    op = op_blk(NN_OP_COMPLETE, f, "c1", no_blk, 0);
    expect_fail(&op, -EINVAL);
    op = op_blk(NN_OP_COMPLETE, f, "c1", b1, 7);
    expect_fail(&op, -EINVAL);
    complete_ok(f, "c1", b2, 1234);
    ck_assert_uint_eq(in->size, BS + 1234);
    ck_assert_uint_eq(nn_inode_blk(in, 1).is_committed, 1);
    ck_assert_ptr_null(nn_ns_lease_holder(&ns, in));
    ck_assert_uint_eq(ns.blk_count, 2);
}
END_TEST

START_TEST(test_nn_ns_complete_without_blocks_closes_empty_file)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");

    complete_ok(f, "c1", no_blk, 0);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 0);
    ck_assert_ptr_null(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)));
    /* A second COMPLETE finds no lease. */
    struct nn_op op = op_blk(NN_OP_COMPLETE, f, "c1", no_blk, 0);
    expect_fail(&op, -ERR_LEASE);
}
END_TEST

START_TEST(test_nn_ns_setattr_size_zero_truncates_and_frees_blocks)
{
    struct wire_blk b[2];
    uint64_t f = file_with_blocks(NN_ROOT_INO, "f", 100, 23, b);
    struct nn_op op = op_setattr(f, WIRE_SET_SIZE, 0, "");
    struct nn_op_result res;

    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 123);
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(res.freed.count, 2);
    ck_assert(freed_has(&res.freed, b[0]) && freed_has(&res.freed, b[1]));
    nn_blk_list_fini(&res.freed);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 0);
    ck_assert_uint_eq(nn_inode_blk_count(nn_ns_get(&ns, f)), 0);
    ck_assert_uint_eq(ns.blk_count, 0);
    /* Truncating to the current size frees nothing. */
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(res.freed.count, 0);
    nn_blk_list_fini(&res.freed);
}
END_TEST

/* A SETATTR to the current values within the same millisecond (touch right after the create)
 * changes nothing and says so, so that nothing is logged; any difference, the ctime's
 * included, is a change. */
START_TEST(test_nn_ns_setattr_to_current_values_is_unchanged)
{
    uint64_t f = create_ok(NN_ROOT_INO, "t", "c1");
    const struct nn_inode *in = nn_ns_get(&ns, f);
    struct nn_op op = op_setattr(f, WIRE_SET_ATIME | WIRE_SET_MTIME, 0, "");
    struct nn_op_result res;

    op.atime_ms = in->atime_ms;
    op.mtime_ms = in->mtime_ms;
    op.now_ms = in->ctime_ms;
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 1);
    op.mtime_ms++;
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 0);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->mtime_ms, op.mtime_ms);
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 1);
    op.now_ms++; /* a later millisecond: the ctime moves */
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 0);
    op = op_setattr(f, WIRE_SET_MODE, 0, "");
    op.mode = (nn_ns_get(&ns, f)->mode & 07777) ^ 0100;
    op.now_ms = nn_ns_get(&ns, f)->ctime_ms;
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_int_eq(res.is_unchanged, 0);
}
END_TEST

START_TEST(test_nn_ns_setattr_nonzero_size_is_eopnotsupp)
{
    struct wire_blk b[2];
    uint64_t f = file_with_blocks(NN_ROOT_INO, "f", 100, 23, b);
    uint64_t d = mkdir_ok(NN_ROOT_INO, "d");
    struct nn_op op = op_setattr(f, WIRE_SET_SIZE, 50, "");

    expect_fail(&op, -EOPNOTSUPP);
    op.size = 1000;
    expect_fail(&op, -EOPNOTSUPP);
    op.size = 123; /* the current size: a no-op */
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_inode_blk_count(nn_ns_get(&ns, f)), 2);
    op = op_setattr(d, WIRE_SET_SIZE, 5, "");
    expect_fail(&op, -EISDIR);
    op = op_setattr(999, WIRE_SET_MODE, 0, "");
    expect_fail(&op, -ENOENT);
}
END_TEST

START_TEST(test_nn_ns_truncate_of_open_file_needs_the_lease)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    struct wire_blk b = add_block_ok(f, "c1", no_blk, 0);
    struct wire_blk b2 = add_block_ok(f, "c1", b, 10);
    struct nn_op op = op_setattr(f, WIRE_SET_SIZE, 0, "c2");

    expect_fail(&op, -ERR_LEASE);
    op = op_setattr(f, WIRE_SET_SIZE, 0, "");
    expect_fail(&op, -ERR_LEASE);
    op = op_setattr(f, WIRE_SET_SIZE, 0, "c1");
    expect_fail(&op, -EBUSY); /* the holder is still writing block b2 */
    complete_ok(f, "c1", b2, 5);
    ck_assert_int_eq(apply(&op, NULL), 0);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 0);
}
END_TEST

START_TEST(test_nn_ns_open_write_trunc_frees_blocks)
{
    struct wire_blk b[2];
    uint64_t f = file_with_blocks(NN_ROOT_INO, "f", 100, 23, b);
    struct nn_op op = op_new(NN_OP_OPEN_WRITE);
    struct nn_op_result res;

    op.ino = f;
    op.flags = WIRE_OPEN_WRITE | WIRE_OPEN_TRUNC;
    expect_fail(&op, -EINVAL); /* no client */
    snprintf(op.client, sizeof(op.client), "c9");
    ck_assert_int_eq(apply(&op, &res), 0);
    ck_assert_uint_eq(res.freed.count, 2);
    nn_blk_list_fini(&res.freed);
    ck_assert_uint_eq(nn_ns_get(&ns, f)->size, 0);
    ck_assert_str_eq(nn_ns_lease_holder(&ns, nn_ns_get(&ns, f)), "c9");
}
END_TEST

START_TEST(test_nn_ns_setattr_changes_mode_owner_and_times)
{
    uint64_t f = create_ok(NN_ROOT_INO, "f", "c1");
    struct nn_op op = op_setattr(f, WIRE_SET_MODE | WIRE_SET_UID | WIRE_SET_GID |
                                        WIRE_SET_ATIME | WIRE_SET_MTIME, 0, "");

    op.mode = S_IFDIR | 0600; /* the type bits are ignored */
    op.uid = 7;
    op.gid = 8;
    op.atime_ms = 5;
    op.mtime_ms = 6;
    op.now_ms = 77;
    ck_assert_int_eq(apply(&op, NULL), 0);
    const struct nn_inode *in = nn_ns_get(&ns, f);
    ck_assert_uint_eq(in->mode, S_IFREG | 0600);
    ck_assert_uint_eq(in->uid, 7);
    ck_assert_uint_eq(in->gid, 8);
    ck_assert_uint_eq(in->atime_ms, 5);
    ck_assert_uint_eq(in->mtime_ms, 6);
    ck_assert_uint_eq(in->ctime_ms, 77);
}
END_TEST

/* ---- directory order ---- */

START_TEST(test_nn_ns_dir_entries_sorted_and_seek_skips_past_name)
{
    static const char *const names[] = { "b", "a", "c", "aa", "B", "ab" };
    static const char *const sorted[] = { "B", "a", "aa", "ab", "b", "c" };

    for (size_t i = 0; i < 6; i++)
        create_ok(NN_ROOT_INO, names[i], "c1");
    const struct nn_inode *root = nn_ns_get(&ns, NN_ROOT_INO);
    ck_assert_uint_eq(nn_inode_ent_count(root), 6);
    for (uint32_t i = 0; i < 6; i++)
        ck_assert_str_eq(nn_inode_ent(root, i)->name, sorted[i]);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "", 0), 0);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "A", 1), 0);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "B", 1), 1);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "a", 1), 2);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "aaa", 3), 3); /* absent: the next name */
    ck_assert_uint_eq(nn_ns_dir_seek(root, "ab", 2), 4);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "c", 1), 6);
    ck_assert_uint_eq(nn_ns_dir_seek(root, "zzz", 3), 6);
    /* Paging with the last name returned visits every entry once. */
    size_t seen = 0;
    const char *after = "";
    for (;;) {
        uint32_t idx = nn_ns_dir_seek(root, after, strlen(after));
        if (idx == nn_inode_ent_count(root))
            break;
        ck_assert_str_eq(nn_inode_ent(root, idx)->name, sorted[seen++]);
        after = nn_inode_ent(root, idx)->name;
    }
    ck_assert_uint_eq(seen, 6);
}
END_TEST

/* ---- image codec ---- */

/* A small namespace touching every inode field: dirs, an open and a closed file. */
static void build_sample(void)
{
    struct wire_blk b[2];
    uint64_t d = mkdir_ok(NN_ROOT_INO, "dir");

    mkdir_ok(d, "sub");
    file_with_blocks(d, "closed", 4096, 17, b);
    uint64_t f = create_ok(NN_ROOT_INO, "open", "writer-7");
    struct wire_blk ob = add_block_ok(f, "writer-7", no_blk, 0);
    add_block_ok(f, "writer-7", ob, 65536);
}

START_TEST(test_nn_ns_image_round_trips)
{
    struct buf img, img2;
    struct nn_ns ns2;

    build_sample();
    image_of(&img);
    nn_ns_init(&ns2, 0);
    ck_assert_int_eq(nn_ns_image_decode(&ns2, img.data, img.len), 0);
    nn_ns_assert_valid(&ns2);
    buf_init(&img2);
    nn_ns_image_encode(&ns2, &img2);
    ck_assert_uint_eq(img.len, img2.len);
    ck_assert_int_eq(memcmp(img.data, img2.data, img.len), 0);
    ck_assert_uint_eq(ns2.file_count, ns.file_count);
    ck_assert_uint_eq(ns2.dir_count, ns.dir_count);
    ck_assert_uint_eq(ns2.blk_count, ns.blk_count);
    ck_assert_uint_eq(ns2.next_ino, ns.next_ino);
    ck_assert_uint_eq(ns2.next_blk_id, ns.next_blk_id);
    const struct nn_inode *d = NULL, *c = NULL;
    ck_assert_int_eq(nn_ns_lookup(&ns2, NN_ROOT_INO, "dir", 3, &d), 0);
    ck_assert_uint_eq(nn_inode_nlink(d), 3);
    ck_assert_int_eq(nn_ns_lookup(&ns2, d->ino, "closed", 6, &c), 0);
    ck_assert_uint_eq(c->size, 4096 + 17);
    ck_assert_uint_eq(nn_inode_nlink(nn_ns_get(&ns2, NN_ROOT_INO)), 3);
    nn_ns_fini(&ns2);
    buf_fini(&img);
    buf_fini(&img2);
}
END_TEST

START_TEST(test_nn_ns_image_every_truncated_prefix_is_corrupt)
{
    struct buf img;

    build_sample();
    image_of(&img);
    for (size_t len = 0; len < img.len; len++) {
        struct nn_ns ns2;
        nn_ns_init(&ns2, 0);
        ck_assert_int_eq(nn_ns_image_decode(&ns2, img.data, len), -ERR_CORRUPT);
        nn_ns_fini(&ns2);
    }
    buf_fini(&img);
}
END_TEST

START_TEST(test_nn_ns_image_trailing_byte_or_bad_header_is_corrupt)
{
    struct buf img;
    struct nn_ns ns2;

    build_sample();
    image_of(&img);
    buf_put_u8(&img, 0);
    nn_ns_init(&ns2, 0);
    ck_assert_int_eq(nn_ns_image_decode(&ns2, img.data, img.len), -ERR_CORRUPT);
    nn_ns_fini(&ns2);
    img.len--;
    for (size_t off = 0; off < 6; off++) { /* magic and version */
        img.data[off] ^= 0x40;
        nn_ns_init(&ns2, 0);
        ck_assert_int_eq(nn_ns_image_decode(&ns2, img.data, img.len), -ERR_CORRUPT);
        nn_ns_fini(&ns2);
        img.data[off] ^= 0x40;
    }
    buf_fini(&img);
}
END_TEST

/* Encodes ns and expects the image to be refused. */
static void expect_image_corrupt(void)
{
    struct buf img;
    struct nn_ns ns2;

    image_of(&img);
    nn_ns_init(&ns2, 0);
    ck_assert_int_eq(nn_ns_image_decode(&ns2, img.data, img.len), -ERR_CORRUPT);
    nn_ns_fini(&ns2);
    buf_fini(&img);
}

/* What create refuses, an image may not bring in either: a file with more replicas than a
 * block's locations hold or a block size over the cap, or counters past NN_ID_MAX. */
START_TEST(test_nn_ns_image_with_what_create_refuses_is_corrupt)
{
    build_sample();
    struct nn_inode *f = nn_ns_inode_mut(&ns, lookup(NN_ROOT_INO, "open")->ino);
    uint16_t replication = f->replication;
    uint32_t units = f->block_units;

    f->replication = NN_REPLICATION_MAX + 1;
    expect_image_corrupt();
    f->replication = 0;
    expect_image_corrupt();
    f->replication = replication;
    f->block_units = NN_BLOCK_UNITS_MAX + 1;
    expect_image_corrupt();
    f->block_units = units;
    ns.next_blk_id = NN_ID_MAX + 1;
    expect_image_corrupt();
    ns.next_blk_id = NN_ID_MAX;
    ns.next_ino = NN_ID_MAX + 1;
    expect_image_corrupt();
}
END_TEST

/* Flipping any single byte of the image either decodes to a valid namespace or is refused;
 * it never crashes, leaks or yields a namespace that breaks the invariants. */
START_TEST(test_nn_ns_image_byte_flips_never_break_invariants)
{
    struct buf img;

    build_sample();
    image_of(&img);
    for (size_t off = 0; off < img.len; off++) {
        for (int bit = 0; bit < 8; bit++) {
            struct nn_ns ns2;
            img.data[off] ^= (uint8_t)(1u << bit);
            nn_ns_init(&ns2, 0);
            int rc = nn_ns_image_decode(&ns2, img.data, img.len);
            if (rc == 0)
                nn_ns_assert_valid(&ns2);
            else
                ck_assert_int_eq(rc, -ERR_CORRUPT);
            nn_ns_fini(&ns2);
            img.data[off] ^= (uint8_t)(1u << bit);
        }
    }
    buf_fini(&img);
}
END_TEST

/* ---- op codec ---- */

static struct nn_op sample_op(void)
{
    struct nn_op op;

    memset(&op, 0, sizeof(op));
    op.kind = NN_OP_RENAME;
    op.now_ms = 0x0102030405060708ULL;
    op.parent = 0x1111111111111111ULL;
    op.ino = 0x2222222222222222ULL;
    op.new_parent = 0x3333333333333333ULL;
    snprintf(op.name, sizeof(op.name), "old-name");
    snprintf(op.new_name, sizeof(op.new_name), "new-name");
    snprintf(op.client, sizeof(op.client), "client-xyz");
    op.mode = 0100644;
    op.uid = 0x01020304;
    op.gid = 0x05060708;
    op.flags = 0x0a0b0c0d;
    op.size = 0x4444444444444444ULL;
    op.atime_ms = 0x5555555555555555ULL;
    op.mtime_ms = 0x6666666666666666ULL;
    op.block_size = 0x7777777777777777ULL;
    op.replication = 0x0203;
    op.blk = (struct wire_blk){ 0x8888888888888888ULL, 0x9999999999999999ULL };
    op.blk_len = 0xaaaaaaaaaaaaaaaaULL;
    return op;
}

static void assert_op_eq(const struct nn_op *a, const struct nn_op *b)
{
    ck_assert_uint_eq(a->kind, b->kind);
    ck_assert_uint_eq(a->now_ms, b->now_ms);
    ck_assert_uint_eq(a->parent, b->parent);
    ck_assert_uint_eq(a->ino, b->ino);
    ck_assert_uint_eq(a->new_parent, b->new_parent);
    ck_assert_str_eq(a->name, b->name);
    ck_assert_str_eq(a->new_name, b->new_name);
    ck_assert_str_eq(a->client, b->client);
    ck_assert_uint_eq(a->mode, b->mode);
    ck_assert_uint_eq(a->uid, b->uid);
    ck_assert_uint_eq(a->gid, b->gid);
    ck_assert_uint_eq(a->flags, b->flags);
    ck_assert_uint_eq(a->size, b->size);
    ck_assert_uint_eq(a->atime_ms, b->atime_ms);
    ck_assert_uint_eq(a->mtime_ms, b->mtime_ms);
    ck_assert_uint_eq(a->block_size, b->block_size);
    ck_assert_uint_eq(a->replication, b->replication);
    ck_assert_uint_eq(a->blk.id, b->blk.id);
    ck_assert_uint_eq(a->blk.gen, b->blk.gen);
    ck_assert_uint_eq(a->blk_len, b->blk_len);
}

START_TEST(test_nn_ns_op_codec_round_trips)
{
    struct nn_op op = sample_op(), got;
    struct buf b;

    buf_init(&b);
    nn_op_encode(&op, &b);
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), 0);
    assert_op_eq(&op, &got);
    buf_fini(&b);

    /* Every kind, and the empty strings of a minimal op. */
    for (uint8_t k = 1; k <= NN_OP_KIND_MAX; k++) {
        struct nn_op small = op_new(k);
        buf_init(&b);
        nn_op_encode(&small, &b);
        ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), 0);
        assert_op_eq(&small, &got);
        buf_fini(&b);
    }
}
END_TEST

START_TEST(test_nn_ns_op_codec_golden_bytes)
{
    struct nn_op op;
    struct buf b;
    /* version 1, kind MKDIR, now_ms 0x10, parent 1, ino 0, new_parent 0, name "ab", new_name
     * "", client "c", mode 0755, uid 2, gid 3, flags 0, size 0, atime 0, mtime 0, block_size
     * 0, replication 0, blk {0, 0}, blk_len 0. */
    static const uint8_t golden[] = {
        0x01, 0x01,                                     /* version, kind */
        0x10, 0, 0, 0, 0, 0, 0, 0,                      /* now_ms */
        0x01, 0, 0, 0, 0, 0, 0, 0,                      /* parent */
        0, 0, 0, 0, 0, 0, 0, 0,                         /* ino */
        0, 0, 0, 0, 0, 0, 0, 0,                         /* new_parent */
        0x02, 0, 0, 0, 'a', 'b',                        /* name */
        0, 0, 0, 0,                                     /* new_name */
        0x01, 0, 0, 0, 'c',                             /* client */
        0xed, 0x01, 0, 0,                               /* mode 0755 */
        0x02, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0,      /* uid, gid, flags */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* size, atime */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* mtime, block_size */
        0, 0,                                           /* replication */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* blk */
        0, 0, 0, 0, 0, 0, 0, 0,                         /* blk_len */
    };

    memset(&op, 0, sizeof(op));
    op.kind = NN_OP_MKDIR;
    op.now_ms = 0x10;
    op.parent = 1;
    snprintf(op.name, sizeof(op.name), "ab");
    snprintf(op.client, sizeof(op.client), "c");
    op.mode = 0755;
    op.uid = 2;
    op.gid = 3;
    buf_init(&b);
    nn_op_encode(&op, &b);
    ck_assert_uint_eq(b.len, sizeof(golden));
    ck_assert_int_eq(memcmp(b.data, golden, sizeof(golden)), 0);
    buf_fini(&b);
}
END_TEST

START_TEST(test_nn_ns_op_codec_every_truncated_prefix_is_proto_error)
{
    struct nn_op op = sample_op(), got;
    struct buf b;

    buf_init(&b);
    nn_op_encode(&op, &b);
    for (size_t len = 0; len < b.len; len++)
        ck_assert_int_eq(nn_op_decode(b.data, len, &got), -ERR_PROTO);
    buf_put_u8(&b, 0); /* a trailing byte */
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

START_TEST(test_nn_ns_op_codec_bad_fields_are_proto_error)
{
    struct nn_op op = sample_op(), got;
    struct buf b;

    buf_init(&b);
    nn_op_encode(&op, &b);
    b.data[0] = 2; /* version */
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), -ERR_PROTO);
    b.data[0] = 1;
    b.data[1] = 0; /* kind */
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), -ERR_PROTO);
    b.data[1] = NN_OP_KIND_MAX + 1;
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), -ERR_PROTO);
    b.data[1] = NN_OP_RENAME;
    b.data[34 + 4 + 1] = '\0'; /* a NUL inside the name "old-name" */
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), -ERR_PROTO);
    buf_fini(&b);

    /* A name longer than WIRE_NAME_MAX. */
    char longname[WIRE_NAME_MAX + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    buf_init(&b);
    buf_put_u8(&b, 1);
    buf_put_u8(&b, NN_OP_MKDIR);
    for (int i = 0; i < 4; i++)
        buf_put_u64(&b, 1);
    buf_put_str(&b, longname);
    ck_assert_int_eq(nn_op_decode(b.data, b.len, &got), -ERR_PROTO);
    buf_fini(&b);
}
END_TEST

/* ---- assertions ---- */

START_TEST(test_nn_ns_apply_with_nonempty_freed_aborts)
{
    struct nn_op op = op_mkdir(NN_ROOT_INO, "a");
    struct nn_op_result res = { 0 };

    nn_blk_list_push(&res.freed, (struct wire_blk){ 1, 1 });
    nn_ns_apply(&ns, &op, &res);
}
END_TEST

static Suite *nn_ns_suite(void)
{
    Suite *s = suite_create("nn_ns");
    TCase *tc = tcase_create("namespace");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_ns_init_has_only_root_dir);
    tcase_add_test(tc, test_nn_ns_spend_blk_ids_only_raises);
    tcase_add_test(tc, test_nn_ns_dir_change_counts_entry_changes);
    tcase_add_test(tc, test_nn_ns_mkdir_then_lookup_finds_it);
    tcase_add_test(tc, test_nn_ns_create_makes_open_file_with_lease);
    tcase_add_test(tc, test_nn_ns_create_with_bad_params_is_einval);
    tcase_add_test(tc, test_nn_ns_create_at_the_largest_shape_is_accepted);
    tcase_add_test(tc, test_nn_ns_ids_at_their_limit_are_enospc);
    tcase_add_test(tc, test_nn_ns_existing_name_is_eexist);
    tcase_add_test(tc, test_nn_ns_missing_or_file_parent_is_rejected);
    tcase_add_loop_test(tc, test_nn_ns_invalid_names_are_einval, 0, BAD_NAME_COUNT);
    tcase_add_test(tc, test_nn_ns_longest_name_is_accepted);
    tcase_add_test(tc, test_nn_ns_lookup_errors);
    tcase_add_test(tc, test_nn_ns_unknown_op_kind_is_einval);
    tcase_add_test(tc, test_nn_ns_dir_entries_sorted_and_seek_skips_past_name);
    tcase_add_test_raise_signal(tc, test_nn_ns_apply_with_nonempty_freed_aborts, SIGABRT);
    suite_add_tcase(s, tc);

    tc = tcase_create("rename_unlink");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_ns_rename_moves_entry_between_dirs);
    tcase_add_test(tc, test_nn_ns_rename_onto_file_replaces_it);
    tcase_add_test(tc, test_nn_ns_rename_dir_onto_empty_dir_replaces_it);
    tcase_add_test(tc, test_nn_ns_rename_dir_onto_nonempty_dir_is_enotempty);
    tcase_add_test(tc, test_nn_ns_rename_dir_into_own_subtree_is_einval);
    tcase_add_test(tc, test_nn_ns_rename_noreplace_onto_existing_is_eexist);
    tcase_add_test(tc, test_nn_ns_rename_kind_mismatch_is_rejected);
    tcase_add_test(tc, test_nn_ns_rename_onto_itself_changes_nothing);
    tcase_add_test(tc, test_nn_ns_unlink_file_frees_its_blocks);
    tcase_add_test(tc, test_nn_ns_unlink_of_dir_is_eisdir);
    tcase_add_test(tc, test_nn_ns_rmdir_of_nonempty_dir_is_enotempty);
    tcase_add_test(tc, test_nn_ns_rmdir_of_file_is_enotdir);
    tcase_add_test(tc, test_nn_ns_dir_nlink_counts_subdirs);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_ns_add_block_and_complete_need_the_lease);
    tcase_add_test(tc, test_nn_ns_first_block_takes_the_lease_of_a_file_created_without_one);
    tcase_add_test(tc, test_nn_ns_block_ops_on_missing_or_dir_are_rejected);
    tcase_add_test(tc, test_nn_ns_add_block_commits_previous_block_and_size);
    tcase_add_test(tc, test_nn_ns_complete_without_blocks_closes_empty_file);
    tcase_add_test(tc, test_nn_ns_setattr_size_zero_truncates_and_frees_blocks);
    tcase_add_test(tc, test_nn_ns_setattr_to_current_values_is_unchanged);
    tcase_add_test(tc, test_nn_ns_setattr_nonzero_size_is_eopnotsupp);
    tcase_add_test(tc, test_nn_ns_truncate_of_open_file_needs_the_lease);
    tcase_add_test(tc, test_nn_ns_open_write_trunc_frees_blocks);
    tcase_add_test(tc, test_nn_ns_setattr_changes_mode_owner_and_times);
    suite_add_tcase(s, tc);

    tc = tcase_create("codecs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nn_ns_image_round_trips);
    tcase_add_test(tc, test_nn_ns_image_every_truncated_prefix_is_corrupt);
    tcase_add_test(tc, test_nn_ns_image_trailing_byte_or_bad_header_is_corrupt);
    tcase_add_test(tc, test_nn_ns_image_byte_flips_never_break_invariants);
    tcase_add_test(tc, test_nn_ns_image_with_what_create_refuses_is_corrupt);
    tcase_add_test(tc, test_nn_ns_op_codec_round_trips);
    tcase_add_test(tc, test_nn_ns_op_codec_golden_bytes);
    tcase_add_test(tc, test_nn_ns_op_codec_every_truncated_prefix_is_proto_error);
    tcase_add_test(tc, test_nn_ns_op_codec_bad_fields_are_proto_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nn_ns_suite());
}
