/* err: the one table of error codes. Functions return 0 or a negative code: -errno for OS-like
 * failures, -ERR_* (>= 1000, never colliding with errno) for domain failures. Host errno values
 * never go on the wire: err_to_wire()/err_from_wire() map both kinds to our own wire status. */
#ifndef DFS_ERR_H
#define DFS_ERR_H

#include <stdint.h>

/* Domain errors: X(name, code, wire status, text). */
#define ERR_TABLE(X)                                                                               \
    X(ERR_PROTO, 1000, 200, "malformed message") \
    X(ERR_CHECKSUM, 1001, 201, "checksum mismatch") \
    X(ERR_NOT_LEADER, 1002, 202, "not the leader") \
    X(ERR_STALE_GEN, 1003, 203, "stale block generation") \
    X(ERR_CLUSTER, 1004, 204, "wrong cluster id") \
    X(ERR_VERSION, 1005, 205, "unsupported protocol version") \
    X(ERR_NO_DATANODES, 1006, 206, "not enough live datanodes") \
    X(ERR_LEASE, 1007, 207, "file is open for writing by another client") \
    X(ERR_NO_BLOCK, 1008, 208, "no such block") \
    X(ERR_CORRUPT, 1009, 209, "corrupt on-disk data") \
    X(ERR_PIPELINE, 1010, 210, "write pipeline failed") \
    X(ERR_UNKNOWN_TYPE, 1011, 211, "unknown message type") 

/* POSIX errors that may cross the wire: X(errno name, wire status). */
#define ERR_ERRNO_TABLE(X)                                                                         \
    X(EPERM, 1) X(ENOENT, 2) X(EIO, 5) X(EAGAIN, 11) X(EACCES, 13) X(EBUSY, 16) X(EEXIST, 17)      \
        X(EXDEV, 18) X(ENOTDIR, 20) X(EISDIR, 21) X(EINVAL, 22) X(EFBIG, 27) X(ENOSPC, 28)         \
            X(EROFS, 30) X(ERANGE, 34) X(ENAMETOOLONG, 36) X(ENOSYS, 38) X(ENOTEMPTY, 39)          \
                X(ENODATA, 61) X(EOPNOTSUPP, 95) X(ETIMEDOUT, 110) X(ECONNREFUSED, 111)            \
                    X(ESTALE, 116) X(EMSGSIZE, 90) X(ELOOP, 40)

enum err_code {
#define ERR_ENUM(name, code, wire, text) name = code,
    ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
};

/* Human text for any return code (0, -errno or -ERR_*). Never NULL. */
const char *err_str(int rc);
/* Wire status for a return code; 0 maps to 0, unknown errors to EIO's status. */
uint16_t err_to_wire(int rc);
/* Negative return code for a wire status; 0 maps to 0, unknown statuses to -EIO. */
int err_from_wire(uint16_t status);
/* A negative errno suitable for POSIX callers (FUSE, CLI exit): domain errors map to the
 * closest errno (e.g. -ERR_CHECKSUM -> -EIO, -ERR_LEASE -> -EBUSY). */
int err_to_errno(int rc);

#endif
