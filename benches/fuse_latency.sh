#!/usr/bin/env bash
# One-job latency of the FUSE passthrough example (examples/fuse_passthrough/) under server
# option variants: fio psync, one synchronous request at a time, every read and write a
# request to the server (--direct-io). Variants run interleaved (A, B, C, A, B, C, ...); the
# table has each variant's median IOPS and median p50/p99 completion latency.
#
# Usage (root; installs fio with apt-get if missing; restores enable_uring, leaves no mount):
#   benches/fuse_latency.sh
# Environment:
#   VARIANTS   ';'-separated "name=mode options..." (mode: uring or devfuse), default:
#              "uring=uring;nospin=uring --spin-us 0;coop=uring --ring-setup coop;
#               plain=uring --ring-setup plain;nopin=uring --no-pin;devfuse=devfuse"
#   WORKLOADS="randread:4k randwrite:4k"   fio --rw:--bs
#   JOBS=1 SIZE=1G RUNTIME=3 REPEAT=3      fio --numjobs, file size, seconds per run, rounds
#   BIN        server binary (default: built with cargo, release)
#   WORKDIR=/var/tmp   where the source directory and mount point are created
set -euo pipefail

VARIANTS=${VARIANTS:-uring=uring;nospin=uring --spin-us 0;coop=uring --ring-setup coop;plain=uring --ring-setup plain;nopin=uring --no-pin;devfuse=devfuse}
WORKLOADS=${WORKLOADS:-randread:4k randwrite:4k}
JOBS=${JOBS:-1}
SIZE=${SIZE:-1G}
RUNTIME=${RUNTIME:-3}
REPEAT=${REPEAT:-3}
WORKDIR=${WORKDIR:-/var/tmp}
PARAM=/sys/module/fuse/parameters/enable_uring

die() { echo "fuse_latency.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (mount(2), $PARAM)"
[ -e "$PARAM" ] || die "$PARAM is missing: kernel without CONFIG_FUSE_IO_URING"
command -v fio >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q fio >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fio >/dev/null; }

cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
    cargo build --quiet --release --example fuse_passthrough
    BIN=${CARGO_TARGET_DIR:-target}/release/examples/fuse_passthrough
fi
source benches/fuse_work.sh
fuse_work fuse-latency

start_server() { # mode options...
    local mode=$1
    shift
    [ "$mode" = uring ] && echo Y >"$PARAM" || echo N >"$PARAM"
    "$BIN" --direct-io "$@" "$SRC" "$MNT" >"$WORK/server.out" 2>"$WORK/server.err" &
    SPID=$!
    for _ in $(seq 200); do
        grep -q '^READY' "$WORK/server.out" && break
        kill -0 "$SPID" 2>/dev/null || { cat "$WORK/server.err" >&2; die "server exited at start"; }
        sleep 0.05
    done
    grep -q "^READY mode=$mode " "$WORK/server.out" || die "server came up as: $(cat "$WORK/server.out")"
}
stop_server() {
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
    if grep -q " $MNT fuse" /proc/mounts; then die "the server left its mount"; fi
}
# run_fio RW BS -> "iops p50_us p99_us"
run_fio() {
    fio --name=job --directory="$MNT" --filename=fio.dat --size="$SIZE" --rw="$1" --bs="$2" \
        --ioengine=psync --numjobs="$JOBS" --invalidate=0 --fallocate=none --runtime="$RUNTIME" \
        --time_based --group_reporting --output-format=json |
        python3 -c '
import json, sys
d = json.load(sys.stdin)["jobs"][0]["read" if "read" in sys.argv[1] else "write"]
p = d["clat_ns"]["percentile"]
print("%.0f %.1f %.1f" % (d["iops"], p["50.000000"] / 1e3, p["99.000000"] / 1e3))' "$1"
}

fio --name=layout --directory="$SRC" --filename=fio.dat --size="$SIZE" --rw=write --bs=1M \
    --ioengine=psync --output-format=terse >/dev/null
RUNS=$WORK/runs.tsv
: >"$RUNS"
IFS=';' read -r -a VARS <<<"$VARIANTS"
echo "fuse_latency.sh: kernel $(uname -r), $(nproc) CPUs, JOBS=$JOBS RUNTIME=${RUNTIME}s REPEAT=$REPEAT, --direct-io, psync" >&2
for round in $(seq "$REPEAT"); do
    echo "round $round (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    for w in $WORKLOADS; do
        for v in "${VARS[@]}"; do
            name=${v%%=*}
            # shellcheck disable=SC2086
            start_server ${v#*=}
            r=$(run_fio "${w%%:*}" "${w##*:}")
            stop_server
            printf '%s\t%s\t%s\n' "$name" "$w" "$r" >>"$RUNS"
            echo "  $w $name: iops p50 p99 = $r" >&2
        done
    done
done
python3 - "$RUNS" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
order = []
for line in open(sys.argv[1]):
    name, w, vals = line.rstrip("\n").split("\t")
    if (w, name) not in runs:
        order.append((w, name))
    runs[(w, name)].append([float(x) for x in vals.split()])
print("| workload | variant | IOPS | p50 us | p99 us | IOPS of each round |")
print("|---|---|---|---|---|---|")
for k in order:
    r = runs[k]
    med = [statistics.median(x[i] for x in r) for i in range(3)]
    print("| %s | %s | %.0f | %.1f | %.1f | %s |" % (k[0].replace(":", " "), k[1], med[0], med[1], med[2], " ".join("%.0f" % x[0] for x in r)))
PY
