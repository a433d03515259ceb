#!/usr/bin/env bash
# Random 4 KiB reads at queue depth 1, 32 and 128: examples/randread.rs (registered file,
# registered buffer, O_DIRECT where the filesystem allows) beside fio's io_uring engine with the
# same parameters (--registerfiles --fixedbufs, same direct setting; both rings set up with
# COOP_TASKRUN, SINGLE_ISSUER and DEFER_TASKRUN, as fio 3.33 sets up its own), interleaved in each round;
# prints the median IOPS over the rounds. fio comes from the system's packages.
# Usage: benches/randread.sh [rounds=3] [seconds=5] [file] (the file, 512 MiB of data, is
# created when missing and removed at the end if this script created it).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-5}"
file="${3:-${CARGO_TARGET_DIR:-target}/randread.dat}"
command -v fio >/dev/null || { echo "fio is not installed (the system's fio package)"; exit 1; }
cargo build --release --example randread >/dev/null 2>&1
bin="${CARGO_TARGET_DIR:-target}/release/examples/randread"
created=0
if [ ! -e "$file" ]; then
    head -c $((512 << 20)) /dev/zero | tr '\0' '\1' > "$file"
    sync "$file"
    created=1
fi
out=$(mktemp)
trap 'rm -f "$out"; [ "$created" = 1 ] && rm -f "$file"' EXIT
echo "machine: $(nproc) CPUs, $(uname -r), $(fio --version), fs $(df -T "$file" | awk 'NR==2{print $2}'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
    for qd in 1 32 128; do
        line=$("$bin" "$file" --qd "$qd" --bs 4096 --seconds "$seconds")
        direct=0
        case "$line" in *O_DIRECT*) direct=1 ;; esac
        iops=$(echo "$line" | sed -n 's/.*, \([0-9]*\) IOPS$/\1/p')
        echo "$qd uring $iops $direct" >> "$out"
        json=$(fio --name=randread --filename="$file" --ioengine=io_uring --rw=randread --bs=4k \
            --iodepth="$qd" --direct="$direct" --registerfiles=1 --fixedbufs=1 --runtime="$seconds" \
            --time_based=1 --norandommap=1 --randrepeat=0 --numjobs=1 --output-format=json)
        iops=$(echo "$json" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))')
        echo "$qd fio $iops $direct" >> "$out"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$rounds" <<'PY'
import statistics, sys
d = {}
direct = {}
for l in open(sys.argv[1]):
    qd, who, iops, dr = l.split()
    d.setdefault(int(qd), {}).setdefault(who, []).append(int(iops))
    direct[int(qd)] = dr == '1'
print(f'medians of {sys.argv[2]} interleaved rounds (IOPS)')
print('| queue depth | O_DIRECT | uring randread | fio io_uring | uring / fio | uring runs | fio runs |')
print('|---|---|---|---|---|---|---|')
for qd in sorted(d):
    u, f = statistics.median(d[qd]['uring']), statistics.median(d[qd]['fio'])
    print(f"| {qd} | {'yes' if direct[qd] else 'no'} | {u:.0f} | {f:.0f} | {u / f:.2f}x | {d[qd]['uring']} | {d[qd]['fio']} |")
PY
