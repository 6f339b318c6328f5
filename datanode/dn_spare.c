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

static int dn_spare_path(const struct dn_spare *sp, uint64_t name, char *out)
{
    int n = snprintf(out, DN_SPARE_PATH_MAX, "%s/s_%" PRIu64, sp->dir, name);

    return n < 0 || n >= DN_SPARE_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* "s_<decimal>" -> *name; false for anything else. */
static bool dn_spare_parse(const char *file, uint64_t *name)
{
    char *end;

    if (strncmp(file, "s_", 2) != 0 || file[2] < '0' || file[2] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(file + 2, &end, 10);
    if (errno != 0 || *end != '\0' || v == UINT64_MAX)
        return false;
    *name = (uint64_t)v;
    return true;
}

/* Adopts one directory entry; anything that is not a spare we can keep is removed. */
static void dn_spare_adopt(struct dn_spare *sp, const char *file)
{
    char path[DN_SPARE_PATH_MAX];
    uint64_t name;

    if (dn_spare_parse(file, &name) && sp->count < sp->max_count) {
        sp->names[sp->count++] = name;
        if (name >= sp->next_name)
            sp->next_name = name + 1;
        return;
    }
    if (snprintf(path, sizeof(path), "%s/%s", sp->dir, file) < (int)sizeof(path))
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

static bool dn_spare_pop(struct dn_spare *sp, uint64_t *name)
{
    pthread_mutex_lock(&sp->mu);
    bool has = !sp->is_disabled && sp->count > 0;
    if (has)
        *name = sp->names[--sp->count];
    pthread_mutex_unlock(&sp->mu);
    return has;
}

/* A name for a file about to be put, if the pool holds fewer than limit (capped at max_count),
 * counting the puts in progress. */
static bool dn_spare_reserve(struct dn_spare *sp, uint32_t limit, uint64_t *name)
{
    pthread_mutex_lock(&sp->mu);
    if (limit > sp->max_count)
        limit = sp->max_count;
    bool has = !sp->is_disabled && sp->count + sp->reserved < limit;
    if (has) {
        sp->reserved++;
        *name = sp->next_name++;
    }
    pthread_mutex_unlock(&sp->mu);
    return has;
}

/* Ends a reservation (is_reserved) or returns a popped name; the file is in the pool iff
 * is_spare. Room is certain: a pushed name was popped or reserved before. */
static void dn_spare_push(struct dn_spare *sp, uint64_t name, bool is_reserved, bool is_spare)
{
    pthread_mutex_lock(&sp->mu);
    if (is_reserved) {
        ASSERT(sp->reserved > 0);
        sp->reserved--;
    }
    if (is_spare) {
        ASSERT(sp->count < sp->max_count);
        sp->names[sp->count++] = name;
    }
    pthread_mutex_unlock(&sp->mu);
}

/* ---- files ---- */

/* Moves spare `name` to path and returns it open, emptied; -EAGAIN if this spare cannot be
 * used (the pool goes on without it, or without the pool if renames cannot refuse to
 * replace), -EEXIST or -errno for path itself (the spare stays in the pool). */
static int dn_spare_take(struct dn_spare *sp, uint64_t name, const char *path)
{
    char spare[DN_SPARE_PATH_MAX];
    struct stat st;

    if (dn_spare_path(sp, name, spare) < 0)
        return -EAGAIN;
    int fd = open(spare, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -EAGAIN; /* gone (removed by hand): forget the name */
    if (renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        int rc = -errno;
        close(fd);
        dn_spare_push(sp, name, false, true);
        if (rc != -EINVAL && rc != -ENOSYS)
            return rc;
        pthread_mutex_lock(&sp->mu);
        sp->is_disabled = true;
        pthread_mutex_unlock(&sp->mu);
        return -EAGAIN;
    }
    /* Emptied when it was put; not so if a crash came between that rename and truncate. */
    if (fstat(fd, &st) != 0 || (st.st_size != 0 && ftruncate(fd, 0) != 0)) {
        int rc = -errno;
        close(fd);
        unlink(path);
        return rc;
    }
    return fd;
}

int dn_spare_create(struct dn_spare *sp, const char *path)
{
    uint64_t name;

    while (dn_spare_pop(sp, &name)) {
        int fd = dn_spare_take(sp, name, path);
        if (fd != -EAGAIN)
            return fd;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

int dn_spare_put(struct dn_spare *sp, const char *path)
{
    char spare[DN_SPARE_PATH_MAX];
    uint64_t name;

    if (!dn_spare_reserve(sp, sp->max_count, &name))
        return unlink(path) == 0 ? 0 : -errno;
    int rc = dn_spare_path(sp, name, spare);
    if (rc == 0 && rename(path, spare) != 0)
        rc = -errno;
    if (rc < 0) {
        dn_spare_push(sp, name, true, false);
        if (rc == -ENOENT)
            return rc;
        return unlink(path) == 0 ? 0 : -errno;
    }
    /* The file left path: the removal is done whatever happens to the spare now. */
    bool is_spare = truncate(spare, 0) == 0;
    if (!is_spare)
        unlink(spare);
    dn_spare_push(sp, name, true, is_spare);
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
        fd = open(spare, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
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
    dn_spare_push(sp, name, true, rc == 0);
    return rc == 0 ? 1 : rc;
}
