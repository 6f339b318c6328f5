/* Unit tests of client/cl_read: block cache, replica choice, alignment, stream bookkeeping. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_run.h"
#include "cl_read.h"
#include "csum.h"
#include "err.h"

enum { KIB = 1024, CHUNK = 64 * 1024 };

static const uint64_t align_cases[][2] = {
    { 0, 0 }, { 1, 0 }, { CHUNK - 1, 0 }, { CHUNK, CHUNK }, { CHUNK + 5, CHUNK },
    { 10 * CHUNK + 123, 10 * CHUNK },
};

START_TEST(test_cl_read_align_down_to_chunk)
{
    ck_assert_uint_eq(cl_read_align_down(align_cases[_i][0]), align_cases[_i][1]);
}
END_TEST

static struct wire_dn_addr addr(const char *id)
{
    return (struct wire_dn_addr){ .node_id = wire_str_c(id), .host = wire_str_c("127.0.0.1"),
                                  .port = 9100 };
}

START_TEST(test_cl_read_replica_order_is_a_stable_permutation)
{
    struct wire_dn_addr locs[3] = { addr("dn-a"), addr("dn-b"), addr("dn-c") };
    uint32_t o1[3], o2[3];

    ck_assert_uint_eq(cl_read_replica_order(42, "client-1", locs, 3, o1), 3);
    cl_read_replica_order(42, "client-1", locs, 3, o2);
    ck_assert_int_eq(memcmp(o1, o2, sizeof(o1)), 0);
    ck_assert_uint_eq(o1[0] + o1[1] + o1[2], 3);
    ck_assert(o1[0] != o1[1] && o1[1] != o1[2] && o1[0] != o1[2]);
}
END_TEST

START_TEST(test_cl_read_replica_order_spreads_blocks_over_nodes)
{
    struct wire_dn_addr locs[3] = { addr("dn-a"), addr("dn-b"), addr("dn-c") };
    uint32_t first[3] = { 0 }, order[3];

    for (uint64_t id = 1; id <= 300; id++) {
        cl_read_replica_order(id, "client-1", locs, 3, order);
        first[order[0]]++;
    }
    for (int i = 0; i < 3; i++)
        ck_assert_uint_gt(first[i], 50);
}
END_TEST

/* Encodes a GET_BLOCKS reply of count blocks, each (offset, len) from spans. */
static void reply(struct buf *b, uint64_t file_size, const uint64_t (*spans)[2], uint32_t count)
{
    wire_nn_get_blocks_ok_begin(b, file_size);
    for (uint32_t i = 0; i < count; i++) {
        struct wire_located_blk e = {
            .blk = { 100 + i, 1 }, .offset = spans[i][0], .len = spans[i][1], .loc_count = 2,
        };
        e.locs[0] = addr("dn-a");
        e.locs[1] = addr("dn-b");
        wire_nn_get_blocks_ok_put(b, 0, &e);
    }
}

START_TEST(test_cl_read_blocks_find_covers_each_offset)
{
    static const uint64_t spans[][2] = { { 0, 64 * KIB }, { 64 * KIB, 64 * KIB },
                                         { 128 * KIB, 22 * KIB } };
    struct cl_read_blocks bl;
    struct buf b;

    buf_init(&b);
    reply(&b, 150 * KIB, spans, 3);
    cl_read_blocks_init(&bl);
    ck_assert_int_eq(cl_read_blocks_load(&bl, b.data, b.len), 0);
    ck_assert_uint_eq(bl.count, 3);
    ck_assert_uint_eq(bl.file_size, 150 * KIB);
    ck_assert_int_eq(cl_read_blocks_find(&bl, 0), 0);
    ck_assert_int_eq(cl_read_blocks_find(&bl, 64 * KIB - 1), 0);
    ck_assert_int_eq(cl_read_blocks_find(&bl, 64 * KIB), 1);
    ck_assert_int_eq(cl_read_blocks_find(&bl, 150 * KIB - 1), 2);
    ck_assert_int_eq(cl_read_blocks_find(&bl, 150 * KIB), -1);
    ck_assert_uint_eq(bl.blks[2].loc_count, 2);
    ck_assert_int_eq(memcmp(bl.locs[bl.blks[2].loc_first + 1].node_id.p, "dn-b", 4), 0);
    cl_read_blocks_fini(&bl);
    buf_fini(&b);
}
END_TEST

START_TEST(test_cl_read_blocks_overlap_or_past_size_is_proto)
{
    static const uint64_t overlap[][2] = { { 0, 100 }, { 50, 100 } };
    static const uint64_t past[][2] = { { 0, 100 } };
    struct cl_read_blocks bl;
    struct buf b;

    buf_init(&b);
    cl_read_blocks_init(&bl);
    reply(&b, 1000, overlap, 2);
    ck_assert_int_eq(cl_read_blocks_load(&bl, b.data, b.len), -ERR_PROTO);
    ck_assert_uint_eq(bl.count, 0);
    buf_reset(&b);
    reply(&b, 99, past, 1);
    ck_assert_int_eq(cl_read_blocks_load(&bl, b.data, b.len), -ERR_PROTO);
    ck_assert_int_eq(cl_read_blocks_load(&bl, "x", 1), -ERR_PROTO);
    cl_read_blocks_fini(&bl);
    buf_fini(&b);
}
END_TEST

/* A DN_READ_DATA frame over data[off, off + len) with correct checksums (csums: scratch). */
static struct wire_dn_read_data frame(const uint8_t *data, uint64_t off, uint32_t len,
                                      uint8_t flags, uint8_t *csums)
{
    uint32_t n = csum_chunk_count(len);
    uint64_t v[WIRE_PKT_CSUMS_MAX];

    csum_chunks(data + off, len, v);
    for (uint32_t i = 0; i < n; i++)
        le_put_u64(csums + 8 * i, v[i]);
    return (struct wire_dn_read_data){ .offset = off, .flags = flags, .data_len = len,
                                       .data = data + off, .csum_count = n, .csums_raw = csums };
}

START_TEST(test_cl_read_stream_aligns_skips_and_keeps_leftover)
{
    enum { BLK_LEN = 3 * CHUNK + 100 };
    struct cl_read_blk b = { .blk = { 9, 2 }, .offset = 0, .len = BLK_LEN, .loc_count = 3 };
    uint8_t *data = malloc(BLK_LEN), out[200], csums[8 * WIRE_PKT_CSUMS_MAX];
    struct cl_read_stream s;
    struct wire_dn_read req;

    for (size_t i = 0; i < BLK_LEN; i++)
        data[i] = (uint8_t)(i * 17);
    cl_read_stream_open(&s, &b, 1, CHUNK + 70, UINT64_MAX, &req);
    ck_assert_uint_eq(req.offset, CHUNK);
    ck_assert_uint_eq(req.len, BLK_LEN - CHUNK);
    ck_assert_uint_eq(req.blk.id, 9);
    ck_assert(cl_read_stream_needs_frame(&s));
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 70, out, 10), 0);
    struct wire_dn_read_data d = frame(data, CHUNK, CHUNK, 0, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 70, out, 10), 10);
    ck_assert_int_eq(memcmp(out, data + CHUNK + 70, 10), 0);
    ck_assert(cl_read_stream_can_serve(&s, b.blk, CHUNK + 80));
    ck_assert(cl_read_stream_can_serve(&s, b.blk, CHUNK + 79)); /* behind, in the frame held */
    ck_assert(!cl_read_stream_can_serve(&s, b.blk, CHUNK - 1)); /* before any frame held */
    ck_assert(!cl_read_stream_can_serve(&s, (struct wire_blk){ 9, 3 }, CHUNK + 80));
    ck_assert(!cl_read_stream_can_serve(&s, b.blk, CHUNK + 80 + CL_READ_SKIP_MAX + 1));
    /* A sequential read crossing the frame end takes the leftover, then needs a frame. */
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 80, out, 200), 200);
    size_t left = CHUNK - 280;
    uint8_t *big = malloc(CHUNK);
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 280, big, CHUNK), left);
    ck_assert(cl_read_stream_needs_frame(&s));
    d = frame(data, 2 * CHUNK, CHUNK + 100, WIRE_READ_EOF, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert_uint_eq(cl_read_stream_take(&s, 3 * CHUNK + 90, out, 200), 10);
    ck_assert_int_eq(memcmp(out, data + 3 * CHUNK + 90, 10), 0);
    ck_assert(!cl_read_stream_needs_frame(&s)); /* EOF: nothing more will come */
    free(big);
    free(data);
}
END_TEST

START_TEST(test_cl_read_stream_rejects_bad_frames)
{
    struct cl_read_blk b = { .blk = { 9, 2 }, .offset = 0, .len = 4 * CHUNK, .loc_count = 1 };
    uint8_t *data = calloc(1, 4 * CHUNK), csums[8 * WIRE_PKT_CSUMS_MAX];
    struct cl_read_stream s;
    struct wire_dn_read req;

    cl_read_stream_open(&s, &b, 0, 0, UINT64_MAX, &req);
    struct wire_dn_read_data d = frame(data, CHUNK, CHUNK, 0, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), -ERR_PROTO); /* wrong offset */
    d = frame(data, 0, 100, 0, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), -ERR_PROTO); /* partial, not EOF */
    d = frame(data, 0, 2 * CHUNK, 0, csums);
    csums[8] ^= 1; /* second chunk's checksum */
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), -ERR_CHECKSUM);
    d = frame(data, 0, 2 * CHUNK, 0, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    free(data);
}
END_TEST

/* A random read asks for the chunks it needs, not the rest of the block. */
START_TEST(test_cl_read_stream_requests_only_what_is_wanted)
{
    struct cl_read_blk b = { .blk = { 9, 2 }, .offset = 0, .len = 64 * CHUNK + 7, .loc_count = 1 };
    struct cl_read_stream s;
    struct wire_dn_read req;

    cl_read_stream_open(&s, &b, 0, 5 * CHUNK + 100, 4096, &req);
    ck_assert_uint_eq(req.offset, 5 * CHUNK);
    ck_assert_uint_eq(req.len, CHUNK);
    cl_read_stream_open(&s, &b, 0, 5 * CHUNK + CHUNK - 10, 4096, &req); /* spans two chunks */
    ck_assert_uint_eq(req.offset, 5 * CHUNK);
    ck_assert_uint_eq(req.len, 2 * CHUNK);
    cl_read_stream_open(&s, &b, 0, 64 * CHUNK, 4096, &req); /* the partial last chunk */
    ck_assert_uint_eq(req.offset, 64 * CHUNK);
    ck_assert_uint_eq(req.len, 7);
    cl_read_stream_open(&s, &b, 0, 0, 0, &req); /* want 0 still asks for a chunk */
    ck_assert_uint_eq(req.len, CHUNK);
}
END_TEST

/* When a request is used up before the block ends, the stream continues from its end. */
START_TEST(test_cl_read_stream_continues_after_its_request)
{
    enum { BLK_LEN = 3 * CHUNK + 100 };
    struct cl_read_blk b = { .blk = { 9, 2 }, .offset = 0, .len = BLK_LEN, .loc_count = 1 };
    uint8_t *data = malloc(BLK_LEN), out[CHUNK], csums[8 * WIRE_PKT_CSUMS_MAX];
    struct cl_read_stream s;
    struct wire_dn_read req;

    for (size_t i = 0; i < BLK_LEN; i++)
        data[i] = (uint8_t)(i * 31);
    cl_read_stream_open(&s, &b, 0, 0, CHUNK, &req);
    ck_assert_uint_eq(req.len, CHUNK);
    struct wire_dn_read_data d = frame(data, 0, 2 * CHUNK, 0, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), -ERR_PROTO); /* beyond the request */
    d = frame(data, 0, CHUNK, WIRE_READ_EOF, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert(!cl_read_stream_can_continue(&s)); /* leftover not consumed yet */
    ck_assert_uint_eq(cl_read_stream_take(&s, 0, out, CHUNK), CHUNK);
    ck_assert(cl_read_stream_can_continue(&s));
    cl_read_stream_continue(&s, 10 * CHUNK, &req);
    ck_assert_uint_eq(req.offset, CHUNK);
    ck_assert_uint_eq(req.len, BLK_LEN - CHUNK); /* clipped at the block's end */
    ck_assert(cl_read_stream_needs_frame(&s));
    d = frame(data, CHUNK, BLK_LEN - CHUNK, WIRE_READ_EOF, csums);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert_uint_eq(cl_read_stream_take(&s, 3 * CHUNK, out, 200), 100);
    ck_assert_int_eq(memcmp(out, data + 3 * CHUNK, 100), 0);
    ck_assert(!cl_read_stream_can_continue(&s)); /* at the block's end */
    free(data);
}
END_TEST

/* Reads that arrive a little out of order are served from the last two frames. */
START_TEST(test_cl_read_stream_serves_a_read_behind_it_from_the_last_two_frames)
{
    enum { BLK_LEN = 4 * CHUNK };
    struct cl_read_blk b = { .blk = { 9, 2 }, .offset = 0, .len = BLK_LEN, .loc_count = 1 };
    uint8_t *data = malloc(BLK_LEN), out[100], csums[8 * WIRE_PKT_CSUMS_MAX];
    uint8_t *frame1 = malloc(CHUNK), *frame2 = malloc(CHUNK), *frame3 = malloc(CHUNK);
    struct cl_read_stream s;
    struct wire_dn_read req;

    for (size_t i = 0; i < BLK_LEN; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    memcpy(frame1, data, CHUNK); /* the caller keeps the last two frames' storage */
    memcpy(frame2, data + CHUNK, CHUNK);
    memcpy(frame3, data + 2 * CHUNK, CHUNK);
    cl_read_stream_open(&s, &b, 0, 0, UINT64_MAX, &req);
    struct wire_dn_read_data d = frame(frame1 - 0, 0, CHUNK, 0, csums);
    d.data = frame1;
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert_uint_eq(cl_read_stream_take(&s, 0, out, 50), 50);
    d = frame(data, CHUNK, CHUNK, 0, csums);
    d.data = frame2;
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK - 10, out, 10), 10);
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 500, out, 100), 100); /* skips ahead */
    ck_assert_int_eq(memcmp(out, data + CHUNK + 500, 100), 0);
    /* Behind the position, in the current frame and in the previous one. */
    ck_assert(cl_read_stream_can_serve(&s, b.blk, CHUNK + 100));
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 100, out, 100), 100);
    ck_assert_int_eq(memcmp(out, data + CHUNK + 100, 100), 0);
    ck_assert(cl_read_stream_can_serve(&s, b.blk, 20));
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK - 30, out, 100), 30); /* to frame end */
    ck_assert_int_eq(memcmp(out, data + CHUNK - 30, 30), 0);
    /* A third frame pushes the first out of memory. */
    ck_assert_uint_eq(cl_read_stream_take(&s, CHUNK + 600, frame1, CHUNK - 600), CHUNK - 600);
    d = frame(data, 2 * CHUNK, CHUNK, 0, csums);
    d.data = frame3;
    ck_assert_int_eq(cl_read_stream_on_data(&s, &d), 0);
    ck_assert(!cl_read_stream_can_serve(&s, b.blk, 20));
    ck_assert(cl_read_stream_can_serve(&s, b.blk, CHUNK + 20));
    free(frame1);
    free(frame2);
    free(frame3);
    free(data);
}
END_TEST

START_TEST(test_cl_read_near_offsets_count_as_sequential)
{
    uint64_t next = 100 << 20;

    ck_assert(cl_read_is_sequential(next, next));
    ck_assert(cl_read_is_sequential(next + 128 * 1024, next));
    ck_assert(cl_read_is_sequential(next - CL_READ_REORDER_MAX, next));
    ck_assert(!cl_read_is_sequential(next + CL_READ_REORDER_MAX + 1, next));
    ck_assert(!cl_read_is_sequential(next - CL_READ_REORDER_MAX - 1, next));
    ck_assert(cl_read_is_sequential(0, 0));
}
END_TEST

START_TEST(test_cl_read_window_grows_while_sequential_and_resets_on_a_jump)
{
    uint64_t w = cl_read_next_window(0, 1);
    ck_assert_uint_eq(w, CL_READ_WINDOW_MIN);
    w = cl_read_next_window(w, 1);
    ck_assert_uint_eq(w, 2 * CL_READ_WINDOW_MIN);
    for (int i = 0; i < 20; i++)
        w = cl_read_next_window(w, 1);
    ck_assert_uint_eq(w, CL_READ_WINDOW_MAX);
    ck_assert_uint_eq(cl_read_next_window(w, 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_read");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_cl_read_align_down_to_chunk, 0,
                        (int)(sizeof(align_cases) / sizeof(align_cases[0])));
    tcase_add_test(tc, test_cl_read_replica_order_is_a_stable_permutation);
    tcase_add_test(tc, test_cl_read_replica_order_spreads_blocks_over_nodes);
    tcase_add_test(tc, test_cl_read_blocks_find_covers_each_offset);
    tcase_add_test(tc, test_cl_read_blocks_overlap_or_past_size_is_proto);
    tcase_add_test(tc, test_cl_read_stream_aligns_skips_and_keeps_leftover);
    tcase_add_test(tc, test_cl_read_stream_rejects_bad_frames);
    tcase_add_test(tc, test_cl_read_stream_requests_only_what_is_wanted);
    tcase_add_test(tc, test_cl_read_stream_continues_after_its_request);
    tcase_add_test(tc, test_cl_read_window_grows_while_sequential_and_resets_on_a_jump);
    tcase_add_test(tc, test_cl_read_stream_serves_a_read_behind_it_from_the_last_two_frames);
    tcase_add_test(tc, test_cl_read_near_offsets_count_as_sequential);
    suite_add_tcase(s, tc);
    return check_run(s);
}
