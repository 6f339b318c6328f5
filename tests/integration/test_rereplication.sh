#!/usr/bin/env bash
# The namenode's replication monitor keeps every block at its replication. With 4 datanodes,
# replication 3 and 9 MiB blocks: after `kill -9` of a datanode that holds replicas, the
# blocks it held are copied to the datanodes that lack them, until each of the 3 survivors
# holds every block and `dfsadmin report` counts none under-replicated. The copies are good
# data: with the other two original holders killed as well, the one survivor that received
# copies serves every file byte for byte (mount and `dfs cat`). When the killed datanodes come
# back with their old replicas, the excess replicas are deleted down to exactly 3 per block,
# and the count stays there. A datanode that stalls (SIGSTOP) past nn.dn_dead_ms is replaced
# the same way, and when it wakes up it is made to register and report again, and its
# replicas are deleted as excess. Replicas are counted as finalized .data files in the
# datanodes' dirs (a deleted replica may go to the spare/ pool, which holds no replica).
source "$(dirname "$0")/lib.sh"

# 9 MiB blocks: a full block is 9 packets, one more than a copy sends ahead of its acks.
BLOCK=$((9 * MIB))
REPL=3
WAIT_SECS=60 # per phase; with the monitor working each takes a few seconds

it_init 4

# Short timings, so that a killed datanode is declared dead and re-replicated within seconds.
ups=(--set dfs.block_size=9M --set "dfs.replication=$REPL" --set dfs.heartbeat_ms=200
    --set nn.dn_dead_ms=1500 --set nn.replication_interval_ms=200)
it_up "${ups[@]}"
it_wait_live 4

# ---- helpers

# Top-level number KEY of a compacted `dfsadmin report --json` (the first match is the
# top-level one: the datanode rows come last).
json_num() {
    local rest="${1#*\""$2"\":}"
    [ "$rest" != "$1" ] || return 1
    echo "${rest%%[!0-9]*}"
}
report_json() { dfsadmin report --json | tr -d ' \n\t'; }

# replica_problems WANT DN...: prints what differs from "every block of the test's files has
# exactly WANT finalized replicas among the dirs of DN... (dn1 ...), at most one per
# datanode, and no other block is there"; prints nothing when that holds.
replica_problems() {
    local want="$1"
    shift
    it_replicas | awk -v want="$want" -v dns=" $* " -v ids="${BLOCK_IDS[*]}" '
        BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) known[a[i]] = 1 }
        index(dns, " " $1 " ") == 0 { next }
        {
            if (!($2 in known)) print "unknown block " $2 " on " $1
            if (seen[$1 " " $2]++) print "block " $2 " twice on " $1
            count[$2]++
        }
        END { for (id in known) if (count[id] + 0 != want) print "block " id ": " count[id] + 0 " replicas" }' | sort
}

# Dumps what a failed wait needs to be understood: the report and the replicas on disk.
show_state() {
    {
        echo "---- dfsadmin report"
        dfsadmin report || true
        echo "---- finalized replicas (datanode, block id)"
        it_replicas | sort -k2,2 -k1,1 || true
    } >&2
}

# wait_for WHAT CHECK...: runs CHECK (prints nothing once the wanted state is reached, else
# what is still off) every 0.3 s for up to WAIT_SECS; fails with its last output if it never
# gets there.
wait_for() {
    local what="$1" deadline=$((SECONDS + WAIT_SECS)) out
    shift
    while :; do
        out="$("$@" 2>&1)" || out="${out:-check failed}"
        [ -z "$out" ] && return 0
        [ $SECONDS -lt $deadline ] || break
        sleep 0.3
    done
    show_state
    local n
    n="$(wc -l <<<"$out")"
    [ "$n" -le 8 ] || out="$(head -n 8 <<<"$out")"$'\n'"and $((n - 8)) more"
    fail "$what: not reached after ${WAIT_SECS}s; still: $(paste -sd ';' - <<<"$out")"
}

# check_report LIVE UNDER: prints what differs in the report from LIVE live datanodes and UNDER
# under-replicated blocks (UNDER '-' for any).
check_report() {
    local r live under
    r="$(report_json)" || {
        echo "dfsadmin report failed"
        return 0
    }
    live="$(json_num "$r" live)" || live="?"
    under="$(json_num "$r" under_replicated)" || under="?"
    [ "$live" = "$1" ] || echo "live=$live (want $1)"
    [ "$2" = - ] || [ "$under" = "$2" ] || echo "under_replicated=$under (want $2)"
}

# check_all_replicated WANT DN...: the replicas (replica_problems) and a report with as many
# live datanodes as DN... and no block under-replicated.
check_all_replicated() {
    local want="$1"
    shift
    check_report $# 0
    replica_problems "$want" "$@"
}

kill_datanode() {
    local name="datanode${1#dn}" pid
    pid="$(it_pid "$name")"
    log "kill -9 $name (pid $pid)"
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

check_files() {
    local how="$1" i
    it_ensure_mount
    it_drop_caches
    for i in "${!names[@]}"; do
        it_assert_same "$IT_TMP/${names[$i]}" "$IT_MNT/d/${names[$i]}"
        dfs cat "/d/${names[$i]}" | cmp - "$IT_TMP/${names[$i]}" ||
            fail "$how: dfs cat /d/${names[$i]} returned wrong bytes"
    done
    log "$how: every file reads back identical (mount and dfs cat)"
}

# ---- phase 1: files of several shapes, all replicas finalized
names=(three two five small empty)
sizes=($((19 * MIB + 12345)) $((9 * MIB)) $((5 * MIB - 1)) 1000 0)
mkdir -p "$IT_MNT/d"
nblocks=0
for i in "${!names[@]}"; do
    it_random_file "$IT_TMP/${names[$i]}" "${sizes[$i]}"
    cp "$IT_TMP/${names[$i]}" "$IT_MNT/d/${names[$i]}"
    nblocks=$((nblocks + (sizes[i] + BLOCK - 1) / BLOCK))
done
it_replica_files $((nblocks * REPL)) >/dev/null
mapfile -t BLOCK_IDS < <(it_replicas | awk '{ print $2 }' | sort -u)
[ "${#BLOCK_IDS[@]}" -eq "$nblocks" ] || fail "want $nblocks block ids, found ${#BLOCK_IDS[@]}"
all_dns=(dn1 dn2 dn3 dn4)
probs="$(replica_problems "$REPL" "${all_dns[@]}")"
[ -z "$probs" ] || fail "after the writes: $probs"
r="$(report_json)"
[ "$(json_num "$r" blocks)" = "$nblocks" ] || fail "report counts $(json_num "$r" blocks) blocks, want $nblocks"
[ "$(json_num "$r" under_replicated)" = 0 ] || fail "report counts under-replicated blocks: $r"
declare -A held
for dn in "${all_dns[@]}"; do
    held[$dn]="$(it_replicas | awk -v d="$dn" '$1 == d' | wc -l)"
done
log "phase 1: $nblocks blocks x $REPL replicas; per datanode: $(for dn in "${all_dns[@]}"; do
    printf '%s=%s ' "$dn" "${held[$dn]}"
done)"
check_files "phase 1"

# ---- phase 2: kill the datanode holding the most replicas; the rest get its blocks
victim=""
for dn in "${all_dns[@]}"; do
    if [ -z "$victim" ] || [ "${held[$dn]}" -gt "${held[$victim]}" ]; then victim="$dn"; fi
done
survivors=()
for dn in "${all_dns[@]}"; do [ "$dn" = "$victim" ] || survivors+=("$dn"); done
kill_datanode "$victim"
wait_for "namenode declares $victim dead" check_report 3 -
log "phase 2: $victim is dead; under_replicated=$(json_num "$(report_json)" under_replicated)"
t0=$SECONDS
# With 3 of 4 datanodes live and replication 3, every survivor must end up with every block.
wait_for "re-replication of $victim's blocks onto ${survivors[*]}" \
    check_all_replicated "$REPL" "${survivors[@]}"
log "phase 2: every block has $REPL replicas on ${survivors[*]} after $((SECONDS - t0))s"
# The copies are the same bytes as the originals (same block, same generation).
for id in "${BLOCK_IDS[@]}"; do
    first=""
    for dn in "${survivors[@]}"; do
        f="$(find "$IT_STATE/$dn" -path '*/finalized/*' -name "blk_${id}_*.data" -type f)"
        [ -n "$f" ] || fail "block $id has no replica file on $dn"
        if [ -z "$first" ]; then first="$f"; else cmp -s "$first" "$f" || fail "replicas differ: $first $f"; fi
    done
done
log "phase 2: the replica files of each block are identical"

# ---- phase 3: only a datanode that received copies stays; it serves every file
# The survivor that held the fewest replicas before the kill received the most copies (it
# lacked some block: the victim held some, so the survivors held fewer than 3 per block).
keep=""
for dn in "${survivors[@]}"; do
    if [ -z "$keep" ] || [ "${held[$dn]}" -lt "${held[$keep]}" ]; then keep="$dn"; fi
done
[ "${held[$keep]}" -lt "$nblocks" ] || fail "no survivor received copies (bug in this test)"
for dn in "${survivors[@]}"; do [ "$dn" = "$keep" ] || kill_datanode "$dn"; done
# Waiting for the namenode to see them dead makes the reader get only $keep's location.
wait_for "namenode declares all but $keep dead" check_report 1 -
log "phase 3: only $keep is live (it held ${held[$keep]} of $nblocks blocks before phase 2)"
check_files "phase 3, only $keep live"

# ---- phase 4: the killed datanodes come back; the excess replicas are deleted
old_pid="$(it_pid "datanode${keep#dn}")"
# shellcheck disable=SC2119 # no new options: reuse the first call's
it_up # starts only the missing datanodes, waits for 4 live
[ "$(it_pid "datanode${keep#dn}")" = "$old_pid" ] || fail "dfs-local up restarted datanode${keep#dn}"
it_wait_live 4
log "phase 4: all 4 datanodes live again; $(it_replicas | wc -l) replica files on disk"
t0=$SECONDS
wait_for "excess replicas deleted down to $REPL per block" \
    check_all_replicated "$REPL" "${all_dns[@]}"
log "phase 4: every block has exactly $REPL replicas after $((SECONDS - t0))s"
# And the count stays there (nothing deleted past the replication, nothing copied again).
sleep 2
probs="$(check_all_replicated "$REPL" "${all_dns[@]}")"
[ -z "$probs" ] || {
    show_state
    fail "phase 4: the replicas changed after settling: $(paste -sd ';' - <<<"$probs")"
}
check_files "phase 4"

# ---- phase 5: a datanode that stalls past nn.dn_dead_ms and wakes up again. The namenode
# drops its locations when it finds it dead and has its blocks copied; its next heartbeat is
# refused, so it registers and reports in full again, and its replicas are then excess.
paused=""
for dn in "${all_dns[@]}"; do
    n="$(find "$IT_STATE/$dn" -path '*/finalized/*' -name 'blk_*.data' -type f | wc -l)"
    if [ "$n" -gt 0 ] && [ "$n" -lt "$nblocks" ]; then paused="$dn"; break; fi
done
[ -n "$paused" ] || paused="${all_dns[0]}"
others=()
for dn in "${all_dns[@]}"; do [ "$dn" = "$paused" ] || others+=("$dn"); done
paused_pid="$(it_pid "datanode${paused#dn}")"
registrations() { grep -c 'registered with namenode' "$IT_STATE/log/datanode${paused#dn}.log"; }
regs_before="$(registrations)"
# A stopped process ignores the cleanup's SIGTERM: wake it first if the test fails (the
# kill's status would be it_cleanup's $?: the test's goes in IT_EXIT_RC).
trap 'IT_EXIT_RC=$?; kill -CONT "$paused_pid" 2>/dev/null || true; it_cleanup' EXIT
log "phase 5: SIGSTOP $paused (pid $paused_pid)"
kill -STOP "$paused_pid"
wait_for "namenode declares $paused dead" check_report 3 -
wait_for "re-replication of $paused's blocks onto ${others[*]}" \
    check_all_replicated "$REPL" "${others[@]}"
log "phase 5: every block has $REPL replicas on ${others[*]}; SIGCONT $paused"
kill -CONT "$paused_pid"
it_wait_live 4
wait_for "excess replicas deleted down to $REPL per block after $paused came back" \
    check_all_replicated "$REPL" "${all_dns[@]}"
[ "$(registrations)" -gt "$regs_before" ] ||
    fail "phase 5: $paused was not made to register again after it was found dead"
[ "$(it_pid "datanode${paused#dn}")" = "$paused_pid" ] || fail "phase 5: $paused was restarted"
log "phase 5: $paused registered again; every block has exactly $REPL replicas"
check_files "phase 5"
it_assert_logs_clean

log "PASS"
