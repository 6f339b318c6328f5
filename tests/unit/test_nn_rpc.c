/* Unit tests for namenode/nn_rpc, driven through nn_rpc_dispatch() with real frames: requests
 * are encoded with the wire encoders and framed, replies are checked header first (type,
 * req_id, status, body checksum) and then decoded. Covers the handshake rules, the full
 * write/read/delete flow between a client and three datanodes, placement failures, readdir
 * paging, the cluster report, and liveness driven by st.now_ms. No sockets, no clock; no
 * journal (st.journal NULL) but in the fuzz: seeded sequences of every request kind from two
 * clients and three datanodes, a quarter of them mangled, against a namespace kept in a real
 * edit log, must keep the namespace and block map valid, answer every request with a
 * well-formed reply, and leave a log whose replay equals the live namespace. */

#include "test_nn_harness.h"


/* ---- handshake ---- */

START_TEST(test_nn_rpc_request_before_hello_is_refused_and_fatal)
{
    struct nn_session s;
    struct wire_nn_ino m = { .ino = NN_ROOT_INO };
    struct buf b;
    struct reply r;

    nn_session_init(&s);
    buf_init(&b);
    wire_nn_ino_encode(&b, &m);
    call(&s, WIRE_NN_GETATTR, &b, &r);
    ck_assert_uint_eq(r.hdr.status, wire_err(-ERR_PROTO));
    ck_assert_int_lt(r.rc, 0);
    reply_fini(&r);
    buf_fini(&b);
}
END_TEST

START_TEST(test_nn_rpc_hello_with_wrong_cluster_is_refused_and_fatal)
{
    struct nn_session s;

    ck_assert_uint_eq(hello(&s, WIRE_NODE_CLIENT, "other-cluster", "c1"),
                      wire_err(-ERR_CLUSTER));
    ck_assert_uint_eq(hello(&s, WIRE_NODE_CLIENT, "test-cluste", "c1"), wire_err(-ERR_CLUSTER));
    struct wire_hello old = { .version = WIRE_VERSION - 1, .node_kind = WIRE_NODE_CLIENT,
                              .cluster_id = wire_str_c(cluster), .node_id = wire_str_c("c1") };
    struct buf b;
    struct reply r;
    nn_session_init(&s);
    buf_init(&b);
    wire_hello_encode(&b, &old);
    call(&s, WIRE_HELLO, &b, &r); /* another protocol version: refused, connection closed */
    ck_assert_uint_eq(r.hdr.status, wire_err(-ERR_VERSION));
    ck_assert_int_lt(r.rc, 0);
    reply_fini(&r);
    buf_fini(&b);
    ck_assert_uint_eq(hello(&s, WIRE_NODE_NAMENODE, cluster, "nn2"), wire_err(-ERR_PROTO));
    ck_assert_uint_eq(hello(&s, WIRE_NODE_CLIENT, cluster, ""), wire_err(-ERR_PROTO));
    ck_assert_uint_eq(hello(&s, WIRE_NODE_CLIENT, cluster, "c1"), 0);
}
END_TEST

START_TEST(test_nn_rpc_unknown_type_is_fatal)
{
    struct nn_session s;
    struct reply r;

    client(&s, "c1");
    call(&s, 127, NULL, &r);
    ck_assert_uint_eq(r.hdr.status, wire_err(-ERR_UNKNOWN_TYPE));
    ck_assert_int_lt(r.rc, 0);
    reply_fini(&r);
    call(&s, WIRE_NN_LOOKUP_OK, NULL, &r); /* a reply type is not a request */
    ck_assert_int_lt(r.rc, 0);
    reply_fini(&r);
}
END_TEST

START_TEST(test_nn_rpc_malformed_body_is_proto_error_but_not_fatal)
{
    struct nn_session s;
    struct buf b;
    struct reply r;

    client(&s, "c1");
    buf_init(&b);
    buf_put_u8(&b, 1); /* far too short for NN_LOOKUP */
    call(&s, WIRE_NN_LOOKUP, &b, &r);
    ck_assert_uint_eq(r.hdr.status, wire_err(-ERR_PROTO));
    ck_assert_int_eq(r.rc, 0);
    reply_fini(&r);
    buf_fini(&b);
}
END_TEST

START_TEST(test_nn_rpc_role_checks)
{
    struct nn_session c, d, d2;
    uint64_t ino;
    struct wire_blk cmds[4];

    client(&c, "c1");
    datanode(&d, 0);
    /* Datanodes do not create files; clients do not heartbeat or register. */
    ck_assert_uint_eq(create(&d, NN_ROOT_INO, "f", &ino), wire_err(-ERR_PROTO));
    struct wire_dn_heartbeat hb = { 0 };
    struct buf b;
    buf_init(&b);
    wire_dn_heartbeat_encode(&b, &hb);
    ck_assert_uint_eq(call_status(&c, WIRE_DN_HEARTBEAT, &b), wire_err(-ERR_PROTO));
    /* A datanode that said HELLO but has not registered gets ERR_PROTO (not fatal). */
    ck_assert_uint_eq(hello(&d2, WIRE_NODE_DATANODE, cluster, "dn-x"), 0);
    struct reply r;
    call(&d2, WIRE_DN_HEARTBEAT, &b, &r);
    ck_assert_uint_eq(r.hdr.status, wire_err(-ERR_PROTO));
    ck_assert_int_eq(r.rc, 0);
    reply_fini(&r);
    buf_fini(&b);
    ck_assert_uint_eq(heartbeat(&d, cmds, 4), 0);
}
END_TEST

/* ---- the write, read and delete flow ---- */

START_TEST(test_nn_rpc_full_write_read_delete_flow)
{
    struct nn_session dn[3], cl;
    struct wire_blk cmds[8];
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    for (int i = 0; i < 3; i++) {
        datanode(&dn[i], i);
        ck_assert_uint_eq(heartbeat(&dn[i], cmds, 8), 0);
    }
    client(&cl, "client-1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);

    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk blk = ab.blk;
    ck_assert_uint_ne(blk.id, 0);
    ck_assert_uint_eq(blk.gen, 1);
    ck_assert_uint_eq(ab.offset, 0);
    ck_assert_uint_eq(ab.target_count, 3);
    int seen = 0;
    for (uint32_t i = 0; i < 3; i++)
        seen |= 1 << dn_of(&ab.targets[i]);
    ck_assert_int_eq(seen, 7); /* three distinct datanodes */
    reply_fini(&r);

    /* Each datanode finalizes its replica. */
    struct wire_blk_len rep = { .blk = blk, .len = 4096 };
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(dn_blocks(&dn[i], WIRE_DN_BLOCK_RECEIVED, 0, &rep, 1), 0);
    ck_assert_uint_eq(complete(&cl, ino, blk, 4096, &a), 0);
    ck_assert_uint_eq(a.size, 4096);
    ck_assert_uint_eq(a.is_open, 0);

    struct wire_nn_get_blocks_ok gb;
    struct wire_located_blk lb;
    get_blocks(&cl, ino, &r, &gb);
    ck_assert_uint_eq(gb.file_size, 4096);
    ck_assert_uint_eq(gb.count, 1);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    ck_assert_uint_eq(lb.blk.id, blk.id);
    ck_assert_uint_eq(lb.blk.gen, blk.gen);
    ck_assert_uint_eq(lb.offset, 0);
    ck_assert_uint_eq(lb.len, 4096);
    ck_assert_uint_eq(lb.loc_count, 3);
    seen = 0;
    for (uint32_t i = 0; i < 3; i++)
        seen |= 1 << dn_of(&lb.locs[i]);
    ck_assert_int_eq(seen, 7);
    reply_fini(&r);

    /* Unlink: every holder of a replica is told to delete it at its next heartbeat. */
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_UNLINK, NN_ROOT_INO, "f"), 0);
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_LOOKUP, NN_ROOT_INO, "f"), wire_err(-ENOENT));
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(heartbeat(&dn[i], cmds, 8), 1);
        ck_assert_uint_eq(cmds[0].id, blk.id);
        ck_assert_uint_eq(cmds[0].gen, blk.gen);
        ck_assert_uint_eq(heartbeat(&dn[i], cmds, 8), 0); /* handed out once */
        ck_assert_uint_eq(dn_blocks(&dn[i], WIRE_DN_BLOCK_DELETED, 0, &rep, 1), 0);
    }
    ck_assert(!nn_blocks_has(&st.blocks, blk.id));
}
END_TEST

/* A committed block's locations are its pipeline's targets before any DN_BLOCK_RECEIVED (the
 * datanodes batch those); a target that reports another length is no location. */
START_TEST(test_nn_rpc_pipeline_targets_are_locations_until_reports_differ)
{
    struct nn_session dn[3], cl;
    struct wire_blk cmds[8];
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_nn_get_blocks_ok gb;
    struct wire_located_blk lb;
    struct wire_attr a;

    for (int i = 0; i < 3; i++)
        datanode(&dn[i], i);
    client(&cl, "client-1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk blk = ab.blk;
    reply_fini(&r);
    /* A full report while the block is written cannot list it: it stays a location. */
    ck_assert_uint_eq(dn_blocks(&dn[0], WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST | WIRE_REPORT_LAST,
                                NULL, 0),
                      0);
    ck_assert_uint_eq(complete(&cl, ino, blk, 4096, &a), 0);
    get_blocks(&cl, ino, &r, &gb);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    ck_assert_uint_eq(lb.loc_count, 3);
    reply_fini(&r);
    /* Committed, a full report that does not list it drops that location. */
    ck_assert_uint_eq(dn_blocks(&dn[2], WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST | WIRE_REPORT_LAST,
                                NULL, 0),
                      0);
    get_blocks(&cl, ino, &r, &gb);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    ck_assert_uint_eq(lb.loc_count, 2);
    reply_fini(&r);

    struct wire_blk_len short_rep = { .blk = blk, .len = 100 };
    ck_assert_uint_eq(dn_blocks(&dn[1], WIRE_DN_BLOCK_RECEIVED, 0, &short_rep, 1), 0);
    get_blocks(&cl, ino, &r, &gb);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    ck_assert_uint_eq(lb.loc_count, 1);
    ck_assert_int_eq(dn_of(&lb.locs[0]), 0);
    reply_fini(&r);
    ck_assert_uint_eq(heartbeat(&dn[1], cmds, 8), 1); /* and the bad replica goes */
    ck_assert_uint_eq(cmds[0].id, blk.id);
}
END_TEST

START_TEST(test_nn_rpc_second_block_commits_first_and_offsets_follow)
{
    struct nn_session dn[3], cl;
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    for (int i = 0; i < 3; i++)
        datanode(&dn[i], i);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk b1 = ab.blk;
    reply_fini(&r);
    ck_assert_uint_eq(add_block(&cl, ino, b1, BS, &r, &ab), 0);
    struct wire_blk b2 = ab.blk;
    ck_assert_uint_eq(ab.offset, BS);
    reply_fini(&r);
    ck_assert_uint_eq(blk_get(b1.id).is_committed, 1);
    ck_assert_uint_eq(blk_get(b1.id).len, BS);
    ck_assert_uint_eq(complete(&cl, ino, b2, 10, &a), 0);
    ck_assert_uint_eq(a.size, BS + 10);
    /* A wrong prev is refused with the namespace's error. */
    struct nn_session c2;
    client(&c2, "c2");
    ck_assert_uint_eq(create(&c2, NN_ROOT_INO, "g", &ino), 0);
    ck_assert_uint_eq(add_block(&c2, ino, b1, 5, &r, &ab), wire_err(-EINVAL));
    reply_fini(&r);
}
END_TEST

START_TEST(test_nn_rpc_add_block_by_other_client_is_lease_error)
{
    struct nn_session dn, c1, c2;
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    datanode(&dn, 0);
    client(&c1, "c1");
    client(&c2, "c2");
    ck_assert_uint_eq(create(&c1, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&c2, ino, no_blk, 0, &r, &ab), wire_err(-ERR_LEASE));
    reply_fini(&r);
    ck_assert_uint_eq(complete(&c2, ino, no_blk, 0, &a), wire_err(-ERR_LEASE));
    ck_assert_uint_eq(create(&c2, NN_ROOT_INO, "f", &ino), wire_err(-EEXIST));
    /* One datanode only: fewer targets than the replication factor. */
    ck_assert_uint_eq(add_block(&c1, ino, no_blk, 0, &r, &ab), 0);
    ck_assert_uint_eq(ab.target_count, 1);
    reply_fini(&r);
}
END_TEST

/* Only a successful ADD_BLOCK's reply may go out before the sync; after a start, block ids
 * continue NN_BLK_IDS_UNSYNCED_MAX further on, so an allocation lost with its unsynced record
 * is never handed out again; near NN_ID_MAX a start spends only up to it. */
START_TEST(test_nn_rpc_add_block_answers_early_and_a_start_spends_unsynced_ids)
{
    struct nn_session dn, cl;
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;

    datanode(&dn, 0);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_int_eq(cl.is_reply_early_ok, 0); /* a create waits for its sync */
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    ck_assert_int_eq(cl.is_reply_early_ok, 1);
    reply_fini(&r);
    uint64_t first = ab.blk.id;
    ck_assert_uint_eq(add_block(&cl, 999, no_blk, 0, &r, &ab), wire_err(-ENOENT));
    ck_assert_int_eq(cl.is_reply_early_ok, 0); /* errors keep their place */
    reply_fini(&r);
    ck_assert_int_eq(nn_state_spend_unsynced_blk_ids(&st), 0);
    ck_assert_uint_eq(st.ns.next_blk_id, first + 1 + NN_BLK_IDS_UNSYNCED_MAX);
    ck_assert_uint_eq(add_block(&cl, ino, ab.blk, 10, &r, &ab), 0);
    ck_assert_uint_eq(ab.blk.id, first + 1 + NN_BLK_IDS_UNSYNCED_MAX);
    reply_fini(&r);
    /* Near NN_ID_MAX (only a damaged image gets there) a start spends the rest and still
     * serves: new blocks are ENOSPC, not a namenode that cannot start. */
    st.ns.next_blk_id = NN_ID_MAX - 5;
    ck_assert_int_eq(nn_state_spend_unsynced_blk_ids(&st), 0);
    ck_assert_uint_eq(st.ns.next_blk_id, NN_ID_MAX);
    struct wire_blk last = ab.blk;
    ck_assert_uint_eq(add_block(&cl, ino, last, 10, &r, &ab), wire_err(-ENOSPC));
    reply_fini(&r);
}
END_TEST

START_TEST(test_nn_rpc_add_block_without_live_datanodes_fails)
{
    struct nn_session cl, dn;
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;

    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), wire_err(-ERR_NO_DATANODES));
    ck_assert_int_eq(r.rc, 0);
    reply_fini(&r);
    ck_assert_uint_eq(nn_inode_blk_count(nn_ns_get(&st.ns, ino)), 0); /* nothing was allocated */

    /* A registered node that fell silent does not count either. */
    datanode(&dn, 0);
    st.now_ms += DEAD_MS + 1;
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), wire_err(-ERR_NO_DATANODES));
    reply_fini(&r);
    struct wire_blk cmds[1];
    heartbeat(&dn, cmds, 1); /* back alive */
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    ck_assert_uint_eq(ab.target_count, 1);
    reply_fini(&r);
}
END_TEST

START_TEST(test_nn_rpc_silent_datanode_is_not_a_location)
{
    struct nn_session dn[3], cl;
    struct wire_blk cmds[8];
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;
    struct wire_nn_get_blocks_ok gb;
    struct wire_located_blk lb;

    for (int i = 0; i < 3; i++)
        datanode(&dn[i], i);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk blk = ab.blk;
    reply_fini(&r);
    struct wire_blk_len rep = { .blk = blk, .len = 100 };
    for (int i = 0; i < 3; i++)
        dn_blocks(&dn[i], WIRE_DN_BLOCK_RECEIVED, 0, &rep, 1);
    ck_assert_uint_eq(complete(&cl, ino, blk, 100, &a), 0);

    /* dn 0 and 1 keep heartbeating; dn 2 falls silent. */
    st.now_ms += DEAD_MS / 2;
    heartbeat(&dn[0], cmds, 8);
    heartbeat(&dn[1], cmds, 8);
    st.now_ms += DEAD_MS / 2 + 1;
    get_blocks(&cl, ino, &r, &gb);
    wire_nn_get_blocks_ok_next(&gb, &lb);
    ck_assert_uint_eq(lb.loc_count, 2);
    for (uint32_t i = 0; i < 2; i++)
        ck_assert_int_ne(dn_of(&lb.locs[i]), 2);
    reply_fini(&r);
    /* New blocks avoid it too. */
    struct nn_session c2;
    client(&c2, "c2");
    ck_assert_uint_eq(create(&c2, NN_ROOT_INO, "g", &ino), 0);
    ck_assert_uint_eq(add_block(&c2, ino, no_blk, 0, &r, &ab), 0);
    ck_assert_uint_eq(ab.target_count, 2);
    for (uint32_t i = 0; i < 2; i++)
        ck_assert_int_ne(dn_of(&ab.targets[i]), 2);
    reply_fini(&r);
}
END_TEST

START_TEST(test_nn_rpc_block_report_orders_invalid_replicas_deleted)
{
    struct nn_session dn, cl;
    struct wire_blk cmds[8];
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    datanode(&dn, 0);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk blk = ab.blk;
    reply_fini(&r);
    ck_assert_uint_eq(complete(&cl, ino, blk, 100, &a), 0);

    struct wire_blk_len reps[3] = {
        { .blk = blk, .len = 100 },                    /* valid */
        { .blk = { 999, 1 }, .len = 5 },               /* unknown */
        { .blk = { blk.id, blk.gen + 1 }, .len = 100 }, /* wrong gen */
    };
    ck_assert_uint_eq(dn_blocks(&dn, WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST | WIRE_REPORT_LAST,
                                reps, 3), 0);
    ck_assert_uint_eq(nn_blocks_count_on(&st.blocks, 0), 1);
    ck_assert_uint_eq(heartbeat(&dn, cmds, 8), 2);
    ck_assert_uint_eq(cmds[0].id, 999);
    ck_assert_uint_eq(cmds[1].id, blk.id);
    ck_assert_uint_eq(cmds[1].gen, blk.gen + 1);
    /* A wrong committed length is invalid as well. */
    reps[0].len = 99;
    ck_assert_uint_eq(dn_blocks(&dn, WIRE_DN_BLOCK_REPORT, WIRE_REPORT_FIRST | WIRE_REPORT_LAST,
                                reps, 1), 0);
    ck_assert_uint_eq(nn_blocks_count_on(&st.blocks, 0), 0);
    ck_assert_uint_eq(heartbeat(&dn, cmds, 8), 1);
}
END_TEST

/* ---- namespace requests ---- */

static uint32_t readdir_page(struct nn_session *s, uint64_t ino, const char *after, uint32_t max,
                             char names[][8], uint8_t *is_eof)
{
    struct wire_nn_readdir m = { .ino = ino, .after = wire_str_c(after), .max = max };
    struct buf b;
    struct reply r;
    struct wire_nn_readdir_ok ok;
    struct wire_nn_dirent e;

    buf_init(&b);
    wire_nn_readdir_encode(&b, &m);
    call(s, WIRE_NN_READDIR, &b, &r);
    buf_fini(&b);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_nn_readdir_ok_decode(r.body, r.hdr.body_len, &ok), 0);
    for (uint32_t i = 0; i < ok.count; i++) {
        wire_nn_readdir_ok_next(&ok, &e);
        ck_assert_uint_lt(e.name.len, 8);
        memcpy(names[i], e.name.p, e.name.len);
        names[i][e.name.len] = '\0';
        ck_assert(S_ISDIR(e.attr.mode));
    }
    *is_eof = ok.is_eof;
    reply_fini(&r);
    return ok.count;
}

START_TEST(test_nn_rpc_readdir_pages_with_after)
{
    struct nn_session cl;
    static const int order[10] = { 7, 2, 9, 0, 5, 3, 8, 1, 6, 4 };
    char names[16][8], name[8];
    uint8_t eof;

    client(&cl, "c1");
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "d%02d", order[i]);
        ck_assert_uint_eq(mkdir_(&cl, NN_ROOT_INO, name, NULL), 0);
    }
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "", 4, names, &eof), 4);
    ck_assert_uint_eq(eof, 0);
    ck_assert_str_eq(names[0], "d00");
    ck_assert_str_eq(names[3], "d03");
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "d03", 4, names, &eof), 4);
    ck_assert_str_eq(names[0], "d04");
    ck_assert_str_eq(names[3], "d07");
    ck_assert_uint_eq(eof, 0);
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "d07", 4, names, &eof), 2);
    ck_assert_str_eq(names[0], "d08");
    ck_assert_str_eq(names[1], "d09");
    ck_assert_uint_eq(eof, 1);
    /* `after` need not exist: entries sorting after it follow. */
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "d035", 2, names, &eof), 2);
    ck_assert_str_eq(names[0], "d04");
    /* A name removed between pages does not disturb the next page. */
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_RMDIR, NN_ROOT_INO, "d05"), 0);
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "d05", 16, names, &eof), 4);
    ck_assert_str_eq(names[0], "d06");
    ck_assert_uint_eq(eof, 1);
    /* max 0 means the protocol maximum. */
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "", 0, names, &eof), 9);
    ck_assert_uint_eq(eof, 1);
    ck_assert_uint_eq(readdir_page(&cl, NN_ROOT_INO, "zzz", 4, names, &eof), 0);
    ck_assert_uint_eq(eof, 1);
}
END_TEST

START_TEST(test_nn_rpc_readdir_of_file_or_missing_is_error)
{
    struct nn_session cl;
    struct wire_nn_readdir m = { .ino = 999, .max = 4 };
    struct buf b;
    uint64_t ino;

    client(&cl, "c1");
    buf_init(&b);
    wire_nn_readdir_encode(&b, &m);
    ck_assert_uint_eq(call_status(&cl, WIRE_NN_READDIR, &b), wire_err(-ENOENT));
    buf_fini(&b);
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    m.ino = ino;
    buf_init(&b);
    wire_nn_readdir_encode(&b, &m);
    ck_assert_uint_eq(call_status(&cl, WIRE_NN_READDIR, &b), wire_err(-ENOTDIR));
    buf_fini(&b);
}
END_TEST

START_TEST(test_nn_rpc_namespace_requests_map_errors)
{
    struct nn_session cl;
    uint64_t d, ino;

    client(&cl, "c1");
    ck_assert_uint_eq(mkdir_(&cl, NN_ROOT_INO, "d", &d), 0);
    ck_assert_uint_eq(mkdir_(&cl, NN_ROOT_INO, "d", NULL), wire_err(-EEXIST));
    ck_assert_uint_eq(mkdir_(&cl, 999, "x", NULL), wire_err(-ENOENT));
    ck_assert_uint_eq(create(&cl, d, "f", &ino), 0);
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_RMDIR, NN_ROOT_INO, "d"), wire_err(-ENOTEMPTY));
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_UNLINK, NN_ROOT_INO, "d"), wire_err(-EISDIR));
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_RMDIR, d, "f"), wire_err(-ENOTDIR));

    struct wire_nn_rename rn = { .parent = d, .name = wire_str_c("f"), .new_parent = NN_ROOT_INO,
                                 .new_name = wire_str_c("g") };
    struct buf b;
    buf_init(&b);
    wire_nn_rename_encode(&b, &rn);
    ck_assert_uint_eq(call_status(&cl, WIRE_NN_RENAME, &b), 0);
    buf_fini(&b);
    struct reply r;
    struct wire_nn_name lk = { .parent = NN_ROOT_INO, .name = wire_str_c("g") };
    struct wire_attr a;
    buf_init(&b);
    wire_nn_name_encode(&b, &lk);
    call(&cl, WIRE_NN_LOOKUP, &b, &r);
    buf_fini(&b);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_attr_decode(r.body, r.hdr.body_len, &a), 0);
    ck_assert_uint_eq(a.ino, ino);
    reply_fini(&r);

    /* SETATTR to a size other than 0 or the current one. */
    struct wire_nn_setattr sa = { .ino = ino, .valid = WIRE_SET_SIZE, .size = 10 };
    buf_init(&b);
    wire_nn_setattr_encode(&b, &sa);
    ck_assert_uint_eq(call_status(&cl, WIRE_NN_SETATTR, &b), wire_err(-EOPNOTSUPP));
    buf_fini(&b);
    ck_assert_uint_eq(name_req(&cl, WIRE_NN_RMDIR, NN_ROOT_INO, "d"), 0);
}
END_TEST

START_TEST(test_nn_rpc_truncate_releases_blocks_to_datanodes)
{
    struct nn_session dn, cl;
    struct wire_blk cmds[4];
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    datanode(&dn, 0);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk blk = ab.blk;
    reply_fini(&r);
    struct wire_blk_len rep = { .blk = blk, .len = 50 };
    dn_blocks(&dn, WIRE_DN_BLOCK_RECEIVED, 0, &rep, 1);
    ck_assert_uint_eq(complete(&cl, ino, blk, 50, &a), 0);

    struct wire_nn_open op = { .ino = ino, .flags = WIRE_OPEN_WRITE | WIRE_OPEN_TRUNC };
    struct buf b;
    buf_init(&b);
    wire_nn_open_encode(&b, &op);
    call(&cl, WIRE_NN_OPEN, &b, &r);
    buf_fini(&b);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_attr_decode(r.body, r.hdr.body_len, &a), 0);
    ck_assert_uint_eq(a.size, 0);
    ck_assert_uint_eq(a.is_open, 1);
    reply_fini(&r);
    ck_assert_uint_eq(heartbeat(&dn, cmds, 4), 1);
    ck_assert_uint_eq(cmds[0].id, blk.id);
}
END_TEST

START_TEST(test_nn_rpc_report_has_a_row_per_datanode)
{
    struct nn_session dn[3], cl;
    struct wire_blk cmds[4];
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    for (int i = 0; i < 3; i++)
        datanode(&dn[i], i);
    client(&cl, "c1");
    ck_assert_uint_eq(mkdir_(&cl, NN_ROOT_INO, "d", NULL), 0);
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk blk = ab.blk;
    reply_fini(&r);
    struct wire_blk_len rep = { .blk = blk, .len = 10 };
    for (int i = 0; i < 3; i++)
        dn_blocks(&dn[i], WIRE_DN_BLOCK_RECEIVED, 0, &rep, 1);
    ck_assert_uint_eq(complete(&cl, ino, blk, 10, &a), 0);

    st.now_ms += 500;
    heartbeat(&dn[0], cmds, 4); /* capacity 1000000, used 2000, remaining 998000 */
    heartbeat(&dn[1], cmds, 4);
    st.now_ms += DEAD_MS; /* dn 2 silent for DEAD_MS + 500 */
    heartbeat(&dn[0], cmds, 4);
    heartbeat(&dn[1], cmds, 4);

    struct wire_nn_report_ok rep_ok;
    struct wire_dn_row row;
    call(&cl, WIRE_NN_REPORT, NULL, &r);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_nn_report_ok_decode(r.body, r.hdr.body_len, &rep_ok), 0);
    ck_assert_uint_eq(rep_ok.files, 1);
    ck_assert_uint_eq(rep_ok.dirs, 2);
    ck_assert_uint_eq(rep_ok.blocks, 1);
    ck_assert_uint_eq(rep_ok.capacity, 2 * 1000000);
    ck_assert_uint_eq(rep_ok.used, 2 * 2000);
    ck_assert_uint_eq(rep_ok.remaining, 2 * 998000);
    ck_assert_uint_eq(rep_ok.under_replicated, 1); /* 2 live replicas of 3 */
    ck_assert_uint_eq(rep_ok.count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        wire_nn_report_ok_next(&rep_ok, &row);
        int d = dn_of(&row.addr);
        ck_assert_int_eq(d, (int)i);
        ck_assert_uint_eq(row.blocks, 1);
        if (d == 2) {
            ck_assert_uint_eq(row.state, WIRE_DN_DEAD);
            ck_assert_uint_eq(row.last_heartbeat_age_ms, DEAD_MS + 500);
            ck_assert_uint_eq(row.remaining, 999000); /* as registered */
        } else {
            ck_assert_uint_eq(row.state, WIRE_DN_LIVE);
            ck_assert_uint_eq(row.last_heartbeat_age_ms, 0);
        }
    }
    reply_fini(&r);

    struct wire_nn_statfs_ok sf;
    call(&cl, WIRE_NN_STATFS, NULL, &r);
    ck_assert_uint_eq(r.hdr.status, 0);
    ck_assert_int_eq(wire_nn_statfs_ok_decode(r.body, r.hdr.body_len, &sf), 0);
    ck_assert_uint_eq(sf.live_datanodes, 2);
    ck_assert_uint_eq(sf.files, 3); /* root, d and f */
    ck_assert_uint_eq(sf.blocks, 1);
    ck_assert_uint_eq(sf.block_size, BS);
    reply_fini(&r);
}
END_TEST

START_TEST(test_nn_rpc_rebuild_blocks_from_namespace)
{
    struct nn_session dn, cl;
    uint64_t ino;
    struct reply r;
    struct wire_nn_add_block_ok ab;
    struct wire_attr a;

    datanode(&dn, 0);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f", &ino), 0);
    ck_assert_uint_eq(add_block(&cl, ino, no_blk, 0, &r, &ab), 0);
    struct wire_blk b1 = ab.blk;
    reply_fini(&r);
    ck_assert_uint_eq(add_block(&cl, ino, b1, 77, &r, &ab), 0);
    struct wire_blk b2 = ab.blk;
    reply_fini(&r);
    ck_assert_uint_eq(complete(&cl, ino, b2, 5, &a), 0);
    /* As after a restart: the map comes back from the namespace, without locations. */
    nn_blocks_fini(&st.blocks);
    nn_blocks_init(&st.blocks, &st.ns);
    ck_assert_int_eq(nn_state_rebuild_blocks(&st), 0);
    ck_assert(nn_blocks_has(&st.blocks, b1.id));
    struct nn_blk b = blk_get(b1.id);
    ck_assert_uint_eq(b.len, 77);
    ck_assert_uint_eq(b.is_committed, 1);
    ck_assert_uint_eq(b.ino, ino);
    ck_assert_uint_eq(b.replication, 3);
    ck_assert_uint_eq(b.loc_count, 0);
    ck_assert_uint_eq(blk_get(b2.id).len, 5);
}
END_TEST

/* A damaged image in which two files claim one block id is refused, not asserted on. */
START_TEST(test_nn_rpc_rebuild_refuses_a_block_claimed_twice)
{
    struct nn_session dn, cl;
    uint64_t f1, f2;
    struct reply r;
    struct wire_nn_add_block_ok ab;

    datanode(&dn, 0);
    client(&cl, "c1");
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f1", &f1), 0);
    ck_assert_uint_eq(create(&cl, NN_ROOT_INO, "f2", &f2), 0);
    ck_assert_uint_eq(add_block(&cl, f1, no_blk, 0, &r, &ab), 0);
    reply_fini(&r);
    ck_assert_uint_eq(add_block(&cl, f2, no_blk, 0, &r, &ab), 0);
    reply_fini(&r);
    struct nn_inode *in1 = (struct nn_inode *)nn_ns_get(&st.ns, f1);
    const struct nn_inode *in2 = nn_ns_get(&st.ns, f2);
    in1->u.one.id = in2->u.one.id; /* both files have their one block inline */
    nn_blocks_fini(&st.blocks);
    nn_blocks_init(&st.blocks, &st.ns);
    ck_assert_int_eq(nn_state_rebuild_blocks(&st), -ERR_CORRUPT);
}
END_TEST

/* A heartbeat hands out at most 1024 deletes, so a datanode is never flooded; the rest follow. */
START_TEST(test_nn_rpc_heartbeat_hands_out_at_most_1024_deletes)
{
    static struct wire_blk cmds[4096];
    struct nn_session dn;

    datanode(&dn, 0);
    for (uint64_t i = 1; i <= 1500; i++)
        nn_dns_queue_delete(&st.dns, (uint32_t)dn.dn_idx, (struct wire_blk){ i, 1 });
    ck_assert_uint_eq(heartbeat(&dn, cmds, 4096), 1024);
    ck_assert_uint_eq(cmds[0].id, 1);
    ck_assert_uint_eq(cmds[1023].id, 1024);
    ck_assert_uint_eq(heartbeat(&dn, cmds, 4096), 476);
    ck_assert_uint_eq(cmds[475].id, 1500);
    ck_assert_uint_eq(heartbeat(&dn, cmds, 4096), 0);
}
END_TEST

/* ---- adversarial sequences: every request kind, valid and mangled, against a real log ---- */

/* The fuzz fixture keeps its namespace in a journal in its own directory, so that what the
 * namenode acknowledged can be replayed at the end. */
static char fuzz_dir[64];
static struct nn_journal fuzz_journal;

static void fuzz_setup(void)
{
    uint64_t replayed;

    memset(&st, 0, sizeof(st));
    snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/nn_rpc_fuzz.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fuzz_dir));
    ck_assert_int_eq(nn_journal_open(&fuzz_journal, fuzz_dir, &st.ns, T0, &replayed), 0);
    state_init_around_ns();
    st.journal = &fuzz_journal;
}

static void fuzz_teardown(void)
{
    static const char *const files[] = { "image", "image.tmp", "edits", "lock" };
    char path[128];

    teardown();
    nn_journal_close(&fuzz_journal);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", fuzz_dir, files[i]);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(fuzz_dir), 0);
}

/* The fuzz's state: its seeded randomness (test_rng.h) and what it learned. */
struct fuzz {
    uint64_t rng;
    uint64_t inos[64]; /* inodes the namenode handed out or answered, most recent wins */
    struct wire_blk blks[64];
    uint32_t blk_n, ino_n;
    uint64_t steps, ok, mangled;
};

static uint64_t fz_rng(struct fuzz *z)
{
    return test_rng_next(&z->rng);
}

static uint64_t fz_below(struct fuzz *z, uint64_t n)
{
    return test_rng_below(&z->rng, n);
}

/* Mostly a value the namenode gave out, sometimes an edge of the field's range. */
static uint64_t fz_u64(struct fuzz *z, const uint64_t *known, uint32_t n)
{
    static const uint64_t edges[] = { 0, 1, 2, UINT32_MAX, UINT64_MAX, UINT64_MAX / 2 + 1 };

    if (n && fz_below(z, 4) != 0)
        return known[fz_below(z, n)];
    return edges[fz_below(z, sizeof(edges) / sizeof(edges[0]))];
}

static uint64_t fz_ino(struct fuzz *z)
{
    return fz_below(z, 5) == 0 ? NN_ROOT_INO : fz_u64(z, z->inos, z->ino_n);
}

static struct wire_blk fz_blk(struct fuzz *z)
{
    if (z->blk_n && fz_below(z, 4) != 0) {
        struct wire_blk b = z->blks[fz_below(z, z->blk_n)];
        b.gen += fz_below(z, 8) == 0; /* now and then a stale or future generation */
        return b;
    }
    return (struct wire_blk){ fz_below(z, 3), fz_below(z, 3) };
}

static uint64_t fz_len(struct fuzz *z)
{
    static const uint64_t lens[] = { 0, 1, 4096, BS - 1, BS, BS + 1, UINT64_MAX };

    return fz_below(z, 2) ? fz_below(z, BS + 1) : lens[fz_below(z, sizeof(lens) / sizeof(lens[0]))];
}

/* Names the wire layer must take and names it must refuse ("", ".", "..", a slash). */
static struct wire_str fz_name(struct fuzz *z)
{
    static const char *const names[] = { "a", "b", "c", "dir", "x.y", "a", "b", "", ".", "..",
                                          "a/b" };

    return wire_str_c(names[fz_below(z, sizeof(names) / sizeof(names[0]))]);
}

static void fz_remember_ino(struct fuzz *z, uint64_t ino)
{
    z->inos[z->ino_n < 64 ? z->ino_n++ : fz_below(z, 64)] = ino;
}

static void fz_remember_blk(struct fuzz *z, struct wire_blk b)
{
    z->blks[z->blk_n < 64 ? z->blk_n++ : fz_below(z, 64)] = b;
}

static void fz_body_namespace(struct fuzz *z, uint16_t type, struct buf *b)
{
    switch (type) {
    case WIRE_NN_LOOKUP: case WIRE_NN_UNLINK: case WIRE_NN_RMDIR:
        wire_nn_name_encode(b, &(struct wire_nn_name){ fz_ino(z), fz_name(z) });
        break;
    case WIRE_NN_GETATTR:
        wire_nn_ino_encode(b, &(struct wire_nn_ino){ fz_ino(z) });
        break;
    case WIRE_NN_SETATTR:
        wire_nn_setattr_encode(b, &(struct wire_nn_setattr){
            .ino = fz_ino(z), .valid = (uint32_t)fz_below(z, 64), .mode = (uint32_t)fz_rng(z),
            .uid = (uint32_t)fz_below(z, 3), .gid = (uint32_t)fz_below(z, 3), .size = fz_len(z),
            .atime_ms = fz_rng(z), .mtime_ms = fz_below(z, 2) ? st.now_ms : fz_rng(z) });
        break;
    case WIRE_NN_MKDIR:
        wire_nn_mkdir_encode(b, &(struct wire_nn_mkdir){ fz_ino(z), fz_name(z),
                                                          (uint32_t)fz_rng(z), 0, 0 });
        break;
    case WIRE_NN_CREATE:
        wire_nn_create_encode(b, &(struct wire_nn_create){
            .parent = fz_ino(z), .name = fz_name(z), .mode = (uint32_t)fz_rng(z),
            .block_size = fz_below(z, 2) ? 0 : fz_len(z),
            .replication = (uint16_t)fz_below(z, 12), .flags = (uint8_t)fz_below(z, 8) });
        break;
    case WIRE_NN_OPEN:
        wire_nn_open_encode(b, &(struct wire_nn_open){ fz_ino(z), (uint32_t)fz_below(z, 16) });
        break;
    case WIRE_NN_RENAME:
        wire_nn_rename_encode(b, &(struct wire_nn_rename){ fz_ino(z), fz_name(z), fz_ino(z),
                                                            fz_name(z), (uint32_t)fz_below(z, 4) });
        break;
    case WIRE_NN_READDIR:
        wire_nn_readdir_encode(b, &(struct wire_nn_readdir){ fz_ino(z), fz_name(z),
                                                              (uint32_t)fz_u64(z, NULL, 0) });
        break;
    }
}

/* Half the time the file's real last block (or none), so that writes get past the first
 * checks and grow files block by block; else whatever fz_blk() makes up. */
static struct wire_blk fz_prev(struct fuzz *z, uint64_t ino)
{
    const struct nn_inode *in = nn_ns_get(&st.ns, ino);
    uint32_t n = in ? nn_inode_blk_count(in) : 0;

    if (fz_below(z, 2))
        return fz_blk(z);
    if (n == 0)
        return (struct wire_blk){ 0, 0 };
    struct nn_blkref last = nn_inode_blk(in, n - 1);
    return (struct wire_blk){ last.id, last.gen };
}

static void fz_body_blocks(struct fuzz *z, uint16_t type, struct buf *b)
{
    uint64_t ino = fz_ino(z);

    switch (type) {
    case WIRE_NN_ADD_BLOCK:
        wire_nn_add_block_encode(b, &(struct wire_nn_add_block){ ino, fz_prev(z, ino), fz_len(z) });
        break;
    case WIRE_NN_COMPLETE:
        wire_nn_complete_encode(b, &(struct wire_nn_complete){ ino, fz_prev(z, ino), fz_len(z) });
        break;
    case WIRE_NN_GET_BLOCKS:
        wire_nn_get_blocks_encode(b, &(struct wire_nn_get_blocks){ fz_ino(z), fz_len(z),
                                                                    fz_len(z) });
        break;
    case WIRE_DN_HEARTBEAT:
        wire_dn_heartbeat_encode(b, &(struct wire_dn_heartbeat){ 1000000, fz_len(z), 1000, 1 });
        break;
    case WIRE_DN_BLOCK_REPORT: case WIRE_DN_BLOCK_RECEIVED: case WIRE_DN_BLOCK_DELETED:
    case WIRE_DN_BLOCK_CORRUPT:
        wire_dn_blocks_begin(b, (uint8_t)fz_below(z, 4));
        for (uint64_t i = fz_below(z, 5); i > 0; i--)
            wire_dn_blocks_put(b, 0, &(struct wire_blk_len){ fz_blk(z), fz_len(z) });
        break;
    }
}

/* Flips bits, cuts, or appends garbage: the decoders must refuse or bound what they take. */
static void fz_mangle(struct fuzz *z, struct buf *b)
{
    switch (fz_below(z, 3)) {
    case 0:
        for (uint64_t i = 1 + fz_below(z, 3); b->len && i > 0; i--)
            b->data[fz_below(z, b->len)] ^= (uint8_t)(1u << fz_below(z, 8));
        break;
    case 1:
        b->len = fz_below(z, b->len + 1);
        break;
    default:
        for (uint64_t i = 1 + fz_below(z, 16); i > 0; i--)
            buf_put_u8(b, (uint8_t)fz_rng(z));
    }
}

/* Learns inodes and blocks from a successful reply, so later requests hit real ones. */
static void fz_learn(struct fuzz *z, uint16_t type, const struct reply *r)
{
    struct wire_nn_entry_ok e;
    struct wire_attr a;
    struct wire_nn_add_block_ok ab;

    if ((type == WIRE_NN_CREATE || type == WIRE_NN_MKDIR) &&
        wire_nn_entry_ok_decode(r->body, r->hdr.body_len, &e) == 0)
        fz_remember_ino(z, e.attr.ino);
    else if (type == WIRE_NN_LOOKUP && wire_attr_decode(r->body, r->hdr.body_len, &a) == 0)
        fz_remember_ino(z, a.ino);
    else if (type == WIRE_NN_ADD_BLOCK &&
             wire_nn_add_block_ok_decode(r->body, r->hdr.body_len, &ab) == 0)
        fz_remember_blk(z, ab.blk);
}

static const uint16_t fz_client_types[] = {
    WIRE_NN_LOOKUP, WIRE_NN_GETATTR, WIRE_NN_SETATTR, WIRE_NN_MKDIR, WIRE_NN_CREATE,
    WIRE_NN_CREATE, WIRE_NN_OPEN, WIRE_NN_UNLINK, WIRE_NN_RMDIR, WIRE_NN_RENAME,
    WIRE_NN_READDIR, WIRE_NN_STATFS, WIRE_NN_ADD_BLOCK, WIRE_NN_ADD_BLOCK, WIRE_NN_COMPLETE,
    WIRE_NN_COMPLETE, WIRE_NN_GET_BLOCKS, WIRE_NN_REPORT,
};
enum { FZ_CLIENT_TYPES = sizeof(fz_client_types) / sizeof(fz_client_types[0]) };
static const uint16_t fz_dn_types[] = { WIRE_DN_HEARTBEAT, WIRE_DN_BLOCK_REPORT,
                                        WIRE_DN_BLOCK_RECEIVED, WIRE_DN_BLOCK_DELETED,
                                        WIRE_DN_BLOCK_CORRUPT };
enum { FZ_DN_TYPES = sizeof(fz_dn_types) / sizeof(fz_dn_types[0]) };

/* One request from one of the sessions: sessions 0-1 are clients, 2-4 datanodes. A request
 * of the other role, or now and then of a type nobody handles, is sent too. */
static void fz_step(struct fuzz *z, struct nn_session *sess)
{
    uint32_t pick = (uint32_t)fz_below(z, 8);
    uint32_t who = pick < 4 ? 0 : pick - 3; /* session 0 half the time: it holds most leases */
    int as_dn = who >= 2 ? fz_below(z, 8) != 0 : fz_below(z, 16) == 0;
    uint16_t type = as_dn ? fz_dn_types[fz_below(z, FZ_DN_TYPES)]
                          : fz_client_types[fz_below(z, FZ_CLIENT_TYPES)];
    struct buf b;
    struct reply r;

    if (fz_below(z, 500) == 0)
        type = (uint16_t)(WIRE_DN_SYNC_OK + 1 + fz_below(z, 100));
    buf_init(&b);
    fz_body_namespace(z, type, &b);
    fz_body_blocks(z, type, &b);
    if (fz_below(z, 4) == 0) {
        fz_mangle(z, &b);
        z->mangled++;
    }
    /* Mostly the same second; now and then long enough for a silent datanode to die. */
    st.now_ms += fz_below(z, 1000) == 0 ? DEAD_MS : fz_below(z, 16) == 0 ? fz_below(z, 2000) : 1;
    call(&sess[who], type, &b, &r);
    buf_fini(&b);
    if (r.hdr.status == 0) {
        z->ok++;
        fz_learn(z, type, &r);
    }
    /* A fatal request closed the connection: the peer comes back. A datanode also registers
     * again when its heartbeat is refused (found dead meanwhile), as dn_nn does. */
    int is_refused_hb = type == WIRE_DN_HEARTBEAT && r.hdr.status != 0;
    if ((r.rc < 0 || is_refused_hb) && who >= 2)
        datanode(&sess[who], (int)who - 2);
    else if (r.rc < 0)
        client(&sess[who], "fz");
    reply_fini(&r);
    if (fz_below(z, 16) == 0) /* the replication monitor's timer, between requests */
        nn_repl_tick(&st.repl, &st.blocks, &st.dns, st.now_ms);
    nn_blocks_assert_valid(&st.blocks);
    if (fz_below(z, 3) == 0) /* the server's group commit, after one or more requests */
        ck_assert_int_eq(nn_journal_sync(st.journal), 0);
}

/* Replays the log into a fresh namespace: it must equal the live one byte for byte, and its
 * blocks must rebuild a block map (no block claimed twice). */
static void fz_assert_replay_equals_live(void)
{
    struct nn_journal j2;
    struct nn_state st2;
    struct buf live, replayed_img;
    uint64_t replayed;

    ck_assert_int_eq(nn_journal_sync(st.journal), 0);
    nn_journal_close(&fuzz_journal);
    memset(&st2, 0, sizeof(st2));
    ck_assert_int_eq(nn_journal_open(&j2, fuzz_dir, &st2.ns, T0, &replayed), 0);
    buf_init(&live);
    buf_init(&replayed_img);
    nn_ns_image_encode(&st.ns, &live);
    nn_ns_image_encode(&st2.ns, &replayed_img);
    ck_assert_uint_eq(live.len, replayed_img.len);
    ck_assert_int_eq(memcmp(live.data, replayed_img.data, live.len), 0);
    nn_blocks_init(&st2.blocks, &st2.ns);
    ck_assert_int_eq(nn_state_rebuild_blocks(&st2), 0);
    nn_blocks_fini(&st2.blocks);
    nn_ns_fini(&st2.ns);
    buf_fini(&live);
    buf_fini(&replayed_img);
    fuzz_journal = j2; /* the teardown closes it */
}

START_TEST(test_nn_rpc_random_and_mangled_requests_keep_state_valid_and_durable)
{
    struct fuzz z = { .rng = 0x9E3779B97F4A7C15ULL + (uint64_t)_i };
    struct nn_session sess[5];

    client(&sess[0], "fz-c1");
    client(&sess[1], "fz-c2");
    for (int i = 0; i < 3; i++)
        datanode(&sess[2 + i], i);
    for (z.steps = 0; z.steps < 10000; z.steps++)
        fz_step(&z, sess);
    /* Enough of the sequence must have succeeded for it to have reached the deep paths. */
    ck_assert_uint_gt(z.ok, z.steps / 5);
    ck_assert_uint_gt(z.ino_n, 8);
    ck_assert_uint_gt(z.blk_n, 8);
    ck_assert_uint_gt(st.ns.blk_count, 0);
    fz_assert_replay_equals_live();
}
END_TEST

static Suite *nn_rpc_suite(void)
{
    Suite *s = suite_create("nn_rpc");
    TCase *tc = tcase_create("handshake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_rpc_request_before_hello_is_refused_and_fatal);
    tcase_add_test(tc, test_nn_rpc_hello_with_wrong_cluster_is_refused_and_fatal);
    tcase_add_test(tc, test_nn_rpc_unknown_type_is_fatal);
    tcase_add_test(tc, test_nn_rpc_malformed_body_is_proto_error_but_not_fatal);
    tcase_add_test(tc, test_nn_rpc_role_checks);
    suite_add_tcase(s, tc);

    tc = tcase_create("blocks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_rpc_full_write_read_delete_flow);
    tcase_add_test(tc, test_nn_rpc_pipeline_targets_are_locations_until_reports_differ);
    tcase_add_test(tc, test_nn_rpc_rebuild_refuses_a_block_claimed_twice);
    tcase_add_test(tc, test_nn_rpc_heartbeat_hands_out_at_most_1024_deletes);
    tcase_add_test(tc, test_nn_rpc_second_block_commits_first_and_offsets_follow);
    tcase_add_test(tc, test_nn_rpc_add_block_by_other_client_is_lease_error);
    tcase_add_test(tc, test_nn_rpc_add_block_without_live_datanodes_fails);
    tcase_add_test(tc, test_nn_rpc_add_block_answers_early_and_a_start_spends_unsynced_ids);
    tcase_add_test(tc, test_nn_rpc_silent_datanode_is_not_a_location);
    tcase_add_test(tc, test_nn_rpc_block_report_orders_invalid_replicas_deleted);
    tcase_add_test(tc, test_nn_rpc_truncate_releases_blocks_to_datanodes);
    tcase_add_test(tc, test_nn_rpc_rebuild_blocks_from_namespace);
    suite_add_tcase(s, tc);

    tc = tcase_create("namespace");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nn_rpc_readdir_pages_with_after);
    tcase_add_test(tc, test_nn_rpc_readdir_of_file_or_missing_is_error);
    tcase_add_test(tc, test_nn_rpc_namespace_requests_map_errors);
    tcase_add_test(tc, test_nn_rpc_report_has_a_row_per_datanode);
    suite_add_tcase(s, tc);

    tc = tcase_create("fuzz");
    tcase_add_checked_fixture(tc, fuzz_setup, fuzz_teardown);
    tcase_add_loop_test(tc, test_nn_rpc_random_and_mangled_requests_keep_state_valid_and_durable,
                        0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nn_rpc_suite());
}

