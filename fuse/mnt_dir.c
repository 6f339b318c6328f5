/* mnt_dir: the bounded listing window of one directory handle (see mnt_dir.h).
 *
 * States: empty (has_page false) -> FETCH pending (fetch_idx, after set) -> page (has_page,
 * entries[0..count) at base_idx) -> ... Any locate outside the window moves to a pending fetch;
 * a failed fetch returns to empty. */
#include "mnt_dir.h"

#include <string.h>

#include "panic.h"

void mnt_dir_assert_valid(const struct mnt_dir *d)
{
    ASSERT(d->count <= MNT_DIR_PAGE);
    ASSERT(d->base_idx >= MNT_DIR_FIRST);
    ASSERT(d->has_page || d->count == 0);
    ASSERT(d->fetch_idx >= MNT_DIR_FIRST);
}

void mnt_dir_init(struct mnt_dir *d, uint64_t ino)
{
    memset(d, 0, sizeof(*d));
    d->ino = ino;
    d->base_idx = MNT_DIR_FIRST;
    d->fetch_idx = MNT_DIR_FIRST;
    mnt_dir_assert_valid(d);
}

void mnt_dir_rewind(struct mnt_dir *d)
{
    d->has_page = false;
    d->is_eof = false;
    d->count = 0;
    d->base_idx = MNT_DIR_FIRST;
    mnt_dir_assert_valid(d);
}

static enum mnt_dir_step mnt_dir_want_from_start(struct mnt_dir *d)
{
    d->after[0] = '\0';
    d->fetch_idx = MNT_DIR_FIRST;
    return MNT_DIR_FETCH;
}

static enum mnt_dir_step mnt_dir_want_next(struct mnt_dir *d)
{
    ASSERT(d->has_page);
    ASSERT(d->count > 0); /* an empty page is always the end */
    memcpy(d->after, d->entries[d->count - 1].name, sizeof(d->after));
    d->fetch_idx = d->base_idx + d->count;
    return MNT_DIR_FETCH;
}

enum mnt_dir_step mnt_dir_locate(struct mnt_dir *d, uint64_t idx, const struct mnt_dirent **out)
{
    ASSERT(idx >= MNT_DIR_FIRST);
    mnt_dir_assert_valid(d);
    if (!d->has_page || idx < d->base_idx) {
        return mnt_dir_want_from_start(d);
    }
    if (idx < d->base_idx + d->count) {
        *out = &d->entries[idx - d->base_idx];
        return MNT_DIR_HAVE;
    }
    if (d->is_eof) {
        return MNT_DIR_END;
    }
    return mnt_dir_want_next(d); /* walks forward page by page up to idx */
}

const char *mnt_dir_fetch_after(const struct mnt_dir *d)
{
    return d->after;
}

void mnt_dir_page_begin(struct mnt_dir *d)
{
    d->has_page = false;
    d->is_eof = false;
    d->count = 0;
    d->base_idx = d->fetch_idx;
}

int mnt_dir_page_add(void *arg, const struct wire_nn_dirent *e)
{
    struct mnt_dir *d = arg;
    struct mnt_dirent *slot;

    if (d->count >= MNT_DIR_PAGE) {
        return 1;
    }
    slot = &d->entries[d->count];
    if (e->name.len == 0 || wire_str_copy(e->name, slot->name, sizeof(slot->name)) < 0) {
        return 0; /* a name we cannot represent: skip it (the decoder bounds names anyway) */
    }
    slot->attr = e->attr;
    d->count++;
    return d->count >= MNT_DIR_PAGE;
}

void mnt_dir_page_end(struct mnt_dir *d, int rc, bool is_eof)
{
    if (rc < 0) {
        mnt_dir_rewind(d);
        return;
    }
    d->has_page = true;
    d->is_eof = is_eof || d->count == 0;
    mnt_dir_assert_valid(d);
}
