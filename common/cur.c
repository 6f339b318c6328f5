#include "cur.h"

#include "err.h"

void cur_init(struct cur *c, const void *p, size_t len)
{
    c->p = p;
    c->len = len;
    c->off = 0;
    c->err = 0;
}

void cur_fail(struct cur *c)
{
    c->err = -ERR_PROTO;
}

size_t cur_remaining(const struct cur *c)
{
    return c->err ? 0 : c->len - c->off;
}

const uint8_t *cur_get_raw(struct cur *c, size_t len)
{
    if (c->err || c->len - c->off < len) {
        cur_fail(c);
        return NULL;
    }
    const uint8_t *p = c->p + c->off;
    c->off += len;
    return p;
}

uint8_t cur_get_u8(struct cur *c)
{
    const uint8_t *p = cur_get_raw(c, 1);
    return p ? p[0] : 0;
}

uint16_t cur_get_u16(struct cur *c)
{
    const uint8_t *p = cur_get_raw(c, 2);
    return p ? le_get_u16(p) : 0;
}

uint32_t cur_get_u32(struct cur *c)
{
    const uint8_t *p = cur_get_raw(c, 4);
    return p ? le_get_u32(p) : 0;
}

uint64_t cur_get_u64(struct cur *c)
{
    const uint8_t *p = cur_get_raw(c, 8);
    return p ? le_get_u64(p) : 0;
}

const uint8_t *cur_get_bytes(struct cur *c, uint32_t *len_out, uint32_t max)
{
    uint32_t len = cur_get_u32(c);

    *len_out = 0;
    if (c->err || len > max) {
        cur_fail(c);
        return NULL;
    }
    const uint8_t *p = cur_get_raw(c, len);
    if (p)
        *len_out = len;
    return p;
}

int cur_finish(const struct cur *c)
{
    if (c->err || c->off != c->len)
        return -ERR_PROTO;
    return 0;
}
