/* Unit tests of datanode/dn_chunk: the checksum file header and its length arithmetic. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_run.h"
#include "csum.h"
#include "dn_chunk.h"
#include "err.h"

/* The current header, byte for byte. Changing it means a new format version. */
static const char dn_chunk_golden_hex[] =
    "44465343010000000000010000000000000000000000000000000000a8835787";

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

START_TEST(test_dn_chunk_hdr_matches_golden_bytes)
{
    uint8_t golden[DN_CHUNK_HDR_LEN], got[DN_CHUNK_HDR_LEN];

    ck_assert_uint_eq(strlen(dn_chunk_golden_hex), 2 * DN_CHUNK_HDR_LEN);
    hex_decode(dn_chunk_golden_hex, golden, sizeof(golden));
    dn_chunk_hdr_encode(got);
    ck_assert_mem_eq(got, golden, DN_CHUNK_HDR_LEN);
}
END_TEST

START_TEST(test_dn_chunk_hdr_golden_decodes)
{
    uint8_t golden[DN_CHUNK_HDR_LEN];
    struct dn_chunk_hdr h;

    hex_decode(dn_chunk_golden_hex, golden, sizeof(golden));
    ck_assert_int_eq(dn_chunk_hdr_decode(golden, &h), 0);
    ck_assert_uint_eq(h.version, DN_CHUNK_VERSION);
    ck_assert_uint_eq(h.chunk_size, CSUM_CHUNK_SIZE);
}
END_TEST

/* Every single flipped bit of the header is detected. */
START_TEST(test_dn_chunk_hdr_flipped_bit_is_detected)
{
    uint8_t hdr[DN_CHUNK_HDR_LEN];
    struct dn_chunk_hdr h = { 7, 7 };

    dn_chunk_hdr_encode(hdr);
    hdr[_i / 8] ^= (uint8_t)(1u << (_i % 8));
    ck_assert_int_lt(dn_chunk_hdr_decode(hdr, &h), 0);
    ck_assert_uint_eq(h.version, 7); /* untouched on failure */
}
END_TEST

START_TEST(test_dn_chunk_hdr_unknown_version_is_refused)
{
    uint8_t hdr[DN_CHUNK_HDR_LEN];
    struct dn_chunk_hdr h;

    dn_chunk_hdr_encode(hdr);
    le_put_u16(hdr + 4, 2);
    le_put_u32(hdr + 28, csum32(hdr, 28));
    ck_assert_int_eq(dn_chunk_hdr_decode(hdr, &h), -ERR_VERSION);
}
END_TEST

START_TEST(test_dn_chunk_lengths)
{
    ck_assert_uint_eq(dn_chunk_csum_off(0), 32);
    ck_assert_uint_eq(dn_chunk_csum_off(3), 56);
    ck_assert_uint_eq(dn_chunk_csum_file_len(0), 32);
    ck_assert_uint_eq(dn_chunk_csum_file_len(1), 40);
    ck_assert_uint_eq(dn_chunk_csum_file_len(CSUM_CHUNK_SIZE), 40);
    ck_assert_uint_eq(dn_chunk_csum_file_len(CSUM_CHUNK_SIZE + 1), 48);
    ck_assert_uint_eq(dn_chunk_csum_file_len(64u << 20), 32 + 8 * 1024);
    ck_assert_int_eq(dn_chunk_check_lens(CSUM_CHUNK_SIZE + 1, 48), 0);
    ck_assert_int_eq(dn_chunk_check_lens(CSUM_CHUNK_SIZE + 1, 40), -ERR_CORRUPT);
    ck_assert_int_eq(dn_chunk_check_lens(0, 40), -ERR_CORRUPT);
}
END_TEST

START_TEST(test_dn_chunk_span_carries_whole_chunks)
{
    const uint32_t max = 1u << 20;

    ck_assert_uint_eq(dn_chunk_span(0, 10, 5u << 20, max), CSUM_CHUNK_SIZE);
    ck_assert_uint_eq(dn_chunk_span(0, 100, 50, max), 50);
    ck_assert_uint_eq(dn_chunk_span(0, 3u << 20, 5u << 20, max), max);
    ck_assert_uint_eq(dn_chunk_span(2u << 20, 3u << 20, (2u << 20) + 7, max), 7);
    ck_assert_uint_eq(dn_chunk_span(2u << 20, 3u << 20, 2u << 20, max), 0);
    ck_assert_uint_eq(dn_chunk_span(0, 0, 100, max), 0);
    ck_assert_uint_eq(dn_chunk_span(0, UINT64_MAX, 100, max), 100);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dn_chunk");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dn_chunk_hdr_matches_golden_bytes);
    tcase_add_test(tc, test_dn_chunk_hdr_golden_decodes);
    tcase_add_loop_test(tc, test_dn_chunk_hdr_flipped_bit_is_detected, 0, 8 * DN_CHUNK_HDR_LEN);
    tcase_add_test(tc, test_dn_chunk_hdr_unknown_version_is_refused);
    tcase_add_test(tc, test_dn_chunk_lengths);
    tcase_add_test(tc, test_dn_chunk_span_carries_whole_chunks);
    suite_add_tcase(s, tc);
    return check_run(s);
}
