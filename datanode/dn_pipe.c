/* dn_pipe: write-pipeline state machine (see dn_pipe.h for the contract).
 *
 * States and legal transitions:
 *   OPEN   --packet (not LAST)--> OPEN
 *   OPEN   --LAST packet-------> LAST
 *   LAST   --last slot acked---> DONE
 *   OPEN|LAST --any error------> FAILED   (one ACK_UP with the error, then ABORT)
 *   DONE, FAILED: terminal; every event is refused (or ignored for downstream loss).
 * Slots [ack_seq, next_seq) are the in-flight packets; ds_ack_seq lies in
 * [ack_seq, next_seq] and slots before it are downstream-acked. Without a downstream every
 * slot is downstream-acked on arrival and ds_ack_seq == next_seq. */
#include "dn_pipe.h"

#include <errno.h>
#include <string.h>

#include "csum.h"
#include "err.h"
#include "panic.h"

void dn_pipe_init(struct dn_pipe *p, bool has_downstream)
{
    memset(p, 0, sizeof(*p));
    p->state = DN_PIPE_OPEN;
    p->has_downstream = has_downstream;
    dn_pipe_assert_valid(p);
}

uint64_t dn_pipe_inflight(const struct dn_pipe *p)
{
    return p->next_seq - p->ack_seq;
}

static struct dn_pipe_slot *dn_pipe_slot(struct dn_pipe *p, uint64_t seq)
{
    ASSERT(seq >= p->ack_seq);
    ASSERT(seq < p->next_seq);
    return &p->slots[seq % DN_PIPE_WINDOW];
}

static void dn_pipe_emit(struct dn_out *out, struct dn_act act)
{
    ASSERT(out->count < DN_ACTS_MAX);
    out->acts[out->count++] = act;
}

static void dn_pipe_emit_kind(struct dn_out *out, enum dn_act_kind kind, uint64_t seq,
                              uint64_t tag)
{
    struct dn_act act = { .kind = kind, .seq = seq, .tag = tag, .failed_idx = WIRE_ACK_NO_FAILED };
    dn_pipe_emit(out, act);
}

/* Fails the pipe: one error ack for seq, then ABORT. Returns rc for the caller to pass on. */
static int dn_pipe_fail(struct dn_pipe *p, uint64_t seq, uint64_t tag, int rc, uint8_t idx,
                        struct dn_out *out)
{
    ASSERT(rc < 0);
    ASSERT(p->state == DN_PIPE_OPEN || p->state == DN_PIPE_LAST);
    struct dn_act ack = { .kind = DN_ACT_ACK_UP, .seq = seq, .tag = tag, .rc = rc,
                          .failed_idx = idx };
    dn_pipe_emit(out, ack);
    dn_pipe_emit_kind(out, DN_ACT_ABORT, seq, tag);
    p->state = DN_PIPE_FAILED;
    return rc;
}

/* Fails the pipe at its oldest unacked packet (or the next one if none is in flight). */
static int dn_pipe_fail_oldest(struct dn_pipe *p, int rc, uint8_t idx, struct dn_out *out)
{
    uint64_t tag = 0;

    if (dn_pipe_inflight(p) > 0)
        tag = dn_pipe_slot(p, p->ack_seq)->tag;
    return dn_pipe_fail(p, p->ack_seq, tag, rc, idx, out);
}

/* Acks upstream every leading slot that is written and downstream-acked. */
static void dn_pipe_flush_acks(struct dn_pipe *p, struct dn_out *out)
{
    while (p->ack_seq < p->next_seq) {
        struct dn_pipe_slot *s = dn_pipe_slot(p, p->ack_seq);
        if (!s->is_written || !s->is_ds_acked)
            break;
        dn_pipe_emit_kind(out, DN_ACT_ACK_UP, s->seq, s->tag);
        p->ack_seq++;
        if (s->is_last) {
            ASSERT(p->state == DN_PIPE_LAST);
            p->state = DN_PIPE_DONE;
        }
    }
    dn_pipe_assert_valid(p);
}

/* Validates a packet against the stream so far; 0 or -ERR_PROTO / -ERR_CHECKSUM. */
static int dn_pipe_check_packet(const struct dn_pipe *p, const struct wire_dn_write_pkt *pkt)
{
    if (pkt->seq != p->next_seq || pkt->offset != p->next_offset)
        return -ERR_PROTO;
    if (pkt->offset % CSUM_CHUNK_SIZE != 0 || pkt->data_len > WIRE_PKT_DATA_MAX)
        return -ERR_PROTO;
    if (!(pkt->flags & WIRE_PKT_LAST) && pkt->data_len % CSUM_CHUNK_SIZE != 0)
        return -ERR_PROTO;
    if (pkt->csum_count != csum_chunk_count(pkt->data_len))
        return -ERR_PROTO;
    return wire_csums_verify(pkt->data, pkt->data_len, pkt->csums_raw);
}

int dn_pipe_on_packet(struct dn_pipe *p, const struct wire_dn_write_pkt *pkt, uint64_t tag,
                      struct dn_out *out)
{
    if (p->state != DN_PIPE_OPEN)
        return p->state == DN_PIPE_LAST ? dn_pipe_fail(p, pkt->seq, tag, -ERR_PROTO, 0, out)
                                        : -ERR_PIPELINE;
    if (p->ds_fail_rc < 0)
        return dn_pipe_fail(p, pkt->seq, tag, -ERR_PIPELINE, 1, out);
    int rc = dn_pipe_check_packet(p, pkt);
    if (rc < 0)
        return dn_pipe_fail(p, pkt->seq, tag, rc, 0, out);
    if (dn_pipe_inflight(p) >= DN_PIPE_WINDOW)
        return dn_pipe_fail(p, pkt->seq, tag, -EAGAIN, 0, out);
    bool is_last = (pkt->flags & WIRE_PKT_LAST) != 0;
    p->next_seq++;
    p->next_offset += pkt->data_len;
    struct dn_pipe_slot *s = dn_pipe_slot(p, pkt->seq);
    *s = (struct dn_pipe_slot){ .seq = pkt->seq, .tag = tag, .is_last = is_last,
                                .is_ds_acked = !p->has_downstream };
    if (!p->has_downstream)
        p->ds_ack_seq = p->next_seq;
    if (is_last)
        p->state = DN_PIPE_LAST;
    if (p->has_downstream)
        dn_pipe_emit_kind(out, DN_ACT_FORWARD, pkt->seq, tag);
    dn_pipe_emit_kind(out, DN_ACT_WRITE, pkt->seq, tag);
    dn_pipe_assert_valid(p);
    return 0;
}

int dn_pipe_on_write_done(struct dn_pipe *p, uint64_t seq, int rc, struct dn_out *out)
{
    if (p->state != DN_PIPE_OPEN && p->state != DN_PIPE_LAST)
        return -ERR_PIPELINE;
    struct dn_pipe_slot *s = dn_pipe_slot(p, seq); /* asserts seq is in flight */
    ASSERT(!s->is_written);
    if (rc < 0)
        return dn_pipe_fail(p, seq, s->tag, rc, 0, out);
    if (s->is_last) {
        dn_pipe_emit_kind(out, DN_ACT_FINALIZE, seq, s->tag);
        return 0;
    }
    s->is_written = true;
    dn_pipe_flush_acks(p, out);
    return 0;
}

int dn_pipe_on_finalize_done(struct dn_pipe *p, int rc, struct dn_out *out)
{
    if (p->state != DN_PIPE_LAST)
        return -ERR_PIPELINE;
    struct dn_pipe_slot *s = dn_pipe_slot(p, p->next_seq - 1);
    ASSERT(s->is_last);
    ASSERT(!s->is_written);
    if (rc < 0)
        return dn_pipe_fail(p, s->seq, s->tag, rc, 0, out);
    s->is_written = true;
    dn_pipe_flush_acks(p, out);
    return 0;
}

int dn_pipe_on_downstream_ack(struct dn_pipe *p, const struct wire_dn_write_ack *ack,
                              struct dn_out *out)
{
    if (p->state != DN_PIPE_OPEN && p->state != DN_PIPE_LAST)
        return -ERR_PIPELINE;
    if (!p->has_downstream || ack->seq != p->ds_ack_seq || ack->seq >= p->next_seq)
        return dn_pipe_fail_oldest(p, -ERR_PROTO, 1, out);
    struct dn_pipe_slot *s = dn_pipe_slot(p, ack->seq);
    if (ack->status != 0) {
        uint8_t idx = ack->failed_idx >= WIRE_TARGETS_MAX ? 1 : (uint8_t)(ack->failed_idx + 1);
        return dn_pipe_fail(p, s->seq, s->tag, err_from_wire(ack->status), idx, out);
    }
    s->is_ds_acked = true;
    p->ds_ack_seq++;
    dn_pipe_flush_acks(p, out);
    return 0;
}

int dn_pipe_on_downstream_failed(struct dn_pipe *p, int rc, struct dn_out *out)
{
    ASSERT(rc < 0);
    if (p->state != DN_PIPE_OPEN && p->state != DN_PIPE_LAST)
        return 0;
    if (dn_pipe_inflight(p) == 0) {
        ASSERT(p->state == DN_PIPE_OPEN);
        p->ds_fail_rc = -ERR_PIPELINE;
        return 0;
    }
    return dn_pipe_fail_oldest(p, -ERR_PIPELINE, 1, out);
}

void dn_pipe_assert_valid(const struct dn_pipe *p)
{
    ASSERT(p->state >= DN_PIPE_OPEN && p->state <= DN_PIPE_FAILED);
    ASSERT(p->ack_seq <= p->ds_ack_seq || p->state == DN_PIPE_FAILED);
    ASSERT(p->ds_ack_seq <= p->next_seq);
    ASSERT(p->next_seq - p->ack_seq <= DN_PIPE_WINDOW);
    ASSERT(p->has_downstream || p->ds_ack_seq == p->next_seq);
    if (p->state == DN_PIPE_DONE)
        ASSERT(p->ack_seq == p->next_seq);
#ifdef DFS_DEBUG_CHECKS
    for (uint64_t seq = p->ack_seq; seq < p->next_seq; seq++) {
        const struct dn_pipe_slot *s = &p->slots[seq % DN_PIPE_WINDOW];
        ASSERT(s->seq == seq);
        ASSERT(s->is_ds_acked == (seq < p->ds_ack_seq));
        ASSERT(!s->is_last || seq + 1 == p->next_seq);
    }
#endif
}
