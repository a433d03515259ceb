#!/bin/sh
# Runs the owned-layer tests (tests/owned.rs) under AddressSanitizer, with LeakSanitizer on.
#
#   tests/asan.sh                 # every test of tests/owned.rs
#   tests/asan.sh families::      # extra arguments go to cargo test (a filter, --nocapture...)
#
# Needs a nightly toolchain (`rustup toolchain install nightly`): `-Zsanitizer` is unstable.
# `--target` keeps build scripts and proc macros unsanitized; the standard library is the
# prebuilt, uninstrumented one (no -Zbuild-std), which ASan tolerates on x86_64 Linux.
# Artifacts go to their own target directory (ASAN_TARGET_DIR, default target/asan), so
# sanitized and normal builds never mix.
#
# What it checks: use-after-free, double free, out-of-bounds and leaks in the process's own
# accesses: an operation's memory freed while the ring still holds it, and then touched when
# the completion hands it back; slots or keep-alive memory leaked or freed twice at drop.
# What it cannot see: the kernel's own writes bypass ASan's shadow memory, so a kernel write
# into freed memory is not reported directly (only its later effects on the process are).
# The tests therefore also check that the bytes the kernel wrote arrive in the memory the ring
# hands back.
set -eu
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR="${ASAN_TARGET_DIR:-target/asan}"
export CARGO_TARGET_DIR
RUSTFLAGS="-Zsanitizer=address"
RUSTDOCFLAGS="-Zsanitizer=address"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
# One test leaks on purpose (tests/lsan.supp says which and why).
LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp}"
export RUSTFLAGS RUSTDOCFLAGS ASAN_OPTIONS LSAN_OPTIONS
exec cargo +nightly test --test owned --target x86_64-unknown-linux-gnu "$@"
