#!/usr/bin/env bash
# Fuzzes the VTL parser and renderer with libFuzzer for N seconds (default
# 180), seeded with the differential corpus. `cargo fuzz run vtl_parse`
# does the same on a nightly toolchain; this builds the same target with
# the stable toolchain (RUSTC_BOOTSTRAP) and cargo-fuzz's flags.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN="${1:-180}"
TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portico-fuzz-target}"
TRIPLE="$(rustc -vV | awk '/^host:/ {print $2}')"
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$TARGET_DIR" RUSTFLAGS="-Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --target "$TRIPLE" --bin vtl_parse
CORPUS="$(mktemp -d)"; trap 'rm -rf "$CORPUS"' EXIT
cp ../tests/velocity_oracle/cases.vtl "$CORPUS/seed"
"$TARGET_DIR/$TRIPLE/release/vtl_parse" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
  -rss_limit_mb=2048 -timeout=10 "$CORPUS"
