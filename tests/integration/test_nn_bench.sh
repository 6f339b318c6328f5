#!/usr/bin/env bash
# dfs-nn-bench against a real namenode (the benchmark's namenode figures come from it): every
# phase (create, lookup, rename, delete) completes and prints its figures, and the memory mode
# (--blocks 1 --keep, with the fake datanodes it registers) prints bytes per file. The
# figures themselves are not checked: tests never assert timings.
source "$(dirname "$0")/lib.sh"

it_init 3
it_up
bench="$DFS_BUILD_DIR/tests/bench/dfs-nn-bench"
[ -x "$bench" ] || fail "dfs-nn-bench is not built in $DFS_BUILD_DIR"

out="$("$bench" -n "$DFS_NAMENODE" -C dfs-local -t 2 -f 200 2>&1)" ||
    fail "dfs-nn-bench failed: $out"
for phase in create lookup rename delete; do
    grep -Eq "^nn_${phase}_ops_per_s [0-9]+$" <<<"$out" || fail "no $phase figure: $out"
    grep -Eq "^nn_${phase}_p99_us [0-9.]+$" <<<"$out" || fail "no $phase latency: $out"
done
out="$("$bench" -n "$DFS_NAMENODE" -C dfs-local -t 2 -f 100 --blocks 1 --keep \
    -p "$(it_pid namenode)" 2>&1)" || fail "dfs-nn-bench --blocks 1 failed: $out"
grep -Eq "^nn_rss_bytes_per_file [0-9.]+$" <<<"$out" || fail "no bytes per file: $out"
log "every phase ran"
