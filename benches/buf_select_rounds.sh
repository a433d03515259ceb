#!/usr/bin/env bash
# Runs the buf_select criterion groups named by FILTER (a regex; default: the recycle and cycle
# groups at ring sizes 256/1024/4096) ROUNDS times and prints, per row, the median over the
# rounds of criterion's median per batch, per buffer (32 per batch), and the ratio to the
# liburing-equivalent row of the same group and ring size. All rows of a round run one after
# another, so load from other processes hits every variant of a round alike.
# Usage: benches/buf_select_rounds.sh [rounds=3] [filter]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
filter="${2:-recycle_per_buffer|cycle32}"
target="${CARGO_TARGET_DIR:-target}"
cargo bench --bench buf_select --no-run >/dev/null 2>&1
bin=$(ls -t "$target"/release/deps/buf_select-* | grep -v '\.d$' | head -1)
echo "machine: $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
res=$(mktemp)
trap 'rm -f "$res"' EXIT
for r in $(seq 1 "$rounds"); do
    "$bin" --bench "$filter" --warm-up-time 0.3 --measurement-time 1 --noplot >/dev/null 2>&1
    for f in $(find "$target/criterion" -path '*/new/estimates.json' | grep -E "$filter"); do
        name=${f#"$target/criterion/"}
        echo "${name%/new/estimates.json} $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' "$f")" >> "$res"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$res" "$rounds" <<'PY'
import statistics, sys, collections
d = collections.defaultdict(list)
for l in open(sys.argv[1]):
    name, ns = l.split()
    d[name].append(float(ns))
med = {k: statistics.median(v) for k, v in d.items()}
print(f'medians of {sys.argv[2]} rounds; ns per buffer (batch / 32)')
print('| group | ring | variant | ns/buffer | vs liburing-eq | vs io-uring |')
print('|---|---|---|---|---|---|')
def key(k):
    g, rest = k.split('/', 1)
    v, n = rest.rsplit('_', 1)
    return g, int(n), v
for k in sorted(med, key=key):
    g, n, v = key(k)
    lib = med.get(f'{g}/liburing-eq_{n}')
    io = med.get(f'{g}/io-uring_{n}')
    r = lambda b: f'{med[k] / b:.2f}x' if b else '-'
    print(f'| {g} | {n} | {v} | {med[k] / 32:.2f} | {r(lib)} | {r(io)} |')
PY
