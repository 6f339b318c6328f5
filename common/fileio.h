/* fileio: whole-buffer file I/O that retries short transfers and EINTR — the one copy of these
 * loops for the namenode's journal, the datanode's store and the command-line tools. Blocking;
 * callable from any thread. Errors are -errno; a file that ends before len bytes were read is
 * -EIO (callers read only what they checked exists). */
#ifndef DFS_FILEIO_H
#define DFS_FILEIO_H

#include <stddef.h>
#include <stdint.h>

int fileio_write_all(int fd, const void *p, size_t len);
int fileio_pwrite_all(int fd, const void *p, size_t len, uint64_t off);
int fileio_pread_all(int fd, void *p, size_t len, uint64_t off);

#endif
