#include "nn_dn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "panic.h"
#include "xmalloc.h"

void nn_dns_init(struct nn_dns *d, uint64_t dead_ms)
{
    d->v = xcalloc(NN_DN_MAX, sizeof(*d->v));
    d->count = 0;
    d->dead_ms = dead_ms;
}

void nn_dns_fini(struct nn_dns *d)
{
    for (uint32_t i = 0; i < d->count; i++) {
        free(d->v[i].cmds);
        free(d->v[i].copies);
    }
    free(d->v);
    d->v = NULL;
    d->count = 0;
}

int nn_dns_register(struct nn_dns *d, const struct wire_dn_register *r, uint64_t now_ms,
                    uint32_t *idx_out)
{
    uint32_t idx = 0;
    struct nn_dn *dn;

    while (idx < d->count && !wire_str_eq(r->self.node_id, d->v[idx].node_id))
        idx++;
    if (idx == d->count && d->count == NN_DN_MAX)
        return -ENOSPC;
    dn = &d->v[idx];
    if (wire_str_copy(r->self.node_id, dn->node_id, sizeof(dn->node_id)) < 0 ||
        wire_str_copy(r->self.host, dn->host, sizeof(dn->host)) < 0 || dn->node_id[0] == '\0')
        return -EINVAL;
    if (idx == d->count)
        d->count++;
    dn->port = r->self.port;
    dn->capacity = r->capacity;
    dn->used = r->used;
    dn->remaining = r->remaining;
    dn->last_heartbeat_ms = now_ms;
    dn->is_reported = 0;
    dn->is_reporting = 0;
    dn->is_dropped = 0;
    dn->epoch++;
    dn->cmd_count = 0;
    dn->copy_count = 0;
    *idx_out = idx;
    return 0;
}

void nn_dns_heartbeat(struct nn_dns *d, uint32_t idx, const struct wire_dn_heartbeat *hb,
                      uint64_t now_ms)
{
    ASSERT(idx < d->count);
    struct nn_dn *dn = &d->v[idx];
    dn->capacity = hb->capacity;
    dn->used = hb->used;
    dn->remaining = hb->remaining;
    dn->active_writes = hb->active_writes;
    dn->last_heartbeat_ms = now_ms;
}

int nn_dns_is_live(const struct nn_dns *d, uint32_t idx, uint64_t now_ms)
{
    ASSERT(idx < d->count);
    uint64_t last = d->v[idx].last_heartbeat_ms;
    return now_ms < last || now_ms - last <= d->dead_ms;
}

void nn_dns_queue_delete(struct nn_dns *d, uint32_t idx, struct wire_blk blk)
{
    ASSERT(idx < d->count);
    struct nn_dn *dn = &d->v[idx];
    if (dn->cmd_count == NN_DN_CMDS_MAX)
        return;
    if (dn->cmd_count == dn->cmd_cap) {
        dn->cmd_cap = dn->cmd_cap ? dn->cmd_cap * 2 : 64;
        dn->cmds = xrealloc(dn->cmds, dn->cmd_cap * sizeof(*dn->cmds));
    }
    dn->cmds[dn->cmd_count++] = blk;
}

int nn_dns_queue_copy(struct nn_dns *d, uint32_t idx, struct wire_blk blk, uint64_t len,
                      uint32_t target)
{
    ASSERT(idx < d->count && target < d->count && target != idx);
    struct nn_dn *dn = &d->v[idx];
    if (dn->copy_count == NN_DN_COPIES_MAX)
        return -ENOSPC;
    if (!dn->copies)
        dn->copies = xmalloc(NN_DN_COPIES_MAX * sizeof(*dn->copies));
    dn->copies[dn->copy_count++] = (struct nn_dn_copy){ .blk = blk, .len = len, .target = target };
    return 0;
}

void nn_dns_drop_copies(struct nn_dns *d, uint32_t idx)
{
    ASSERT(idx < d->count);
    d->v[idx].copy_count = 0;
}

static size_t nn_dns_take_copies(struct nn_dns *d, struct nn_dn *dn, struct wire_dn_cmd *out,
                                 size_t max)
{
    size_t n = dn->copy_count < max ? dn->copy_count : max;

    if (n == 0)
        return 0; /* copies may still be NULL: memmove(NULL, ...) is undefined even for 0 bytes */
    for (size_t i = 0; i < n; i++) {
        out[i] = (struct wire_dn_cmd){ .kind = WIRE_CMD_REPLICATE, .blk = dn->copies[i].blk,
                                       .len = dn->copies[i].len };
        nn_dns_addr(d, dn->copies[i].target, &out[i].target);
    }
    memmove(dn->copies, dn->copies + n, (dn->copy_count - n) * sizeof(*dn->copies));
    dn->copy_count -= (uint32_t)n;
    return n;
}

static size_t nn_dns_take_deletes(struct nn_dn *dn, struct wire_dn_cmd *out, size_t max)
{
    size_t n = dn->cmd_count < max ? dn->cmd_count : max;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (struct wire_dn_cmd){ .kind = WIRE_CMD_DELETE, .blk = dn->cmds[i] };
    memmove(dn->cmds, dn->cmds + n, (dn->cmd_count - n) * sizeof(*dn->cmds));
    dn->cmd_count -= n;
    return n;
}

size_t nn_dns_take_cmds(struct nn_dns *d, uint32_t idx, struct wire_dn_cmd *out, size_t max)
{
    ASSERT(idx < d->count);
    struct nn_dn *dn = &d->v[idx];
    size_t n = nn_dns_take_copies(d, dn, out, max);

    return n + nn_dns_take_deletes(dn, out + n, max - n);
}

size_t nn_dns_live_candidates(const struct nn_dns *d, uint64_t now_ms, struct nn_place_cand *out)
{
    size_t n = 0;

    for (uint32_t i = 0; i < d->count; i++) {
        if (nn_dns_is_live(d, i, now_ms))
            out[n++] = (struct nn_place_cand){ .node_id = d->v[i].node_id,
                                               .weight = d->v[i].remaining, .idx = i };
    }
    return n;
}

void nn_dns_addr(const struct nn_dns *d, uint32_t idx, struct wire_dn_addr *out)
{
    ASSERT(idx < d->count);
    const struct nn_dn *dn = &d->v[idx];
    out->node_id = wire_str_c(dn->node_id);
    out->host = wire_str_c(dn->host);
    out->port = dn->port;
}
