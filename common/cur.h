/* cur: a bounds-checked little-endian reader over borrowed bytes with a sticky error.
 * After the first short read every later read returns zero/NULL and c->err stays set, so a
 * decoder reads all fields and checks c->err once at the end. Returned byte pointers borrow
 * from the underlying buffer and live as long as it does. */
#ifndef DFS_CUR_H
#define DFS_CUR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cur {
    const uint8_t *p;
    size_t len;
    size_t off;
    int err; /* 0, or -ERR_PROTO after the first failure */
};

void cur_init(struct cur *c, const void *p, size_t len);
uint8_t cur_get_u8(struct cur *c);
uint16_t cur_get_u16(struct cur *c);
uint32_t cur_get_u32(struct cur *c);
uint64_t cur_get_u64(struct cur *c);
/* Fixed-length raw bytes; NULL (and err set) if fewer than len remain. */
const uint8_t *cur_get_raw(struct cur *c, size_t len);
/* A u32-length-prefixed byte string of at most max bytes; NULL and err if it does not fit. */
const uint8_t *cur_get_bytes(struct cur *c, uint32_t *len_out, uint32_t max);
/* Marks the cursor failed (e.g. a count above its cap). */
void cur_fail(struct cur *c);
size_t cur_remaining(const struct cur *c);
/* Returns 0 if every byte was consumed without error, else -ERR_PROTO. */
int cur_finish(const struct cur *c);

#endif
