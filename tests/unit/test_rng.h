/* test_rng: xorshift64*, the unit tests' only randomness. Each test seeds its own state, so a
 * failing case recurs with the same seed. Header-only. */
#ifndef DFS_TEST_RNG_H
#define DFS_TEST_RNG_H

#include <stdint.h>

static inline uint64_t test_rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* Uniform enough below n (> 0) for tests: the modulo bias is at most n / 2^64. */
static inline uint64_t test_rng_below(uint64_t *state, uint64_t n)
{
    return test_rng_next(state) % n;
}

#endif
