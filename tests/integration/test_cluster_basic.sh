#!/usr/bin/env bash
# A 3-datanode cluster with 4 MiB blocks: report shows 3 live datanodes; a 210 MiB random file
# copied through the mount reads back identical, has the right size, and is stored as
# ceil(size / 4 MiB) blocks with exactly 3 replicas each on 3 different datanodes; mkdir -p,
# mv, rm, rm -r and df work on the mount; the dfs CLI does put/get/cat/ls/stat/mkdir/mv/rm
# without the mount, and what one side writes the other reads.
source "$(dirname "$0")/lib.sh"

BLOCK=$((4 * MIB))
BIG_SIZE=$((210 * MIB + 12345)) # not a multiple of the block or chunk size

it_init 3
it_up --set dfs.block_size=4M

# ---- report
report="$(dfsadmin report --json)"
log "report: $report"
compact="$(tr -d ' \n\t' <<<"$report")"
grep -q '"live":3' <<<"$compact" || fail "report does not show 3 live datanodes"
grep -q '"dead":0' <<<"$compact" || fail "report shows dead datanodes"
[ "$(grep -o '"state":"live"' <<<"$compact" | wc -l)" -eq 3 ] ||
    fail "report does not list 3 datanodes in state live"
dfsadmin report >/dev/null || fail "dfsadmin report (text) failed"

# ---- a big file through the mount
mkdir -p "$IT_MNT/a/b/c"
[ -d "$IT_MNT/a/b/c" ] || fail "mkdir -p on the mount"
it_random_file "$IT_TMP/big" "$BIG_SIZE"
log "copying $BIG_SIZE bytes into the mount"
cp "$IT_TMP/big" "$IT_MNT/a/b/c/big"
it_drop_caches
it_assert_same "$IT_TMP/big" "$IT_MNT/a/b/c/big"
[ "$(stat -c %s "$IT_MNT/a/b/c/big")" -eq "$BIG_SIZE" ] || fail "stat size"
# shellcheck disable=SC2012 # ls on the mount is what is under test
ls_size="$(ls -l "$IT_MNT/a/b/c" | awk '$NF == "big" { print $5 }')"
[ "$ls_size" = "$BIG_SIZE" ] || fail "ls -l shows size '$ls_size', want $BIG_SIZE"
if [ ! -f "$IT_MNT/a/b/c/big" ] || [ ! -d "$IT_MNT/a/b" ]; then fail "file types on the mount"; fi

# ---- replicas on disk: ceil(size / block) blocks, 3 replicas each on 3 datanodes
want_blocks=$(((BIG_SIZE + BLOCK - 1) / BLOCK))
deadline=$((SECONDS + 30))
while :; do
    replicas="$(it_replicas)"
    n_ids="$(awk '{ print $2 }' <<<"$replicas" | sort -u | grep -c . || true)"
    n_files="$(grep -c . <<<"$replicas" || true)"
    [ "$n_ids" -eq "$want_blocks" ] && [ "$n_files" -eq $((3 * want_blocks)) ] && break
    [ $SECONDS -lt $deadline ] ||
        fail "found $n_ids block ids and $n_files replica files; want $want_blocks and $((3 * want_blocks))"
    sleep 1
done
bad="$(sort -u <<<"$replicas" | awk '{ n[$2]++ } END { for (id in n) if (n[id] != 3) print id, n[id] }')"
[ -z "$bad" ] || fail "blocks without 3 replicas on 3 different datanodes: $bad"
log "$want_blocks blocks, 3 replicas each on 3 datanodes"
for ((d = 1; d <= 3; d++)); do
    [ -n "$(find "$IT_STATE/dn$d" -path '*/finalized/*' -name 'blk_*.csum' -print -quit)" ] ||
        fail "datanode $d has no .csum files"
done

# ---- fsync: the open block goes with SYNC, earlier blocks get DN_SYNC on every replica
head -c $((9 * MIB + 100)) "$IT_TMP/big" >"$IT_TMP/synced"
dd if="$IT_TMP/synced" of="$IT_MNT/synced" bs=1M conv=fsync status=none ||
    fail "dd conv=fsync into the mount failed"
it_assert_same "$IT_TMP/synced" "$IT_MNT/synced"
if grep -h "sync failed" "$IT_STATE"/log/datanode*.log; then fail "a datanode failed DN_SYNC"; fi
rm "$IT_MNT/synced"

# ---- mv, rm, rm -r on the mount
mv "$IT_MNT/a/b/c/big" "$IT_MNT/a/big2"
[ ! -e "$IT_MNT/a/b/c/big" ] || fail "mv left the source"
it_assert_same "$IT_TMP/big" "$IT_MNT/a/big2"
rm "$IT_MNT/a/big2"
[ ! -e "$IT_MNT/a/big2" ] || fail "rm did not remove the file"
mkdir -p "$IT_MNT/d/e/f"
it_random_file "$IT_TMP/small" $((100 * 1024 + 7))
cp "$IT_TMP/small" "$IT_MNT/d/e/f/small"
echo hello >"$IT_MNT/d/e/hello.txt"
[ "$(cat "$IT_MNT/d/e/hello.txt")" = hello ] || fail "small text file"
: >"$IT_MNT/d/empty"
[ "$(stat -c %s "$IT_MNT/d/empty")" -eq 0 ] || fail "empty file size"
# shellcheck disable=SC2012 # ls on the mount is what is under test
[ "$(ls "$IT_MNT/d/e" | tr '\n' ' ')" = "f hello.txt " ] || fail "ls of d/e: $(ls "$IT_MNT/d/e")"
rm -r "$IT_MNT/d"
[ ! -e "$IT_MNT/d" ] || fail "rm -r did not remove the tree"
rmdir "$IT_MNT/a/b/c" "$IT_MNT/a/b" "$IT_MNT/a"
[ -z "$(ls -A "$IT_MNT")" ] || fail "mount not empty after removing everything: $(ls -A "$IT_MNT")"

# ---- df
read -r df_size df_avail < <(df -B1 --output=size,avail "$IT_MNT" | tail -n1)
log "df: size $df_size avail $df_avail"
[ "$df_size" -gt 0 ] || fail "df size is $df_size"
[ "$df_avail" -le "$df_size" ] || fail "df avail $df_avail > size $df_size"

# ---- the dfs CLI without the mount
dfs mkdir -p /cli/x/y
it_random_file "$IT_TMP/cli" $((9 * MIB + 3)) # three blocks, the last partial
dfs put "$IT_TMP/cli" /cli/x/y/file
dfs get /cli/x/y/file "$IT_TMP/cli.get"
it_assert_same "$IT_TMP/cli" "$IT_TMP/cli.get"
dfs cat /cli/x/y/file | cmp - "$IT_TMP/cli" || fail "dfs cat differs"
# (Output is captured first: with pipefail, `cmd | grep -q` fails when grep exits early.)
out="$(dfs ls /cli/x/y)"
grep -qw file <<<"$out" || fail "dfs ls does not list the file: $out"
out="$(dfs ls -l /cli/x/y)"
grep -w file <<<"$out" | grep -qw $((9 * MIB + 3)) || fail "dfs ls -l size: $out"
out="$(dfs stat /cli/x/y/file)"
grep -qw $((9 * MIB + 3)) <<<"$out" || fail "dfs stat size: $out"
dfs mv /cli/x/y/file /cli/moved
dfs stat /cli/x/y/file >/dev/null 2>&1 && fail "dfs mv left the source"
dfs cat /cli/moved | cmp - "$IT_TMP/cli" || fail "moved file differs"
# What the CLI wrote, the mount reads; what the mount writes, the CLI reads.
it_assert_same "$IT_TMP/cli" "$IT_MNT/cli/moved"
cp "$IT_TMP/small" "$IT_MNT/cli/from-mount"
dfs cat /cli/from-mount | cmp - "$IT_TMP/small" || fail "CLI read of a file written via mount"
dfs rm /cli/moved
dfs stat /cli/moved >/dev/null 2>&1 && fail "dfs rm did not remove the file"
dfs rm -r /cli
out="$(dfs ls /)"
grep -qw cli <<<"$out" && fail "dfs rm -r did not remove /cli: $out"
# After a change in a directory the mount answers the directory's attributes from the change's
# answer instead of asking again: they must be the namenode's, as a later fresh look shows
# (mtime to the millisecond, and nlink after mkdir and rmdir).
mkdir "$IT_MNT/dattr"
dir_attrs() { stat -c '%.3Y %.3Z %h' "$IT_MNT/dattr"; }
for step in "touch $IT_MNT/dattr/a" "mkdir $IT_MNT/dattr/sub" "rm $IT_MNT/dattr/a" \
    "rmdir $IT_MNT/dattr/sub"; do
    before="$(dir_attrs)"
    $step
    now="$(dir_attrs)"
    [ "$now" != "$before" ] || fail "after '$step' the directory's attributes did not change"
    sleep 1.2 # past the attribute timeout: the next stat asks the namenode
    [ "$(dir_attrs)" = "$now" ] || fail "after '$step': '$now' then '$(dir_attrs)' from the namenode"
done
[ "$(stat -c %h "$IT_MNT/dattr")" = 2 ] || fail "nlink of an empty directory"
rmdir "$IT_MNT/dattr"
# In a directory the mount made and alone changed, it answers a new name's lookup itself
# ("absent"); a name another client (the CLI) creates there shows at once after the mount's
# next change in it (whose answer shows the other change), else within the entry timeout.
mkdir "$IT_MNT/dnames"
touch "$IT_MNT/dnames/mine"
dfs put "$IT_TMP/small" /dnames/theirs
touch "$IT_MNT/dnames/mine2"
[ -e "$IT_MNT/dnames/theirs" ] || fail "a name another client created is hidden after a change"
cmp "$IT_MNT/dnames/theirs" "$IT_TMP/small" || fail "another client's file differs"
dfs put "$IT_TMP/small" /dnames/listed
ls "$IT_MNT/dnames" | grep -qx listed || fail "a listing does not show another client's name"
[ -e "$IT_MNT/dnames/listed" ] || fail "a name just listed is hidden"
touch "$IT_MNT/dnames/mine3"
dfs put "$IT_TMP/small" /dnames/later
sleep 1.2 # past the entry timeout, without a change by the mount
[ -e "$IT_MNT/dnames/later" ] || fail "another client's name hidden past the entry timeout"
for n in mine mine2 mine3 theirs listed later; do rm "$IT_MNT/dnames/$n"; done
rmdir "$IT_MNT/dnames" || fail "directory not empty after removing every name"
# A listing asks the namenode; attributes and names the mount saw may stay cached for the
# attribute timeout (1 s; this mount created a file in /cli a moment ago).
ls "$IT_MNT" | grep -qx cli && fail "mount still lists /cli"
sleep 1.2
[ ! -e "$IT_MNT/cli" ] || fail "mount still shows /cli"
dfs get /no/such/file "$IT_TMP/none" 2>/dev/null && fail "dfs get of a missing file succeeded"

log "PASS"
