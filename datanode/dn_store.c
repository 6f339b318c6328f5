#include "dn_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "csum.h"
#include "dn_chunk.h"
#include "dn_spare.h"
#include "err.h"
#include "fileio.h"
#include "panic.h"
#include "xmalloc.h"

enum { DN_STORE_PATH_MAX = 4096, DN_STORE_SUBDIRS = 256 };

/* ---- paths and small file helpers ---- */

static int dn_store_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int dn_store_path(char *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(out, DN_STORE_PATH_MAX, fmt, ap);
    va_end(ap);
    return n < 0 || n >= DN_STORE_PATH_MAX ? -ENAMETOOLONG : 0;
}

static unsigned dn_store_subdir_of(uint64_t id)
{
    return (unsigned)(id & 0xff);
}

/* <dir>/<area>/blk_<id>_<gen>.<ext>, area = "rbw" or "finalized/subdirXX". */
static int dn_store_replica_path(const struct dn_store *s, char *out, int is_final,
                                 struct wire_blk blk, const char *ext)
{
    if (!is_final)
        return dn_store_path(out, "%s/rbw/blk_%016" PRIx64 "_%" PRIu64 ".%s", s->dir, blk.id,
                             blk.gen, ext);
    return dn_store_path(out, "%s/finalized/subdir%02x/blk_%016" PRIx64 "_%" PRIu64 ".%s",
                         s->dir, dn_store_subdir_of(blk.id), blk.id, blk.gen, ext);
}

static int dn_store_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int dn_store_mkdir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* ---- VERSION ---- */

static int dn_store_new_uuid(char out[DN_STORE_NODE_ID_LEN + 1])
{
    uint8_t r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    int rc = fileio_pread_all(fd, r, sizeof(r), 0);
    if (rc < 0) {
        ssize_t n = read(fd, r, sizeof(r)); /* character devices may refuse pread */
        rc = n == (ssize_t)sizeof(r) ? 0 : -EIO;
    }
    close(fd);
    if (rc < 0)
        return rc;
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, DN_STORE_NODE_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    return 0;
}

static int dn_store_version_write(struct dn_store *s, const char *cluster_id)
{
    char tmp[DN_STORE_PATH_MAX], path[DN_STORE_PATH_MAX];
    int rc = dn_store_new_uuid(s->node_id);

    if (rc == 0)
        rc = dn_store_path(tmp, "%s/VERSION.tmp", s->dir);
    if (rc == 0)
        rc = dn_store_path(path, "%s/VERSION", s->dir);
    if (rc < 0)
        return rc;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    fprintf(f, "layout=1\ncluster_id=%s\nnode_id=%s\n", cluster_id, s->node_id);
    rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    return rc == 0 ? dn_store_fsync_path(s->dir) : rc;
}

/* Reads "key=value" lines; fills cluster (cap bytes) and s->node_id. */
static int dn_store_version_parse(struct dn_store *s, FILE *f, char *cluster, size_t cap)
{
    char line[256];
    int has_node = 0, has_cluster = 0;

    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "cluster_id=", 11) == 0 && strlen(line + 11) < cap) {
            memcpy(cluster, line + 11, strlen(line + 11) + 1);
            has_cluster = 1;
        } else if (strncmp(line, "node_id=", 8) == 0 &&
                   strlen(line + 8) == DN_STORE_NODE_ID_LEN) {
            memcpy(s->node_id, line + 8, DN_STORE_NODE_ID_LEN + 1);
            has_node = 1;
        }
    }
    return has_node && has_cluster ? 0 : -ERR_CORRUPT;
}

static int dn_store_version_load(struct dn_store *s, const char *cluster_id, char *err,
                                 size_t errlen)
{
    char path[DN_STORE_PATH_MAX], cluster[WIRE_ID_MAX + 1];
    int rc = dn_store_path(path, "%s/VERSION", s->dir);

    if (rc < 0)
        return rc;
    FILE *f = fopen(path, "re");
    if (!f && errno == ENOENT)
        return dn_store_version_write(s, cluster_id);
    if (!f)
        return -errno;
    rc = dn_store_version_parse(s, f, cluster, sizeof(cluster));
    fclose(f);
    if (rc < 0) {
        snprintf(err, errlen, "%s: unreadable VERSION file", path);
        return rc;
    }
    if (strcmp(cluster, cluster_id) != 0) {
        snprintf(err, errlen, "%s: data directory belongs to cluster '%s', not '%s'", path,
                 cluster, cluster_id);
        return -ERR_CLUSTER;
    }
    return 0;
}

/* ---- open / close ---- */

static int dn_store_make_dirs(struct dn_store *s)
{
    char path[DN_STORE_PATH_MAX];
    int rc = dn_store_mkdir(s->dir);
    const char *subs[] = { "rbw", "finalized", "quarantine", "spare" };

    for (size_t i = 0; rc == 0 && i < sizeof(subs) / sizeof(subs[0]); i++) {
        rc = dn_store_path(path, "%s/%s", s->dir, subs[i]);
        if (rc == 0)
            rc = dn_store_mkdir(path);
    }
    for (unsigned i = 0; rc == 0 && i < DN_STORE_SUBDIRS; i++) {
        rc = dn_store_path(path, "%s/finalized/subdir%02x", s->dir, i);
        if (rc == 0)
            rc = dn_store_mkdir(path);
    }
    if (rc == 0)
        rc = dn_store_path(path, "%s/finalized", s->dir);
    if (rc == 0)
        rc = dn_store_fsync_path(path);
    return rc == 0 ? dn_store_fsync_path(s->dir) : rc;
}

/* A crash never exposes a half-written replica: whatever is left in rbw/ is dropped. */
static int dn_store_clean_rbw(struct dn_store *s)
{
    char path[DN_STORE_PATH_MAX], file[DN_STORE_PATH_MAX];
    int rc = dn_store_path(path, "%s/rbw", s->dir);

    if (rc < 0)
        return rc;
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        int put_rc = dn_store_path(file, "%s/%s", path, e->d_name);
        if (put_rc == 0)
            put_rc = dn_spare_put(s->spare, file);
        if (put_rc < 0)
            rc = put_rc;
    }
    closedir(d);
    return rc == 0 ? dn_store_fsync_path(path) : rc;
}

static void dn_store_count_cb(void *arg, const struct wire_blk_len *e)
{
    (void)arg;
    (void)e;
}

int dn_store_open(struct dn_store *s, const char *dir, const char *cluster_id,
                  uint64_t capacity_override, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->dir = xstrdup(dir);
    s->capacity_override = capacity_override;
    s->spare = xcalloc(1, sizeof(*s->spare));
    int rc = dn_store_make_dirs(s);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot create data directory: %s", dir, err_str(rc));
        goto fail;
    }
    rc = dn_store_version_load(s, cluster_id, err, errlen);
    if (rc == -ERR_CLUSTER || rc == -ERR_CORRUPT)
        goto fail;
    if (rc == 0)
        rc = dn_spare_open(s->spare, dir, DN_SPARE_MAX);
    if (rc == 0)
        rc = dn_store_clean_rbw(s);
    if (rc == 0)
        rc = dn_store_scan(s, dn_store_count_cb, NULL);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", dir, err_str(rc));
        goto fail;
    }
    return 0;
fail:
    dn_store_close(s);
    return rc;
}

void dn_store_close(struct dn_store *s)
{
    if (s->spare)
        dn_spare_close(s->spare);
    free(s->spare);
    s->spare = NULL;
    free(s->dir);
    s->dir = NULL;
}

/* ---- names ---- */

/* Parses "blk_<16 hex>_<decimal>.<ext>"; returns 0 and sets *blk and *ext, else -EINVAL. */
static int dn_store_parse_name(const char *name, struct wire_blk *blk, const char **ext)
{
    char *end;

    if (strncmp(name, "blk_", 4) != 0 || strlen(name) < 4 + 16 + 3)
        return -EINVAL;
    for (int i = 4; i < 4 + 16; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -EINVAL;
    }
    if (name[20] != '_' || name[21] < '0' || name[21] > '9')
        return -EINVAL;
    errno = 0;
    uint64_t gen = strtoull(name + 21, &end, 10);
    if (errno != 0 || *end != '.')
        return -EINVAL;
    blk->id = strtoull(name + 4, NULL, 16);
    blk->gen = gen;
    *ext = end + 1;
    return 0;
}

/* Finds the highest gen of id in finalized/. 0 and *gen, or -ERR_NO_BLOCK, -errno. */
static int dn_store_find(const struct dn_store *s, uint64_t id, uint64_t *gen)
{
    char path[DN_STORE_PATH_MAX];
    int rc = dn_store_path(path, "%s/finalized/subdir%02x", s->dir, dn_store_subdir_of(id));
    int found = 0;

    if (rc < 0)
        return rc;
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        struct wire_blk blk;
        const char *ext;
        if (dn_store_parse_name(e->d_name, &blk, &ext) < 0 || strcmp(ext, "data") != 0)
            continue;
        if (blk.id == id && (!found || blk.gen > *gen)) {
            *gen = blk.gen;
            found = 1;
        }
    }
    closedir(d);
    return found ? 0 : -ERR_NO_BLOCK;
}

static uint64_t dn_store_file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

void dn_store_note_deleted(struct dn_store *s, uint64_t len)
{
    s->used_bytes -= len < s->used_bytes ? len : s->used_bytes;
    if (s->replica_count > 0)
        s->replica_count--;
}

/* Removes a finalized replica's two files (the data file's size in *len) into the spare pool;
 * returns 0 or -errno of the data file. Only reads s->dir and uses the pool, which has a lock
 * of its own: safe off the loop thread. */
static int dn_store_remove_files(const struct dn_store *s, struct wire_blk blk, uint64_t *len)
{
    char data[DN_STORE_PATH_MAX], csum[DN_STORE_PATH_MAX];
    int rc = dn_store_replica_path(s, data, 1, blk, "data");

    if (rc == 0)
        rc = dn_store_replica_path(s, csum, 1, blk, "csum");
    if (rc < 0)
        return rc;
    *len = dn_store_file_size(data);
    rc = dn_spare_put(s->spare, data);
    if (rc == 0)
        dn_spare_put(s->spare, csum);
    return rc;
}

static int dn_store_remove_final(struct dn_store *s, struct wire_blk blk)
{
    uint64_t len = 0;
    int rc = dn_store_remove_files(s, blk, &len);

    if (rc == 0)
        dn_store_note_deleted(s, len);
    return rc;
}

/* ---- replicas being written ---- */

int dn_store_rbw_create(struct dn_store *s, struct wire_blk blk, struct dn_rbw *r)
{
    char data[DN_STORE_PATH_MAX], csum[DN_STORE_PATH_MAX];
    uint8_t hdr[DN_CHUNK_HDR_LEN];
    int rc = dn_store_replica_path(s, data, 0, blk, "data");

    if (rc == 0)
        rc = dn_store_replica_path(s, csum, 0, blk, "csum");
    if (rc < 0)
        return rc;
    int data_fd = dn_spare_create(s->spare, data);
    if (data_fd < 0)
        return data_fd;
    int csum_fd = dn_spare_create(s->spare, csum);
    if (csum_fd < 0) {
        rc = csum_fd;
        goto fail_data;
    }
    dn_chunk_hdr_encode(hdr);
    rc = fileio_pwrite_all(csum_fd, hdr, sizeof(hdr), 0);
    if (rc < 0)
        goto fail_csum;
    *r = (struct dn_rbw){ .blk = blk, .data_fd = data_fd, .csum_fd = csum_fd, .len = 0 };
    return 0;
fail_csum:
    close(csum_fd);
    dn_spare_put(s->spare, csum);
fail_data:
    close(data_fd);
    dn_spare_put(s->spare, data);
    return rc;
}

int dn_store_rbw_write(struct dn_rbw *r, uint64_t offset, const uint8_t *data, uint32_t len,
                       const uint8_t *csums_raw, uint32_t count)
{
    ASSERT(offset == r->len);
    ASSERT(offset % CSUM_CHUNK_SIZE == 0);
    ASSERT(count == csum_chunk_count(len));
    int rc = fileio_pwrite_all(r->data_fd, data, len, offset);
    /* Start writeback (without waiting) once DN_STORE_FLUSH_AHEAD bytes are written, so the
     * fsync at finalize has little left to do and the disk works while packets stream; an
     * error here resurfaces at that fsync. A small replica is left to the page cache: starting
     * its I/O would only delay its ack. */
    if (rc == 0 && offset + len - r->flushed >= DN_STORE_FLUSH_AHEAD) {
        (void)sync_file_range(r->data_fd, (off_t)r->flushed, (off_t)(offset + len - r->flushed),
                              SYNC_FILE_RANGE_WRITE);
        r->flushed = offset + len;
    }
    if (rc == 0)
        rc = fileio_pwrite_all(r->csum_fd, csums_raw, (size_t)count * DN_CHUNK_CSUM_LEN,
                                 dn_chunk_csum_off(offset / CSUM_CHUNK_SIZE));
    if (rc == 0)
        r->len += len;
    return rc;
}

static void dn_store_rbw_close_fds(struct dn_rbw *r)
{
    if (r->data_fd >= 0)
        close(r->data_fd);
    if (r->csum_fd >= 0)
        close(r->csum_fd);
    r->data_fd = -1;
    r->csum_fd = -1;
}

void dn_store_rbw_abort(struct dn_store *s, struct dn_rbw *r)
{
    char path[DN_STORE_PATH_MAX];

    dn_store_rbw_close_fds(r);
    if (dn_store_replica_path(s, path, 0, r->blk, "data") == 0)
        dn_spare_put(s->spare, path);
    if (dn_store_replica_path(s, path, 0, r->blk, "csum") == 0)
        dn_spare_put(s->spare, path);
}

/* Renames both files of r from rbw/ to finalized/ (checksums first: the data file marks a
 * replica as present, so a crash between the renames leaves an orphan .csum, not a replica
 * without checksums), then fsyncs both directories. */
static int dn_store_rbw_move(struct dn_store *s, struct dn_rbw *r, bool is_sync)
{
    static const char *const exts[] = { "csum", "data" };
    char from[DN_STORE_PATH_MAX], to[DN_STORE_PATH_MAX];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < 2; i++) {
        rc = dn_store_replica_path(s, from, 0, r->blk, exts[i]);
        if (rc == 0)
            rc = dn_store_replica_path(s, to, 1, r->blk, exts[i]);
        if (rc == 0 && rename(from, to) != 0)
            rc = -errno;
    }
    if (rc < 0 || !is_sync)
        return rc;
    rc = dn_store_path(from, "%s/rbw", s->dir);
    if (rc == 0)
        rc = dn_store_path(to, "%s/finalized/subdir%02x", s->dir, dn_store_subdir_of(r->blk.id));
    if (rc == 0)
        rc = dn_store_fsync_path(to);
    if (rc == 0)
        rc = dn_store_fsync_path(from);
    return rc;
}

/* Whether finalized/ may hold a replica of blk's id that finalizing blk has to replace. Gens
 * start at 1, so only a gen above 1 can have older ones; the same gen is there only after an
 * earlier write of it finalized, which one stat() tells. This spares a new replica the scan of
 * its subdirectory, which took as long as the rest of a small replica's write. */
static bool dn_store_may_hold_final(const struct dn_store *s, struct wire_blk blk)
{
    char path[DN_STORE_PATH_MAX];
    struct stat st;

    if (blk.gen > 1 || dn_store_replica_path(s, path, 1, blk, "data") < 0)
        return true;
    return stat(path, &st) == 0 || errno != ENOENT;
}

int dn_store_rbw_finalize(struct dn_store *s, struct dn_rbw *r)
{
    uint64_t old_gen;
    int rc = 0;

    if (r->is_sync && (fsync(r->data_fd) != 0 || fsync(r->csum_fd) != 0))
        rc = -errno;
    if (rc < 0)
        goto fail;
    dn_store_rbw_close_fds(r);
    /* Replace whatever gen of this id is stored: the new one supersedes it. */
    while (dn_store_may_hold_final(s, r->blk) && dn_store_find(s, r->blk.id, &old_gen) == 0 &&
           dn_store_remove_final(s, (struct wire_blk){ r->blk.id, old_gen }) == 0) {
    }
    rc = dn_store_rbw_move(s, r, r->is_sync);
    if (rc < 0)
        goto fail;
    s->used_bytes += r->len;
    s->replica_count++;
    return 0;
fail:
    dn_store_rbw_abort(s, r);
    return rc;
}

/* Whether blk's exact gen is stored: 0, -ERR_STALE_GEN (only an older one), -ERR_NO_BLOCK. */
static int dn_store_find_exact(const struct dn_store *s, struct wire_blk blk)
{
    uint64_t gen;
    int rc = dn_store_find(s, blk.id, &gen);

    if (rc < 0)
        return rc;
    if (gen != blk.gen)
        return gen < blk.gen ? -ERR_STALE_GEN : -ERR_NO_BLOCK;
    return 0;
}

int dn_store_sync(struct dn_store *s, struct wire_blk blk)
{
    char data[DN_STORE_PATH_MAX], csum[DN_STORE_PATH_MAX], dir[DN_STORE_PATH_MAX];
    int rc = dn_store_replica_path(s, data, 1, blk, "data");

    if (rc == 0)
        rc = dn_store_replica_path(s, csum, 1, blk, "csum");
    if (rc == 0)
        rc = dn_store_path(dir, "%s/finalized/subdir%02x", s->dir, dn_store_subdir_of(blk.id));
    if (rc == 0)
        rc = dn_store_fsync_path(data); /* by its exact name: no directory scan */
    if (rc == -ENOENT) {
        rc = dn_store_find_exact(s, blk); /* which error: another gen is here, or none */
        return rc < 0 ? rc : -ERR_NO_BLOCK;
    }
    if (rc == 0)
        rc = dn_store_fsync_path(csum);
    if (rc == -ENOENT)
        rc = -ERR_NO_BLOCK;
    if (rc == 0)
        rc = dn_store_fsync_path(dir); /* the rename into finalized/ */
    return rc;
}

/* ---- reading ---- */

/* Opens a finalized replica's files and checks their lengths and the checksum header. */
static int dn_store_open_final(const struct dn_store *s, struct wire_blk blk,
                               uint64_t first_off, uint64_t first_len, struct dn_reader *rd)
{
    char data[DN_STORE_PATH_MAX], csum[DN_STORE_PATH_MAX];
    uint8_t hdr[DN_CHUNK_HDR_LEN];
    struct dn_chunk_hdr h;
    struct stat dst, cst;
    int rc = dn_store_replica_path(s, data, 1, blk, "data");

    if (rc == 0)
        rc = dn_store_replica_path(s, csum, 1, blk, "csum");
    if (rc < 0)
        return rc;
    int data_fd = open(data, O_RDONLY | O_CLOEXEC);
    if (data_fd < 0)
        return errno == ENOENT ? -ERR_NO_BLOCK : -errno;
    if (first_len > 0)
        (void)posix_fadvise(data_fd, (off_t)first_off, (off_t)first_len, POSIX_FADV_WILLNEED);
    int csum_fd = open(csum, O_RDONLY | O_CLOEXEC);
    if (csum_fd < 0) {
        rc = errno == ENOENT ? -ERR_CORRUPT : -errno;
        goto fail_data;
    }
    if (fstat(data_fd, &dst) != 0 || fstat(csum_fd, &cst) != 0) {
        rc = -errno;
        goto fail_csum;
    }
    rc = dn_chunk_check_lens((uint64_t)dst.st_size, (uint64_t)cst.st_size);
    if (rc < 0 && access(data, F_OK) != 0 && errno == ENOENT)
        rc = -ERR_NO_BLOCK; /* removed (and emptied) between the two opens */
    if (rc == 0)
        rc = fileio_pread_all(csum_fd, hdr, sizeof(hdr), 0);
    if (rc == 0)
        rc = dn_chunk_hdr_decode(hdr, &h);
    if (rc < 0)
        goto fail_csum;
    *rd = (struct dn_reader){ .blk = blk, .data_fd = data_fd, .csum_fd = csum_fd,
                              .len = (uint64_t)dst.st_size, .data_ctime = dst.st_ctim,
                              .csum_ctime = cst.st_ctim };
    return 0;
fail_csum:
    close(csum_fd);
fail_data:
    close(data_fd);
    return rc;
}

void dn_store_read_advise(const struct dn_reader *rd, uint64_t offset, uint64_t len)
{
    uint64_t first_csum = dn_chunk_csum_off(offset / CSUM_CHUNK_SIZE);

    if (offset >= rd->len)
        return;
    if (len > rd->len - offset)
        len = rd->len - offset;
    (void)posix_fadvise(rd->data_fd, (off_t)offset, (off_t)len, POSIX_FADV_WILLNEED);
    (void)posix_fadvise(rd->csum_fd, (off_t)first_csum,
                        (off_t)(csum_chunk_count(len) * DN_CHUNK_CSUM_LEN), POSIX_FADV_WILLNEED);
}

int dn_store_read_open(const struct dn_store *s, struct wire_blk blk, uint64_t first_off,
                       uint64_t first_len, struct dn_reader *rd)
{
    /* By its exact name first: a read scans no directory (after a cache drop that scan is
     * one more disk read per block read). */
    int rc = dn_store_open_final(s, blk, first_off, first_len, rd);

    if (rc != -ERR_NO_BLOCK)
        return rc;
    rc = dn_store_find_exact(s, blk); /* which error: another gen is here, or none */
    return rc < 0 ? rc : dn_store_open_final(s, blk, first_off, first_len, rd);
}

static bool dn_store_time_eq(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Whether rd's files still hold the replica it opened. Unlinked files kept their bytes for
 * the readers holding them; files removed into the spare pool are emptied and may be reused
 * at once, and the rename and the truncate both move ctime (and the size). Checked after the
 * reads, so that whatever they returned predates the check. */
static int dn_store_reader_check(const struct dn_reader *rd)
{
    struct stat dst, cst;

    if (fstat(rd->data_fd, &dst) != 0 || fstat(rd->csum_fd, &cst) != 0)
        return -errno;
    if ((uint64_t)dst.st_size != rd->len || !dn_store_time_eq(dst.st_ctim, rd->data_ctime) ||
        !dn_store_time_eq(cst.st_ctim, rd->csum_ctime))
        return -ERR_NO_BLOCK;
    return 0;
}

int dn_store_read(struct dn_reader *rd, uint64_t offset, uint32_t len, uint8_t *data,
                  uint8_t *csums_raw)
{
    ASSERT(offset % CSUM_CHUNK_SIZE == 0);
    ASSERT(offset + len <= rd->len);
    ASSERT(len % CSUM_CHUNK_SIZE == 0 || offset + len == rd->len);
    uint32_t count = csum_chunk_count(len);
    int rc = fileio_pread_all(rd->data_fd, data, len, offset);

    if (rc == 0)
        rc = fileio_pread_all(rd->csum_fd, csums_raw, (size_t)count * DN_CHUNK_CSUM_LEN,
                                dn_chunk_csum_off(offset / CSUM_CHUNK_SIZE));
    int check = dn_store_reader_check(rd); /* a short read of a removed replica: its cause */
    if (check < 0)
        return check;
    if (rc < 0)
        return rc;
    return wire_csums_verify(data, len, csums_raw);
}

void dn_store_read_close(struct dn_reader *rd)
{
    if (rd->data_fd >= 0)
        close(rd->data_fd);
    if (rd->csum_fd >= 0)
        close(rd->csum_fd);
    rd->data_fd = -1;
    rd->csum_fd = -1;
}

/* ---- delete ---- */

/* No fsync: a delete lost to a power cut brings the replica back in the next block report,
 * and the namenode orders it deleted again. Fsyncing the directory per replica stalled the
 * event loop for seconds when thousands of deletes came in one heartbeat. */
int dn_store_delete_files(const struct dn_store *s, struct wire_blk blk, uint64_t *len)
{
    uint64_t gen;
    /* The exact generation first: no directory scan (after a cache drop that scan alone is
     * a disk read per delete). Only when it is not here, look for an older one. */
    int rc = dn_store_remove_files(s, blk, len);

    if (rc != -ENOENT)
        return rc;
    rc = dn_store_find(s, blk.id, &gen);
    if (rc < 0)
        return rc;
    if (gen > blk.gen)
        return -ERR_NO_BLOCK; /* only a newer gen is stored: not ours to delete */
    return dn_store_remove_files(s, (struct wire_blk){ blk.id, gen }, len);
}

int dn_store_delete(struct dn_store *s, struct wire_blk blk)
{
    uint64_t len = 0;
    int rc = dn_store_delete_files(s, blk, &len);

    if (rc == 0)
        dn_store_note_deleted(s, len);
    return rc;
}

/* ---- scan ---- */

static void dn_store_quarantine(const struct dn_store *s, const char *subdir, const char *name)
{
    char from[DN_STORE_PATH_MAX], to[DN_STORE_PATH_MAX];

    if (dn_store_path(from, "%s/%s", subdir, name) == 0 &&
        dn_store_path(to, "%s/quarantine/%s", s->dir, name) == 0)
        rename(from, to);
}

/* Checks one directory entry of finalized/subdirXX; 1 = a good replica (*e filled),
 * 0 = not a replica's data file (a .csum), -1 = garbage. */
static int dn_store_check_entry(const struct dn_store *s, unsigned sub, const char *name,
                                struct wire_blk_len *e)
{
    struct wire_blk blk;
    struct dn_reader rd;
    const char *ext;
    char other[DN_STORE_PATH_MAX];

    if (dn_store_parse_name(name, &blk, &ext) < 0 || dn_store_subdir_of(blk.id) != sub)
        return -1;
    if (strcmp(ext, "csum") == 0) {
        /* An orphan checksum file (its data file is missing) is garbage. */
        if (dn_store_replica_path(s, other, 1, blk, "data") < 0 || access(other, F_OK) != 0)
            return -1;
        return 0;
    }
    if (strcmp(ext, "data") != 0 || dn_store_open_final(s, blk, 0, 0, &rd) < 0)
        return -1;
    e->blk = blk;
    e->len = rd.len;
    dn_store_read_close(&rd);
    return 1;
}

static int dn_store_scan_subdir(struct dn_store *s, unsigned sub, dn_store_scan_fn *fn,
                                void *arg)
{
    char path[DN_STORE_PATH_MAX];
    int rc = dn_store_path(path, "%s/finalized/subdir%02x", s->dir, sub);

    if (rc < 0)
        return rc;
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        struct wire_blk_len e;
        if (de->d_name[0] == '.')
            continue;
        int kind = dn_store_check_entry(s, sub, de->d_name, &e);
        if (kind < 0) {
            dn_store_quarantine(s, path, de->d_name);
        } else if (kind > 0) {
            s->used_bytes += e.len;
            s->replica_count++;
            fn(arg, &e);
        }
    }
    closedir(d);
    return 0;
}

int dn_store_scan(struct dn_store *s, dn_store_scan_fn *fn, void *arg)
{
    s->used_bytes = 0;
    s->replica_count = 0;
    for (unsigned sub = 0; sub < DN_STORE_SUBDIRS; sub++) {
        int rc = dn_store_scan_subdir(s, sub, fn, arg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int dn_store_space(const struct dn_store *s, struct dn_space *out)
{
    struct statvfs vfs;

    if (statvfs(s->dir, &vfs) != 0)
        return -errno;
    uint64_t disk_size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    uint64_t disk_free = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    out->used = s->used_bytes;
    if (s->capacity_override == 0) {
        out->capacity = disk_size;
        out->remaining = disk_free;
        return 0;
    }
    out->capacity = s->capacity_override;
    uint64_t left = out->capacity > out->used ? out->capacity - out->used : 0;
    out->remaining = left < disk_free ? left : disk_free;
    return 0;
}
