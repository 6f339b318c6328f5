#!/usr/bin/env bash
# A flipped byte in one stored replica is caught by the chunk checksums and never reaches a
# reader: reads through the mount and with `dfs cat` still return the right bytes (the reader
# gets a checksum error from that replica and reads another). Since the reader picks a replica
# by hashing, the test corrupts each datanode's replica in turn (restoring the previous one),
# so whichever replica a reader prefers, one round makes it hit the bad one.
source "$(dirname "$0")/lib.sh"

it_init 3
# shellcheck disable=SC2119 # default settings
it_up

SIZE=$((3 * MIB + 777)) # one block (default 64 MiB), 49 chunks, the last partial
it_random_file "$IT_TMP/orig" "$SIZE"
cp "$IT_TMP/orig" "$IT_MNT/victim"
it_assert_same "$IT_TMP/orig" "$IT_MNT/victim"

# The three replica files of the one block.
mapfile -t files < <(it_replica_files 3)
[ "${#files[@]}" -eq 3 ] || fail "want 3 replica files"

# flip FILE OFFSET: xor one byte in place (conv=notrunc keeps the rest of the file).
flip() {
    local file="$1" off="$2" old new
    old="$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')"
    new=$((old ^ 0x5a))
    printf '%b' "\\$(printf '%03o' "$new")" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
    [ "$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')" = "$new" ] || fail "could not flip $file"
}

read_back() {
    local how="$1"
    it_drop_caches
    it_assert_same "$IT_TMP/orig" "$IT_MNT/victim"
    dfs cat /victim | cmp - "$IT_TMP/orig" || fail "$how: dfs cat returned wrong bytes"
    rm -f "$IT_TMP/got"
    dfs get /victim "$IT_TMP/got" || fail "$how: dfs get failed"
    it_assert_same "$IT_TMP/orig" "$IT_TMP/got"
}

# An offset inside the second chunk, away from chunk edges; replicas are raw data, so the
# same offset is the same byte of the file.
OFF=$((64 * 1024 + 4242))
for f in "${files[@]}"; do
    [ -f "$f" ] || {
        log "replica $f is gone (deleted as corrupt?); skipping it"
        continue
    }
    log "corrupting $f at byte $OFF"
    flip "$f" "$OFF"
    cmp -s "$IT_TMP/orig" "$f" && fail "corruption did not change $f"
    read_back "replica $(basename "$(dirname "$f")") corrupt"
    # Restore it (if the datanode has not already dropped it) before corrupting the next.
    if [ -f "$f" ]; then
        flip "$f" "$OFF"
    fi
done

# Two of three replicas bad at once: the one good replica still serves the data.
if [ -f "${files[0]}" ] && [ -f "${files[1]}" ] && [ -f "${files[2]}" ]; then
    flip "${files[0]}" "$OFF"
    flip "${files[1]}" $((2 * 64 * 1024 + 99))
    read_back "two replicas corrupt"
fi

if grep -qiE 'csum|checksum' "$IT_STATE"/log/*.log; then
    log "checksum mismatches were logged:"
    grep -hiE 'csum|checksum' "$IT_STATE"/log/*.log | head -n 5 || true
fi
log "PASS"
