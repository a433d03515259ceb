#!/usr/bin/env bash
# fio against the FUSE passthrough example (examples/fuse_passthrough/), served over io_uring
# and over plain /dev/fuse read/write, and against the raw source directory.
#
# Workloads: 1 MiB and 4 KiB random reads and writes, psync engine, 2 jobs sharing one file
# (laid out once, then reused: --invalidate=0, so the raw directory and the server's backing
# reads both start from the page cache). Every configuration runs REPEAT times, interleaved;
# the table shows the median MB/s per workload and the ratios of the medians.
#
# Usage (root; installs fio with apt-get if it is missing):
#   benches/fuse_fio.sh
# Environment:
#   SIZE=1G        file size (fio --size)
#   RUNTIME=10     seconds per workload (time based)
#   REPEAT=3       rounds (median reported)
#   DIRECT=0       fio --direct (1: O_DIRECT, passed through to the backing file)
#   SERVER_OPTS=--direct-io
#                  server options; --direct-io sets FOPEN_DIRECT_IO so that every read and
#                  write reaches the server instead of the FUSE page cache
#   MODES="uring devfuse"
#                  server transports to measure (enable_uring=Y / N, restored afterwards)
#   WORKDIR=/var/tmp  where the source directory and mount point are created
#   CARGO_TARGET_DIR  where to build the example (default: target)
set -euo pipefail

SIZE=${SIZE:-1G}
RUNTIME=${RUNTIME:-10}
REPEAT=${REPEAT:-3}
DIRECT=${DIRECT:-0}
SERVER_OPTS=${SERVER_OPTS:---direct-io}
MODES=${MODES:-uring devfuse}
WORKDIR=${WORKDIR:-/var/tmp}
PARAM=/sys/module/fuse/parameters/enable_uring

if [ "$(id -u)" -ne 0 ]; then
    echo "fuse_fio.sh: needs root (mount(2), $PARAM)" >&2
    exit 1
fi
if ! command -v fio >/dev/null; then
    echo "fuse_fio.sh: installing fio" >&2
    apt-get install -y fio >/dev/null || { apt-get update >/dev/null && apt-get install -y fio >/dev/null; }
fi
command -v python3 >/dev/null || { echo "fuse_fio.sh: needs python3 to read fio's JSON" >&2; exit 1; }

cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release --example fuse_passthrough
BIN=$TARGET/release/examples/fuse_passthrough

source benches/fuse_work.sh
fuse_work fuse-fio

start_server() { # mode
    local want
    case "$1" in
        uring) want=Y ;;
        devfuse) want=N ;;
        *) echo "unknown mode $1" >&2; exit 1 ;;
    esac
    [ -e "$PARAM" ] && echo "$want" >"$PARAM"
    # shellcheck disable=SC2086
    "$BIN" $SERVER_OPTS "$SRC" "$MNT" >"$WORK/server.out" 2>"$WORK/server.err" &
    SPID=$!
    for _ in $(seq 200); do
        grep -q '^READY' "$WORK/server.out" && break
        kill -0 "$SPID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
        sleep 0.05
    done
    local ready
    ready=$(grep '^READY' "$WORK/server.out")
    case "$ready" in
        *"mode=$1 "*) ;;
        *) echo "server came up as: $ready (wanted $1)" >&2; cat "$WORK/server.err" >&2; exit 1 ;;
    esac
    echo "  server: $ready" >&2
}

stop_server() {
    kill -TERM "$SPID"
    wait "$SPID" || true
    SPID=""
    grep '^STATS' "$WORK/server.out" | sed 's/^/  server: /' >&2 || true
    if grep -q " $MNT fuse" /proc/mounts; then
        echo "fuse_fio.sh: the server left its mount" >&2
        exit 1
    fi
}

# run_fio DIR RW BS -> MB/s
run_fio() {
    local out
    out=$(fio --name=job --directory="$1" --filename=fio.dat --size="$SIZE" --rw="$2" --bs="$3" \
        --ioengine=psync --numjobs=2 --direct="$DIRECT" --invalidate=0 --fallocate=none --runtime="$RUNTIME" \
        --time_based --group_reporting --output-format=json)
    python3 -c '
import json, sys
job = json.loads(sys.stdin.read())["jobs"][0]
side = "read" if sys.argv[1].endswith("read") else "write"
print("%.1f" % (job[side]["bw_bytes"] / 1e6))' "$2" <<<"$out"
}

WORKLOADS="randread:1M randwrite:1M randread:4k randwrite:4k"
declare -A RUNS

echo "fuse_fio.sh: kernel $(uname -r), $(nproc) CPUs, SIZE=$SIZE RUNTIME=${RUNTIME}s REPEAT=$REPEAT" \
    "DIRECT=$DIRECT SERVER_OPTS='$SERVER_OPTS', psync, 2 jobs" >&2
# Lay the file out once (fio reuses it), directly in the source directory.
fio --name=layout --directory="$SRC" --filename=fio.dat --size="$SIZE" --rw=write --bs=1M \
    --ioengine=psync --output-format=terse >/dev/null

for round in $(seq "$REPEAT"); do
    echo "round $round: raw directory" >&2
    for w in $WORKLOADS; do
        r=$(run_fio "$SRC" "${w%%:*}" "${w##*:}")
        RUNS[raw,$w]="${RUNS[raw,$w]:-} $r"
        echo "  $w $r MB/s" >&2
    done
    for mode in $MODES; do
        echo "round $round: $mode" >&2
        start_server "$mode"
        for w in $WORKLOADS; do
            r=$(run_fio "$MNT" "${w%%:*}" "${w##*:}")
            RUNS[$mode,$w]="${RUNS[$mode,$w]:-} $r"
            echo "  $w $r MB/s" >&2
        done
        stop_server
    done
done

median() { python3 -c 'import statistics, sys; print("%.1f" % statistics.median(map(float, sys.argv[1:])))' $1; }
ratio() { python3 -c 'import sys; a, b = map(float, sys.argv[1:]); print("%.2f" % (a / b) if b else "-")' "$1" "$2"; }
declare -A MBPS
for key in "${!RUNS[@]}"; do
    MBPS[$key]=$(median "${RUNS[$key]}")
done
both=0
[[ " $MODES " == *" uring "* && " $MODES " == *" devfuse "* ]] && both=1
header="| workload | raw MB/s |"
sep="|---|---|"
for mode in $MODES; do
    header="$header $mode MB/s | $mode / raw |"
    sep="$sep---|---|"
done
if [ $both = 1 ]; then
    header="$header uring / devfuse |"
    sep="$sep---|"
fi
echo "$header"
echo "$sep"
for w in $WORKLOADS; do
    line="| ${w%%:*} ${w##*:} | ${MBPS[raw,$w]} |"
    for mode in $MODES; do
        line="$line ${MBPS[$mode,$w]} | $(ratio "${MBPS[$mode,$w]}" "${MBPS[raw,$w]}") |"
    done
    if [ $both = 1 ]; then
        line="$line $(ratio "${MBPS[uring,$w]}" "${MBPS[devfuse,$w]}") |"
    fi
    echo "$line"
done
echo
echo "all runs (MB/s):"
for w in $WORKLOADS; do
    line="  ${w%%:*} ${w##*:}: raw${RUNS[raw,$w]}"
    for mode in $MODES; do
        line="$line; $mode${RUNS[$mode,$w]}"
    done
    echo "$line"
done
