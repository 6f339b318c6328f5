#!/usr/bin/env bash
# A flipped byte in a stored replica never reaches a reader, and the corrupt replica is
# replaced. Reads through the mount and with `dfs cat` return the right bytes every time: the
# datanode verifies each chunk as it reads, answers a bad one with a checksum error, and the
# reader reads that range from another replica. The datanode reports the replica to the
# namenode (DN_BLOCK_CORRUPT), which stops offering it; with 3 datanodes and replication 3
# the only place for a new copy is the datanode holding the corrupt one, so the replication
# monitor has it deleted and then a good replica copied back to the same path: the file is
# again byte for byte the original data (replicas are raw data), and the report counts no
# block under-replicated. This is done for each datanode's replica in turn. Then two replicas
# go bad at once: reads stay right, and the block is repaired from the one good replica.
# (Whether a corrupt one makes room at once depends on which report the monitor sees first:
# it deletes a corrupt replica in the way of the only target only while two good ones remain,
# test_nn_repl.c pins that; so a fourth datanode joins, and a copy can always go there.) Last,
# all three replicas get a bad chunk, each in another place: no replica file may be deleted,
# and reads that fall back replica by replica still get every byte.
#
# Readers pick a replica by a hash of the block and the client's name. `dfs` gets a new name
# per process, so repeated `dfs cat` runs start on different replicas and one soon hits the
# corrupt one; the mount keeps one name and may never try it (it is read anyway: whatever
# replica it prefers, it must get the right bytes).
source "$(dirname "$0")/lib.sh"

CHUNK=$((64 * 1024))
SIZE=$((3 * MIB + 777)) # one block (default 64 MiB), 49 chunks, the last partial
WAIT_SECS=30            # for a replacement; with the monitor working it takes ~1-2 s
READS_MAX=40            # rounds of reads to wait for a report: each `dfs cat` starts on the
                        # corrupt replica with chance 1/3, so 40 all miss it with (2/3)^40 < 1e-7

it_init 3
# Short timings: the monitor runs every 200 ms and only starts nn.dn_dead_ms after the
# namenode; the datanodes fetch its commands with their heartbeats.
it_up --set dfs.heartbeat_ms=200 --set nn.dn_dead_ms=1500 --set nn.replication_interval_ms=200
it_wait_live 3

it_random_file "$IT_TMP/orig" "$SIZE"
cp "$IT_TMP/orig" "$IT_MNT/victim"
it_assert_same "$IT_TMP/orig" "$IT_MNT/victim"

# The three replica files of the one block, one per datanode; a replacement comes back at
# the same path (finalized/subdirXX/blk_<id>_<gen>.data).
it_one_block 3 "$IT_TMP/orig"
files=("${IT_BLOCK_FILES[@]}") blk_id="$IT_BLK_ID" blk_gen="$IT_BLK_GEN"

# ---- helpers

# dn_of FILE: the datanode dir a replica file is in ("dn2"); dn_log DN: that datanode's log.
dn_of() {
    local rel="${1#"$IT_STATE"/}"
    echo "${rel%%/*}"
}
dn_log() { echo "$IT_STATE/log/datanode${1#dn}.log"; }

# Times datanode DN has reported the block's replica corrupt (a read or a copy found it so).
reports() {
    grep -cF "replica blk=$blk_id gen=$blk_gen is corrupt: reporting it" "$(dn_log "$1")" || true
}
# Copies of the block any datanode has made (`copied blk=...` in the source's log).
copies() { cat "$IT_STATE"/log/datanode*.log | grep -cF "copied blk=$blk_id gen=$blk_gen" || true; }
# Monitor ticks that ordered corrupt replicas deleted (the namenode's `replication:` lines).
corrupt_deletes() {
    grep -cE 'replication: .* and [1-9][0-9]* corrupt replicas deleted' "$IT_STATE/log/namenode.log" ||
        true
}

# flip FILE OFFSET: xor one byte in place (conv=notrunc keeps the rest of the file).
flip() {
    local file="$1" off="$2" old new
    old="$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')"
    new=$((old ^ 0x5a))
    printf '%b' "\\$(printf '%03o' "$new")" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
    [ "$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')" = "$new" ] || fail "could not flip $file"
    cmp -s "$IT_TMP/orig" "$file" && fail "the flip did not change $file"
    log "flipped byte $off (chunk $((off / CHUNK))) of $(dn_of "$file")'s replica"
}

# read_once HOW: the file through the mount (page cache dropped, so the read reaches the
# datanodes) and with `dfs cat`; each must be the right bytes.
read_once() {
    local how="$1"
    it_drop_caches
    cmp -s "$IT_TMP/orig" "$IT_MNT/victim" || {
        show_state
        fail "$how: reading through the mount returned wrong bytes (or failed)"
    }
    dfs cat /victim | cmp -s - "$IT_TMP/orig" || {
        show_state
        fail "$how: dfs cat returned wrong bytes (or failed)"
    }
}

# read_until_reported HOW DN=COUNT...: reads (read_once) until each DN has reported the
# replica corrupt more than COUNT times; fails after READS_MAX rounds.
read_until_reported() {
    local how="$1" i arg pending
    shift
    for ((i = 1; i <= READS_MAX; i++)); do
        read_once "$how"
        pending=""
        for arg in "$@"; do
            [ "$(reports "${arg%=*}")" -gt "${arg#*=}" ] || pending+=" ${arg%=*}"
        done
        if [ -z "$pending" ]; then
            log "$how: every read right; reported corrupt after $i round(s) of reads"
            return 0
        fi
    done
    show_state
    fail "$how: $READS_MAX rounds of reads, and still no corrupt report from:$pending"
}

# Top-level number KEY of a compacted `dfsadmin report --json`.
json_num() {
    local rest="${1#*\""$2"\":}"
    [ "$rest" != "$1" ] || return 1
    echo "${rest%%[!0-9]*}"
}

# Prints what differs from "exactly the three original replica files, each byte for byte the
# source data, and no block under-replicated"; nothing once that holds.
replica_problems() {
    local f r under n
    for f in "${files[@]}"; do
        if [ ! -f "$f" ]; then
            echo "$(dn_of "$f")'s replica file is missing"
        elif ! cmp -s "$IT_TMP/orig" "$f"; then
            echo "$(dn_of "$f")'s replica differs from the source"
        fi
    done
    n="$(find "$IT_STATE"/dn[0-9]* -path '*/finalized/*' -name 'blk_*.data' -type f | wc -l)"
    [ "$n" -eq 3 ] || echo "$n finalized replica files (want 3)"
    r="$(dfsadmin report --json | tr -d ' \n\t')" || {
        echo "dfsadmin report failed"
        return 0
    }
    under="$(json_num "$r" under_replicated)" || under="?"
    [ "$under" = 0 ] || echo "under_replicated=$under (want 0)"
}

# What a failure needs to be understood (the trap adds the tails of every log).
show_state() {
    local f
    {
        echo "---- replica files of blk $blk_id gen $blk_gen"
        for f in "${files[@]}"; do
            if [ ! -f "$f" ]; then
                echo "$f: MISSING"
            elif cmp -s "$IT_TMP/orig" "$f"; then
                echo "$f: $(stat -c %s "$f") bytes, same as the source"
            else
                echo "$f: $(stat -c %s "$f") bytes, DIFFERS: $(cmp "$IT_TMP/orig" "$f" 2>&1 | head -n 1)"
            fi
        done
        find "$IT_STATE"/dn[0-9]* -name 'blk_*' -type f -printf '%p %s bytes\n' | sort
        echo "---- dfsadmin report"
        dfsadmin report || true
        echo "---- corrupt, copy, delete and replication lines of the logs (by time)"
        for f in "$IT_STATE"/log/*.log; do
            grep -E 'is corrupt|copied blk|copy of|replication:|delete|read failed' "$f" |
                sed "s/^/$(basename "$f" .log): /" || true
        done | sort -k2,2 | tail -n 40
    } >&2
}

# wait_replaced WHAT: waits up to WAIT_SECS until replica_problems prints nothing.
wait_replaced() {
    local what="$1" t0=$SECONDS out
    while :; do
        out="$(replica_problems 2>&1)" || out="${out:-check failed}"
        [ -z "$out" ] && break
        if [ $((SECONDS - t0)) -ge "$WAIT_SECS" ]; then
            show_state
            fail "$what: not replaced after ${WAIT_SECS}s; still: $(paste -sd ';' - <<<"$out")"
        fi
        sleep 0.2
    done
    log "$what: replaced after $((SECONDS - t0))s; the 3 replicas are the source's bytes"
}

# ---- phase 1: each datanode's replica in turn is corrupted, found and replaced
# An offset inside the second chunk, away from chunk edges; replicas are raw data, so the
# same offset is the same byte of the file in every replica.
OFF=$((CHUNK + 4242))
for f in "${files[@]}"; do
    dn="$(dn_of "$f")"
    before="$(reports "$dn")"
    copies_before="$(copies)" deletes_before="$(corrupt_deletes)"
    flip "$f" "$OFF"
    read_until_reported "phase 1, $dn corrupt" "$dn=$before"
    wait_replaced "phase 1, $dn's corrupt replica"
    # The way back: the corrupt one deleted by order of the monitor, then a copy (a datanode
    # logs `copied`) to the datanode now without one.
    [ "$(corrupt_deletes)" -gt "$deletes_before" ] ||
        fail "phase 1: $dn's replica is back, but the namenode logged no corrupt replica deleted"
    [ "$(copies)" -gt "$copies_before" ] || fail "phase 1: $dn's replica is back, but no copy is logged"
    read_once "phase 1, after $dn's replacement"
done

# ---- phase 2: two replicas corrupt at once, in different chunks
# The one good replica serves every read; both corrupt ones are found. If the monitor sees
# both reports before it acts, one good replica is left and the corrupt ones stay (they may
# hold the only good copy of some chunk): a fourth datanode joins so that the good replica can
# be copied there; then, with two good ones, the corrupt ones make room for the third.
dn_a="$(dn_of "${files[0]}")" dn_b="$(dn_of "${files[1]}")"
before_a="$(reports "$dn_a")" before_b="$(reports "$dn_b")"
flip "${files[0]}" "$OFF"
flip "${files[1]}" $((2 * CHUNK + 99))
read_until_reported "phase 2, $dn_a and $dn_b corrupt" "$dn_a=$before_a" "$dn_b=$before_b"
IT_DATANODES=4
# shellcheck disable=SC2119 # no new options: reuse the first call's
it_up
it_wait_live 4
# Prints what differs from "3 finalized replica files, all the source's bytes, none
# under-replicated"; nothing once that holds.
three_good() {
    local f n=0 r under
    while IFS= read -r f; do
        n=$((n + 1))
        cmp -s "$IT_TMP/orig" "$f" || echo "$f differs from the source"
    done < <(find "$IT_STATE"/dn[0-9]* -path '*/finalized/*' -name 'blk_*.data' -type f)
    [ "$n" -eq 3 ] || echo "$n finalized replica files (want 3)"
    r="$(dfsadmin report --json | tr -d ' \n\t')" || return 0
    under="$(json_num "$r" under_replicated)" || under="?"
    [ "$under" = 0 ] || echo "under_replicated=$under (want 0)"
}
t0=$SECONDS
while out="$(three_good)" && [ -n "$out" ]; do
    if [ $((SECONDS - t0)) -ge "$WAIT_SECS" ]; then
        show_state
        fail "phase 2: not repaired after ${WAIT_SECS}s; still: $(paste -sd ';' - <<<"$out")"
    fi
    sleep 0.2
done
log "phase 2: repaired after $((SECONDS - t0))s: 3 replicas, all the source's bytes"
read_once "phase 2, repaired"

# ---- phase 3: all three replicas corrupt, each in another chunk
# No replica is good any more, and the chunks each lacks are good in the other two: none may
# be deleted. Reads fall back replica by replica (the namenode offers corrupt replicas after
# the good ones) and get every byte; a copy from a replica not yet found bad fails on its bad
# chunk (the source verifies what it sends) and reports it.
mapfile -t files < <(find "$IT_STATE"/dn[0-9]* -path '*/finalized/*' -name 'blk_*.data' -type f | sort)
offs=($((1 * CHUNK + 77)) $((20 * CHUNK + 77)) $((40 * CHUNK + 77)))
for i in 0 1 2; do flip "${files[$i]}" "${offs[$i]}"; done
for i in 1 2 3 4 5 6; do read_once "phase 3, every replica corrupt somewhere (read $i)"; done
sleep 2
for f in "${files[@]}"; do
    [ -f "$f" ] || {
        show_state
        fail "phase 3: $(dn_of "$f")'s replica was deleted though no replica was good"
    }
done
n="$(find "$IT_STATE"/dn[0-9]* -path '*/finalized/*' -name 'blk_*.data' -type f | wc -l)"
[ "$n" -eq 3 ] || fail "phase 3: $n replica files, want the 3 corrupt ones (no copy of a bad one)"
read_once "phase 3, after the monitor had time to act"
log "phase 3: every read right; all 3 corrupt replicas still there"
it_assert_logs_clean

log "PASS"
