#!/usr/bin/env bash
# HTTP API speed (issue: HTTP APIs), in one run on this machine: requests/s
# of an HTTP_PROXY route on an HTTP API vs the same proxy on a REST API,
# to the same bare hyper backend, with wrk (median of ROUNDS rounds each,
# alternating). Usage: benches/http_api.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-3}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin portico --example hello_server
TARGET="${CARGO_TARGET_DIR:-target}/release"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND_PORT=$(free_port); PORT=$(free_port)
"$TARGET/examples/hello_server" "127.0.0.1:$BACKEND_PORT" >/dev/null & PIDS+=($!)
mkdir -p "$WORK/project"
cat > "$WORK/project/portico.json" <<JSON
{"version": 1,
 "restApis": [{"id": "benchrest1", "name": "Rest", "resources": [
  {"id": "root000001", "path": "/"},
  {"id": "prox01", "parentId": "root000001", "pathPart": "proxy", "path": "/proxy"},
  {"id": "prox02", "parentId": "prox01", "pathPart": "{proxy+}", "path": "/proxy/{proxy+}", "resourceMethods": {"ANY": {
    "httpMethod": "ANY", "authorizationType": "NONE",
    "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": "http://127.0.0.1:$BACKEND_PORT/{proxy}"}}}}]}],
 "httpApis": [{"apiId": "benchhttp1", "name": "Http",
  "routes": [{"routeId": "r1", "routeKey": "ANY /proxy/{proxy+}", "target": "integrations/i1"}],
  "integrations": [{"integrationId": "i1", "integrationType": "HTTP_PROXY", "integrationMethod": "ANY",
                    "integrationUri": "http://127.0.0.1:$BACKEND_PORT/{proxy}"}],
  "stages": [{"stageName": "\$default", "autoDeploy": true}]}]}
JSON
"$TARGET/portico" deploy --project "$WORK/project" --api Rest --stage bench >/dev/null
"$TARGET/portico" serve --project "$WORK/project" --port "$PORT" --account-rate 1e9 --account-burst 2000000000 >/dev/null & PIDS+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/bench/proxy/x" && break; sleep 0.05; done
REST_URL="http://127.0.0.1:$PORT/bench/proxy/x"
HTTP_URL="http://127.0.0.1:$PORT/proxy/x"
HOST="benchhttp1.execute-api.localhost"
curl -sf -o /dev/null -H "Host: $HOST" "$HTTP_URL"
rps() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
wrk -t1 -c8 -d1s "$REST_URL" >/dev/null; wrk -t1 -c8 -d1s -H "Host: $HOST" "$HTTP_URL" >/dev/null
REST=(); HTTP=()
for _ in $(seq "$ROUNDS"); do
  REST+=("$(rps "$REST_URL")")
  HTTP+=("$(rps -H "Host: $HOST" "$HTTP_URL")")
done
python3 - "${REST[*]}" "${HTTP[*]}" <<'PY'
import statistics, sys
rest, http = ([float(v) for v in a.split()] for a in sys.argv[1:3])
m = statistics.median
print(f"HTTP_PROXY on a REST API  {m(rest):10.0f} req/s  (rounds: {', '.join(f'{v:.0f}' for v in rest)})")
print(f"HTTP_PROXY on an HTTP API {m(http):10.0f} req/s  (rounds: {', '.join(f'{v:.0f}' for v in http)})")
print(f"ratio HTTP API / REST API {m(http)/m(rest):.2f}x (target >= 1.00x)")
PY
