#!/usr/bin/env bash
# Marginal user-space instructions per NOP round trip (prepare + push + submit + reap), batch 32,
# for this crate and the io-uring crate, counted by valgrind's callgrind (stable on noisy
# machines; kernel work is not counted). Usage: benches/callgrind.sh [batch]
set -euo pipefail
cd "$(dirname "$0")/.."
batch="${1:-32}"
cargo build --release --example nop_loop >/dev/null 2>&1
bin="${CARGO_TARGET_DIR:-target}/release/examples/nop_loop"
count() { # crate rounds -> total instructions
    local out
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$batch" 2>&1)
    echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
lo=1000
hi=11000
for crate in uring owned owned-single io-uring; do
    a=$(count "$crate" $lo)
    b=$(count "$crate" $hi)
    ops=$(( (hi - lo) * batch ))
    echo "$crate: $(( (b - a) / ops )) instructions per NOP round trip (batch $batch; $(( b - a )) over $ops NOPs)"
done
