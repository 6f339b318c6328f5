/* buf: a growable byte buffer with little-endian writers, used to encode frames and records.
 * The buffer owns its storage; buf_fini() frees it. Growth is bounded by the caller's limits
 * (the encoders never write more than WIRE_BODY_MAX per frame). */
#ifndef DFS_BUF_H
#define DFS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
/* Appends len uninitialised bytes and returns a pointer to them (valid until the next call). */
uint8_t *buf_extend(struct buf *b, size_t len);
void buf_put(struct buf *b, const void *p, size_t len);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u16(struct buf *b, uint16_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
/* A length-prefixed (u32) byte string. */
void buf_put_bytes(struct buf *b, const void *p, uint32_t len);
void buf_put_str(struct buf *b, const char *s);

void le_put_u16(uint8_t *p, uint16_t v);
void le_put_u32(uint8_t *p, uint32_t v);
void le_put_u64(uint8_t *p, uint64_t v);
uint16_t le_get_u16(const uint8_t *p);
uint32_t le_get_u32(const uint8_t *p);
uint64_t le_get_u64(const uint8_t *p);

#endif
