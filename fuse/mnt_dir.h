/* mnt_dir: the listing window behind one open directory handle — pure, no I/O, no locks.
 *
 * FUSE readdir resumes from an offset cookie that we chose earlier. Our cookies are listing
 * indexes: index 0 is ".", 1 is "..", and names start at MNT_DIR_FIRST in the namenode's
 * (bytewise) name order. An entry's cookie ("next offset") is its index + 1. The window holds
 * one page of up to MNT_DIR_PAGE consecutive names, entries[0] being index base_idx, so memory
 * per handle is bounded whatever the directory's size.
 *
 * mnt_dir_locate() maps an index to an entry in the window or asks the caller to fetch a page:
 * the next one (names after the window's last name, so cookies stay stable while others create
 * and delete entries), or the first one again when the index lies before the window (seekdir
 * back; the walk then goes forward page by page). The caller fetches with dfs_readdir(ino,
 * mnt_dir_fetch_after(), MNT_DIR_PAGE) between mnt_dir_page_begin() and mnt_dir_page_end(),
 * feeding entries to mnt_dir_page_add().
 *
 * Invariants (mnt_dir_assert_valid): count <= MNT_DIR_PAGE; base_idx >= MNT_DIR_FIRST;
 * has_page false implies count == 0. Not thread-safe: the owner serializes calls. */
#ifndef DFS_MNT_DIR_H
#define DFS_MNT_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

enum {
    MNT_DIR_PAGE = 128, /* names fetched per dfs_readdir() call */
    MNT_DIR_FIRST = 2,  /* listing index of the first name; 0 and 1 are "." and ".." */
};

struct mnt_dirent {
    char name[WIRE_NAME_MAX + 1];
    struct wire_attr attr;
};

struct mnt_dir {
    uint64_t ino;
    uint64_t base_idx;   /* listing index of entries[0] */
    uint32_t count;      /* valid entries in the window */
    bool has_page;       /* the window holds a fetched page (maybe empty) */
    bool is_eof;         /* nothing follows the window */
    uint64_t fetch_idx;  /* base_idx of the page being fetched */
    char after[WIRE_NAME_MAX + 1]; /* fetch names after this one; "" from the start */
    struct mnt_dirent entries[MNT_DIR_PAGE];
};

enum mnt_dir_step {
    MNT_DIR_HAVE,  /* *out points at the entry (valid until the next page is fetched) */
    MNT_DIR_FETCH, /* fetch a page (after mnt_dir_fetch_after()), then locate again */
    MNT_DIR_END,   /* the listing ends before this index */
};

void mnt_dir_init(struct mnt_dir *d, uint64_t ino);
/* Drops the window, so the next locate fetches from the start (rewinddir). */
void mnt_dir_rewind(struct mnt_dir *d);
/* idx >= MNT_DIR_FIRST. On MNT_DIR_FETCH the pending fetch is recorded in d. */
enum mnt_dir_step mnt_dir_locate(struct mnt_dir *d, uint64_t idx, const struct mnt_dirent **out);
/* The name the pending fetch starts after ("" = from the start). Borrowed from d. */
const char *mnt_dir_fetch_after(const struct mnt_dir *d);
void mnt_dir_page_begin(struct mnt_dir *d);
/* A dfs_dirent_fn: arg is the struct mnt_dir. Returns nonzero once the page is full. */
int mnt_dir_page_add(void *arg, const struct wire_nn_dirent *e);
/* rc is the fetch's result: on failure the window is dropped. An empty page counts as the
 * end of the listing, so every fetch makes progress. */
void mnt_dir_page_end(struct mnt_dir *d, int rc, bool is_eof);
void mnt_dir_assert_valid(const struct mnt_dir *d);

#endif
