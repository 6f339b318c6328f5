#include "csum_avx2.h"

#if CSUM_HAVE_AVX2
/* Everything below, xxHash's inlined implementation included, is compiled for AVX2. */
#pragma GCC target("avx2")
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t csum_xxh3_avx2(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}
#else
typedef int csum_avx2_unused; /* ISO C wants a translation unit to declare something */
#endif
