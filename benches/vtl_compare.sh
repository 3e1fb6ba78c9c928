#!/usr/bin/env bash
# The VTL speed comparison of issue "mapping templates": Portico's engine
# vs velocityjs (npm; the engine serverless-offline uses) rendering the
# AWS docs' PetStore template over 100 pets, in one run on this machine.
# Checks both produce the same output. Usage: benches/vtl_compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
(cd benches/velocityjs && npm install --silent --no-audit --no-fund >/dev/null 2>&1)
cargo build --release --quiet --example vtl_render
TARGET="${CARGO_TARGET_DIR:-target}/release"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
"$TARGET/examples/vtl_render" 20000 > "$WORK/ours"
node benches/velocityjs/bench.js 5000 > "$WORK/velocityjs"
OURS_NS=$(head -1 "$WORK/ours"); JS_NS=$(head -1 "$WORK/velocityjs")
if diff <(tail -n +2 "$WORK/ours") <(tail -n +2 "$WORK/velocityjs") >/dev/null; then SAME="identical"; else SAME="DIFFERENT"; fi
python3 - "$OURS_NS" "$JS_NS" "$SAME" <<'PY'
import sys
ours, js, same = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f"PetStore template, 100 items: Portico {ours/1000:.1f} us/render, velocityjs {js/1000:.1f} us/render")
print(f"ratio {js/ours:.1f}x faster (target >= 10x); outputs {same}")
PY
