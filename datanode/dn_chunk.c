#include "dn_chunk.h"

#include <string.h>

#include "buf.h"
#include "csum.h"
#include "err.h"
#include "panic.h"

static const uint8_t dn_chunk_magic[4] = { 'D', 'F', 'S', 'C' };

void dn_chunk_hdr_encode(uint8_t out[DN_CHUNK_HDR_LEN])
{
    memset(out, 0, DN_CHUNK_HDR_LEN);
    memcpy(out, dn_chunk_magic, sizeof(dn_chunk_magic));
    le_put_u16(out + 4, DN_CHUNK_VERSION);
    le_put_u32(out + 8, CSUM_CHUNK_SIZE);
    le_put_u32(out + 28, csum32(out, 28));
}

int dn_chunk_hdr_decode(const uint8_t p[DN_CHUNK_HDR_LEN], struct dn_chunk_hdr *h)
{
    if (memcmp(p, dn_chunk_magic, sizeof(dn_chunk_magic)) != 0)
        return -ERR_CORRUPT;
    if (le_get_u32(p + 28) != csum32(p, 28))
        return -ERR_CORRUPT;
    uint16_t version = le_get_u16(p + 4);
    if (version != DN_CHUNK_VERSION)
        return -ERR_VERSION;
    uint32_t chunk_size = le_get_u32(p + 8);
    if (chunk_size != CSUM_CHUNK_SIZE)
        return -ERR_CORRUPT;
    h->version = version;
    h->chunk_size = chunk_size;
    return 0;
}

uint64_t dn_chunk_csum_off(uint64_t chunk_idx)
{
    return DN_CHUNK_HDR_LEN + DN_CHUNK_CSUM_LEN * chunk_idx;
}

uint64_t dn_chunk_csum_file_len(uint64_t data_len)
{
    return dn_chunk_csum_off(csum_chunk_count(data_len));
}

int dn_chunk_check_lens(uint64_t data_len, uint64_t csum_len)
{
    return csum_len == dn_chunk_csum_file_len(data_len) ? 0 : -ERR_CORRUPT;
}

uint32_t dn_chunk_span(uint64_t off, uint64_t end, uint64_t data_len, uint32_t max_len)
{
    ASSERT(off % CSUM_CHUNK_SIZE == 0);
    ASSERT(max_len >= CSUM_CHUNK_SIZE && max_len % CSUM_CHUNK_SIZE == 0);
    /* Frames carry whole chunks so the stored checksums cover them: round end up. */
    uint64_t end_up = end > UINT64_MAX - CSUM_CHUNK_SIZE ? UINT64_MAX
                                                          : end + CSUM_CHUNK_SIZE - 1;
    end_up -= end_up % CSUM_CHUNK_SIZE;
    uint64_t stop = end_up < data_len ? end_up : data_len;
    if (off >= stop)
        return 0;
    uint64_t n = stop - off;
    return n < max_len ? (uint32_t)n : max_len;
}
