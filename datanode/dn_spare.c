#include "dn_spare.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "panic.h"
#include "xmalloc.h"

enum { DN_SPARE_PATH_MAX = 4096 };
/* Names stay below this: next_name never wraps to a name in use. */
#define DN_SPARE_NAME_END (UINT64_C(1) << 62)

static int dn_spare_path(const struct dn_spare *sp, uint64_t name, char *out)
{
    int n = snprintf(out, DN_SPARE_PATH_MAX, "%s/s_%" PRIu64, sp->dir, name);

    return n < 0 || n >= DN_SPARE_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* "s_<decimal>", canonical (no leading zero, below DN_SPARE_NAME_END) -> *name; false for
 * anything else, so that no two files parse to one name. */
static bool dn_spare_parse(const char *file, uint64_t *name)
{
    char *end;

    if (strncmp(file, "s_", 2) != 0 || file[2] < '0' || file[2] > '9' ||
        (file[2] == '0' && file[3] != '\0'))
        return false;
    errno = 0;
    unsigned long long v = strtoull(file + 2, &end, 10);
    if (errno != 0 || *end != '\0' || v >= DN_SPARE_NAME_END)
        return false;
    *name = (uint64_t)v;
    return true;
}

/* Adopts one directory entry: a spare's name, of a regular file that has no other name (see
 * dn_spare_keep()). Any other name is unlinked, which leaves a file with other names to them. */
static void dn_spare_adopt(struct dn_spare *sp, const char *file)
{
    char path[DN_SPARE_PATH_MAX];
    struct stat st;
    uint64_t name;

    if (snprintf(path, sizeof(path), "%s/%s", sp->dir, file) >= (int)sizeof(path))
        return;
    if (dn_spare_parse(file, &name) && sp->count < sp->max_count && lstat(path, &st) == 0 &&
        S_ISREG(st.st_mode) && st.st_nlink == 1) {
        sp->names[sp->count++] = name;
        if (name >= sp->next_name)
            sp->next_name = name + 1;
        return;
    }
    unlink(path);
}

int dn_spare_open(struct dn_spare *sp, const char *store_dir, uint32_t max_count)
{
    char path[DN_SPARE_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/spare", store_dir);

    memset(sp, 0, sizeof(*sp));
    if (n < 0 || n >= (int)sizeof(path))
        return -ENAMETOOLONG;
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -errno;
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    sp->dir = xstrdup(path);
    sp->max_count = max_count;
    sp->names = xcalloc(max_count > 0 ? max_count : 1, sizeof(*sp->names));
    pthread_mutex_init(&sp->mu, NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] != '.')
            dn_spare_adopt(sp, e->d_name);
    }
    closedir(d);
    return 0;
}

void dn_spare_close(struct dn_spare *sp)
{
    if (!sp->dir)
        return;
    pthread_mutex_destroy(&sp->mu);
    free(sp->names);
    free(sp->dir);
    memset(sp, 0, sizeof(*sp));
}

uint32_t dn_spare_count(struct dn_spare *sp)
{
    pthread_mutex_lock(&sp->mu);
    uint32_t n = sp->count;
    pthread_mutex_unlock(&sp->mu);
    return n;
}

/* ---- the stack ---- */

/* Takes a name off the stack. Its slot stays reserved, so that dn_spare_push() can always put
 * it back, until dn_spare_push() ends the reservation. */
static bool dn_spare_pop(struct dn_spare *sp, uint64_t *name)
{
    pthread_mutex_lock(&sp->mu);
    bool has = !sp->is_disabled && sp->count > 0;
    if (has) {
        *name = sp->names[--sp->count];
        sp->reserved++;
    }
    pthread_mutex_unlock(&sp->mu);
    return has;
}

/* How many files the pool may hold when want are wanted: never more than max_count. */
static uint32_t dn_spare_limit(const struct dn_spare *sp, uint32_t want)
{
    return want < sp->max_count ? want : sp->max_count;
}

/* A new name for a file about to join the pool, if it holds fewer than dn_spare_limit(want),
 * counting the reservations in progress. */
static bool dn_spare_reserve(struct dn_spare *sp, uint32_t want, uint64_t *name)
{
    uint32_t limit = dn_spare_limit(sp, want);

    pthread_mutex_lock(&sp->mu);
    bool has = !sp->is_disabled && sp->count + sp->reserved < limit &&
               sp->next_name < DN_SPARE_NAME_END;
    if (has) {
        sp->reserved++;
        *name = sp->next_name++;
    }
    pthread_mutex_unlock(&sp->mu);
    return has;
}

/* Ends the reservation of a popped or reserved name; the file is in the pool iff is_spare.
 * is_disabled: the file system cannot serve the pool (see dn_spare_take()). Returns the
 * files held or reserved right after. */
static uint32_t dn_spare_push(struct dn_spare *sp, uint64_t name, bool is_spare,
                              bool is_disabled)
{
    pthread_mutex_lock(&sp->mu);
    ASSERT(sp->reserved > 0);
    sp->reserved--;
    if (is_spare) {
        ASSERT(sp->count + sp->reserved < sp->max_count);
        sp->names[sp->count++] = name;
    }
    if (is_disabled)
        sp->is_disabled = true;
    uint32_t held = sp->count + sp->reserved;
    pthread_mutex_unlock(&sp->mu);
    return held;
}

/* ---- files ---- */

/* A new empty file at path (never over an existing name), open for writing: fd or -errno. */
static int dn_spare_new_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

    return fd < 0 ? -errno : fd;
}

/* Whether a rename's error says the pool cannot work here at all: no RENAME_NOREPLACE, or
 * the pool on another file system. */
static bool dn_spare_is_unusable(int rc)
{
    return rc == -EINVAL || rc == -ENOSYS || rc == -EXDEV;
}

/* Whether an error on a spare will likely pass (the spare is kept for later), rather than
 * stay with that file (EIO, EACCES...: the name is dropped, so that it does not come back on
 * top of the stack at every create; the file waits in spare/ for the next start-up). */
static bool dn_spare_is_transient(int rc)
{
    return rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM || rc == -EINTR || rc == -EAGAIN ||
           rc == -ENOSPC || rc == -EDQUOT;
}

/* Moves spare `name` (popped) to path; *fd is then open on it, emptied. Returns 0, -EEXIST
 * (path exists; the spare stays in the pool), or 1: use no spare for path but a new file,
 * whose create reports path's own errors (the spare stays unless it is gone). */
static int dn_spare_take(struct dn_spare *sp, uint64_t name, const char *path, int *fd)
{
    char spare[DN_SPARE_PATH_MAX];
    struct stat st;

    if (dn_spare_path(sp, name, spare) < 0) {
        dn_spare_push(sp, name, false, false);
        return 1;
    }
    *fd = open(spare, O_WRONLY | O_CLOEXEC);
    if (*fd < 0) { /* ENOENT: removed by hand */
        dn_spare_push(sp, name, dn_spare_is_transient(-errno), false);
        return 1;
    }
    if (renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        int rc = -errno;
        close(*fd);
        /* EEXIST and ENOENT (path's directory missing, unless the spare itself went) are
         * path's errors: the spare is fine. */
        bool is_kept = rc == -EEXIST || dn_spare_is_transient(rc) || dn_spare_is_unusable(rc) ||
                       (rc == -ENOENT && access(spare, F_OK) == 0);
        dn_spare_push(sp, name, is_kept, dn_spare_is_unusable(rc));
        return rc == -EEXIST ? rc : 1;
    }
    dn_spare_push(sp, name, false, false);
    /* Emptied when it was put; not so if a crash came between that rename and truncate. */
    if (fstat(*fd, &st) != 0 || (st.st_size != 0 && ftruncate(*fd, 0) != 0)) {
        int rc = -errno;
        close(*fd);
        unlink(path);
        return rc;
    }
    return 0;
}

int dn_spare_create(struct dn_spare *sp, const char *path)
{
    uint64_t name;
    int fd;

    if (dn_spare_pop(sp, &name)) {
        int rc = dn_spare_take(sp, name, path, &fd);
        if (rc <= 0)
            return rc < 0 ? rc : fd;
    }
    return dn_spare_new_file(path);
}

/* Keeps the file renamed to spare (reserved as name) if it can be emptied: only if spare is
 * its one name. After a power cut (and fsck) a removed replica's old name and its reused
 * file's new name can both survive: emptying the file through the old one would destroy the
 * replica it now holds. Such a name is only unlinked. */
static void dn_spare_keep(struct dn_spare *sp, uint64_t name, const char *spare)
{
    struct stat st;
    bool is_spare = lstat(spare, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
                    truncate(spare, 0) == 0;

    if (!is_spare)
        unlink(spare);
    dn_spare_push(sp, name, is_spare, false);
}

int dn_spare_put(struct dn_spare *sp, const char *path)
{
    char spare[DN_SPARE_PATH_MAX];
    uint64_t name;

    if (!dn_spare_reserve(sp, sp->max_count, &name))
        return unlink(path) == 0 ? 0 : -errno;
    int rc = dn_spare_path(sp, name, spare);
    if (rc == 0 && renameat2(AT_FDCWD, path, AT_FDCWD, spare, RENAME_NOREPLACE) != 0)
        rc = -errno;
    if (rc < 0) {
        dn_spare_push(sp, name, false, dn_spare_is_unusable(rc));
        if (rc == -ENOENT)
            return rc;
        return unlink(path) == 0 ? 0 : -errno;
    }
    dn_spare_keep(sp, name, spare); /* path is gone whatever happens to the spare now */
    return 0;
}

/* Creates spare `name` as a new empty file: unnamed first, then linked in. */
static int dn_spare_make(const struct dn_spare *sp, uint64_t name)
{
    char spare[DN_SPARE_PATH_MAX], self[64];
    int rc = dn_spare_path(sp, name, spare);

    if (rc < 0)
        return rc;
    int fd = open(sp->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) { /* a file system without O_TMPFILE */
        fd = dn_spare_new_file(spare);
        if (fd < 0)
            return fd;
        close(fd);
        return 0;
    }
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, self, AT_FDCWD, spare, AT_SYMLINK_FOLLOW) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

int dn_spare_fill(struct dn_spare *sp, uint32_t reserve)
{
    uint64_t name;

    if (!dn_spare_reserve(sp, reserve, &name))
        return 0;
    int rc = dn_spare_make(sp, name);
    uint32_t held = dn_spare_push(sp, name, rc == 0, false);
    if (rc < 0)
        return rc;
    return held < dn_spare_limit(sp, reserve) ? 1 : 0;
}
