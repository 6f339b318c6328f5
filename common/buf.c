#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_fini(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
}

void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra;

    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

uint8_t *buf_extend(struct buf *b, size_t len)
{
    buf_reserve(b, len);
    uint8_t *p = b->data + b->len;
    b->len += len;
    return p;
}

void buf_put(struct buf *b, const void *p, size_t len)
{
    if (len)
        memcpy(buf_extend(b, len), p, len);
}

void buf_put_u8(struct buf *b, uint8_t v)
{
    *buf_extend(b, 1) = v;
}

void buf_put_u16(struct buf *b, uint16_t v)
{
    le_put_u16(buf_extend(b, 2), v);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
    le_put_u32(buf_extend(b, 4), v);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
    le_put_u64(buf_extend(b, 8), v);
}

void buf_put_bytes(struct buf *b, const void *p, uint32_t len)
{
    buf_put_u32(b, len);
    buf_put(b, p, len);
}

void buf_put_str(struct buf *b, const char *s)
{
    buf_put_bytes(b, s, s ? (uint32_t)strlen(s) : 0);
}

void le_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void le_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void le_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t le_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t le_get_u32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t le_get_u64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
