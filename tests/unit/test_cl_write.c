/* Unit tests of client/cl_write: packets, chunk checksums, block boundaries and the window. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_run.h"
#include "cl_write.h"
#include "csum.h"
#include "err.h"

enum { KIB = 1024, MIB = 1024 * 1024 };

static uint8_t *pattern(size_t len)
{
    uint8_t *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 131 + 7);
    return p;
}

static void open_block(struct cl_write *w, uint64_t id)
{
    ck_assert_int_eq(cl_write_next_step(w), CL_WRITE_STEP_ADD_BLOCK);
    cl_write_on_block(w, (struct wire_blk){ id, 1 });
}

static int ack(struct cl_write *w, uint64_t seq, uint16_t status)
{
    struct wire_dn_write_ack a = { .seq = seq, .status = status, .failed_idx = 0xff };
    return cl_write_on_ack(w, &a);
}

static int pkt_eq(const struct wire_dn_write_pkt *a, const struct wire_dn_write_pkt *b)
{
    return a->seq == b->seq && a->offset == b->offset && a->flags == b->flags &&
           a->data_len == b->data_len && a->data == b->data && a->csum_count == b->csum_count &&
           a->csums_raw == b->csums_raw;
}

/* The packets in flight can be encoded again, oldest first, exactly as sealed: the writer
 * resends them when a pooled connection turns out closed before the open was answered. */
START_TEST(test_cl_write_sent_packets_are_kept_for_a_resend)
{
    struct cl_write w;
    struct wire_dn_write_pkt first, last, again;
    uint8_t *data = pattern(WIRE_PKT_DATA_MAX + 5000);

    cl_write_init(&w, 64 * MIB, 0);
    open_block(&w, 9);
    ck_assert_uint_eq(cl_write_append(&w, data, WIRE_PKT_DATA_MAX), WIRE_PKT_DATA_MAX);
    cl_write_seal(&w, 0, &first);
    ck_assert_uint_eq(cl_write_append(&w, data + WIRE_PKT_DATA_MAX, 5000), 5000);
    cl_write_seal(&w, 1, &last);
    cl_write_sent_pkt(&w, 0, &again);
    ck_assert(pkt_eq(&again, &first));
    cl_write_sent_pkt(&w, 1, &again);
    ck_assert(pkt_eq(&again, &last));
    ck_assert_uint_eq(again.flags, WIRE_PKT_LAST);
    ck_assert_uint_eq(again.offset, WIRE_PKT_DATA_MAX);
    ck_assert_uint_eq(again.csum_count, 1);
    ck_assert_int_eq(ack(&w, 0, 0), 0);
    cl_write_sent_pkt(&w, 0, &again); /* the acked packet is gone: the last is the oldest */
    ck_assert_uint_eq(again.seq, 1);
    ck_assert_int_eq(memcmp(again.data, data + WIRE_PKT_DATA_MAX, 5000), 0);
    cl_write_fini(&w);
    free(data);
}
END_TEST

START_TEST(test_cl_write_small_file_is_one_last_packet)
{
    struct cl_write w;
    struct wire_dn_write_pkt pkt;
    uint8_t *data = pattern(1000);

    cl_write_init(&w, 64 * MIB, 0);
    open_block(&w, 7);
    ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_APPEND);
    ck_assert_uint_eq(cl_write_append(&w, data, 1000), 1000);
    ck_assert_uint_eq(w.size, 1000);
    cl_write_seal(&w, 1, &pkt);
    ck_assert_uint_eq(pkt.seq, 0);
    ck_assert_uint_eq(pkt.offset, 0);
    ck_assert_uint_eq(pkt.flags, WIRE_PKT_LAST);
    ck_assert_uint_eq(pkt.data_len, 1000);
    ck_assert_uint_eq(pkt.csum_count, 1);
    ck_assert(wire_csum_at(pkt.csums_raw, 0) == csum_chunk(data, 1000));
    ck_assert_int_eq(memcmp(pkt.data, data, 1000), 0);
    ck_assert_int_eq(ack(&w, 0, 0), 0);
    cl_write_on_block_done(&w);
    ck_assert_uint_eq(w.pending.id, 7);
    ck_assert_uint_eq(w.pending_len, 1000);
    ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_ADD_BLOCK);
    cl_write_on_commit(&w);
    ck_assert_uint_eq(w.pending.id, 0);
    cl_write_assert_valid(&w);
    cl_write_fini(&w);
    free(data);
}
END_TEST

START_TEST(test_cl_write_full_packet_is_sent_only_when_more_data_comes)
{
    struct cl_write w;
    struct wire_dn_write_pkt pkt;
    uint8_t *data = pattern(2 * MIB);

    cl_write_init(&w, 64 * MIB, 0);
    open_block(&w, 1);
    ck_assert_uint_eq(cl_write_append(&w, data, 2 * MIB), MIB); /* stops at the packet */
    ck_assert_uint_eq(cl_write_fill_len(&w), MIB);
    ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_SEND);
    cl_write_seal(&w, 0, &pkt);
    ck_assert_uint_eq(pkt.flags, 0);
    ck_assert_uint_eq(pkt.data_len, MIB);
    ck_assert_uint_eq(pkt.csum_count, 16);
    ck_assert(wire_csum_at(pkt.csums_raw, 15) == csum_chunk(data + 15 * 64 * KIB, 64 * KIB));
    ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_APPEND);
    ck_assert_uint_eq(cl_write_append(&w, data + MIB, 10), 10);
    cl_write_seal(&w, 1, &pkt);
    ck_assert_uint_eq(pkt.seq, 1);
    ck_assert_uint_eq(pkt.offset, MIB);
    ck_assert_uint_eq(pkt.data_len, 10);
    cl_write_assert_valid(&w);
    cl_write_fini(&w);
    free(data);
}
END_TEST

/* Block sizes that are and are not multiples of the packet and chunk sizes. */
static const uint64_t block_sizes[] = { 192 * KIB, 2 * MIB + 512 * KIB, 3 * MIB, 100 * KIB + 3 };

START_TEST(test_cl_write_block_boundary_ends_with_last_packet)
{
    uint64_t bs = block_sizes[_i];
    size_t total = (size_t)(2 * bs + 5);
    uint8_t *data = pattern(total);
    struct cl_write w;
    struct wire_dn_write_pkt pkt;
    size_t off = 0;
    uint64_t blk_id = 0, expect_off = 0;

    cl_write_init(&w, bs, 0);
    while (off < total) {
        switch (cl_write_next_step(&w)) {
        case CL_WRITE_STEP_ADD_BLOCK:
            if (blk_id > 0) {
                ck_assert_uint_eq(w.pending.id, blk_id);
                ck_assert_uint_eq(w.pending_len, bs);
            }
            cl_write_on_block(&w, (struct wire_blk){ ++blk_id, 1 });
            expect_off = 0;
            break;
        case CL_WRITE_STEP_APPEND:
            off += cl_write_append(&w, data + off, total - off);
            break;
        case CL_WRITE_STEP_SEND:
        case CL_WRITE_STEP_END_BLOCK: {
            int is_last = cl_write_next_step(&w) == CL_WRITE_STEP_END_BLOCK;
            cl_write_seal(&w, is_last, &pkt);
            ck_assert_uint_eq(pkt.offset, expect_off);
            ck_assert_uint_eq(pkt.offset % (64 * KIB), 0);
            ck_assert(is_last || pkt.data_len == MIB);
            expect_off += pkt.data_len;
            ck_assert_int_eq(ack(&w, pkt.seq, 0), 0);
            if (is_last) {
                ck_assert_uint_eq(expect_off, bs);
                cl_write_on_block_done(&w);
            }
            break;
        }
        default:
            ck_abort_msg("unexpected step");
        }
        cl_write_assert_valid(&w);
    }
    ck_assert_uint_eq(blk_id, 3);
    ck_assert_uint_eq(w.blk_len, 5);
    ck_assert_uint_eq(w.size, total);
    cl_write_fini(&w);
    free(data);
}
END_TEST

START_TEST(test_cl_write_window_full_waits_for_ack_in_order)
{
    struct cl_write w;
    struct wire_dn_write_pkt pkt;
    uint8_t *data = pattern(MIB);

    cl_write_init(&w, 64 * MIB, 0);
    open_block(&w, 1);
    for (int i = 0; i < CL_WRITE_WINDOW; i++) {
        ck_assert_uint_eq(cl_write_append(&w, data, MIB), MIB);
        ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_SEND);
        cl_write_seal(&w, 0, &pkt);
    }
    ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_WAIT_ACK);
    ck_assert_uint_eq(cl_write_fill_len(&w), 0);
    ck_assert_int_eq(ack(&w, 1, 0), -ERR_PROTO);
    ck_assert_int_eq(ack(&w, 0, 0), 0);
    ck_assert_int_eq(cl_write_next_step(&w), CL_WRITE_STEP_APPEND);
    ck_assert_uint_eq(w.sent_count, CL_WRITE_WINDOW - 1);
    ck_assert_uint_eq(cl_write_append(&w, data, 5), 5);
    cl_write_assert_valid(&w);
    cl_write_fini(&w);
    free(data);
}
END_TEST

START_TEST(test_cl_write_error_ack_keeps_packet_in_window)
{
    struct cl_write w;
    struct wire_dn_write_pkt pkt;
    uint8_t data[100] = { 1 };

    cl_write_init(&w, 64 * MIB, 0);
    open_block(&w, 1);
    cl_write_append(&w, data, sizeof(data));
    cl_write_seal(&w, 1, &pkt);
    ck_assert_int_eq(ack(&w, 0, err_to_wire(-ERR_CHECKSUM)), -ERR_CHECKSUM);
    ck_assert_uint_eq(w.sent_count, 1);
    ck_assert_int_eq(ack(&w, 5, 0), -ERR_PROTO);
    cl_write_fini(&w);
}
END_TEST

START_TEST(test_cl_write_size_starts_at_existing_length)
{
    struct cl_write w;
    uint8_t data[10] = { 0 };

    cl_write_init(&w, 64 * MIB, 12345);
    open_block(&w, 1);
    cl_write_append(&w, data, sizeof(data));
    ck_assert_uint_eq(w.size, 12355);
    ck_assert_uint_eq(w.blk_len, 10);
    cl_write_fini(&w);
}
END_TEST

START_TEST(test_cl_write_seal_partial_packet_not_last_aborts)
{
    struct cl_write w;
    struct wire_dn_write_pkt pkt;
    uint8_t data[10] = { 0 };

    cl_write_init(&w, 64 * MIB, 0);
    open_block(&w, 1);
    cl_write_append(&w, data, sizeof(data));
    cl_write_seal(&w, 0, &pkt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cl_write");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cl_write_small_file_is_one_last_packet);
    tcase_add_test(tc, test_cl_write_sent_packets_are_kept_for_a_resend);
    tcase_add_test(tc, test_cl_write_full_packet_is_sent_only_when_more_data_comes);
    tcase_add_loop_test(tc, test_cl_write_block_boundary_ends_with_last_packet, 0,
                        (int)(sizeof(block_sizes) / sizeof(block_sizes[0])));
    tcase_add_test(tc, test_cl_write_window_full_waits_for_ack_in_order);
    tcase_add_test(tc, test_cl_write_error_ack_keeps_packet_in_window);
    tcase_add_test(tc, test_cl_write_size_starts_at_existing_length);
    tcase_add_test_raise_signal(tc, test_cl_write_seal_partial_packet_not_last_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return check_run(s);
}
