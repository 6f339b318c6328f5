/* Unit tests of fuse/mnt_perm: the kernel's generic permission rules (generic_permission, the
 * sticky check of may_delete, setattr_prepare and notify_change's "touch" check) for a caller
 * given by uid and gid, with supplementary groups asked for only when they change the answer. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check_run.h"
#include "mnt_perm.h"

enum {
    OWNER = 1000,   /* owns the test inodes */
    OTHER = 2000,   /* a caller who owns nothing */
    FGID = 100,     /* the test inodes' group */
    XGID = 200,     /* a group the inodes are not in */
    YGID = 300,     /* another such group */
    EXEC_OPEN = 040 /* the kernel's __FMODE_EXEC */
};

/* The supplementary groups of a test caller, and what was asked of them. */
struct fake_groups {
    uint32_t gids[4];
    size_t n;
    int calls;
    uint32_t last_gid;
};

static bool fake_is_in_group(void *arg, uint32_t gid)
{
    struct fake_groups *g = arg;

    g->calls++;
    g->last_gid = gid;
    for (size_t i = 0; i < g->n; i++) {
        if (g->gids[i] == gid)
            return true;
    }
    return false;
}

/* A caller; groups NULL: no supplementary groups (and no callback). */
static struct mnt_who who(uint32_t uid, uint32_t gid, struct fake_groups *groups)
{
    return (struct mnt_who){.uid = uid, .gid = gid,
                            .is_in_group = groups != NULL ? fake_is_in_group : NULL,
                            .arg = groups};
}

static struct wire_attr node(uint32_t mode)
{
    return (struct wire_attr){.ino = 42, .mode = mode, .nlink = 1, .uid = OWNER, .gid = FGID};
}

static struct wire_attr file_attr(uint32_t perm)
{
    return node(S_IFREG | perm);
}

static struct wire_attr dir_attr(uint32_t perm)
{
    return node(S_IFDIR | perm);
}

static const int R = MNT_PERM_R, W = MNT_PERM_W, X = MNT_PERM_X;

/* Class selection without supplementary groups: owner, primary group, other. */
static const struct {
    uint32_t perm;
    uint32_t uid, gid;
    int mask;
    int rc;
} class_cases[] = {
    {0400, OWNER, XGID, MNT_PERM_R, 0},
    {0200, OWNER, XGID, MNT_PERM_W, 0},
    {0100, OWNER, XGID, MNT_PERM_X, 0},
    {0077, OWNER, FGID, MNT_PERM_R, -EACCES}, /* the owner gets the owner bits only */
    {0077, OWNER, FGID, MNT_PERM_W, -EACCES},
    {0077, OWNER, FGID, MNT_PERM_X, -EACCES},
    {0640, OWNER, XGID, MNT_PERM_R | MNT_PERM_W, 0},
    {0640, OWNER, XGID, MNT_PERM_R | MNT_PERM_W | MNT_PERM_X, -EACCES},
    {0600, OWNER, XGID, MNT_PERM_X | MNT_PERM_R, -EACCES},
    {0040, OTHER, FGID, MNT_PERM_R, 0},
    {0020, OTHER, FGID, MNT_PERM_W, 0},
    {0010, OTHER, FGID, MNT_PERM_X, 0},
    {0707, OTHER, FGID, MNT_PERM_R, -EACCES}, /* the group gets the group bits only */
    {0707, OTHER, FGID, MNT_PERM_X, -EACCES},
    {0750, OTHER, FGID, MNT_PERM_R | MNT_PERM_X, 0},
    {0750, OTHER, FGID, MNT_PERM_R | MNT_PERM_W, -EACCES},
    {0004, OTHER, XGID, MNT_PERM_R, 0},
    {0002, OTHER, XGID, MNT_PERM_W, 0},
    {0001, OTHER, XGID, MNT_PERM_X, 0},
    {0770, OTHER, XGID, MNT_PERM_R, -EACCES},
    {0775, OTHER, XGID, MNT_PERM_R | MNT_PERM_X, 0},
    {0775, OTHER, XGID, MNT_PERM_R | MNT_PERM_W, -EACCES},
    {0006, OTHER, XGID, MNT_PERM_R | MNT_PERM_W | MNT_PERM_X, -EACCES},
    {0777, OTHER, XGID, MNT_PERM_R | MNT_PERM_W | MNT_PERM_X, 0},
};

START_TEST(test_mnt_perm_check_selects_class)
{
    struct wire_attr a = file_attr(class_cases[_i].perm);
    struct mnt_who w = who(class_cases[_i].uid, class_cases[_i].gid, NULL);

    ck_assert_int_eq(mnt_perm_check(&a, &w, class_cases[_i].mask), class_cases[_i].rc);
}
END_TEST

START_TEST(test_mnt_perm_check_mask_zero_always_allowed)
{
    struct wire_attr f = file_attr(0000), d = dir_attr(0000);
    struct fake_groups g = {.n = 0};
    struct mnt_who other = who(OTHER, XGID, &g), owner = who(OWNER, FGID, NULL);

    ck_assert_int_eq(mnt_perm_check(&f, &other, 0), 0);
    ck_assert_int_eq(mnt_perm_check(&d, &other, 0), 0);
    ck_assert_int_eq(mnt_perm_check(&f, &owner, 0), 0);
    ck_assert_int_eq(g.calls, 0);
}
END_TEST

START_TEST(test_mnt_perm_check_root_overrides_read_write)
{
    struct wire_attr f = file_attr(0000), d = dir_attr(0000);
    struct mnt_who root = who(0, 0, NULL);

    ck_assert(mnt_perm_is_root(&root));
    ck_assert_int_eq(mnt_perm_check(&f, &root, R), 0);
    ck_assert_int_eq(mnt_perm_check(&f, &root, W), 0);
    ck_assert_int_eq(mnt_perm_check(&f, &root, R | W), 0);
    ck_assert_int_eq(mnt_perm_check(&d, &root, R | W | X), 0); /* search any directory */
    ck_assert_int_eq(mnt_perm_check(&d, &root, X), 0);
}
END_TEST

START_TEST(test_mnt_perm_check_root_exec_needs_some_x_bit)
{
    struct wire_attr none = file_attr(0666), other_x = file_attr(0001);
    struct wire_attr group_x = file_attr(0010), owner_x = file_attr(0100);
    struct mnt_who root = who(0, 0, NULL);

    ck_assert_int_eq(mnt_perm_check(&none, &root, X), -EACCES);
    ck_assert_int_eq(mnt_perm_check(&none, &root, R | X), -EACCES);
    ck_assert_int_eq(mnt_perm_check(&other_x, &root, X), 0);
    ck_assert_int_eq(mnt_perm_check(&other_x, &root, R | W | X), 0);
    ck_assert_int_eq(mnt_perm_check(&group_x, &root, X), 0);
    ck_assert_int_eq(mnt_perm_check(&owner_x, &root, X), 0);
}
END_TEST

START_TEST(test_mnt_perm_root_needs_no_attr_unless_exec)
{
    struct mnt_who root = who(0, 0, NULL), user = who(OWNER, FGID, NULL);

    ck_assert(mnt_perm_root_needs_no_attr(&root, R));
    ck_assert(mnt_perm_root_needs_no_attr(&root, W));
    ck_assert(mnt_perm_root_needs_no_attr(&root, R | W));
    ck_assert(!mnt_perm_root_needs_no_attr(&root, X));
    ck_assert(!mnt_perm_root_needs_no_attr(&root, R | X));
    ck_assert(!mnt_perm_is_root(&user));
    ck_assert(!mnt_perm_root_needs_no_attr(&user, R));
    ck_assert(!mnt_perm_root_needs_no_attr(&user, W));
}
END_TEST

START_TEST(test_mnt_perm_in_group_primary_without_callback)
{
    struct fake_groups g = {.gids = {XGID}, .n = 1};
    struct mnt_who w = who(OTHER, FGID, &g), bare = who(OTHER, FGID, NULL);

    ck_assert(mnt_perm_in_group(&w, FGID));
    ck_assert_int_eq(g.calls, 0);
    ck_assert(mnt_perm_in_group(&w, XGID));
    ck_assert_int_eq(g.calls, 1);
    ck_assert_uint_eq(g.last_gid, XGID);
    ck_assert(!mnt_perm_in_group(&w, YGID));
    ck_assert_int_eq(g.calls, 2);
    ck_assert_uint_eq(g.last_gid, YGID);
    ck_assert(mnt_perm_in_group(&bare, FGID));
    ck_assert(!mnt_perm_in_group(&bare, XGID)); /* NULL callback: no supplementary groups */
}
END_TEST

/* The owner and a caller whose primary group is the file's never need the groups. */
START_TEST(test_mnt_perm_check_owner_or_primary_group_skip_callback)
{
    struct wire_attr a = file_attr(0604);
    struct fake_groups g = {.gids = {FGID}, .n = 1};
    struct mnt_who owner = who(OWNER, XGID, &g), primary = who(OTHER, FGID, &g);

    ck_assert_int_eq(mnt_perm_check(&a, &owner, R), 0);
    ck_assert_int_eq(mnt_perm_check(&a, &primary, R), -EACCES);
    ck_assert_int_eq(mnt_perm_check(&a, &primary, W), -EACCES);
    ck_assert_int_eq(g.calls, 0);
}
END_TEST

/* Group and other bits agree on the mask: membership cannot change the answer. */
START_TEST(test_mnt_perm_check_same_group_and_other_skips_callback)
{
    struct wire_attr a = file_attr(0644), b = file_attr(0660);
    struct fake_groups g = {.gids = {FGID}, .n = 1};
    struct mnt_who w = who(OTHER, XGID, &g);

    ck_assert_int_eq(mnt_perm_check(&a, &w, R), 0);
    ck_assert_int_eq(mnt_perm_check(&a, &w, W), -EACCES);
    ck_assert_int_eq(mnt_perm_check(&a, &w, X), -EACCES);
    ck_assert_int_eq(mnt_perm_check(&b, &w, X), -EACCES);
    ck_assert_int_eq(g.calls, 0);
}
END_TEST

START_TEST(test_mnt_perm_check_group_grants_other_denies)
{
    struct wire_attr a = file_attr(0640);
    struct fake_groups member = {.gids = {XGID, FGID}, .n = 2}, outsider = {.gids = {XGID}, .n = 1};
    struct mnt_who in = who(OTHER, YGID, &member), out = who(OTHER, YGID, &outsider);

    ck_assert_int_eq(mnt_perm_check(&a, &in, R), 0);
    ck_assert_int_eq(member.calls, 1);
    ck_assert_uint_eq(member.last_gid, FGID);
    ck_assert_int_eq(mnt_perm_check(&a, &out, R), -EACCES);
    ck_assert_int_eq(outsider.calls, 1);
    ck_assert_uint_eq(outsider.last_gid, FGID);
}
END_TEST

/* POSIX: a member of the file's group gets the group bits, even when other would grant. */
START_TEST(test_mnt_perm_check_group_denies_other_grants)
{
    struct wire_attr a = file_attr(0604);
    struct fake_groups member = {.gids = {FGID}, .n = 1}, outsider = {.n = 0};
    struct mnt_who in = who(OTHER, YGID, &member), out = who(OTHER, YGID, &outsider);

    ck_assert_int_eq(mnt_perm_check(&a, &in, R), -EACCES);
    ck_assert_int_eq(member.calls, 1);
    ck_assert_uint_eq(member.last_gid, FGID);
    ck_assert_int_eq(mnt_perm_check(&a, &out, R), 0);
    ck_assert_int_eq(outsider.calls, 1);
}
END_TEST

START_TEST(test_mnt_perm_check_null_callback_means_no_groups)
{
    struct wire_attr grants = file_attr(0640), denies = file_attr(0604);
    struct mnt_who w = who(OTHER, YGID, NULL);

    ck_assert_int_eq(mnt_perm_check(&grants, &w, R), -EACCES);
    ck_assert_int_eq(mnt_perm_check(&denies, &w, R), 0);
}
END_TEST

static const struct {
    int flags;
    int mask;
} open_cases[] = {
    {O_RDONLY, MNT_PERM_R},
    {O_WRONLY, MNT_PERM_W},
    {O_RDWR, MNT_PERM_R | MNT_PERM_W},
    {O_ACCMODE, MNT_PERM_R | MNT_PERM_W}, /* the kernel's ACC_MODE(3) */
    {O_RDONLY | O_TRUNC, MNT_PERM_R | MNT_PERM_W},
    {O_WRONLY | O_TRUNC, MNT_PERM_W},
    {O_RDWR | O_TRUNC, MNT_PERM_R | MNT_PERM_W},
    {O_WRONLY | O_APPEND, MNT_PERM_W},
    {O_RDWR | O_APPEND, MNT_PERM_R | MNT_PERM_W},
    {O_RDONLY | EXEC_OPEN, MNT_PERM_X},
    {O_RDONLY | O_CREAT, MNT_PERM_R},
    {O_RDONLY | O_CREAT | O_EXCL, MNT_PERM_R},
    {O_WRONLY | O_CREAT | O_TRUNC, MNT_PERM_W},
    {O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, MNT_PERM_R},
};

START_TEST(test_mnt_perm_open_mask_by_flags)
{
    ck_assert_int_eq(mnt_perm_open_mask(open_cases[_i].flags), open_cases[_i].mask);
}
END_TEST

START_TEST(test_mnt_perm_sticky_needs_entry_only_for_others)
{
    struct wire_attr plain = dir_attr(0777), sticky = dir_attr(S_ISVTX | 0777);
    struct mnt_who root = who(0, 0, NULL), downer = who(OWNER, XGID, NULL);
    struct mnt_who other = who(OTHER, FGID, NULL);

    ck_assert(!mnt_perm_sticky_needs_entry(&plain, &other));
    ck_assert(!mnt_perm_sticky_needs_entry(&sticky, &root));
    ck_assert(!mnt_perm_sticky_needs_entry(&sticky, &downer));
    ck_assert(mnt_perm_sticky_needs_entry(&sticky, &other));
}
END_TEST

START_TEST(test_mnt_perm_check_sticky_owners_and_root)
{
    struct wire_attr dir = dir_attr(S_ISVTX | 0777), entry = file_attr(0666);
    struct mnt_who eowner = who(OTHER, XGID, NULL), downer = who(OWNER, XGID, NULL);
    struct mnt_who root = who(0, 0, NULL), stranger = who(OTHER + 1, FGID, NULL);

    entry.uid = OTHER;
    ck_assert_int_eq(mnt_perm_check_sticky(&dir, &entry, &eowner), 0);
    ck_assert_int_eq(mnt_perm_check_sticky(&dir, &entry, &downer), 0);
    ck_assert_int_eq(mnt_perm_check_sticky(&dir, &entry, &root), 0);
    ck_assert_int_eq(mnt_perm_check_sticky(&dir, &entry, &stranger), -EPERM);
    /* Neither the directory's group nor write permission on the entry helps. */
    entry.gid = FGID;
    ck_assert_int_eq(mnt_perm_check_sticky(&dir, &entry, &stranger), -EPERM);
}
END_TEST

START_TEST(test_mnt_perm_check_sticky_plain_dir_allows_all)
{
    struct wire_attr dir = dir_attr(0777), entry = file_attr(0000);
    struct mnt_who stranger = who(OTHER + 1, YGID, NULL);

    entry.uid = OTHER;
    ck_assert_int_eq(mnt_perm_check_sticky(&dir, &entry, &stranger), 0);
}
END_TEST

/* ---- setattr ---- */

static struct wire_nn_setattr set_req(uint32_t valid)
{
    return (struct wire_nn_setattr){.ino = 42, .valid = valid};
}

START_TEST(test_mnt_perm_setattr_root_may_do_anything)
{
    struct wire_attr a = file_attr(0000);
    struct mnt_who root = who(0, 0, NULL);
    struct wire_nn_setattr req = set_req(WIRE_SET_MODE | WIRE_SET_UID | WIRE_SET_GID |
                                         WIRE_SET_SIZE | WIRE_SET_ATIME | WIRE_SET_MTIME);

    req.mode = S_ISGID | 0755;
    req.uid = OTHER;
    req.gid = YGID;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &root), 0);
    ck_assert_uint_eq(req.mode, S_ISGID | 0755); /* CAP_FSETID: S_ISGID stays */
    req.valid = WIRE_SET_MODE;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &root), 0);
    ck_assert_uint_eq(req.mode, S_ISGID | 0755);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chmod_needs_owner)
{
    struct wire_attr a = file_attr(0666);
    struct fake_groups g = {.gids = {FGID}, .n = 1};
    struct mnt_who owner = who(OWNER, FGID, NULL), other = who(OTHER, FGID, &g);
    struct wire_nn_setattr req = set_req(WIRE_SET_MODE);

    req.mode = 0600;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), -EPERM);
    ck_assert_uint_eq(req.mode, 0600);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, 0600);
    a.mode = S_IFREG | 0000; /* chmod needs no permission bits */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chmod_outside_group_drops_setgid)
{
    struct wire_attr a = file_attr(0644), d = dir_attr(0755);
    struct fake_groups g = {.gids = {XGID}, .n = 1};
    struct mnt_who owner = who(OWNER, YGID, &g);
    struct wire_nn_setattr req = set_req(WIRE_SET_MODE);

    req.mode = S_ISUID | S_ISGID | S_ISVTX | 0751;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, S_ISUID | S_ISVTX | 0751);
    ck_assert_int_gt(g.calls, 0);
    ck_assert_uint_eq(g.last_gid, FGID);
    req.mode = S_ISGID | 0775;
    ck_assert_int_eq(mnt_perm_setattr(&d, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, 0775);
    req.mode = 0640; /* nothing to drop */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, 0640);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chmod_in_group_keeps_setgid)
{
    struct wire_attr a = file_attr(0644);
    struct fake_groups g = {.gids = {XGID, FGID}, .n = 2}, none = {.n = 0};
    struct mnt_who primary = who(OWNER, FGID, &none), supp = who(OWNER, YGID, &g);
    struct wire_nn_setattr req = set_req(WIRE_SET_MODE);

    req.mode = S_ISGID | 0755;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &primary), 0);
    ck_assert_uint_eq(req.mode, S_ISGID | 0755);
    ck_assert_int_eq(none.calls, 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &supp), 0);
    ck_assert_uint_eq(req.mode, S_ISGID | 0755);
    ck_assert_int_gt(g.calls, 0);
    ck_assert_uint_eq(g.last_gid, FGID);
}
END_TEST

/* chmod with chgrp in one request: S_ISGID is judged against the new group. */
START_TEST(test_mnt_perm_setattr_setgid_judged_by_new_gid)
{
    struct wire_attr a = file_attr(0644);
    struct fake_groups g = {.gids = {XGID}, .n = 1};
    struct mnt_who owner = who(OWNER, YGID, &g);
    struct wire_nn_setattr req = set_req(WIRE_SET_MODE | WIRE_SET_GID);

    a.gid = FGID; /* not one of the owner's groups */
    req.gid = YGID; /* the owner's primary group */
    req.mode = S_ISGID | 0750;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, S_ISGID | 0750);
    req.gid = XGID; /* a supplementary group */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, S_ISGID | 0750);
    ck_assert_uint_eq(g.last_gid, XGID);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chmod_to_own_gid_group_drops_setgid)
{
    struct wire_attr a = file_attr(0644);
    struct mnt_who owner = who(OWNER, YGID, NULL);
    struct wire_nn_setattr req = set_req(WIRE_SET_MODE | WIRE_SET_GID);

    /* chgrp to the file's current gid is allowed outside it, but S_ISGID is then dropped. */
    req.gid = FGID;
    req.mode = S_ISGID | 0750;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(req.mode, 0750);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chown_only_to_self_by_owner)
{
    struct wire_attr a = file_attr(0666);
    struct mnt_who owner = who(OWNER, FGID, NULL), other = who(OTHER, FGID, NULL);
    struct wire_nn_setattr req = set_req(WIRE_SET_UID);

    req.uid = OTHER;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), -EPERM); /* give away */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), -EPERM); /* take */
    req.uid = OWNER;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), -EPERM);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chgrp_by_owner_to_own_groups)
{
    struct wire_attr a = file_attr(0644);
    struct fake_groups g = {.gids = {XGID}, .n = 1};
    struct mnt_who owner = who(OWNER, YGID, &g);
    struct wire_nn_setattr req = set_req(WIRE_SET_GID);

    req.gid = YGID; /* primary */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    req.gid = XGID; /* supplementary */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_uint_eq(g.last_gid, XGID);
    req.gid = FGID; /* the file's own group, though not the owner's */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    req.gid = 4242; /* a group the owner is not in */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), -EPERM);
}
END_TEST

START_TEST(test_mnt_perm_setattr_chgrp_by_non_owner_refused)
{
    struct wire_attr a = file_attr(0666);
    struct fake_groups g = {.gids = {XGID}, .n = 1};
    struct mnt_who other = who(OTHER, FGID, &g);
    struct wire_nn_setattr req = set_req(WIRE_SET_GID);

    req.gid = XGID;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), -EPERM);
    req.gid = FGID; /* even to the file's own group */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), -EPERM);
}
END_TEST

START_TEST(test_mnt_perm_setattr_explicit_times_need_owner)
{
    struct wire_attr a = file_attr(0666);
    struct mnt_who owner = who(OWNER, FGID, NULL), other = who(OTHER, FGID, NULL);
    struct wire_nn_setattr both = set_req(WIRE_SET_ATIME | WIRE_SET_MTIME);
    struct wire_nn_setattr mtime = set_req(WIRE_SET_MTIME);

    /* Write permission is not enough for explicit times. */
    ck_assert_int_eq(mnt_perm_setattr(&a, &both, 0, &other), -EPERM);
    ck_assert_int_eq(mnt_perm_setattr(&a, &mtime, 0, &other), -EPERM);
    a.mode = S_IFREG | 0444;
    ck_assert_int_eq(mnt_perm_setattr(&a, &both, 0, &owner), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &mtime, 0, &owner), 0);
}
END_TEST

/* utimensat(NULL), or both UTIME_NOW: the owner, or anyone with write permission. */
START_TEST(test_mnt_perm_setattr_times_now_needs_owner_or_write)
{
    struct wire_attr a = file_attr(0664);
    struct fake_groups g = {.gids = {FGID}, .n = 1};
    struct mnt_who writer = who(OTHER, FGID, NULL), reader = who(OTHER, XGID, NULL);
    struct mnt_who supp = who(OTHER, XGID, &g), owner = who(OWNER, XGID, NULL);
    struct wire_nn_setattr req = set_req(WIRE_SET_ATIME | WIRE_SET_MTIME);

    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_TIMES_NOW, &writer), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_TIMES_NOW, &reader), -EACCES);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_TIMES_NOW, &supp), 0);
    ck_assert_int_eq(g.calls, 1);
    a.mode = S_IFREG | 0444;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_TIMES_NOW, &owner), 0);
}
END_TEST

/* Only utimensat(NULL) or {UTIME_NOW, UTIME_NOW} is the kernel's ATTR_TOUCH; a request with a
 * single time set to now ({UTIME_NOW, UTIME_OMIT}) is ATTR_TIMES_SET: ownership only. */
START_TEST(test_mnt_perm_setattr_one_time_now_needs_owner)
{
    struct wire_attr a = file_attr(0666);
    struct mnt_who writer = who(OTHER, FGID, NULL), owner = who(OWNER, FGID, NULL);
    struct wire_nn_setattr atime = set_req(WIRE_SET_ATIME), mtime = set_req(WIRE_SET_MTIME);

    ck_assert_int_eq(mnt_perm_setattr(&a, &atime, MNT_PERM_SET_TIMES_NOW, &owner), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &atime, MNT_PERM_SET_TIMES_NOW, &writer), -EPERM);
    ck_assert_int_eq(mnt_perm_setattr(&a, &mtime, MNT_PERM_SET_TIMES_NOW, &writer), -EPERM);
}
END_TEST

START_TEST(test_mnt_perm_setattr_size_needs_write_unless_by_fh)
{
    struct wire_attr a = file_attr(0644);
    struct mnt_who other = who(OTHER, XGID, NULL), owner = who(OWNER, FGID, NULL);
    struct wire_nn_setattr req = set_req(WIRE_SET_SIZE);

    req.size = 0;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), -EACCES);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_BY_FH, &other), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    a.mode = S_IFREG | 0646;
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), 0);
    a.mode = S_IFREG | 0444; /* truncate(2) checks write permission even for the owner */
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), -EACCES);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_BY_FH, &owner), 0);
}
END_TEST

START_TEST(test_mnt_perm_setattr_nothing_asked_is_allowed)
{
    struct wire_attr a = file_attr(0000);
    struct fake_groups g = {.n = 0};
    struct mnt_who other = who(OTHER, XGID, &g), owner = who(OWNER, FGID, NULL);
    struct wire_nn_setattr req = set_req(0);

    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &other), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, MNT_PERM_SET_TIMES_NOW, &other), 0);
    ck_assert_int_eq(mnt_perm_setattr(&a, &req, 0, &owner), 0);
    ck_assert_int_eq(g.calls, 0);
}
END_TEST

/* Names are kept by the kernel only where every class may search (see mnt_perm.h). */
START_TEST(test_mnt_perm_dir_is_open_needs_every_x)
{
    struct wire_attr open = dir_attr(0711), no_other = dir_attr(0750), no_group = dir_attr(0705);
    struct wire_attr private = dir_attr(0700), sticky_open = dir_attr(01777);

    ck_assert(mnt_perm_dir_is_open(&open));
    ck_assert(mnt_perm_dir_is_open(&sticky_open));
    ck_assert(!mnt_perm_dir_is_open(&no_other));
    ck_assert(!mnt_perm_dir_is_open(&no_group));
    ck_assert(!mnt_perm_dir_is_open(&private));
}
END_TEST

/* A new name's group: the creator's, or in a setgid directory the directory's (and a new
 * directory there is setgid too), whoever creates it. */
START_TEST(test_mnt_perm_new_owner_setgid_dir)
{
    struct wire_attr plain = dir_attr(0777), sgid = dir_attr(02777);
    struct mnt_who creator = who(OTHER, XGID, NULL), root = who(0, 0, NULL);
    uint32_t mode = S_IFREG | 0644, gid = 0;

    mnt_perm_new_owner(&plain, &creator, &mode, &gid);
    ck_assert_uint_eq(gid, XGID);
    ck_assert_uint_eq(mode, S_IFREG | 0644);
    mnt_perm_new_owner(&sgid, &creator, &mode, &gid);
    ck_assert_uint_eq(gid, sgid.gid);
    ck_assert_uint_eq(mode, S_IFREG | 0644); /* files do not inherit the bit */
    mode = S_IFDIR | 0755;
    mnt_perm_new_owner(&sgid, &root, &mode, &gid);
    ck_assert_uint_eq(gid, sgid.gid);
    ck_assert_uint_eq(mode, S_IFDIR | 02755);
    mode = S_IFDIR | 0755;
    mnt_perm_new_owner(&plain, &root, &mode, &gid);
    ck_assert_uint_eq(gid, 0);
    ck_assert_uint_eq(mode, S_IFDIR | 0755);
}
END_TEST

static void add_check_tests(TCase *tc)
{
    tcase_add_loop_test(tc, test_mnt_perm_check_selects_class, 0,
                        sizeof(class_cases) / sizeof(class_cases[0]));
    tcase_add_test(tc, test_mnt_perm_check_mask_zero_always_allowed);
    tcase_add_test(tc, test_mnt_perm_check_root_overrides_read_write);
    tcase_add_test(tc, test_mnt_perm_check_root_exec_needs_some_x_bit);
    tcase_add_test(tc, test_mnt_perm_root_needs_no_attr_unless_exec);
    tcase_add_test(tc, test_mnt_perm_in_group_primary_without_callback);
    tcase_add_test(tc, test_mnt_perm_check_owner_or_primary_group_skip_callback);
    tcase_add_test(tc, test_mnt_perm_check_same_group_and_other_skips_callback);
    tcase_add_test(tc, test_mnt_perm_check_group_grants_other_denies);
    tcase_add_test(tc, test_mnt_perm_check_group_denies_other_grants);
    tcase_add_test(tc, test_mnt_perm_check_null_callback_means_no_groups);
    tcase_add_loop_test(tc, test_mnt_perm_open_mask_by_flags, 0,
                        sizeof(open_cases) / sizeof(open_cases[0]));
    tcase_add_test(tc, test_mnt_perm_sticky_needs_entry_only_for_others);
    tcase_add_test(tc, test_mnt_perm_check_sticky_owners_and_root);
    tcase_add_test(tc, test_mnt_perm_check_sticky_plain_dir_allows_all);
}

static void add_setattr_tests(TCase *tc)
{
    tcase_add_test(tc, test_mnt_perm_setattr_root_may_do_anything);
    tcase_add_test(tc, test_mnt_perm_setattr_chmod_needs_owner);
    tcase_add_test(tc, test_mnt_perm_setattr_chmod_outside_group_drops_setgid);
    tcase_add_test(tc, test_mnt_perm_setattr_chmod_in_group_keeps_setgid);
    tcase_add_test(tc, test_mnt_perm_setattr_setgid_judged_by_new_gid);
    tcase_add_test(tc, test_mnt_perm_setattr_chmod_to_own_gid_group_drops_setgid);
    tcase_add_test(tc, test_mnt_perm_setattr_chown_only_to_self_by_owner);
    tcase_add_test(tc, test_mnt_perm_setattr_chgrp_by_owner_to_own_groups);
    tcase_add_test(tc, test_mnt_perm_setattr_chgrp_by_non_owner_refused);
    tcase_add_test(tc, test_mnt_perm_setattr_explicit_times_need_owner);
    tcase_add_test(tc, test_mnt_perm_setattr_times_now_needs_owner_or_write);
    tcase_add_test(tc, test_mnt_perm_setattr_one_time_now_needs_owner);
    tcase_add_test(tc, test_mnt_perm_setattr_size_needs_write_unless_by_fh);
    tcase_add_test(tc, test_mnt_perm_setattr_nothing_asked_is_allowed);
    tcase_add_test(tc, test_mnt_perm_dir_is_open_needs_every_x);
    tcase_add_test(tc, test_mnt_perm_new_owner_setgid_dir);
}

int main(void)
{
    Suite *s = suite_create("mnt_perm");
    TCase *tc = tcase_create("core");

    add_check_tests(tc);
    add_setattr_tests(tc);
    suite_add_tcase(s, tc);
    return check_run(s);
}
