#!/usr/bin/env bash
# The reliability suite (issue: hardening), nightly-sized by default:
#   1. the grammar-aware template fuzzer (tests/template_fuzz.rs) for
#      FUZZ_SECS (600) seconds: 0 aborts, every render bounded;
#   2. the HTTP front fuzzer (tests/http_front_fuzz.rs) for FUZZ_SECS;
#   3. a soak: `portico serve` under full load (wrk, a MOCK route with a
#      template and an HTTP_PROXY route) for SOAK_SECS (60) seconds with its
#      RSS sampled each second; after warm-up (the first half) the RSS must
#      stay within 10% of where it stood.
# The regression tests of every hardening item, and both fuzzers in their
# CI-sized form, run in `cargo test` (CI).
# Usage: benches/reliability.sh          nightly: release build, all three
#        benches/reliability.sh --ci     CI: the soak only, 20 s, on the debug
#                                        binaries `cargo test --all-targets` built
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECS="${FUZZ_SECS:-600}"
SOAK_SECS="${SOAK_SECS:-60}"
CI_MODE=0
if [ "${1:-}" = "--ci" ]; then CI_MODE=1; SOAK_SECS="${SOAK_SECS_CI:-20}"; fi
CONNECTIONS="${CONNECTIONS:-32}"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

if [ "$CI_MODE" = 0 ]; then
  echo "== template fuzzer, ${FUZZ_SECS} s"
  PORTICO_FUZZ_SECS="$FUZZ_SECS" cargo test --release --quiet --test template_fuzz -- --nocapture
  echo "== HTTP front fuzzer, ${FUZZ_SECS} s"
  PORTICO_FUZZ_SECS="$FUZZ_SECS" cargo test --release --quiet --test http_front_fuzz -- --nocapture
  cargo build --release --quiet --bin portico --example hello_server
  TARGET="${CARGO_TARGET_DIR:-target}/release"
else
  cargo build --quiet --bin portico --example hello_server
  TARGET="${CARGO_TARGET_DIR:-target}/debug"
fi

echo "== soak, ${SOAK_SECS} s at full load"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND_PORT=$(free_port); PORTICO_PORT=$(free_port)
"$TARGET/examples/hello_server" "127.0.0.1:$BACKEND_PORT" >/dev/null & PIDS+=($!)

mkdir -p "$WORK/project"
cat > "$WORK/project/portico.json" <<JSON
{"version": 1, "restApis": [{"id": "soakapi001", "name": "Soak", "resources": [
  {"id": "root000001", "path": "/"},
  {"id": "mock01", "parentId": "root000001", "pathPart": "mock", "path": "/mock", "resourceMethods": {"GET": {
    "httpMethod": "GET", "authorizationType": "NONE",
    "methodIntegration": {"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
      "integrationResponses": {"200": {"statusCode": "200", "responseTemplates": {"application/json": "#foreach(\$i in [1..50])\$i #end"}}}}}}},
  {"id": "prox01", "parentId": "root000001", "pathPart": "proxy", "path": "/proxy"},
  {"id": "prox02", "parentId": "prox01", "pathPart": "{proxy+}", "path": "/proxy/{proxy+}", "resourceMethods": {"ANY": {
    "httpMethod": "ANY", "authorizationType": "NONE",
    "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": "http://127.0.0.1:$BACKEND_PORT/{proxy}"}}}}
]}]}
JSON
"$TARGET/portico" deploy --project "$WORK/project" --api soakapi001 --stage soak >/dev/null
"$TARGET/portico" serve --project "$WORK/project" --port "$PORTICO_PORT" >/dev/null & PORTICO_PID=$!
PIDS+=($PORTICO_PID)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORTICO_PORT/soak/mock" >/dev/null && break
  sleep 0.05
done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PORTICO_PID/status"; }
HALF=$((SOAK_SECS / 2))
wrk -t1 -c"$CONNECTIONS" -d"${SOAK_SECS}s" "http://127.0.0.1:$PORTICO_PORT/soak/mock" >"$WORK/wrk-mock.txt" & WRK1=$!
wrk -t1 -c"$CONNECTIONS" -d"${SOAK_SECS}s" "http://127.0.0.1:$PORTICO_PORT/soak/proxy/x" >"$WORK/wrk-proxy.txt" & WRK2=$!
SAMPLES=()
for second in $(seq "$SOAK_SECS"); do
  sleep 1
  SAMPLES+=("$(rss_kb)")
done
wait "$WRK1" "$WRK2"
echo "RSS (KB) each second: ${SAMPLES[*]}"
grep -h "Requests/sec" "$WORK/wrk-mock.txt" "$WORK/wrk-proxy.txt" | sed 's/^/  /'
python3 - "$HALF" "${SAMPLES[@]}" <<'PY'
import sys
half = int(sys.argv[1])
samples = [int(x) for x in sys.argv[2:]]
base = samples[half - 1] if half > 0 else samples[0]
late = samples[half:]
worst = max(late)
print(f"RSS after warm-up {base} KB, highest later {worst} KB ({worst / base:.3f}x)")
sys.exit(0 if worst <= base * 1.10 else 1)
PY
kill -0 "$PORTICO_PID"
echo "reliability suite: OK"
