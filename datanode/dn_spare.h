/* dn_spare: emptied replica files kept for reuse, so that writing a replica creates no inode.
 *
 * Why: on ext4 without a journal (the machine this project is measured on), allocating an
 * inode walks past every inode of the group freed in the last 60 s (ext4's recently_deleted()
 * check, 360 s while the inode block is dirty). After a delete of a few thousand replicas each
 * create took 180-340 us instead of 10, twice per replica on every datanode: most of a 4 KiB
 * file's write. A rename of a spare file took 12 us. On a journalled file system the pool
 * still saves the allocation and freeing of two inodes per replica.
 *
 * Layout: <dir>/spare/s_<n>, n canonical decimal; every file there is spare and may be
 * truncated or removed at any time (it holds no replica). A deleted replica's file is renamed
 * in (never over a name) and then emptied; a new replica's file is renamed out (never over an
 * existing name) and emptied again if a crash left data in it. At most max_count
 * (DN_SPARE_MAX) files are kept; past that, files are unlinked. Nothing is fsync'd, so after a
 * power cut (and fsck) a name in spare/ and a replica's name can both survive for one file,
 * the replica then the one that matters: a spare is only ever emptied or adopted while it has
 * one name (st_nlink == 1); a name of a file with more is unlinked, which leaves the file to
 * its other names.
 *
 * Thread-safety: the pool is a stack of names guarded by mu; renames and truncates run outside
 * it, each on a name popped or reserved under mu (count + reserved <= max_count always). The
 * datanode's loop thread takes files; the loop and the delete threads put and make them. */
#ifndef DFS_DN_SPARE_H
#define DFS_DN_SPARE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    DN_SPARE_MAX = 16384,    /* spare files kept per data directory */
    DN_SPARE_RESERVE = 4096, /* spare files made ahead while the datanode has nothing to delete */
};

struct dn_spare {
    char *dir;          /* <store dir>/spare; owned */
    pthread_mutex_t mu;
    uint32_t max_count; /* files kept at most */
    uint64_t *names;    /* guarded by mu; stack of max_count numbers */
    uint32_t count;     /* guarded by mu */
    uint32_t reserved;  /* guarded by mu; puts between their reservation and their push */
    uint64_t next_name; /* guarded by mu */
    bool is_disabled;   /* guarded by mu; the file system refused a no-replace rename */
};

/* Opens the pool in <store_dir>/spare (creating it), keeping at most max_count files (the store
 * passes DN_SPARE_MAX), and adopts the files in it; any other name there (not s_<n>, past
 * max_count, not a regular file of one name) is unlinked. 0 or -errno. */
int dn_spare_open(struct dn_spare *sp, const char *store_dir, uint32_t max_count);
void dn_spare_close(struct dn_spare *sp);

/* Creates an empty file at path, open for writing (O_CLOEXEC): a spare renamed to path when
 * there is one, else a new file (mode 0644); a spare that cannot be used (removed by hand, a
 * file system that refuses a no-replace rename: the pool then stops) gives way to a new file,
 * whose create reports path's own errors. -EEXIST if path exists, else fd or -errno. */
int dn_spare_create(struct dn_spare *sp, const char *path);

/* Removes the file at path: into the pool, emptied, when there is room, else unlinked.
 * 0 or -errno of the removal (-ENOENT if path does not exist). */
int dn_spare_put(struct dn_spare *sp, const char *path);

/* Makes one new spare if the pool holds fewer than reserve (capped at max_count): 1 if it made
 * one and more are wanted, 0 if the pool has enough now (or is disabled), -errno. The new inode is made unnamed
 * (O_TMPFILE) and then linked in, so that its allocation, the slow part, does not hold the
 * directory's lock that dn_spare_create() needs; where O_TMPFILE is refused, a plain create. */
int dn_spare_fill(struct dn_spare *sp, uint32_t reserve);

/* Spare files in the pool now. */
uint32_t dn_spare_count(struct dn_spare *sp);

#endif
