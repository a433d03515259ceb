#!/usr/bin/env bash
# Runs file system test suites that this project did not write against a mount of the FUSE
# passthrough example, and, as a baseline, against its source directory on the backing file
# system: every stressor of stress-ng's "filesystem" class, one at a time, and dbench.
# pjdfstest is not packaged by Debian, so it is not run.
#
# Usage (root; installs stress-ng and dbench with apt-get when they are missing):
#   examples/fuse_passthrough/fs_suite.sh
# Environment:
#   MODES="uring devfuse"  transports to test (enable_uring = Y / N, restored afterwards)
#   SERVER_OPTS=""         extra server options (e.g. --writeback, --passthrough, --direct-io)
#   STRESS_SECS=3          seconds per stress-ng stressor
#   DBENCH_SECS=20         seconds of dbench (4 clients, the packaged client.txt load)
#   BASELINE=1             also run everything on the source directory (0: mount only)
#   WORKDIR=/var/tmp       where the source directory and mount point are created
#   CARGO_TARGET_DIR       where to build the example (default: target)
#
# Output: one line per stressor and mode (pass / fail / skip, with stress-ng's reason), the
# dbench throughput, then the counts. Exit status 1 when a stressor passes on the source
# directory but fails on a mount (or dbench fails on a mount), else 0.
set -euo pipefail

MODES=${MODES:-uring devfuse}
SERVER_OPTS=${SERVER_OPTS:-}
STRESS_SECS=${STRESS_SECS:-3}
DBENCH_SECS=${DBENCH_SECS:-20}
BASELINE=${BASELINE:-1}
WORKDIR=${WORKDIR:-/var/tmp}
PARAM=/sys/module/fuse/parameters/enable_uring

if [ "$(id -u)" -ne 0 ]; then
    echo "fs_suite.sh: needs root (mount(2), $PARAM)" >&2
    exit 1
fi
need=()
command -v stress-ng >/dev/null || need+=(stress-ng)
command -v dbench >/dev/null || need+=(dbench)
if [ ${#need[@]} -gt 0 ]; then
    echo "fs_suite.sh: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
fi
LOADFILE=$(dpkg -L dbench 2>/dev/null | grep '/client.txt$' | head -n 1 || true)

cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release --example fuse_passthrough
BIN=$TARGET/release/examples/fuse_passthrough

WORK=$(mktemp -d "$WORKDIR/fuse-suite.XXXXXX")
SRC=$WORK/src
MNT=$WORK/mnt
LOGS=$WORK/logs
mkdir -p "$SRC" "$MNT" "$LOGS"
OLD_PARAM=$(cat "$PARAM" 2>/dev/null || echo "")
SPID=""

cleanup() {
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill -TERM "$SPID" 2>/dev/null || true
        sleep 2
        kill -KILL "$SPID" 2>/dev/null || true
    fi
    if grep -q " $MNT fuse" /proc/mounts; then
        umount -l "$MNT" || true
    fi
    if [ -n "$OLD_PARAM" ] && [ -e "$PARAM" ]; then
        echo "$OLD_PARAM" >"$PARAM" || true
    fi
    if ! grep -q " $MNT " /proc/mounts; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # mode
    [ -e "$PARAM" ] && { [ "$1" = uring ] && echo Y >"$PARAM" || echo N >"$PARAM"; }
    # shellcheck disable=SC2086
    "$BIN" $SERVER_OPTS "$SRC" "$MNT" >"$WORK/server.out" 2>"$WORK/server.err" &
    SPID=$!
    for _ in $(seq 200); do
        grep -q '^READY' "$WORK/server.out" && break
        kill -0 "$SPID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
        sleep 0.05
    done
    grep -q "^READY mode=$1 " "$WORK/server.out" ||
        { echo "server came up as: $(cat "$WORK/server.out") (wanted $1)" >&2; exit 1; }
    echo "  server: $(grep '^READY' "$WORK/server.out")" >&2
}

stop_server() {
    kill -TERM "$SPID"
    wait "$SPID" || true
    SPID=""
    grep '^STATS' "$WORK/server.out" | cut -c1-160 | sed 's/^/  server: /' >&2 || true
    if grep -q "not implemented" "$WORK/server.err"; then
        grep "not implemented" "$WORK/server.err" | sed 's/^/  server: /' >&2
    fi
    if grep -q " $MNT fuse" /proc/mounts; then
        echo "fs_suite.sh: the server left its mount" >&2
        exit 1
    fi
}

STRESSORS=$(stress-ng --class 'filesystem?' 2>&1 | sed -n "s/^class 'filesystem' stressors: //p")
[ -n "$STRESSORS" ] || { echo "fs_suite.sh: stress-ng lists no filesystem stressors" >&2; exit 1; }

declare -A RESULT
# run_stressor WHERE DIR NAME -> RESULT[WHERE,NAME] = pass | fail | skip: reason
run_stressor() {
    local where=$1 dir=$2 s=$3 log=$LOGS/$1-$3.log rc=0 fresh
    fresh=$(mktemp -d "$dir/sng.XXXXXX")
    timeout -k 10 $((STRESS_SECS * 4 + 60)) \
        stress-ng --"$s" 1 -t "$STRESS_SECS" --temp-path "$fresh" --verify >"$log" 2>&1 || rc=$?
    rm -rf "$fresh" 2>/dev/null || true
    local why
    why=$(grep -m1 -i -E "skipping|not supported|not implemented|aborted early|disabled '$s'" "$log" |
        sed -e 's/^stress-ng: [a-z]*: *\[[0-9]*\] //' | cut -c1-90 || true)
    if [ "$rc" = 0 ] && [ -z "$why" ]; then
        RESULT[$where,$s]=pass
    elif [ "$rc" = 0 ] || [ "$rc" = 3 ] || [ "$rc" = 4 ] || grep -q "disabled '$s'" "$log"; then
        # (a stressor disabled as pathological, such as bind-mount, invokes no worker: exit 1)
        # 3: out of resources / unsupported here, 4: not implemented (stress-ng's codes)
        RESULT[$where,$s]="skip: ${why:-exit $rc}"
    else
        why=$(grep -m1 -i -E 'fail|error' "$log" | sed -e 's/^stress-ng: [a-z]*: *\[[0-9]*\] //' | cut -c1-90 || true)
        RESULT[$where,$s]="fail: exit $rc ${why}"
    fi
    printf '  %-8s %-12s %s\n' "$where" "$s" "${RESULT[$where,$s]}" >&2
}

declare -A DBENCH
run_dbench() { # WHERE DIR
    local where=$1 dir=$2 log=$LOGS/$1-dbench.log rc=0 fresh
    if [ -z "$LOADFILE" ]; then
        DBENCH[$where]="skip: no client.txt in the dbench package"
        return
    fi
    fresh=$(mktemp -d "$dir/dbench.XXXXXX")
    timeout -k 10 $((DBENCH_SECS + 120)) dbench -c "$LOADFILE" -D "$fresh" -t "$DBENCH_SECS" 4 >"$log" 2>&1 || rc=$?
    rm -rf "$fresh" 2>/dev/null || true
    local tput
    tput=$(grep -m1 '^Throughput' "$log" || true)
    # An operation that failed is reported as "[line] op ... failed ..." or "ERROR"; "failed to
    # create barrier semaphore" is not one (dbench goes on without the semaphore).
    local bad='ERROR|Child failed|^\[[0-9]+\] '
    if [ "$rc" = 0 ] && [ -n "$tput" ] && ! grep -q -E "$bad" "$log"; then
        DBENCH[$where]="pass: $tput"
    else
        DBENCH[$where]="fail: exit $rc $(grep -m1 -E "$bad" "$log" | cut -c1-100 || true)"
    fi
    echo "  $where dbench: ${DBENCH[$where]}" >&2
}

echo "fs_suite.sh: kernel $(uname -r), stress-ng $(stress-ng --version | awk '{print $3}'), ${STRESS_SECS}s per stressor," \
    "dbench ${DBENCH_SECS}s x 4 clients, SERVER_OPTS='$SERVER_OPTS'" >&2
wheres=()
if [ "$BASELINE" = 1 ]; then
    echo "source directory (baseline)" >&2
    for s in $STRESSORS; do run_stressor raw "$SRC" "$s"; done
    run_dbench raw "$SRC"
    wheres+=(raw)
fi
for mode in $MODES; do
    echo "mount, $mode" >&2
    start_server "$mode"
    for s in $STRESSORS; do run_stressor "$mode" "$MNT" "$s"; done
    run_dbench "$mode" "$MNT"
    stop_server
    wheres+=("$mode")
done

status=0
echo
printf '| stressor |'; for w in "${wheres[@]}"; do printf ' %s |' "$w"; done; echo
printf '|---|'; for _ in "${wheres[@]}"; do printf -- '---|'; done; echo
for s in $STRESSORS; do
    printf '| %s |' "$s"
    for w in "${wheres[@]}"; do printf ' %s |' "${RESULT[$w,$s]}"; done
    echo
done
printf '| dbench |'; for w in "${wheres[@]}"; do printf ' %s |' "${DBENCH[$w]}"; done; echo
echo
for w in "${wheres[@]}"; do
    p=0 f=0 k=0
    for s in $STRESSORS; do
        case "${RESULT[$w,$s]}" in
        pass) p=$((p + 1)) ;;
        fail*) f=$((f + 1)) ;;
        *) k=$((k + 1)) ;;
        esac
    done
    echo "$w: stress-ng $p passed, $f failed, $k skipped; dbench ${DBENCH[$w]%%:*}"
done
for mode in $MODES; do
    for s in $STRESSORS; do
        if [[ "${RESULT[$mode,$s]}" == fail* ]] && { [ "$BASELINE" != 1 ] || [ "${RESULT[raw,$s]}" = pass ]; }; then
            echo "FAILED on the $mode mount: $s (${RESULT[$mode,$s]})"
            status=1
        fi
    done
    if [[ "${DBENCH[$mode]}" == fail* ]]; then
        echo "FAILED on the $mode mount: dbench"
        status=1
    fi
done
exit $status
