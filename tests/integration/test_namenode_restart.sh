#!/usr/bin/env bash
# The namespace survives a namenode crash: files written through the mount and the CLI are
# all there, byte for byte, after `kill -9` of the namenode and a restart by `dfs-local up`
# (which starts only the namenode); the datanodes re-register on their own, and the cluster
# takes new writes afterwards.
source "$(dirname "$0")/lib.sh"

it_init 3
it_up --set dfs.block_size=1M

# ---- files of several shapes, through the mount and the CLI
mkdir -p "$IT_MNT/dir/sub" "$IT_MNT/emptydir"
names=(empty tiny chunk multi)
sizes=(0 1 $((64 * 1024)) $((5 * MIB + 4321)))
for i in "${!names[@]}"; do
    it_random_file "$IT_TMP/${names[$i]}" "${sizes[$i]}"
    cp "$IT_TMP/${names[$i]}" "$IT_MNT/dir/sub/${names[$i]}"
done
it_random_file "$IT_TMP/viacli" $((3 * MIB + 17))
dfs put "$IT_TMP/viacli" /dir/viacli
mv "$IT_MNT/dir/sub/tiny" "$IT_MNT/dir/tiny-renamed"
rm "$IT_MNT/dir/sub/chunk"
sync

check_all() {
    local how="$1" n
    it_ensure_mount
    it_drop_caches
    it_assert_same "$IT_TMP/empty" "$IT_MNT/dir/sub/empty"
    it_assert_same "$IT_TMP/multi" "$IT_MNT/dir/sub/multi"
    it_assert_same "$IT_TMP/tiny" "$IT_MNT/dir/tiny-renamed"
    it_assert_same "$IT_TMP/viacli" "$IT_MNT/dir/viacli"
    [ ! -e "$IT_MNT/dir/sub/chunk" ] || fail "$how: removed file came back"
    [ ! -e "$IT_MNT/dir/sub/tiny" ] || fail "$how: renamed file is also at its old name"
    [ -d "$IT_MNT/emptydir" ] || fail "$how: empty directory lost"
    for n in multi empty; do
        rm -f "$IT_TMP/got"
        dfs get "/dir/sub/$n" "$IT_TMP/got" || fail "$how: dfs get /dir/sub/$n"
        it_assert_same "$IT_TMP/$n" "$IT_TMP/got"
    done
    rm -f "$IT_TMP/got"
    dfs get /dir/viacli "$IT_TMP/got" || fail "$how: dfs get /dir/viacli"
    it_assert_same "$IT_TMP/viacli" "$IT_TMP/got"
    log "$how: every file intact"
}
check_all "before the crash"

# ---- crash the namenode and start it again
nn_pid="$(it_pid namenode)"
dn_pids="$(cat "$IT_STATE"/run/datanode*.pid | sort | tr '\n' ' ')"
log "kill -9 namenode (pid $nn_pid)"
kill -9 "$nn_pid"
while kill -0 "$nn_pid" 2>/dev/null; do sleep 0.1; done
it_up
[ "$(it_pid namenode)" != "$nn_pid" ] || fail "namenode was not restarted"
[ "$(cat "$IT_STATE"/run/datanode*.pid | sort | tr '\n' ' ')" = "$dn_pids" ] ||
    fail "dfs-local up restarted datanodes that were running"
it_wait_live 3
check_all "after the restart"

# ---- the restarted namenode takes new writes
it_random_file "$IT_TMP/after" $((2 * MIB + 5))
cp "$IT_TMP/after" "$IT_MNT/dir/after"
it_assert_same "$IT_TMP/after" "$IT_MNT/dir/after"

# ---- and a clean stop (SIGTERM checkpoints) followed by a restart keeps everything too
"$DFS_LOCAL" down --state "$IT_STATE" --mount "$IT_MNT" >/dev/null
it_up
it_wait_live 3
check_all "after down and up"
it_assert_same "$IT_TMP/after" "$IT_MNT/dir/after"

log "PASS"
