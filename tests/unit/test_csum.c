/* Unit tests for common/csum: published XXH3-64 vectors (so a change of hash or seed is caught),
 * csum32 = low half of XXH3-64, chunk counting, per-chunk checksums with a partial last chunk,
 * and csum_verify naming the right bad chunk. Pure: no I/O. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "check_run.h"
#include "csum.h"
#include "csum_avx2.h"
#include "err.h"

/* The xorshift buffer and XXH3_64bits (seed 0) values published with xxHash's reference tests
 * (the same vectors LLVM's xxhash unit test uses). */
enum { VEC_BUF_LEN = 2243 };

static void vec_buf_fill(uint8_t *a)
{
    uint64_t x = 1;
    for (size_t i = 0; i < VEC_BUF_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        a[i] = (uint8_t)x;
    }
}

static const struct {
    size_t len;
    uint64_t want;
} vectors[] = {
    { 0, 0x2d06800538d394c2ULL },    { 1, 0xd0d496e05c553485ULL },
    { 2, 0x84d625edb7055eacULL },    { 3, 0x6ea2d59aca5c3778ULL },
    { 4, 0xbf65290914e80242ULL },    { 5, 0xc01fd099ad4fc8e4ULL },
    { 6, 0x9e3ea8187399caa5ULL },    { 7, 0x9da8b60540644f5aULL },
    { 8, 0xabc1413da6cd0209ULL },    { 9, 0x8bc89400bfed51f6ULL },
    { 16, 0x7e46916754d7c9b8ULL },   { 17, 0xed4be912ba5f836dULL },
    { 32, 0xf59b59b58c304fd1ULL },   { 33, 0x9013fb74ca603e0cULL },
    { 64, 0xfa5271fcce0db1c3ULL },   { 65, 0x79c42431727f1012ULL },
    { 96, 0x591ee0ddf9c9ccd1ULL },   { 97, 0x8ffc6a3111fe19daULL },
    { 128, 0x06a146ee9a2da378ULL },  { 129, 0xbc7138129bf065daULL },
    { 403, 0xcefeb3ffa532ad8cULL },  { 512, 0xcdfa6b6268e3650fULL },
    { 513, 0x4bb5d42742f9765fULL },  { 2048, 0x330ce110cbb79eaeULL },
    { 2049, 0x3ba6afa0249fef9aULL }, { 2240, 0xd61d4d2a94e926a8ULL },
    { 2243, 0x0979f786a24edde7ULL },
};

START_TEST(test_xxh3_vectors)
{
    uint8_t a[VEC_BUF_LEN];
    vec_buf_fill(a);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint64_t got = csum_chunk(a, vectors[i].len);
        ck_assert_msg(got == vectors[i].want, "len %zu: got %016llx want %016llx",
                      vectors[i].len, (unsigned long long)got,
                      (unsigned long long)vectors[i].want);
        ck_assert_uint_eq(csum32(a, vectors[i].len), (uint32_t)vectors[i].want);
    }
}
END_TEST

/* csum uses xxHash compiled for AVX2 when the CPU has it: it must give the library's values
 * for every length, the 64 KiB chunks and 1 MiB frame bodies included. */
START_TEST(test_xxh3_avx2_matches_the_library)
{
    enum { LEN = (1 << 20) + 100 };
    static const size_t lens[] = { 0, 1, 17, 129, 240, 241, 1024, 1025, 65536, 65535, 1 << 20, LEN };
    uint8_t *a = malloc(LEN);
    uint64_t x = 88172645463325252ULL;

    for (size_t i = 0; i < LEN; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        a[i] = (uint8_t)x;
    }
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        ck_assert_uint_eq(csum_chunk(a + 3, lens[i] - (lens[i] == LEN ? 3 : 0)),
                          XXH3_64bits(a + 3, lens[i] - (lens[i] == LEN ? 3 : 0)));
#if CSUM_HAVE_AVX2
        if (__builtin_cpu_supports("avx2"))
            ck_assert_uint_eq(csum_xxh3_avx2(a, lens[i]), XXH3_64bits(a, lens[i]));
#endif
    }
    free(a);
}
END_TEST

START_TEST(test_xxh3_strings)
{
    ck_assert_uint_eq(csum_chunk("", 0), 0x2d06800538d394c2ULL);
    ck_assert_uint_eq(csum_chunk("a", 1), 0xe6c632b61e964e1fULL);
    ck_assert_uint_eq(csum_chunk("abc", 3), 0x78af5f94892f3950ULL);
    ck_assert_uint_eq(csum32("abc", 3), 0x892f3950u);
}
END_TEST

START_TEST(test_chunk_count)
{
    ck_assert_uint_eq(csum_chunk_count(0), 0);
    ck_assert_uint_eq(csum_chunk_count(1), 1);
    ck_assert_uint_eq(csum_chunk_count(CSUM_CHUNK_SIZE - 1), 1);
    ck_assert_uint_eq(csum_chunk_count(CSUM_CHUNK_SIZE), 1);
    ck_assert_uint_eq(csum_chunk_count(CSUM_CHUNK_SIZE + 1), 2);
    ck_assert_uint_eq(csum_chunk_count(64ULL << 20), 1024);
    ck_assert_uint_eq(csum_chunk_count((64ULL << 20) + 1), 1025);
}
END_TEST

/* 3 full chunks and a partial one of 1000 bytes, plus one byte more in the buffer for the
 * test that the partial chunk's checksum differs from one over 1001 bytes. */
enum { DATA_LEN = 3 * CSUM_CHUNK_SIZE + 1000, DATA_CHUNKS = 4 };

static uint8_t *data_new(void)
{
    uint8_t *d = malloc(DATA_LEN + 1);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < DATA_LEN + 1; i++)
        d[i] = (uint8_t)((i * 2654435761u) >> 13);
    return d;
}

START_TEST(test_chunks_partial_last)
{
    uint8_t *d = data_new();
    uint64_t cs[DATA_CHUNKS];
    csum_chunks(d, DATA_LEN, cs);
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_uint_eq(cs[i], csum_chunk(d + (size_t)i * CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE));
    ck_assert_uint_eq(cs[3], csum_chunk(d + 3 * CSUM_CHUNK_SIZE, 1000));
    /* The partial chunk's checksum covers exactly its bytes, not a padded chunk. */
    ck_assert_uint_ne(cs[3], csum_chunk(d + 3 * CSUM_CHUNK_SIZE, 1001));
    ck_assert_int_eq(csum_verify(d, DATA_LEN, cs, NULL), 0);
    free(d);
}
END_TEST

START_TEST(test_verify_detects_flipped_bit)
{
    uint8_t *d = data_new();
    uint64_t cs[DATA_CHUNKS];
    csum_chunks(d, DATA_LEN, cs);
    /* One flipped bit in each chunk in turn, including the first and last byte of the data. */
    static const size_t offs[] = { 0, CSUM_CHUNK_SIZE - 1, CSUM_CHUNK_SIZE, 2 * CSUM_CHUNK_SIZE + 7,
                                   3 * CSUM_CHUNK_SIZE, DATA_LEN - 1 };
    static const uint32_t want_idx[] = { 0, 0, 1, 2, 3, 3 };
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        uint32_t bad = 12345;
        d[offs[i]] ^= 0x04;
        ck_assert_int_eq(csum_verify(d, DATA_LEN, cs, &bad), -ERR_CHECKSUM);
        ck_assert_uint_eq(bad, want_idx[i]);
        ck_assert_int_eq(csum_verify(d, DATA_LEN, cs, NULL), -ERR_CHECKSUM);
        d[offs[i]] ^= 0x04;
        ck_assert_int_eq(csum_verify(d, DATA_LEN, cs, &bad), 0);
    }
    free(d);
}
END_TEST

START_TEST(test_verify_detects_wrong_csum)
{
    uint8_t *d = data_new();
    uint64_t cs[DATA_CHUNKS];
    uint32_t bad = 0;
    csum_chunks(d, DATA_LEN, cs);
    cs[2] ^= 1;
    ck_assert_int_eq(csum_verify(d, DATA_LEN, cs, &bad), -ERR_CHECKSUM);
    ck_assert_uint_eq(bad, 2);
    free(d);
}
END_TEST

START_TEST(test_verify_empty)
{
    uint32_t bad = 7;
    ck_assert_int_eq(csum_verify("", 0, NULL, &bad), 0);
    ck_assert_uint_eq(bad, 7);
}
END_TEST

START_TEST(test_exact_chunk_multiple)
{
    uint8_t *d = data_new();
    uint64_t cs[2];
    csum_chunks(d, 2 * CSUM_CHUNK_SIZE, cs);
    ck_assert_uint_eq(cs[1], csum_chunk(d + CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE));
    ck_assert_int_eq(csum_verify(d, 2 * CSUM_CHUNK_SIZE, cs, NULL), 0);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csum");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_xxh3_vectors);
    tcase_add_test(tc, test_xxh3_strings);
    tcase_add_test(tc, test_xxh3_avx2_matches_the_library);
    tcase_add_test(tc, test_chunk_count);
    tcase_add_test(tc, test_chunks_partial_last);
    tcase_add_test(tc, test_verify_detects_flipped_bit);
    tcase_add_test(tc, test_verify_detects_wrong_csum);
    tcase_add_test(tc, test_verify_empty);
    tcase_add_test(tc, test_exact_chunk_multiple);
    suite_add_tcase(s, tc);
    return check_run(s);
}
