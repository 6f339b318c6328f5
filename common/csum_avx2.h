/* csum_avx2: XXH3-64 compiled for AVX2 (inside csum only). Debian's libxxhash is built for
 * the x86-64 baseline (SSE2, ~8 GB/s here); xxHash's header compiled for AVX2 gives the same
 * values at ~25 GB/s, and every packet byte is hashed twice per hop (chunk checksums and the
 * frame checksum). csum.c calls it only when the CPU has AVX2. */
#ifndef DFS_CSUM_AVX2_H
#define DFS_CSUM_AVX2_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CSUM_HAVE_AVX2 1
uint64_t csum_xxh3_avx2(const void *data, size_t len);
#else
#define CSUM_HAVE_AVX2 0
#endif

#endif
