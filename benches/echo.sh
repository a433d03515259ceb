#!/usr/bin/env bash
# TCP echo on 127.0.0.1: this crate's server (examples/echo_server.rs), the same server written
# with the io-uring crate (examples/echo_iouring.rs) and a blocking std server
# (examples/echo_std.rs), driven by one load generator (`echo_server --client`), at 1 and 64
# connections and 64 B and 4 KiB messages. The servers are interleaved within each round, so
# load from other processes hits all of them alike; prints the median msgs/s, p50 and p99 over
# the rounds. Every run is bounded: M messages per connection and at most SECONDS seconds.
# Usage: benches/echo.sh [rounds=3] [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-10}"
cargo build --release --example echo_server --example echo_iouring --example echo_std >/dev/null 2>&1
dir="${CARGO_TARGET_DIR:-target}/release/examples"
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT
# Ports from the ephemeral range's top end; each server gets its own.
base=$(( 40000 + $$ % 10000 ))
declare -A port=([uring]=$base [io-uring]=$((base + 1)) [std]=$((base + 2)))
"$dir/echo_server" "127.0.0.1:${port[uring]}" 2>/dev/null & pids+=($!)
"$dir/echo_iouring" "127.0.0.1:${port[io-uring]}" 2>/dev/null & pids+=($!)
"$dir/echo_std" "127.0.0.1:${port[std]}" 2>/dev/null & pids+=($!)
sleep 0.5
echo "machine: $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# connections messages-per-connection size
configs=("1 20000 64" "1 20000 4096" "64 500 64" "64 500 4096")
for r in $(seq 1 "$rounds"); do
    for cfg in "${configs[@]}"; do
        set -- $cfg
        for srv in uring io-uring std; do
            line=$("$dir/echo_server" --client "$1" "$2" --size "$3" --seconds "$seconds" "127.0.0.1:${port[$srv]}" 2>&1 || true)
            echo "$r|$1|$3|$srv|$line" >> "$out/runs"
        done
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out/runs" "$rounds" <<'PY'
import re, statistics, sys
rows = {}
unit = {'ns': 1e-3, 'µs': 1, 'us': 1, 'ms': 1e3, 's': 1e6}
def us(t):
    m = re.match(r'([0-9.]+)(ns|µs|us|ms|s)$', t)
    return float(m.group(1)) * unit[m.group(2)]
for l in open(sys.argv[1]):
    r, c, s, srv, text = l.rstrip('\n').split('|', 4)
    m = re.search(r'([0-9]+) msgs/s, latency p50 (\S+), p99 (\S+)', text)
    if not m:
        print(f'round {r} {srv} {c}x{s}: FAILED: {text}')
        continue
    rows.setdefault((int(c), int(s)), {}).setdefault(srv, []).append((float(m.group(1)), us(m.group(2)), us(m.group(3))))
print(f'medians of {sys.argv[2]} interleaved rounds')
print('| connections | size | server | msgs/s | p50 µs | p99 µs | vs io-uring msgs/s |')
print('|---|---|---|---|---|---|---|')
for (c, s), by in sorted(rows.items()):
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in by.items()}
    for srv in ('uring', 'io-uring', 'std'):
        if srv in med:
            m = med[srv]
            ratio = m[0] / med['io-uring'][0] if 'io-uring' in med else float('nan')
            print(f'| {c} | {s} | {srv} | {m[0]:.0f} | {m[1]:.1f} | {m[2]:.1f} | {ratio:.2f}x |')
PY
