/* mnt_file: per-inode shared writers of this mount (see mnt_file.h).
 *
 * A file's life: opening (in the table, f->mu held by the opener until dfs_open_write
 * returns; open_rc set if it failed) -> open (writer set, refs > 0) -> closing (last ref
 * dropped, still in the table so a new open waits instead of racing for the lease) -> gone. */
#include "mnt_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "err.h"
#include "log.h"
#include "panic.h"
#include "xmalloc.h"

static struct mnt_file **mnt_files_slot(struct mnt_files *t, uint64_t ino)
{
    struct mnt_file **pp = &t->buckets[ino % MNT_FILES_BUCKETS];

    while (*pp != NULL && (*pp)->ino != ino) {
        pp = &(*pp)->next;
    }
    return pp;
}

void mnt_files_init(struct mnt_files *t, struct dfs_client *client)
{
    *t = (struct mnt_files){.client = client};
    ASSERT(pthread_mutex_init(&t->mu, NULL) == 0);
    ASSERT(pthread_cond_init(&t->closed_cond, NULL) == 0);
    atomic_init(&t->flush_seq, 0);
}

static void mnt_file_free(struct mnt_file *f)
{
    ASSERT(f->writer == NULL);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void mnt_files_fini(struct mnt_files *t)
{
    for (uint32_t i = 0; i < MNT_FILES_BUCKETS; i++) {
        while (t->buckets[i] != NULL) {
            struct mnt_file *f = t->buckets[i];
            int rc = f->writer != NULL ? dfs_writer_close(f->writer) : 0;

            if (rc < 0) {
                LOG_ERROR("close on unmount failed ino=%" PRIu64 " err=%s", f->ino,
                          err_str(rc));
            }
            f->writer = NULL;
            t->buckets[i] = f->next;
            mnt_file_free(f);
        }
    }
    pthread_cond_destroy(&t->closed_cond);
    pthread_mutex_destroy(&t->mu);
}

/* With t->mu held: waits out a closing file of ino, then returns its slot. */
static struct mnt_file **mnt_files_slot_settled(struct mnt_files *t, uint64_t ino)
{
    struct mnt_file **pp;

    while (*(pp = mnt_files_slot(t, ino)) != NULL && (*pp)->is_closing) {
        pthread_cond_wait(&t->closed_cond, &t->mu);
    }
    return pp;
}

/* Finds or inserts the entry of ino with a reference. *is_new tells the caller it holds the
 * new entry's mu and must open the writer. */
static int mnt_files_ref(struct mnt_files *t, uint64_t ino, struct mnt_file **out, bool *is_new)
{
    struct mnt_file **pp;
    struct mnt_file *f;

    pthread_mutex_lock(&t->mu);
    pp = mnt_files_slot_settled(t, ino);
    *is_new = *pp == NULL;
    if (*is_new && t->count >= MNT_FILES_MAX) {
        pthread_mutex_unlock(&t->mu);
        return -ENFILE;
    }
    if (*is_new) {
        f = xcalloc(1, sizeof(*f));
        f->ino = ino;
        ASSERT(pthread_mutex_init(&f->mu, NULL) == 0);
        pthread_mutex_lock(&f->mu); /* private until published below */
        *pp = f;
        t->count++;
    }
    f = *pp;
    f->ref_count++;
    pthread_mutex_unlock(&t->mu);
    *out = f;
    return 0;
}

int mnt_files_open_write(struct mnt_files *t, uint64_t ino, uint32_t wire_flags,
                         struct mnt_file **out)
{
    struct mnt_file *f;
    bool is_new;
    int rc = mnt_files_ref(t, ino, &f, &is_new);

    if (rc < 0)
        return rc;
    if (is_new) {
        f->open_rc = dfs_open_write(t->client, ino, wire_flags, &f->writer);
        rc = f->open_rc;
        pthread_mutex_unlock(&f->mu);
    } else if (wire_flags & WIRE_OPEN_TRUNC) {
        rc = mnt_file_truncate(t, f, 0);
    } else {
        pthread_mutex_lock(&f->mu);
        rc = f->writer == NULL ? f->open_rc : 0;
        pthread_mutex_unlock(&f->mu);
    }
    if (rc < 0) {
        mnt_files_put(t, f);
        return rc;
    }
    *out = f;
    return 0;
}

int mnt_files_adopt(struct mnt_files *t, const struct wire_attr *created,
                    struct dfs_writer *writer_take, struct mnt_file **out)
{
    struct mnt_file *f;
    bool is_new;
    int rc = mnt_files_ref(t, created->ino, &f, &is_new);

    if (rc == 0 && !is_new) {
        mnt_files_put(t, f);
        rc = -EBUSY;
    }
    if (rc < 0) {
        dfs_writer_close(writer_take);
        return rc;
    }
    f->writer = writer_take;
    f->is_dirty = true; /* the create itself is committed by the first flush */
    f->created = *created;
    f->has_created = true;
    pthread_mutex_unlock(&f->mu);
    *out = f;
    return 0;
}

struct mnt_file *mnt_files_get(struct mnt_files *t, uint64_t ino)
{
    struct mnt_file *f;

    pthread_mutex_lock(&t->mu);
    f = *mnt_files_slot(t, ino);
    if (f != NULL && f->is_closing) {
        f = NULL;
    }
    if (f != NULL) {
        f->ref_count++;
    }
    pthread_mutex_unlock(&t->mu);
    return f;
}

int mnt_files_put(struct mnt_files *t, struct mnt_file *f)
{
    int rc = 0;

    pthread_mutex_lock(&t->mu);
    ASSERT(f->ref_count > 0);
    ASSERT(!f->is_closing);
    if (--f->ref_count > 0) {
        pthread_mutex_unlock(&t->mu);
        return 0;
    }
    f->is_closing = true;
    pthread_mutex_unlock(&t->mu);

    pthread_mutex_lock(&f->mu);
    if (f->writer != NULL) {
        rc = dfs_writer_close(f->writer);
        f->writer = NULL;
        atomic_fetch_add(&t->flush_seq, 1);
    }
    pthread_mutex_unlock(&f->mu);

    pthread_mutex_lock(&t->mu);
    struct mnt_file **pp = mnt_files_slot(t, f->ino);
    ASSERT(*pp == f);
    *pp = f->next;
    t->count--;
    pthread_cond_broadcast(&t->closed_cond);
    pthread_mutex_unlock(&t->mu);
    mnt_file_free(f);
    return rc;
}

ssize_t mnt_file_write(struct mnt_files *t, struct mnt_file *f, const void *buf, size_t len,
                       uint64_t off, bool is_append)
{
    ssize_t n;

    (void)t;
    pthread_mutex_lock(&f->mu);
    if (f->writer == NULL) {
        n = f->open_rc < 0 ? f->open_rc : -EIO;
        goto out;
    }
    if (is_append) {
        off = dfs_writer_size(f->writer);
    }
    if (off != dfs_writer_size(f->writer)) {
        n = -EOPNOTSUPP; /* random writes come with block reopening (a later version) */
        goto out;
    }
    n = dfs_writer_write(f->writer, buf, len, off);
    if (n > 0) {
        f->is_dirty = true;
        f->has_created = false;
    }
out:
    pthread_mutex_unlock(&f->mu);
    return n;
}

int mnt_file_sync(struct mnt_files *t, struct mnt_file *f, bool is_durable)
{
    int rc = 0;

    pthread_mutex_lock(&f->mu);
    if (f->writer == NULL) {
        rc = f->open_rc < 0 ? f->open_rc : -EIO;
    } else if (is_durable && (f->is_dirty || f->is_unsynced)) {
        rc = dfs_writer_sync(f->writer);
        if (rc == 0) {
            f->is_dirty = false;
            f->is_unsynced = false;
        }
        atomic_fetch_add(&t->flush_seq, 1);
    } else if (!is_durable && f->is_dirty) {
        rc = dfs_writer_flush(f->writer);
        if (rc == 0) {
            f->is_dirty = false;
            f->is_unsynced = true;
        }
        atomic_fetch_add(&t->flush_seq, 1);
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/* With f->mu held: commits what was written and reopens the file truncated. */
static int mnt_file_reopen_trunc(struct mnt_files *t, struct mnt_file *f)
{
    int rc = 0;

    if (f->writer != NULL) {
        rc = dfs_writer_close(f->writer);
        f->writer = NULL;
        f->is_dirty = false;
    }
    if (rc < 0) {
        LOG_WARN("commit before truncate failed ino=%" PRIu64 " err=%s", f->ino, err_str(rc));
    }
    f->open_rc = dfs_open_write(t->client, f->ino, WIRE_OPEN_TRUNC, &f->writer);
    atomic_fetch_add(&t->flush_seq, 1);
    return f->open_rc;
}

int mnt_file_truncate(struct mnt_files *t, struct mnt_file *f, uint64_t size)
{
    int rc;

    pthread_mutex_lock(&f->mu);
    f->has_created = false;
    if (f->writer != NULL && size == dfs_writer_size(f->writer)) {
        rc = 0;
    } else if (size == 0) {
        rc = mnt_file_reopen_trunc(t, f);
    } else {
        rc = f->writer == NULL && f->open_rc < 0 ? f->open_rc : -EOPNOTSUPP;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

bool mnt_file_setattr_is_noop(struct mnt_file *f, const struct wire_nn_setattr *req,
                              uint64_t now_ms, struct wire_attr *out)
{
    bool is_noop;

    pthread_mutex_lock(&f->mu);
    is_noop = f->has_created && !(req->valid & WIRE_SET_SIZE) &&
              now_ms == f->created.ctime_ms && wire_attr_has(&f->created, req);
    if (is_noop)
        *out = f->created;
    pthread_mutex_unlock(&f->mu);
    return is_noop;
}

void mnt_file_forget_created(struct mnt_file *f)
{
    pthread_mutex_lock(&f->mu);
    f->has_created = false;
    pthread_mutex_unlock(&f->mu);
}

void mnt_file_adjust_attr(struct mnt_file *f, struct wire_attr *a)
{
    pthread_mutex_lock(&f->mu);
    if (f->writer != NULL && dfs_writer_size(f->writer) > a->size) {
        a->size = dfs_writer_size(f->writer);
    }
    pthread_mutex_unlock(&f->mu);
}

uint64_t mnt_files_flush_seq(const struct mnt_files *t)
{
    return atomic_load(&t->flush_seq);
}
