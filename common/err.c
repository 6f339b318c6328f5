#include "err.h"

#include <errno.h>
#include <string.h>

const char *err_str(int rc)
{
    if (rc == 0)
        return "success";
    switch (-rc) {
#define ERR_STR(name, code, wire, text)                                                            \
    case name:                                                                                     \
        return text;
        ERR_TABLE(ERR_STR)
#undef ERR_STR
    default:
        return strerror(-rc);
    }
}

uint16_t err_to_wire(int rc)
{
    if (rc == 0)
        return 0;
    switch (-rc) {
#define ERR_WIRE(name, code, wire, text)                                                           \
    case name:                                                                                     \
        return wire;
        ERR_TABLE(ERR_WIRE)
#undef ERR_WIRE
#define ERRNO_WIRE(name, wire)                                                                     \
    case name:                                                                                     \
        return wire;
        ERR_ERRNO_TABLE(ERRNO_WIRE)
#undef ERRNO_WIRE
    default:
        return 5; /* EIO's wire status */
    }
}

int err_from_wire(uint16_t status)
{
    if (status == 0)
        return 0;
    switch (status) {
#define ERR_UNWIRE(name, code, wire, text)                                                         \
    case wire:                                                                                     \
        return -name;
        ERR_TABLE(ERR_UNWIRE)
#undef ERR_UNWIRE
#define ERRNO_UNWIRE(name, wire)                                                                   \
    case wire:                                                                                     \
        return -name;
        ERR_ERRNO_TABLE(ERRNO_UNWIRE)
#undef ERRNO_UNWIRE
    default:
        return -EIO;
    }
}

int err_to_errno(int rc)
{
    if (rc >= 0 || -rc < 1000)
        return rc;
    switch (-rc) {
    case ERR_LEASE:
        return -EBUSY;
    case ERR_NO_DATANODES:
        return -ENOSPC;
    case ERR_NOT_LEADER:
        return -EAGAIN;
    case ERR_UNKNOWN_TYPE:
        return -ENOSYS;
    default:
        return -EIO;
    }
}
