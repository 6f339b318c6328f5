#include "fileio.h"

#include <errno.h>
#include <unistd.h>

int fileio_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *q = p;

    while (len) {
        ssize_t n = write(fd, q, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        q += n;
        len -= (size_t)n;
    }
    return 0;
}

int fileio_pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
    const uint8_t *q = p;

    while (len) {
        ssize_t n = pwrite(fd, q, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        q += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int fileio_pread_all(int fd, void *p, size_t len, uint64_t off)
{
    uint8_t *q = p;

    while (len) {
        ssize_t n = pread(fd, q, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* shorter than the caller checked: an I/O error for our purposes */
        q += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}
