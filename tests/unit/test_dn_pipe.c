/* Unit tests of datanode/dn_pipe: feed pipeline events, assert on the actions that come out. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_run.h"
#include "csum.h"
#include "dn_pipe.h"
#include "err.h"

enum { PKT_MAX = 4 * CSUM_CHUNK_SIZE };

/* A packet with valid checksums over a deterministic pattern; owns its buffers. */
struct test_pkt {
    struct wire_dn_write_pkt pkt;
    uint8_t data[PKT_MAX];
    uint8_t csums[8 * 4];
};

static void test_pkt_make(struct test_pkt *t, uint64_t seq, uint64_t offset, uint32_t len,
                          int is_last)
{
    uint64_t c[4];

    ck_assert_uint_le(len, PKT_MAX);
    for (uint32_t i = 0; i < len; i++)
        t->data[i] = (uint8_t)(seq * 31 + i);
    csum_chunks(t->data, len, c);
    for (uint32_t i = 0; i < csum_chunk_count(len); i++)
        le_put_u64(t->csums + 8 * i, c[i]);
    t->pkt = (struct wire_dn_write_pkt){
        .seq = seq, .offset = offset, .flags = is_last ? WIRE_PKT_LAST : 0, .data_len = len,
        .data = t->data, .csum_count = csum_chunk_count(len), .csums_raw = t->csums,
    };
}

static void expect_act(const struct dn_out *out, uint32_t i, enum dn_act_kind kind, uint64_t seq)
{
    ck_assert_uint_gt(out->count, i);
    ck_assert_int_eq(out->acts[i].kind, kind);
    ck_assert_uint_eq(out->acts[i].seq, seq);
}

static void expect_ok_ack(const struct dn_out *out, uint32_t i, uint64_t seq)
{
    expect_act(out, i, DN_ACT_ACK_UP, seq);
    ck_assert_int_eq(out->acts[i].rc, 0);
    ck_assert_uint_eq(out->acts[i].failed_idx, WIRE_ACK_NO_FAILED);
}

static void expect_fail(const struct dn_out *out, uint64_t seq, int rc, uint8_t idx)
{
    ck_assert_uint_eq(out->count, 2);
    expect_act(out, 0, DN_ACT_ACK_UP, seq);
    ck_assert_int_eq(out->acts[0].rc, rc);
    ck_assert_uint_eq(out->acts[0].failed_idx, idx);
    expect_act(out, 1, DN_ACT_ABORT, seq);
}

static struct wire_dn_write_ack ok_ack(uint64_t seq)
{
    return (struct wire_dn_write_ack){ .seq = seq, .status = 0,
                                       .failed_idx = WIRE_ACK_NO_FAILED };
}

static struct test_pkt tp;
static struct dn_pipe pipe_;
static struct dn_out out;

/* Sends packet seq (full chunks of len) and returns the pipe's rc; out holds the actions. */
static int send_pkt(uint64_t seq, uint64_t offset, uint32_t len, int is_last)
{
    test_pkt_make(&tp, seq, offset, len, is_last);
    out.count = 0;
    return dn_pipe_on_packet(&pipe_, &tp.pkt, 100 + seq, &out);
}

START_TEST(test_dn_pipe_tail_acks_after_its_write)
{
    dn_pipe_init(&pipe_, false);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_uint_eq(out.count, 1);
    expect_act(&out, 0, DN_ACT_WRITE, 0);
    ck_assert_uint_eq(out.acts[0].tag, 100);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    ck_assert_uint_eq(out.count, 1);
    expect_ok_ack(&out, 0, 0);
    ck_assert_uint_eq(out.acts[0].tag, 100);
    ck_assert_uint_eq(dn_pipe_inflight(&pipe_), 0);
}
END_TEST

START_TEST(test_dn_pipe_ack_waits_for_write_and_downstream)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_uint_eq(out.count, 2);
    expect_act(&out, 0, DN_ACT_FORWARD, 0);
    expect_act(&out, 1, DN_ACT_WRITE, 0);
    struct wire_dn_write_ack a = ok_ack(0);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), 0);
    ck_assert_uint_eq(out.count, 0); /* downstream acked, local write pending */
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    ck_assert_uint_eq(out.count, 1);
    expect_ok_ack(&out, 0, 0);
}
END_TEST

START_TEST(test_dn_pipe_ack_waits_for_downstream_after_write)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    ck_assert_uint_eq(out.count, 0);
    struct wire_dn_write_ack a = ok_ack(0);
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), 0);
    ck_assert_uint_eq(out.count, 1);
    expect_ok_ack(&out, 0, 0);
}
END_TEST

START_TEST(test_dn_pipe_acks_go_up_in_seq_order)
{
    dn_pipe_init(&pipe_, true);
    for (uint64_t seq = 0; seq < 3; seq++)
        ck_assert_int_eq(send_pkt(seq, seq * 2 * CSUM_CHUNK_SIZE, 2 * CSUM_CHUNK_SIZE, 0), 0);
    out.count = 0;
    for (uint64_t seq = 0; seq < 3; seq++) {
        struct wire_dn_write_ack a = ok_ack(seq);
        ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), 0);
    }
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 2, 0, &out), 0);
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 1, 0, &out), 0);
    ck_assert_uint_eq(out.count, 0); /* seq 0 not written yet: nothing may pass it */
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    ck_assert_uint_eq(out.count, 3);
    for (uint32_t i = 0; i < 3; i++)
        expect_ok_ack(&out, i, i);
}
END_TEST

START_TEST(test_dn_pipe_last_packet_finalizes_before_ack)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_int_eq(send_pkt(1, CSUM_CHUNK_SIZE, 1000, 1), 0);
    ck_assert_int_eq(pipe_.state, DN_PIPE_LAST);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 1, 0, &out), 0);
    ck_assert_uint_eq(out.count, 1);
    expect_act(&out, 0, DN_ACT_FINALIZE, 1);
    out.count = 0;
    struct wire_dn_write_ack a0 = ok_ack(0), a1 = ok_ack(1);
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a0, &out), 0);
    expect_ok_ack(&out, 0, 0);
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a1, &out), 0);
    ck_assert_uint_eq(out.count, 1); /* finalize still pending */
    ck_assert_int_eq(dn_pipe_on_finalize_done(&pipe_, 0, &out), 0);
    ck_assert_uint_eq(out.count, 2);
    expect_ok_ack(&out, 1, 1);
    ck_assert_int_eq(pipe_.state, DN_PIPE_DONE);
}
END_TEST

START_TEST(test_dn_pipe_empty_last_packet_is_accepted)
{
    dn_pipe_init(&pipe_, false);
    ck_assert_int_eq(send_pkt(0, 0, 0, 1), 0);
    expect_act(&out, 0, DN_ACT_WRITE, 0);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    expect_act(&out, 0, DN_ACT_FINALIZE, 0);
    ck_assert_int_eq(dn_pipe_on_finalize_done(&pipe_, 0, &out), 0);
    expect_ok_ack(&out, 1, 0);
    ck_assert_int_eq(pipe_.state, DN_PIPE_DONE);
}
END_TEST

START_TEST(test_dn_pipe_checksum_failure_is_acked_with_own_index)
{
    dn_pipe_init(&pipe_, true);
    test_pkt_make(&tp, 0, 0, 2 * CSUM_CHUNK_SIZE, 0);
    tp.data[CSUM_CHUNK_SIZE + 5] ^= 0x10;
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_packet(&pipe_, &tp.pkt, 7, &out), -ERR_CHECKSUM);
    expect_fail(&out, 0, -ERR_CHECKSUM, 0);
    ck_assert_uint_eq(out.acts[0].tag, 7);
    ck_assert_int_eq(pipe_.state, DN_PIPE_FAILED);
    ck_assert_int_eq(send_pkt(1, CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, 0), -ERR_PIPELINE);
    ck_assert_uint_eq(out.count, 0);
}
END_TEST

START_TEST(test_dn_pipe_downstream_failure_is_relayed_plus_one)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    struct wire_dn_write_ack a = { .seq = 0, .status = err_to_wire(-ERR_CHECKSUM),
                                   .failed_idx = 1 };
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), -ERR_CHECKSUM);
    expect_fail(&out, 0, -ERR_CHECKSUM, 2);
}
END_TEST

START_TEST(test_dn_pipe_downstream_loss_fails_oldest_unacked)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_int_eq(send_pkt(1, CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, 0), 0);
    out.count = 0;
    struct wire_dn_write_ack a = ok_ack(0);
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), 0);
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    expect_ok_ack(&out, 0, 0);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_downstream_failed(&pipe_, -ECONNRESET, &out), -ERR_PIPELINE);
    expect_fail(&out, 1, -ERR_PIPELINE, 1);
}
END_TEST

START_TEST(test_dn_pipe_downstream_loss_while_idle_fails_next_packet)
{
    dn_pipe_init(&pipe_, true);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_downstream_failed(&pipe_, -ECONNRESET, &out), 0);
    ck_assert_uint_eq(out.count, 0);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), -ERR_PIPELINE);
    expect_fail(&out, 0, -ERR_PIPELINE, 1);
}
END_TEST

START_TEST(test_dn_pipe_downstream_loss_after_done_is_ignored)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, 10, 1), 0);
    struct wire_dn_write_ack a = ok_ack(0);
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), 0);
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, 0, &out), 0);
    ck_assert_int_eq(dn_pipe_on_finalize_done(&pipe_, 0, &out), 0);
    ck_assert_int_eq(pipe_.state, DN_PIPE_DONE);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_downstream_failed(&pipe_, -ECONNRESET, &out), 0);
    ck_assert_uint_eq(out.count, 0);
}
END_TEST

START_TEST(test_dn_pipe_out_of_order_seq_is_rejected)
{
    dn_pipe_init(&pipe_, false);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_int_eq(send_pkt(2, CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, 0), -ERR_PROTO);
    expect_fail(&out, 2, -ERR_PROTO, 0);
}
END_TEST

START_TEST(test_dn_pipe_wrong_offset_is_rejected)
{
    dn_pipe_init(&pipe_, false);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_int_eq(send_pkt(1, 2 * CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, 0), -ERR_PROTO);
    expect_fail(&out, 1, -ERR_PROTO, 0);
}
END_TEST

START_TEST(test_dn_pipe_partial_chunk_before_last_is_rejected)
{
    dn_pipe_init(&pipe_, false);
    ck_assert_int_eq(send_pkt(0, 0, 1000, 0), -ERR_PROTO);
    expect_fail(&out, 0, -ERR_PROTO, 0);
}
END_TEST

START_TEST(test_dn_pipe_packet_after_last_is_rejected)
{
    dn_pipe_init(&pipe_, false);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 1), 0);
    ck_assert_int_eq(send_pkt(1, CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, 0), -ERR_PROTO);
    expect_fail(&out, 1, -ERR_PROTO, 0);
}
END_TEST

START_TEST(test_dn_pipe_local_write_error_is_acked_with_own_index)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_write_done(&pipe_, 0, -ENOSPC, &out), -ENOSPC);
    expect_fail(&out, 0, -ENOSPC, 0);
}
END_TEST

START_TEST(test_dn_pipe_unexpected_downstream_ack_is_a_protocol_error)
{
    dn_pipe_init(&pipe_, true);
    ck_assert_int_eq(send_pkt(0, 0, CSUM_CHUNK_SIZE, 0), 0);
    struct wire_dn_write_ack a = ok_ack(5);
    out.count = 0;
    ck_assert_int_eq(dn_pipe_on_downstream_ack(&pipe_, &a, &out), -ERR_PROTO);
    expect_fail(&out, 0, -ERR_PROTO, 1);
}
END_TEST

START_TEST(test_dn_pipe_full_window_is_refused)
{
    dn_pipe_init(&pipe_, true);
    for (uint64_t seq = 0; seq < DN_PIPE_WINDOW; seq++)
        ck_assert_int_eq(send_pkt(seq, seq * CSUM_CHUNK_SIZE, CSUM_CHUNK_SIZE, 0), 0);
    ck_assert_int_eq(send_pkt(DN_PIPE_WINDOW, DN_PIPE_WINDOW * CSUM_CHUNK_SIZE,
                              CSUM_CHUNK_SIZE, 0),
                     -EAGAIN);
    expect_fail(&out, DN_PIPE_WINDOW, -EAGAIN, 0);
}
END_TEST

START_TEST(test_dn_pipe_write_done_for_unknown_seq_aborts)
{
    dn_pipe_init(&pipe_, false);
    out.count = 0;
    dn_pipe_on_write_done(&pipe_, 3, 0, &out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dn_pipe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dn_pipe_tail_acks_after_its_write);
    tcase_add_test(tc, test_dn_pipe_ack_waits_for_write_and_downstream);
    tcase_add_test(tc, test_dn_pipe_ack_waits_for_downstream_after_write);
    tcase_add_test(tc, test_dn_pipe_acks_go_up_in_seq_order);
    tcase_add_test(tc, test_dn_pipe_last_packet_finalizes_before_ack);
    tcase_add_test(tc, test_dn_pipe_empty_last_packet_is_accepted);
    tcase_add_test(tc, test_dn_pipe_checksum_failure_is_acked_with_own_index);
    tcase_add_test(tc, test_dn_pipe_downstream_failure_is_relayed_plus_one);
    tcase_add_test(tc, test_dn_pipe_downstream_loss_fails_oldest_unacked);
    tcase_add_test(tc, test_dn_pipe_downstream_loss_while_idle_fails_next_packet);
    tcase_add_test(tc, test_dn_pipe_downstream_loss_after_done_is_ignored);
    tcase_add_test(tc, test_dn_pipe_out_of_order_seq_is_rejected);
    tcase_add_test(tc, test_dn_pipe_wrong_offset_is_rejected);
    tcase_add_test(tc, test_dn_pipe_partial_chunk_before_last_is_rejected);
    tcase_add_test(tc, test_dn_pipe_packet_after_last_is_rejected);
    tcase_add_test(tc, test_dn_pipe_local_write_error_is_acked_with_own_index);
    tcase_add_test(tc, test_dn_pipe_unexpected_downstream_ack_is_a_protocol_error);
    tcase_add_test(tc, test_dn_pipe_full_window_is_refused);
    tcase_add_test_raise_signal(tc, test_dn_pipe_write_done_for_unknown_seq_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return check_run(s);
}
