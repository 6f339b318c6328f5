/* dn_chunk: the checksum file format of a replica, pure (no I/O, no clock).
 *
 * A replica is two files: blk_<id>_<gen>.data holds the block's bytes; blk_<id>_<gen>.csum
 * holds a DN_CHUNK_HDR_LEN-byte header followed by one little-endian u64 XXH3-64 checksum
 * (csum_chunk()) per CSUM_CHUNK_SIZE chunk of the data file, in chunk order; the last chunk
 * may be partial. docs/ON-DISK.md ("Datanode replica files") describes the same layout.
 *
 * Header (all little-endian):
 *   0  4 bytes  magic "DFSC"
 *   4  u16      format version (DN_CHUNK_VERSION)
 *   6  u16      reserved, 0
 *   8  u32      chunk size in bytes (CSUM_CHUNK_SIZE)
 *   12 16 bytes reserved, 0
 *   28 u32      csum32() of bytes 0..27
 *
 * Invariant of a finalized replica: csum file length == dn_chunk_csum_file_len(data length).
 * Pure code: callable from any thread. */
#ifndef DFS_DN_CHUNK_H
#define DFS_DN_CHUNK_H

#include <stdint.h>

enum {
    DN_CHUNK_HDR_LEN = 32,
    DN_CHUNK_VERSION = 1,
    DN_CHUNK_CSUM_LEN = 8, /* bytes per stored checksum */
};

struct dn_chunk_hdr {
    uint16_t version;
    uint32_t chunk_size;
};

/* Writes the header of a current-version checksum file into out. */
void dn_chunk_hdr_encode(uint8_t out[DN_CHUNK_HDR_LEN]);
/* Validates magic, header checksum, version and chunk size. Returns 0 or -ERR_CORRUPT
 * (-ERR_VERSION for an unknown format version); *h is untouched on failure. */
int dn_chunk_hdr_decode(const uint8_t p[DN_CHUNK_HDR_LEN], struct dn_chunk_hdr *h);

/* Byte offset of chunk idx's checksum in the checksum file. */
uint64_t dn_chunk_csum_off(uint64_t chunk_idx);
/* Length of the checksum file of a data file of data_len bytes. */
uint64_t dn_chunk_csum_file_len(uint64_t data_len);
/* 0 if a data file of data_len bytes and a checksum file of csum_len bytes are consistent,
 * else -ERR_CORRUPT. */
int dn_chunk_check_lens(uint64_t data_len, uint64_t csum_len);

/* Bytes the next read frame should carry: a frame starts at off (chunk-aligned), ends at
 * min(end rounded up to a chunk boundary, data_len), so it carries whole chunks (only the
 * replica's last chunk may be partial), and at most max_len bytes (a multiple of the chunk
 * size).
 * Returns 0 when off >= min(end, data_len). */
uint32_t dn_chunk_span(uint64_t off, uint64_t end, uint64_t data_len, uint32_t max_len);

#endif
