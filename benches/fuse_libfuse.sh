#!/usr/bin/env bash
# fio against the FUSE passthrough example (examples/fuse_passthrough/) and against libfuse's
# own passthrough_hp (the server the seed measured), each served over io_uring and over plain
# /dev/fuse read/write: one table of medians.
#
# passthrough_hp is built for this benchmark only, from Debian's fuse3 source package (libfuse
# 3.18), with apt-get and a private apt state under $CACHE (its own sources list naming the
# Debian mirror the machine's apt already uses, its own lists and cache: the machine's apt
# configuration is not touched). Nothing of it is linked into the crate or kept in the
# repository: the source and the build stay in $CACHE (under target/ by default).
#
# Usage (root; installs fio and passthrough_hp's build tools with apt-get if missing):
#   benches/fuse_libfuse.sh
# Environment:
#   SERVERS="uring devfuse hp-uring hp-devfuse"   what to measure:
#       uring / devfuse        this example, enable_uring = Y / N
#       hp-uring / hp-devfuse  passthrough_hp -o io_uring / without
#   WORKLOADS="randread:4k randwrite:4k read:1M write:1M"   fio --rw:--bs
#   JOBS="1 2"         fio --numjobs values (one file shared by the jobs)
#   SIZE=1G RUNTIME=8 REPEAT=3     file size, seconds per run, rounds (medians reported)
#   EXAMPLE_OPTS=--direct-io       options of this example
#   HP_OPTS="--direct-io --nopassthrough"   options of passthrough_hp (the same work: every
#       read and write is a request to the server, none is passed through by the kernel)
#   QUEUE_DEPTH=8      io_uring entries per queue, for both servers
#   FUSE3_VERSION=3.18 the fuse3 source version to build (a prefix of the package version)
#   FUSE3_SUITES="sid experimental"  Debian suites searched for that source
#   MIRROR             Debian mirror (default: the first non-security one in /etc/apt)
#   CACHE=target/libfuse-bench     source, build and apt state
#   WORKDIR=/var/tmp   where the source directory and mount point are created
#   CARGO_TARGET_DIR   where to build the example (default: target)
set -euo pipefail

SERVERS=${SERVERS:-uring devfuse hp-uring hp-devfuse}
WORKLOADS=${WORKLOADS:-randread:4k randwrite:4k read:1M write:1M}
JOBS=${JOBS:-1 2}
SIZE=${SIZE:-1G}
RUNTIME=${RUNTIME:-8}
REPEAT=${REPEAT:-3}
EXAMPLE_OPTS=${EXAMPLE_OPTS:---direct-io}
HP_OPTS=${HP_OPTS:---direct-io --nopassthrough}
QUEUE_DEPTH=${QUEUE_DEPTH:-8}
FUSE3_VERSION=${FUSE3_VERSION:-3.18}
FUSE3_SUITES=${FUSE3_SUITES:-sid experimental}
WORKDIR=${WORKDIR:-/var/tmp}
PARAM=/sys/module/fuse/parameters/enable_uring

die() { echo "fuse_libfuse.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (mount(2), $PARAM)"
[ -e "$PARAM" ] || die "$PARAM is missing: kernel without CONFIG_FUSE_IO_URING"

cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${CACHE:-$ROOT/target/libfuse-bench}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

apt_install() { # packages...
    local need=() p
    for p in "$@"; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    echo "fuse_libfuse.sh: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
        { apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
}

# The Debian mirror the machine's apt uses: the first URI of a non-security "deb" source
# (deb822 .sources files first, then one-line .list files).
mirror() {
    if [ -n "${MIRROR:-}" ]; then echo "$MIRROR"; return 0; fi
    local m f
    m=$(for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && { cat "$f"; echo; }; done |
        awk 'BEGIN { RS = ""; FS = "\n" }
            { t = u = s = ""
              for (i = 1; i <= NF; i++) {
                  if ($i ~ /^Types:/) t = $i
                  if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
                  if ($i ~ /^Suites:/) s = $i
              }
              if (t ~ /deb/ && u != "" && s !~ /-security/) { print u; exit } }')
    if [ -z "$m" ]; then
        m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" && $0 !~ /-security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
    fi
    [ -n "$m" ] && echo "$m"
}

# Builds passthrough_hp from the fuse3 source package into $CACHE/build; prints its path.
build_passthrough_hp() {
    local hp=$CACHE/build/example/passthrough_hp
    if [ -x "$hp" ]; then echo "$hp"; return; fi
    apt_install dpkg-dev meson ninja-build pkg-config g++ liburing-dev libnuma-dev debian-archive-keyring
    local a=$CACHE/apt m keyring=/usr/share/keyrings/debian-archive-keyring.gpg suite
    m=$(mirror) || die "no Debian mirror in /etc/apt (set MIRROR)"
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
    : >"$a/sources.list"
    for suite in $FUSE3_SUITES; do
        echo "deb-src [signed-by=$keyring] $m $suite main" >>"$a/sources.list"
    done
    local apt=(-o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o APT::Sandbox::User=root)
    echo "fuse_libfuse.sh: fetching the fuse3 $FUSE3_VERSION source package ($FUSE3_SUITES)" >&2
    apt-get -q "${apt[@]}" update >/dev/null || die "apt-get update of the source suites failed"
    local ver
    ver=$(apt-cache "${apt[@]}" showsrc fuse3 | sed -n 's/^Version: //p' | grep "^$FUSE3_VERSION" | sort -V | tail -n 1)
    [ -n "$ver" ] || die "no fuse3 $FUSE3_VERSION source in $FUSE3_SUITES"
    rm -rf "$CACHE/src" "$CACHE/dl"
    mkdir -p "$CACHE/dl"
    (cd "$CACHE/dl" && apt-get -q "${apt[@]}" source --download-only "fuse3=$ver" >/dev/null) ||
        die "apt-get source fuse3=$ver failed"
    dpkg-source -x "$CACHE"/dl/fuse3_*.dsc "$CACHE/src" >/dev/null || die "dpkg-source -x failed"
    (cd "$CACHE/src" && meson setup "$CACHE/build" -Dexamples=true -Dutils=false -Dtests=false \
        -Denable-io-uring=true >"$CACHE/meson.log" 2>&1) || die "meson setup failed (see $CACHE/meson.log)"
    grep -q 'enable-io-uring *: *true' "$CACHE/meson.log" ||
        echo "fuse_libfuse.sh: WARNING: libfuse built without io_uring (liburing or libnuma missing?)" >&2
    ninja -C "$CACHE/build" example/passthrough_hp >"$CACHE/ninja.log" 2>&1 || die "build failed (see $CACHE/ninja.log)"
    echo "$hp"
}

apt_install fio python3
HP=""
if [[ " $SERVERS " == *" hp-"* ]]; then
    HP=$(build_passthrough_hp)
    echo "fuse_libfuse.sh: passthrough_hp: $HP (libfuse $(sed -n "s/^ *version: '\(.*\)',/\1/p" "$CACHE/src/meson.build" | head -n 1))" >&2
fi
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release --example fuse_passthrough
BIN=$ROOT/$TARGET/release/examples/fuse_passthrough
[[ "$TARGET" = /* ]] && BIN=$TARGET/release/examples/fuse_passthrough

source benches/fuse_work.sh
fuse_work fuse-libfuse

mounted() { grep -q " $MNT fuse" /proc/mounts; }

start_server() { # server
    case "$1" in
    uring | hp-uring) echo Y >"$PARAM" ;;
    *) echo N >"$PARAM" ;;
    esac
    : >"$WORK/server.out"
    case "$1" in
    uring | devfuse)
        # shellcheck disable=SC2086
        "$BIN" $EXAMPLE_OPTS --queue-depth "$QUEUE_DEPTH" "$SRC" "$MNT" >"$WORK/server.out" 2>"$WORK/server.err" &
        ;;
    hp-uring)
        # shellcheck disable=SC2086
        "$HP" --foreground $HP_OPTS -o io_uring -o io_uring_q_depth="$QUEUE_DEPTH" "$SRC" "$MNT" \
            >"$WORK/server.out" 2>"$WORK/server.err" &
        ;;
    hp-devfuse)
        # shellcheck disable=SC2086
        "$HP" --foreground $HP_OPTS "$SRC" "$MNT" >"$WORK/server.out" 2>"$WORK/server.err" &
        ;;
    *) die "unknown server $1" ;;
    esac
    SPID=$!
    for _ in $(seq 200); do
        if [[ "$1" == hp-* ]]; then mounted && break; else grep -q '^READY' "$WORK/server.out" && break; fi
        kill -0 "$SPID" 2>/dev/null || { cat "$WORK/server.err" >&2; die "$1 exited at start"; }
        sleep 0.05
    done
    mounted || die "$1: no mount"
    # A request that proves the mount serves (and, for passthrough_hp, that INIT is done).
    stat "$MNT/fio.dat" >/dev/null
    case "$1" in
    uring | devfuse)
        grep -q "^READY mode=$1 " "$WORK/server.out" || die "$1 came up as: $(cat "$WORK/server.out")" ;;
    esac
}

stop_server() {
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
    if mounted; then
        # passthrough_hp unmounts on SIGTERM through its session; make sure.
        umount "$MNT" 2>/dev/null || umount -l "$MNT"
    fi
}

# run_fio RW BS JOBS -> "iops p50_us p99_us MB/s"
run_fio() {
    local out
    out=$(fio --name=job --directory="$MNT" --filename=fio.dat --size="$SIZE" --rw="$1" --bs="$2" \
        --ioengine=psync --numjobs="$3" --invalidate=0 --fallocate=none --runtime="$RUNTIME" \
        --time_based --group_reporting --output-format=json)
    python3 -c '
import json, sys
job = json.loads(sys.stdin.read())["jobs"][0]
side = "read" if "read" in sys.argv[1] else "write"
d = job[side]
p = d["clat_ns"]["percentile"]
print("%.0f %.1f %.1f %.1f" % (d["iops"], p["50.000000"] / 1e3, p["99.000000"] / 1e3, d["bw_bytes"] / 1e6))' "$1" <<<"$out"
}

RUNS=$WORK/runs.tsv
: >"$RUNS"
load() { cut -d' ' -f1 /proc/loadavg; }
LOADS=()
echo "fuse_libfuse.sh: kernel $(uname -r), $(nproc) CPUs, SIZE=$SIZE RUNTIME=${RUNTIME}s REPEAT=$REPEAT," \
    "EXAMPLE_OPTS='$EXAMPLE_OPTS' HP_OPTS='$HP_OPTS' QUEUE_DEPTH=$QUEUE_DEPTH, psync" >&2
fio --name=layout --directory="$SRC" --filename=fio.dat --size="$SIZE" --rw=write --bs=1M \
    --ioengine=psync --output-format=terse >/dev/null

for round in $(seq "$REPEAT"); do
    for server in $SERVERS; do
        LOADS+=("$(load)")
        echo "round $round: $server (load $(load))" >&2
        start_server "$server"
        for j in $JOBS; do
            for w in $WORKLOADS; do
                r=$(run_fio "${w%%:*}" "${w##*:}" "$j")
                printf '%s\t%s\t%s\t%s\n' "$server" "$w" "$j" "$r" >>"$RUNS"
                echo "  $w x$j: iops p50 p99 MB/s = $r" >&2
            done
        done
        stop_server
    done
done

# One table: per workload and job count, each server's median IOPS and median p50/p99 (us).
python3 - "$SERVERS" "$WORKLOADS" "$JOBS" "${LOADS[*]}" "$RUNS" <<'EOF'
import collections, statistics, sys
servers, workloads, jobs, loads = (a.split() for a in sys.argv[1:5])
runs = collections.defaultdict(list)
for line in open(sys.argv[5]):
    server, w, j, vals = line.rstrip("\n").split("\t")
    runs[(server, w, j)].append([float(v) for v in vals.split()])
def med(k, i):
    return statistics.median(r[i] for r in runs[k])
print("| workload | jobs |" + "".join(f" {s} IOPS (p50/p99 us) |" for s in servers))
print("|---|---|" + "---|" * len(servers))
for w in workloads:
    for j in jobs:
        cells = "".join(f" {med((s, w, j), 0):.0f} ({med((s, w, j), 1):.1f}/{med((s, w, j), 2):.1f}) |" for s in servers)
        rw, bs = w.split(":")
        print(f"| {rw} {bs} | {j} |" + cells)
print()
print("load average (1 min) at each server start: " + " ".join(loads))
print()
print("all runs (IOPS p50 p99 MB/s):")
for k in sorted(runs):
    print("  %s %s x%s: " % k + " | ".join(" ".join("%g" % v for v in r) for r in runs[k]))
EOF
