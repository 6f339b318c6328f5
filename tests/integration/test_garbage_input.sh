#!/usr/bin/env bash
# Bad input from the network gets a clear error and loses nothing. With a file stored on a
# 3-datanode cluster, garbage_client (tests/integration/garbage_client.c) attacks the namenode
# port and every datanode port, one connection per case: random bytes, headers with a wrong
# magic, checksum or version, bodies over WIRE_BODY_MAX and bodies that never come, every
# message type the daemon handles (and unknown ones) with correctly checksummed random or
# truncated bodies, before and after a valid HELLO and pipelined, 200 connections dropped half
# way, and well-formed requests with hostile fields (extreme inodes, offsets and lengths,
# reads of the real block at bad offsets, writes of made-up blocks with bad packets, pipelines
# aimed at the datanode itself or the namenode). The helper fails on any reply that does not
# decode or answer its request, on a complete request left unanswered, and whenever a new
# connection can no longer complete a HELLO. Afterwards every daemon is still the same
# process, the file reads back identical through the mount and `dfs cat`, the namespace is
# unchanged, a new file can be written and read, `dfsadmin report --json` shows exactly 3 live
# datanodes, and the logs show the bad frames reached the frame parsers (and no panic).
# Deterministic: the helper's randomness is seeded (DFS_GARBAGE_SEED overrides the seed).
source "$(dirname "$0")/lib.sh"

GARBAGE_CLIENT="${DFS_GARBAGE_CLIENT:-$DFS_BUILD_DIR/tests/integration/garbage_client}"
SEED="${DFS_GARBAGE_SEED:-20240611}"

it_init 3
[ -x "$GARBAGE_CLIENT" ] || fail "garbage_client is not built ($GARBAGE_CLIENT)"
# shellcheck disable=SC2119 # default settings
it_up

SIZE=$((3 * MIB + 12345)) # one block (default 64 MiB), the last chunk partial
it_random_file "$IT_TMP/orig" "$SIZE"
cp "$IT_TMP/orig" "$IT_MNT/victim"
it_assert_same "$IT_TMP/orig" "$IT_MNT/victim"

# The block's replicas: one per datanode. blk_<16 hex id>_<gen>.data
it_one_block 3 "$IT_TMP/orig"
replicas=("${IT_BLOCK_FILES[@]}") blk_id="$IT_BLK_ID" blk_gen="$IT_BLK_GEN"
log "file stored as block $blk_id gen $blk_gen on 3 datanodes"

names=(namenode fuse)
for ((i = 1; i <= IT_DATANODES; i++)); do names+=("datanode$i"); done
declare -A pid_before
for n in "${names[@]}"; do pid_before[$n]="$(it_pid "$n")"; done
ns_before="$(ls -A "$IT_MNT")"

# garbage NAME ROLE PORT ARGS...: runs the helper against one daemon. A failed case does not
# stop the others (the helper reports each); a dead daemon fails the test at once.
garbage_failed=()
garbage() {
    local name="$1" role="$2" port="$3" out="$IT_TMP/garbage-$1.out" rc=0 t0=$SECONDS
    shift 3
    log "garbage -> $name (127.0.0.1:$port)"
    timeout -k 5 90 "$GARBAGE_CLIENT" --role "$role" --addr "127.0.0.1:$port" \
        --cluster dfs-local --seed "$SEED" --nn-port "$IT_PORT_BASE" "$@" >"$out" 2>&1 || rc=$?
    sed 's/^/    /' "$out"
    kill -0 "${pid_before[$name]}" 2>/dev/null ||
        fail "$name (pid ${pid_before[$name]}) died under garbage_client (see its log below)"
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && log "garbage_client against $name hit its 90 s time limit"
        log "garbage_client against $name exited $rc; $name is still running"
        garbage_failed+=("$name")
    else
        log "$name passed every case ($((SECONDS - t0)) s)"
    fi
}

garbage namenode nn "$IT_PORT_BASE" --victim victim
for ((i = 1; i <= IT_DATANODES; i++)); do
    garbage "datanode$i" dn $((IT_PORT_BASE + i)) --seed $((SEED + i)) \
        --blk "0x$blk_id:$blk_gen" --file "$IT_TMP/orig"
done

# Every daemon is the process it was.
for n in "${names[@]}"; do
    kill -0 "${pid_before[$n]}" 2>/dev/null || fail "$n (pid ${pid_before[$n]}) died"
    [ "$(it_pid "$n")" = "${pid_before[$n]}" ] || fail "$n was restarted"
done
log "all daemons alive: $(for n in "${names[@]}"; do printf '%s=%s ' "$n" "${pid_before[$n]}"; done)"

# Nothing lost, nothing changed.
it_drop_caches
it_assert_same "$IT_TMP/orig" "$IT_MNT/victim"
dfs cat /victim | cmp - "$IT_TMP/orig" || fail "dfs cat /victim returned wrong bytes"
for f in "${replicas[@]}"; do
    cmp -s "$f" "$IT_TMP/orig" || fail "replica $f changed"
done
[ "$(ls -A "$IT_MNT")" = "$ns_before" ] ||
    fail "the namespace changed: before: $ns_before; after: $(ls -A "$IT_MNT")"
log "nothing lost: /victim reads back identical (mount, dfs cat), its 3 replicas unchanged," \
    "the namespace unchanged"

# Still serving writes.
it_random_file "$IT_TMP/new" $((2 * MIB + 4321))
cp "$IT_TMP/new" "$IT_MNT/after-garbage"
it_drop_caches
it_assert_same "$IT_TMP/new" "$IT_MNT/after-garbage"
dfs cat /after-garbage | cmp - "$IT_TMP/new" || fail "dfs cat /after-garbage returned wrong bytes"
dfs put "$IT_TMP/new" /after-garbage-cli || fail "dfs put failed"
dfs cat /after-garbage-cli | cmp - "$IT_TMP/new" || fail "dfs cat /after-garbage-cli"
log "still serving: a new file written through the mount and with dfs put reads back"

# Exactly the 3 datanodes, all live (a junk registration would show up here).
it_wait_live 3 20
report="$(dfsadmin report --json | tr -d ' \n\t')"
rows="$(grep -o '"node_id":' <<<"$report" | wc -l)"
if [ "$(it_live_count)" != 3 ] || [ "$rows" != 3 ]; then
    fail "want exactly 3 datanodes, all live; report: $report"
fi
log "dfsadmin report: 3 datanodes, 3 live"

# The bad frames reached the frame parsers, and nothing panicked.
nn_bad="$(grep -c 'closing connection: bad frame' "$IT_STATE/log/namenode.log" || true)"
[ "${nn_bad:-0}" -ge 1 ] || fail "namenode.log has no 'closing connection: bad frame'"
log "namenode.log: $nn_bad x 'closing connection: bad frame'"
for ((i = 1; i <= IT_DATANODES; i++)); do
    f="$IT_STATE/log/datanode$i.log"
    n="$(grep -c 'closing connection: ' "$f" || true)"
    [ "${n:-0}" -ge 1 ] || fail "datanode$i.log has no 'closing connection:'"
    log "datanode$i.log: $n x 'closing connection', $(grep -c 'refus' "$f" || true) refusals"
done
# summary LOG: its warnings and refusals, by message (time, place and numbers left out).
summary() {
    sed -E 's/^[0-9:.]+ +[a-z]+ +[^ ]+ //; s/=[^ :]+/=*/g; s/ \(event 0x[0-9a-f]+\)//' "$1" |
        grep -iE 'clos|refus|fail|lost|bad|too many|exists' | sort | uniq -c | sort -rn |
        sed -n '1,25s/^/    /p'
}
log "namenode.log by message:"
summary "$IT_STATE/log/namenode.log"
log "datanode1.log by message:"
summary "$IT_STATE/log/datanode1.log"
it_assert_logs_clean
if [ "${#garbage_failed[@]}" -gt 0 ]; then
    fail "garbage_client found misbehaviour of: ${garbage_failed[*]} (the cases are above)"
fi
log "PASS"
