#!/usr/bin/env bash
# POSIX permission checks on the mount, for callers that are not root: root prepares a tree,
# then commands run as other uids/gids (setpriv, numeric ids with no passwd entries) and every
# check expects the right success or the right error ("Permission denied" for EACCES,
# "Operation not permitted" for EPERM), and that a refused change changed nothing. Covers:
# search (x) on directories for lookup, chdir and access(2); opendir needs r; create, mkdir,
# unlink, rmdir and rename need w+x on the directory; open for read, write and O_TRUNC;
# truncate; chmod/chown/chgrp/utimes by owner or root (touch "now" also with write
# permission); the sticky bit; supplementary groups; exec (root too needs an x bit); root's
# bypass of read/write/search; the owner of new files. Some denials come right after root
# looked up the same name, so a cached lookup must not let another user past a directory.
source "$(dirname "$0")/lib.sh"

export LC_ALL=C # the error texts checked below are the C locale's
umask 022        # new files and directories: 0644 and 0755

NOBODY=65534
USER_A=4001
USER_B=4002
TEAM=4242

# DFS_IT_MOUNT_OPTS: FUSE options for the mount. meson runs this test twice: as dfs-fuse
# mounts by default (it checks permissions itself), and with default_permissions (the kernel
# checks them too), where every answer must be the same.
it_init 1
it_up --set dfs.replication=1 --mount-opts "${DFS_IT_MOUNT_OPTS:-}"
log "mount options: $(awk -v m="$IT_MNT" '$2 == m { print $4 }' /proc/mounts)"
# mktemp made the temp dir 0700: other users must be able to reach the mount point inside it.
chmod 0711 "$IT_TMP"

# as_user UID GID GROUPS CMD...: runs CMD in the mount's root as UID:GID with the
# supplementary groups GROUPS (comma-separated gids, or - for none). setpriv keeps root's
# capabilities up to its execve (it sets the groups after the uid), so the program it starts
# is checked for exec as if by root; it starts env, which then starts CMD without them.
as_user() {
    local uid="$1" gid="$2" groups="$3"
    shift 3
    local gopt=(--clear-groups)
    [ "$groups" = - ] || gopt=("--groups=$groups")
    (cd "$IT_MNT" && setpriv --reuid="$uid" --regid="$gid" "${gopt[@]}" -- env -- "$@")
}
as_nobody() { as_user "$NOBODY" "$NOBODY" - "$@"; }

OUT=""
# expect_ok CMD...: CMD must succeed; its stdout is left in OUT.
expect_ok() {
    local rc=0
    OUT="$("$@" 2>"$IT_TMP/stderr")" || rc=$?
    [ "$rc" -eq 0 ] || fail "'$*' failed (rc $rc): $(cat "$IT_TMP/stderr")"
}
# expect_fail TEXT CMD...: CMD must fail and say TEXT on stderr.
expect_fail() {
    local want="$1" rc=0 err
    shift
    OUT="$("$@" 2>"$IT_TMP/stderr")" || rc=$?
    err="$(cat "$IT_TMP/stderr")"
    [ "$rc" -ne 0 ] || fail "'$*' succeeded; want '$want' (stdout: $OUT, stderr: $err)"
    grep -qF -- "$want" <<<"$err" || fail "'$*' failed (rc $rc) without '$want': $err"
}
EACCES="Permission denied"
EPERM="Operation not permitted"
# expect_true / expect_false CMD...: exit status only (test -r and the like print nothing).
expect_true() { "$@" || fail "'$*' is false"; }
expect_false() { ! "$@" || fail "'$*' is true"; }

# Checks as root on the mount (paths relative to it).
exists() { [ -e "$IT_MNT/$1" ] || fail "$1 is gone"; }
absent() { [ ! -e "$IT_MNT/$1" ] || fail "$1 exists"; }
content_is() {
    local got
    got="$(cat "$IT_MNT/$1")"
    [ "$got" = "$2" ] || fail "$1 holds '$got', want '$2'"
}
stat_is() { # stat_is FORMAT PATH WANT
    local got
    got="$(stat -c "$1" "$IT_MNT/$2")"
    [ "$got" = "$3" ] || fail "stat -c $1 $2 is '$got', want '$3'"
}
mode_is() { stat_is %a "$1" "$2"; }
owner_is() { stat_is %u:%g "$1" "$2"; }

OLD_TIME="2001-01-01 00:00:00"
OLD_EPOCH="$(date -d "$OLD_TIME" +%s)"

prepare_tree() {
    log "preparing the tree as root"
    cd "$IT_MNT" || fail "cannot cd to the mount"
    mkdir priv ro ro/sub pub pub/rd tmp tmp2 team
    echo f >priv/f
    echo existing >ro/existing
    echo "top secret" >secret
    echo "public data" >public
    echo shared >shared
    touch -d "$OLD_TIME" shared
    printf '#!/bin/sh\necho ran\n' >run.sh
    printf '#!/bin/sh\necho ran\n' >plain.sh
    chmod 0700 priv
    chmod 0755 ro ro/sub pub/rd
    chmod 0600 secret
    chmod 0644 public plain.sh
    chmod 0666 shared
    chmod 0777 pub
    chmod 1777 tmp
    chown "$USER_B:$USER_B" tmp2
    chmod 1777 tmp2
    chown "0:$TEAM" team
    chmod 0770 team
    chmod 0700 run.sh
    cd / || fail "cannot cd to /"
    mode_is priv 700
    mode_is tmp 1777
    owner_is team "0:$TEAM"
}

check_search_and_list() {
    log "1. a 0700 directory of root: no opendir, lookup, chdir or access for others"
    expect_fail "$EACCES" as_nobody ls priv
    expect_ok stat "$IT_MNT/priv/f" # root's lookup is cached now: it must not let others by
    expect_fail "$EACCES" as_nobody stat priv/f
    expect_ok cat "$IT_MNT/priv/f"
    expect_fail "$EACCES" as_nobody cat priv/f
    expect_fail "$EACCES" as_nobody bash -c 'cd priv' # (dash's cd does not print the errno)
    expect_false as_nobody test -r priv
    expect_false as_nobody test -x priv
    expect_false as_nobody test -e priv/f
    expect_true as_nobody test -x ro
    expect_true as_nobody test -r ro
    expect_ok as_nobody bash -c 'cd ro && cat existing'
    [ "$OUT" = existing ] || fail "cat in ro after cd read '$OUT'"
}

check_readonly_dir() {
    log "2. a 0755 directory of root: no create, mkdir, unlink, rmdir or rename for others"
    expect_fail "$EACCES" as_nobody touch ro/new
    absent ro/new
    expect_fail "$EACCES" as_nobody sh -c 'echo x >ro/new2'
    absent ro/new2
    expect_fail "$EACCES" as_nobody mkdir ro/d
    absent ro/d
    # mknod(2) of a regular file (mknod(1) makes only devices and fifos, which dfs refuses;
    # Linux checks the directory's permission first, so a fifo is refused with EACCES here).
    if [ -x /usr/bin/python3 ]; then
        expect_fail "$EACCES" as_nobody /usr/bin/python3 -c 'import os; os.mknod("ro/node")'
        absent ro/node
    else
        log "note: no /usr/bin/python3; mknod of a regular file not checked"
    fi
    expect_fail "$EACCES" as_nobody mknod ro/fifo p
    absent ro/fifo
    expect_fail "$EACCES" as_nobody rm -f ro/existing
    content_is ro/existing existing
    expect_fail "$EACCES" as_nobody rmdir ro/sub
    exists ro/sub
    expect_fail "$EACCES" as_nobody mv ro/existing ro/other
    content_is ro/existing existing
    absent ro/other
    expect_fail "$EACCES" as_nobody mv ro/existing pub/moved
    exists ro/existing
    absent pub/moved
    # Into a directory the user cannot write, from one they can.
    expect_ok as_nobody sh -c 'echo mine >pub/mine-to-move'
    expect_fail "$EACCES" as_nobody mv pub/mine-to-move ro/mine
    exists pub/mine-to-move
    absent ro/mine
    expect_ok as_nobody rm pub/mine-to-move
    # Renaming root's directory inside a 0777 directory is fine; moving it to another parent
    # needs w on the directory itself (its ".." changes).
    expect_ok as_nobody mkdir pub/udir
    expect_ok as_nobody mv pub/rd pub/rd2
    exists pub/rd2
    absent pub/rd
    expect_fail "$EACCES" as_nobody mv pub/rd2 pub/udir/rd
    exists pub/rd2
    absent pub/udir/rd
}

check_file_access() {
    log "3. files: read needs r, write and truncate need w"
    expect_fail "$EACCES" as_nobody cat secret
    expect_ok as_nobody cat public
    [ "$OUT" = "public data" ] || fail "nobody read '$OUT' from public"
    expect_fail "$EACCES" as_nobody sh -c 'echo x >>public'
    content_is public "public data"
    expect_fail "$EACCES" as_nobody sh -c ': >public'
    content_is public "public data"
    expect_fail "$EACCES" as_nobody truncate -s 0 public
    stat_is %s public 12
    content_is public "public data"
    expect_fail "$EACCES" as_nobody dd if=/dev/zero of=public bs=1 count=1 conv=notrunc status=none
    content_is public "public data"
    expect_false as_nobody test -w public
    expect_true as_nobody test -r public
    expect_false as_nobody test -r secret
    expect_false as_nobody test -x public
    expect_true as_nobody test -w shared
    # truncate(2) by path (coreutils truncate opens the file and calls ftruncate). The file
    # system truncates only to 0 (or the current size).
    expect_fail "$EACCES" as_nobody perl -e 'truncate("public", 0) or die "$!\n"'
    stat_is %s public 12
    expect_ok as_nobody perl -e 'truncate("shared", 0) or die "$!\n"'
    stat_is %s shared 0
    echo shared >"$IT_MNT/shared"
    expect_ok as_nobody truncate -s 0 shared
    stat_is %s shared 0
    touch -d "$OLD_TIME" "$IT_MNT/shared"
}

check_setattr() {
    log "4. setattr: chmod, chown, chgrp, utimes"
    local before
    expect_fail "$EPERM" as_nobody chmod 777 public
    mode_is public 644
    expect_fail "$EPERM" as_nobody chown "$NOBODY" public
    owner_is public 0:0
    expect_fail "$EPERM" as_nobody chgrp "$NOBODY" public
    owner_is public 0:0
    before="$(stat -c %Y "$IT_MNT/public")"
    # (Without -c, touch opens the file for writing first and reports that open's EACCES.)
    expect_fail "$EPERM" as_nobody touch -c -d "$OLD_TIME" public
    stat_is %Y public "$before"
    expect_fail "$EACCES" as_nobody touch -d "$OLD_TIME" public
    stat_is %Y public "$before"
    expect_fail "$EACCES" as_nobody touch public
    stat_is %Y public "$before"
    # Write permission allows "now" but not explicit times.
    expect_fail "$EPERM" as_nobody touch -d "2002-02-02" shared
    stat_is %Y shared "$OLD_EPOCH"
    expect_ok as_nobody touch shared
    [ "$(stat -c %Y "$IT_MNT/shared")" -gt $((OLD_EPOCH + 86400)) ] ||
        fail "touch by nobody left shared's mtime at $(stat -c %y "$IT_MNT/shared")"
    # The owner (not root) of a file.
    expect_ok as_nobody touch pub/mine
    expect_ok as_nobody chmod 600 pub/mine
    mode_is pub/mine 600
    expect_ok as_nobody touch -d "$OLD_TIME" pub/mine
    stat_is %Y pub/mine "$OLD_EPOCH"
    expect_fail "$EPERM" as_nobody chown "$USER_A" pub/mine
    owner_is pub/mine "$NOBODY:$NOBODY"
    expect_fail "$EPERM" as_nobody chown "$NOBODY:$TEAM" pub/mine
    owner_is pub/mine "$NOBODY:$NOBODY"
    expect_ok as_nobody chown "$NOBODY:$NOBODY" pub/mine # to the same owner: allowed
    expect_fail "$EPERM" as_user "$USER_A" "$USER_A" - chmod 644 pub/mine
    mode_is pub/mine 600
    expect_ok chown "$USER_A:$USER_A" "$IT_MNT/pub/mine"
    owner_is pub/mine "$USER_A:$USER_A"
    # chgrp by the owner: only to a group of theirs.
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" chgrp "$TEAM" pub/mine
    owner_is pub/mine "$USER_A:$TEAM"
    expect_fail "$EPERM" as_user "$USER_A" "$USER_A" "$TEAM" chgrp 5555 pub/mine
    owner_is pub/mine "$USER_A:$TEAM"
    # chmod by an owner outside the file's group drops the setgid bit; inside, it keeps it.
    expect_ok as_user "$USER_A" "$USER_A" - chmod 2755 pub/mine
    mode_is pub/mine 755
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" chmod 2755 pub/mine
    mode_is pub/mine 2755
    expect_ok chmod 0644 "$IT_MNT/pub/mine"
    mode_is pub/mine 644
}

check_sticky() {
    log "5. sticky directories: only the entry's owner, the directory's owner or root removes"
    expect_ok as_user "$USER_A" "$USER_A" - touch tmp/a
    expect_ok as_user "$USER_A" "$USER_A" - touch tmp/a2
    expect_ok as_user "$USER_B" "$USER_B" - touch tmp/b2
    expect_fail "$EPERM" as_user "$USER_B" "$USER_B" - rm -f tmp/a
    exists tmp/a
    expect_fail "$EPERM" as_user "$USER_B" "$USER_B" - mv tmp/a tmp/b
    exists tmp/a
    absent tmp/b
    # The target of a rename, too, if it exists.
    expect_fail "$EPERM" as_user "$USER_B" "$USER_B" - mv -f tmp/b2 tmp/a2
    owner_is tmp/a2 "$USER_A:$USER_A"
    exists tmp/b2
    expect_ok as_user "$USER_B" "$USER_B" - mv tmp/b2 tmp/b3 # one's own entry
    exists tmp/b3
    expect_ok as_user "$USER_A" "$USER_A" - rm tmp/a
    absent tmp/a
    expect_ok rm "$IT_MNT/tmp/a2" # root
    absent tmp/a2
    # tmp2 is 1777 and owned by USER_B: B removes A's entry there, nobody does not.
    expect_ok as_user "$USER_A" "$USER_A" - mkdir tmp2/adir
    expect_ok as_user "$USER_A" "$USER_A" - touch tmp2/a
    expect_fail "$EPERM" as_nobody rm -f tmp2/a
    exists tmp2/a
    expect_fail "$EPERM" as_nobody rmdir tmp2/adir
    exists tmp2/adir
    expect_ok as_user "$USER_B" "$USER_B" - rm tmp2/a
    absent tmp2/a
    expect_ok as_user "$USER_B" "$USER_B" - rmdir tmp2/adir
    absent tmp2/adir
}

check_groups() {
    log "6. supplementary groups"
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" touch team/x
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" sh -c 'echo team-data >team/x'
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" cat team/x
    [ "$OUT" = team-data ] || fail "read '$OUT' from team/x"
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" ls team
    [ "$OUT" = x ] || fail "ls team shows '$OUT'"
    owner_is team/x "$USER_A:$USER_A"
    # The same uid and gid without the group.
    expect_fail "$EACCES" as_user "$USER_A" "$USER_A" - ls team
    expect_fail "$EACCES" as_user "$USER_A" "$USER_A" - touch team/y
    absent team/y
    expect_fail "$EACCES" as_user "$USER_A" "$USER_A" - cat team/x
    expect_false as_user "$USER_A" "$USER_A" - test -w team
    # The group as primary gid works as well; and back to a supplementary one.
    expect_ok as_user "$USER_B" "$TEAM" - touch team/z
    owner_is team/z "$USER_B:$TEAM"
    expect_ok as_user "$USER_A" "$USER_A" "5555,$TEAM" rm team/z
    absent team/z
}

check_exec() {
    log "7. exec"
    expect_fail "$EACCES" as_nobody ./run.sh
    expect_ok "$IT_MNT/run.sh" # root: the owner's x bit
    [ "$OUT" = ran ] || fail "run.sh as root printed '$OUT'"
    chmod 0755 "$IT_MNT/run.sh"
    expect_ok as_nobody ./run.sh
    [ "$OUT" = ran ] || fail "run.sh as nobody printed '$OUT'"
    expect_ok "$IT_MNT/run.sh"
    [ "$OUT" = ran ] || fail "run.sh as root printed '$OUT'"
    expect_fail "$EACCES" env "$IT_MNT/plain.sh" # root too needs an x bit
    expect_fail "$EACCES" as_nobody ./plain.sh
    # x only for the owner's group: others may not, the group may.
    chown "0:$TEAM" "$IT_MNT/run.sh"
    chmod 0754 "$IT_MNT/run.sh"
    expect_fail "$EACCES" as_nobody ./run.sh
    expect_ok as_user "$USER_A" "$USER_A" "$TEAM" ./run.sh
    [ "$OUT" = ran ] || fail "run.sh as a member of the group printed '$OUT'"
}

check_root() {
    log "8. root is not restricted by r, w or search bits"
    expect_ok cat "$IT_MNT/secret"
    [ "$OUT" = "top secret" ] || fail "root read '$OUT' from secret"
    expect_ok touch "$IT_MNT/ro/rootnew"
    exists ro/rootnew
    expect_ok ls "$IT_MNT/priv"
    [ "$OUT" = f ] || fail "ls priv as root shows '$OUT'"
    chmod 0000 "$IT_MNT/secret"
    expect_ok cat "$IT_MNT/secret"
    expect_ok sh -c "echo more >>'$IT_MNT/secret'"
    content_is secret "top secret
more"
    chmod 0000 "$IT_MNT/priv"
    expect_ok ls "$IT_MNT/priv"
    expect_ok bash -c "cd '$IT_MNT/priv' && cat f"
    [ "$OUT" = f ] || fail "root read '$OUT' from priv/f"
    chmod 0700 "$IT_MNT/priv"
    expect_ok rm "$IT_MNT/ro/rootnew" "$IT_MNT/tmp/b3" # in a sticky dir too
    absent ro/rootnew
    absent tmp/b3
}

check_new_owner() {
    log "9. the owner of new files and directories is the caller's uid and primary gid"
    expect_ok as_nobody touch pub/nobody-file
    owner_is pub/nobody-file "$NOBODY:$NOBODY"
    expect_ok as_nobody mkdir pub/nobody-dir
    owner_is pub/nobody-dir "$NOBODY:$NOBODY"
    expect_ok as_user "$USER_B" "$USER_B" "$TEAM" sh -c 'echo b >pub/b-file'
    owner_is pub/b-file "$USER_B:$USER_B"
    expect_ok as_user "$USER_B" "$USER_B" "$TEAM" mkdir pub/b-dir
    owner_is pub/b-dir "$USER_B:$USER_B"
    # A directory made by one user (0755 by the umask) keeps the others out.
    expect_ok as_nobody sh -c 'echo n >pub/nobody-dir/f'
    expect_fail "$EACCES" as_user "$USER_A" "$USER_A" - rm -f pub/nobody-dir/f
    exists pub/nobody-dir/f
    # In a setgid directory new names take its group, and new directories its setgid bit.
    mkdir "$IT_MNT/sgid"
    chown "0:$TEAM" "$IT_MNT/sgid"
    chmod 2777 "$IT_MNT/sgid"
    expect_ok as_user "$USER_A" "$USER_A" - touch sgid/f
    owner_is sgid/f "$USER_A:$TEAM"
    expect_ok as_user "$USER_A" "$USER_A" - mkdir sgid/d
    owner_is sgid/d "$USER_A:$TEAM"
    mode_is sgid/d 2755
    expect_ok as_user "$USER_A" "$USER_A" - touch sgid/d/g
    owner_is sgid/d/g "$USER_A:$TEAM"
}

# Names in a directory not every class may search are not kept by the kernel: every walk
# through it is answered by the mount, which must be right at once after its own changes.
check_private_dir_names() {
    log "10. a 0700 directory: names right after mv, mv over a name, rm, rmdir; sizes after writes"
    local d="$IT_MNT/priv"
    echo one >"$d/n1"
    stat "$d/n1" >/dev/null
    mv "$d/n1" "$d/n2"
    absent priv/n1
    content_is priv/n2 one
    echo two >"$d/n3"
    stat "$d/n3" >/dev/null
    mv "$d/n3" "$d/n2"
    absent priv/n3
    content_is priv/n2 two
    echo longer-content >"$d/n2"
    content_is priv/n2 longer-content
    rm "$d/n2"
    absent priv/n2
    mkdir "$d/sub"
    stat "$d/sub" >/dev/null
    rmdir "$d/sub"
    absent priv/sub
    expect_fail "$EACCES" as_nobody stat priv/f
}

prepare_tree
# priv/f was made while priv was still 0755, so the kernel keeps its name for the entry
# timeout (1 s) and walks through it without asking the mount: a chmod that closes a
# directory applies to names cached before it once they expire (docs/MOUNTING.md). Names
# of a directory that is closed when they are looked up are never kept, which is what
# check_search_and_list tests (root looks priv/f up again there first).
sleep 1.2
check_search_and_list
check_readonly_dir
check_file_access
check_setattr
check_sticky
check_groups
check_exec
check_root
check_new_owner
check_private_dir_names

log "PASS"
