/* csum: the two checksums of the system, both from xxHash.
 * csum_chunk(): XXH3-64 of one data chunk (<= CSUM_CHUNK_SIZE bytes) — the end-to-end block
 * checksum computed by the writer, verified by every datanode and every reader.
 * csum32(): low 32 bits of XXH3-64, protecting frame headers/bodies and on-disk records. */
#ifndef DFS_CSUM_H
#define DFS_CSUM_H

#include <stddef.h>
#include <stdint.h>

enum { CSUM_CHUNK_SIZE = 64 * 1024 };

uint64_t csum_chunk(const void *data, size_t len);
uint32_t csum32(const void *data, size_t len);
/* Number of chunks covering len bytes. */
uint32_t csum_chunk_count(uint64_t len);
/* Computes the checksum of every chunk of data[0..len) into out (csum_chunk_count(len) slots). */
void csum_chunks(const void *data, size_t len, uint64_t *out);
/* Verifies data[0..len) against csums; returns 0, or -ERR_CHECKSUM and the bad chunk index. */
int csum_verify(const void *data, size_t len, const uint64_t *csums, uint32_t *bad_idx);

#endif
