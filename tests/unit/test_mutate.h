/* test_mutate: what the unit tests' mutation fuzzes share: little-endian integers of any width
 * at any offset (fields follow strings, so few are aligned). Header-only. */
#ifndef DFS_TEST_MUTATE_H
#define DFS_TEST_MUTATE_H

#include <stdint.h>

static inline uint64_t test_le_get(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void test_le_put(uint8_t *p, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The top bit and the largest value of a width-byte unsigned integer (width 1..8): with 0, 1
 * and their neighbours, the edges where a missing or off-by-one check lets a value through. */
static inline uint64_t test_width_top(unsigned width)
{
    return UINT64_C(1) << (8 * width - 1);
}

static inline uint64_t test_width_max(unsigned width)
{
    return test_width_top(width) | (test_width_top(width) - 1);
}

#endif
