# shellcheck shell=bash
# Shared harness of the integration tests: each test sources this file, calls it_init, then
# it_up to start a private cluster with deploy/dfs-local (binaries from $DFS_BUILD_DIR, state
# and mount in a fresh temp dir, a free port base), and uses the helpers below. On exit the
# trap unmounts and stops exactly the processes this test started (dfs-local down works from
# the cluster's own pid files), prints the logs if the test failed, and removes the temp dir.
#
# Environment:
#   DFS_BUILD_DIR   meson build dir with the binaries (set by tests/integration/meson.build;
#                   default: <repo>/build)
#   DFS_KEEP_TMP=1  keep the temp dir (state, logs, mount point) for debugging
#
# Exit status 77 means skipped (meson counts it so); it is used only when /dev/fuse is missing.
set -euo pipefail

IT_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)"
IT_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DFS_LOCAL="$IT_REPO/deploy/dfs-local"
export DFS_BUILD_DIR="${DFS_BUILD_DIR:-$IT_REPO/build}"
DFS_BUILD_DIR="$(cd "$DFS_BUILD_DIR" && pwd)"
IT_TMP=""
IT_STATE=""
IT_MNT=""
IT_PORT_BASE=""
IT_DATANODES=3
IT_UP_ARGS=()
# shellcheck disable=SC2034 # used by the tests that source this file
MIB=$((1024 * 1024))

log() { echo "[$IT_NAME $(date +%T)] $*"; }
fail() {
    echo "[$IT_NAME] FAIL: $*" >&2
    exit 1
}

# A port base whose whole range (base .. base + count) no TCP socket uses, listening or not,
# taken below the kernel's ephemeral range so outgoing connections (which pick their local
# port from that range) cannot grab one of our ports between this check and the bind.
free_port_base() {
    local count="$1" lo=10000 hi=32000 eph_lo base try p busy used
    read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
    if [ "$eph_lo" -gt $((lo + 1000)) ] && [ "$eph_lo" -le "$hi" ]; then hi=$((eph_lo - 1)); fi
    for try in $(seq 1 200); do
        base=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo - count)))
        used="$(ss -tanH 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)"
        busy=0
        for ((p = base; p <= base + count; p++)); do
            if grep -qx "$p" <<<"$used"; then
                busy=1
                break
            fi
        done
        if [ "$busy" = 0 ]; then
            echo "$base"
            return 0
        fi
        : "$try"
    done
    fail "no free port range found"
}

# The EXIT trap: stops the cluster, prints its logs on failure, removes the temp dir. Its
# exit status is $? (or IT_EXIT_RC, for a trap that runs commands before it).
it_cleanup() {
    local rc=$?
    rc="${IT_EXIT_RC:-$rc}"
    set +e
    if [ -n "$IT_STATE" ] && [ -d "$IT_STATE" ]; then
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
            echo "---- $IT_NAME failed (rc $rc); cluster status and logs:" >&2
            "$DFS_LOCAL" status --state "$IT_STATE" --mount "$IT_MNT" >&2
            local f
            for f in "$IT_STATE"/log/*.log; do
                [ -f "$f" ] || continue
                echo "---- $f (last 40 lines)" >&2
                tail -n 40 "$f" >&2
            done
        fi
        "$DFS_LOCAL" down --state "$IT_STATE" --mount "$IT_MNT" >/dev/null 2>&1 ||
            echo "[$IT_NAME] warning: dfs-local down failed" >&2
    fi
    if [ -n "$IT_TMP" ] && [ "${DFS_KEEP_TMP:-0}" != 1 ]; then
        # Never delete through a mount that is still there.
        if [ -n "$IT_MNT" ] && awk -v d="$IT_MNT" '$2 == d { f = 1 } END { exit !f }' /proc/mounts
        then
            umount -l "$IT_MNT" 2>/dev/null
        fi
        rm -rf --one-file-system "$IT_TMP"
    elif [ -n "$IT_TMP" ]; then
        echo "[$IT_NAME] kept $IT_TMP" >&2
    fi
    exit "$rc"
}

# it_init [DATANODES]: skip without FUSE, check the binaries, make the temp dir, set the trap.
it_init() {
    IT_DATANODES="${1:-3}"
    if [ ! -c /dev/fuse ]; then
        echo "[$IT_NAME] SKIP: /dev/fuse is missing"
        exit 77
    fi
    local p
    for p in dfs-namenode dfs-datanode dfs-fuse dfs dfsadmin; do
        "$DFS_LOCAL" which "$p" >/dev/null || fail "$p is not built in $DFS_BUILD_DIR"
    done
    IT_TMP="$(mktemp -d "${TMPDIR:-/tmp}/dfs-it-$IT_NAME.XXXXXX")"
    IT_STATE="$IT_TMP/state"
    IT_MNT="$IT_TMP/mnt"
    IT_PORT_BASE="$(free_port_base "$IT_DATANODES")"
    trap it_cleanup EXIT
    trap 'exit 130' INT TERM
    export DFS_CONF="$IT_STATE/dfs.conf"
    export DFS_NAMENODE="127.0.0.1:$IT_PORT_BASE"
    log "temp dir $IT_TMP, port base $IT_PORT_BASE, build $DFS_BUILD_DIR"
}

# shellcheck disable=SC2120 # the options are optional
# it_up [dfs-local up options]: starts (or completes) the cluster; options given on the first
# call (e.g. --set dfs.block_size=4M) are remembered for later calls.
it_up() {
    [ $# -gt 0 ] && IT_UP_ARGS+=("$@")
    "$DFS_LOCAL" up --state "$IT_STATE" --mount "$IT_MNT" --port-base "$IT_PORT_BASE" \
        --datanodes "$IT_DATANODES" "${IT_UP_ARGS[@]+"${IT_UP_ARGS[@]}"}" ||
        fail "dfs-local up failed"
}

it_bin() { "$DFS_LOCAL" which "$1"; }

# The CLI tools of the build dir, talking to this test's cluster.
dfs() { "$(it_bin dfs)" -n "$DFS_NAMENODE" "$@"; }
dfsadmin() { "$(it_bin dfsadmin)" -n "$DFS_NAMENODE" "$@"; }

# pid of a cluster process from its pid file ("namenode", "datanode2", "fuse").
it_pid() { cat "$IT_STATE/run/$1.pid"; }

# "live" count from dfsadmin report --json.
it_live_count() {
    local report
    report="$(dfsadmin report --json | tr -d ' \n\t')"
    report="${report#*\"live\":}"
    echo "${report%%[!0-9]*}"
}

it_wait_live() {
    local want="$1" timeout="${2:-60}" deadline live=""
    deadline=$((SECONDS + timeout))
    while [ $SECONDS -lt $deadline ]; do
        live="$(it_live_count 2>/dev/null || true)"
        [ -n "$live" ] && [ "$live" -ge "$want" ] && return 0
        sleep 0.5
    done
    fail "only ${live:-0} of $want datanodes live after ${timeout}s"
}

# Random file of SIZE bytes (head -c from /dev/urandom) at PATH in the temp dir.
it_random_file() {
    local path="$1" size="$2"
    head -c "$size" /dev/urandom >"$path"
    [ "$(stat -c %s "$path")" -eq "$size" ] || fail "could not make $path"
}

# Drops the page cache so reads go to the daemons and the disks again (best effort: a
# container may not allow it).
it_drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || log "note: cannot drop caches here"
}

it_assert_same() {
    cmp "$1" "$2" || fail "$2 differs from $1"
}

# Replica files of the cluster: "DATANODE_DIR BLOCK_ID" per finalized .data file.
it_replicas() {
    local d f base id
    for ((d = 1; d <= IT_DATANODES; d++)); do
        [ -d "$IT_STATE/dn$d" ] || continue
        while IFS= read -r f; do
            base="$(basename "$f" .data)" # blk_<id>_<gen>
            id="${base#blk_}"
            id="${id%_*}"
            echo "dn$d $id"
        done < <(find "$IT_STATE/dn$d" -path '*/finalized/*' -name 'blk_*.data' -type f)
    done
}

# Prints the paths of the finalized replica .data files, sorted, once there are exactly COUNT
# (datanodes report a block's files a moment after the write returns); fails after 30 s.
it_replica_files() {
    local count="$1" deadline=$((SECONDS + 30)) files
    while :; do
        mapfile -t files < <(find "$IT_STATE"/dn[0-9]* -path '*/finalized/*' -name 'blk_*.data' \
            -type f | sort)
        [ "${#files[@]}" -eq "$count" ] && break
        [ $SECONDS -lt $deadline ] || fail "want $count replica files, found ${#files[@]}: ${files[*]}"
        sleep 0.5
    done
    printf '%s\n' "${files[@]}"
}

# Fails if a daemon log shows a panic or a sanitizer report (the ASan+UBSan build's daemons
# write them there; CI runs the "sanitized" suite with them).
it_assert_logs_clean() {
    if grep -nE 'PANIC|panic|ASSERT|AddressSanitizer|runtime error|LeakSanitizer' \
        "$IT_STATE"/log/*.log; then
        fail "a daemon log shows a panic or sanitizer report"
    fi
}

# it_one_block COUNT SOURCE: a file of one block was written from SOURCE; waits for its COUNT
# finalized replica files (it_replica_files) and checks they are all that block's and hold
# SOURCE's bytes (replicas are raw data). Sets IT_BLOCK_FILES (their paths, sorted), IT_BLK_ID
# (16 hex digits) and IT_BLK_GEN.
it_one_block() {
    local count="$1" src="$2" base f
    mapfile -t IT_BLOCK_FILES < <(it_replica_files "$count")
    [ "${#IT_BLOCK_FILES[@]}" -eq "$count" ] || fail "want $count replica files"
    base="$(basename "${IT_BLOCK_FILES[0]}" .data)" # blk_<id>_<gen>
    IT_BLK_ID="${base#blk_}"
    IT_BLK_ID="${IT_BLK_ID%_*}"
    # shellcheck disable=SC2034 # read by the tests
    IT_BLK_GEN="${base##*_}"
    for f in "${IT_BLOCK_FILES[@]}"; do
        [ "$(basename "$f" .data)" = "$base" ] ||
            fail "replicas of different blocks: ${IT_BLOCK_FILES[*]}"
        cmp -s "$src" "$f" || fail "replica $f does not hold the file's bytes"
    done
}

# Waits until the mount answers (remounting through dfs-local up if the FUSE daemon died).
it_ensure_mount() {
    if ! mountpoint -q "$IT_MNT" 2>/dev/null || ! ls "$IT_MNT" >/dev/null 2>&1; then
        log "mount is gone; remounting"
        # shellcheck disable=SC2119 # no new options: reuse the first call's
        it_up
    fi
}
