#include "nn_journal.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csum.h"
#include "err.h"
#include "fileio.h"
#include "log.h"
#include "nn_ns_image.h"
#include "panic.h"
#include "xmalloc.h"

/* Image file: header, then the nn_ns image body.
 *   u32 magic "DFSK" | u16 version | u64 last_index | u64 body_len | u64 csum | body
 * csum = XXH3(header bytes 0..21) ^ XXH3(body): it covers last_index too, so a damaged
 * last_index cannot make replay silently skip (or re-apply) edit-log records.
 * Log record:
 *   u32 payload_len | u32 csum32(index, payload) | u64 index | payload (nn_op_encode) */
enum {
    NN_CKPT_MAGIC = 0x4b534644,
    NN_CKPT_VERSION = 1,
    NN_CKPT_HDR_LEN = 30,
    NN_REC_HDR_LEN = 16,
    NN_REC_MAX = 64 * 1024,
    NN_LOG_EXTENT = 8 << 20, /* the log is extended by this much zero-filled space at a time */
    NN_ZEROS_LEN = 64 * 1024,
    NN_DIO_ALIGN = 4096, /* offset, length and memory alignment of direct writes */
    NN_DIO_BUF_MIN = 64 * 1024, /* the staging buffer's first size; it grows with the batches */
};

static const uint8_t nn_zeros[NN_ZEROS_LEN];

static const struct nn_journal_sync_ops nn_real_sync_ops = {.fsync = fsync,
                                                             .fdatasync = fdatasync};

static const char nn_image_name[] = "image";
static const char nn_image_tmp_name[] = "image.tmp";
static const char nn_log_name[] = "edits";

static int read_file(int dir_fd, const char *name, struct buf *out)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    rc = fileio_pread_all(fd, buf_extend(out, (size_t)st.st_size), (size_t)st.st_size, 0);
out:
    close(fd);
    return rc;
}

/* The image's checksum covers the header's fields (last index included) and the body. */
static uint64_t image_csum(const uint8_t *file, uint64_t body_len)
{
    return csum_chunk(file, NN_CKPT_HDR_LEN - 8) ^ csum_chunk(file + NN_CKPT_HDR_LEN, body_len);
}

static int image_load(struct nn_journal *j, struct nn_ns *ns)
{
    struct buf b;
    int rc;

    buf_init(&b);
    rc = read_file(j->dir_fd, nn_image_name, &b);
    if (rc < 0)
        goto out;
    rc = -ERR_CORRUPT;
    if (b.len < NN_CKPT_HDR_LEN || le_get_u32(b.data) != NN_CKPT_MAGIC ||
        le_get_u16(b.data + 4) != NN_CKPT_VERSION)
        goto out;
    uint64_t body_len = le_get_u64(b.data + 14);
    if (body_len != b.len - NN_CKPT_HDR_LEN ||
        le_get_u64(b.data + 22) != image_csum(b.data, body_len))
        goto out;
    j->image_index = le_get_u64(b.data + 6);
    nn_ns_init(ns, 0);
    rc = nn_ns_image_decode(ns, b.data + NN_CKPT_HDR_LEN, body_len);
    if (rc < 0)
        nn_ns_fini(ns);
out:
    buf_fini(&b);
    return rc;
}

/* Replays records after the image; cuts a torn or corrupt tail at *good_end. */
static int log_replay(struct nn_journal *j, struct nn_ns *ns, const struct buf *log,
                      uint64_t *replayed, size_t *good_end)
{
    size_t off = 0;

    while (log->len - off >= NN_REC_HDR_LEN) {
        const uint8_t *h = log->data + off;
        uint32_t len = le_get_u32(h);
        if (len == 0 || len > NN_REC_MAX || len > log->len - off - NN_REC_HDR_LEN)
            break; /* the zero-filled space past the last record, or a torn record */
        if (le_get_u32(h + 4) != csum32(h + 8, 8 + (size_t)len))
            break;
        uint64_t index = le_get_u64(h + 8);
        struct nn_op op;
        if (nn_op_decode(h + NN_REC_HDR_LEN, len, &op) < 0)
            return -ERR_CORRUPT;
        if (index > j->image_index) {
            if (index != j->last_index + 1)
                return -ERR_CORRUPT;
            struct nn_op_result res = { 0 };
            int rc = nn_ns_apply(ns, &op, &res);
            nn_blk_list_fini(&res.freed);
            if (rc < 0)
                return -ERR_CORRUPT; /* only successful ops are logged */
            j->last_index = index;
            (*replayed)++;
        }
        off += NN_REC_HDR_LEN + len;
    }
    *good_end = off;
    return 0;
}

/* x rounded up to a multiple of a. */
static uint64_t round_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

/* Whether errno says this file system does not take direct writes (as opposed to failing). */
static bool dio_refused(int err)
{
    return err == EINVAL || err == EOPNOTSUPP;
}

/* Makes the staging buffer hold at least cap bytes, keeping its first keep bytes. */
static void dio_grow(struct nn_journal *j, size_t cap, size_t keep)
{
    if (cap <= j->dio_cap)
        return;
    cap = (size_t)round_up(cap, j->dio_align);
    uint8_t *p = aligned_alloc(j->dio_align, cap);
    if (p == NULL)
        PANIC("out of memory allocating %zu bytes", cap);
    if (keep)
        memcpy(p, j->dio_buf, keep);
    free(j->dio_buf);
    j->dio_buf = p;
    j->dio_cap = cap;
}

/* Opens the log for direct writes, with its last partial block (from the log's bytes
 * log[0..end)) staged. A file system without O_DIRECT leaves the page-cache path. */
static int dio_open(struct nn_journal *j, const uint8_t *log, size_t end)
{
    j->dio_fd = openat(j->dir_fd, nn_log_name, O_WRONLY | O_DIRECT | O_DSYNC | O_CLOEXEC);
    if (j->dio_fd < 0)
        return dio_refused(errno) ? 0 : -errno;
    j->dio_align = NN_DIO_ALIGN;
    size_t head = end % j->dio_align;
    dio_grow(j, NN_DIO_BUF_MIN, 0);
    if (head)
        memcpy(j->dio_buf, log + end - head, head);
    return 0;
}

static int log_open_and_replay(struct nn_journal *j, struct nn_ns *ns, uint64_t *replayed)
{
    struct buf log;
    size_t good_end = 0;
    int rc;

    j->log_fd = openat(j->dir_fd, nn_log_name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (j->log_fd < 0)
        return -errno;
    buf_init(&log);
    rc = read_file(j->dir_fd, nn_log_name, &log);
    if (rc == 0)
        rc = log_replay(j, ns, &log, replayed, &good_end);
    if (rc == 0 && good_end != log.len) {
        if (ftruncate(j->log_fd, (off_t)good_end) < 0 || j->sync_ops->fsync(j->log_fd) < 0)
            rc = -errno;
    }
    j->write_off = j->alloc_end = good_end;
    if (rc == 0)
        rc = dio_open(j, log.data, good_end);
    buf_fini(&log);
    return rc;
}

static int dir_open_locked(struct nn_journal *j, const char *dir)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dir_fd < 0)
        return -errno;
    j->lock_fd = openat(j->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (j->lock_fd < 0)
        return -errno;
    if (flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    return 0;
}

int nn_journal_open(struct nn_journal *j, const char *dir, struct nn_ns *ns, uint64_t now_ms,
                    uint64_t *replayed_out)
{
    int rc;

    memset(j, 0, sizeof(*j));
    j->sync_ops = &nn_real_sync_ops;
    j->dir_fd = j->lock_fd = j->log_fd = j->dio_fd = -1;
    j->dir = xstrdup(dir);
    buf_init(&j->batch);
    *replayed_out = 0;
    rc = dir_open_locked(j, dir);
    if (rc < 0)
        goto fail;
    rc = image_load(j, ns);
    if (rc == -ENOENT) {
        /* A new namenode directory: format it with an empty namespace. */
        nn_ns_init(ns, now_ms);
        rc = nn_journal_checkpoint(j, ns);
        if (rc < 0)
            nn_ns_fini(ns);
    }
    if (rc < 0)
        goto fail;
    j->last_index = j->image_index;
    rc = log_open_and_replay(j, ns, replayed_out);
    if (rc < 0) {
        nn_ns_fini(ns);
        goto fail;
    }
    return 0;
fail:
    /* Nothing stays open or allocated (and the lock is released) after a failed open. */
    nn_journal_close(j);
    return rc;
}

void nn_journal_close(struct nn_journal *j)
{
    if (j->log_fd >= 0)
        close(j->log_fd);
    nn_journal_use_page_cache(j);
    if (j->lock_fd >= 0)
        close(j->lock_fd);
    if (j->dir_fd >= 0)
        close(j->dir_fd);
    buf_fini(&j->batch);
    free(j->dir);
    j->dir = NULL;
    j->dir_fd = j->lock_fd = j->log_fd = -1;
}

void nn_journal_append(struct nn_journal *j, const struct nn_op *op)
{
    size_t start = j->batch.len;

    buf_extend(&j->batch, NN_REC_HDR_LEN);
    nn_op_encode(op, &j->batch);
    size_t len = j->batch.len - start - NN_REC_HDR_LEN;
    ASSERT(len <= NN_REC_MAX);
    uint8_t *h = j->batch.data + start;
    le_put_u32(h, (uint32_t)len);
    le_put_u64(h + 8, ++j->last_index);
    le_put_u32(h + 4, csum32(h + 8, 8 + len));
}

int nn_journal_has_batch(const struct nn_journal *j)
{
    return j->batch.len != 0;
}

/* Makes room for len more bytes of records: zero-fills whole extents past the end and fsyncs
 * them (size and allocation included), so later fdatasyncs carry only record data. */
static int log_reserve(struct nn_journal *j, size_t len)
{
    if (j->write_off + len <= j->alloc_end)
        return 0;
    uint64_t end = round_up(j->write_off + len, NN_LOG_EXTENT);
    for (uint64_t off = j->alloc_end; off < end; off += NN_ZEROS_LEN) {
        int rc = fileio_pwrite_all(j->log_fd, nn_zeros, NN_ZEROS_LEN, off);
        if (rc < 0)
            return rc;
    }
    if (j->sync_ops->fsync(j->log_fd) < 0)
        return -errno;
    j->alloc_end = end;
    return 0;
}

int nn_journal_is_direct(const struct nn_journal *j)
{
    return j->dio_fd >= 0;
}

void nn_journal_use_page_cache(struct nn_journal *j)
{
    if (j->dio_fd >= 0)
        close(j->dio_fd);
    j->dio_fd = -1;
    free(j->dio_buf);
    j->dio_buf = NULL;
    j->dio_cap = 0;
}

/* Writes the batch after the staged partial block, as whole blocks padded with the zeros the
 * log holds there anyway, and stages the new last partial block. Durable on return (O_DSYNC).
 * The committed bytes of the first block are written again unchanged, so a torn write leaves
 * them as they were. */
static int log_write_direct(struct nn_journal *j)
{
    size_t head = j->write_off % j->dio_align;
    size_t used = head + j->batch.len;
    size_t total = (size_t)round_up(used, j->dio_align);

    dio_grow(j, total, head);
    memcpy(j->dio_buf + head, j->batch.data, j->batch.len);
    memset(j->dio_buf + used, 0, total - used);
    int rc = fileio_pwrite_all(j->dio_fd, j->dio_buf, total, j->write_off - head);
    if (rc < 0)
        return rc;
    size_t tail = used % j->dio_align;
    memmove(j->dio_buf, j->dio_buf + used - tail, tail);
    return 0;
}

static int log_write_cached(struct nn_journal *j)
{
    int rc = fileio_pwrite_all(j->log_fd, j->batch.data, j->batch.len, j->write_off);

    if (rc == 0 && j->sync_ops->fdatasync(j->log_fd) < 0)
        rc = -errno;
    return rc;
}

int nn_journal_sync(struct nn_journal *j)
{
    int rc;

    if (j->batch.len == 0)
        return 0;
    rc = log_reserve(j, j->batch.len);
    if (rc == 0 && j->dio_fd >= 0 && dio_refused(-(rc = log_write_direct(j)))) {
        LOG_WARN("edit log: direct write refused (%s); writing through the page cache",
                 strerror(-rc));
        nn_journal_use_page_cache(j);
        rc = 0;
    }
    if (rc == 0 && j->dio_fd < 0)
        rc = log_write_cached(j);
    if (rc < 0)
        return rc;
    j->write_off += j->batch.len;
    buf_reset(&j->batch);
    return 0;
}

static int image_write_tmp(struct nn_journal *j, const struct nn_ns *ns)
{
    struct buf b;
    int rc = 0;
    int fd = openat(j->dir_fd, nn_image_tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return -errno;
    buf_init(&b);
    buf_extend(&b, NN_CKPT_HDR_LEN);
    nn_ns_image_encode(ns, &b);
    uint64_t body_len = b.len - NN_CKPT_HDR_LEN;
    le_put_u32(b.data, NN_CKPT_MAGIC);
    le_put_u16(b.data + 4, NN_CKPT_VERSION);
    le_put_u64(b.data + 6, j->last_index);
    le_put_u64(b.data + 14, body_len);
    le_put_u64(b.data + 22, image_csum(b.data, body_len));
    rc = fileio_write_all(fd, b.data, b.len);
    if (rc == 0 && j->sync_ops->fsync(fd) < 0)
        rc = -errno;
    close(fd);
    buf_fini(&b);
    return rc;
}

int nn_journal_checkpoint(struct nn_journal *j, const struct nn_ns *ns)
{
    int rc = j->log_fd >= 0 ? nn_journal_sync(j) : 0;

    if (rc == 0)
        rc = image_write_tmp(j, ns);
    if (rc == 0 && renameat(j->dir_fd, nn_image_tmp_name, j->dir_fd, nn_image_name) < 0)
        rc = -errno;
    if (rc == 0 && j->sync_ops->fsync(j->dir_fd) < 0)
        rc = -errno;
    if (rc < 0)
        return rc;
    j->image_index = j->last_index;
    /* The image covers every record; a crash before the truncate only replays nothing. */
    if (j->log_fd >= 0 && ftruncate(j->log_fd, 0) < 0)
        return -errno;
    /* From here the file is empty, even if its fsync fails: later records start at 0. */
    j->write_off = j->alloc_end = 0;
    if (j->log_fd >= 0 && j->sync_ops->fsync(j->log_fd) < 0)
        return -errno;
    return 0;
}

uint64_t nn_journal_pending_ops(const struct nn_journal *j)
{
    return j->last_index - j->image_index;
}
