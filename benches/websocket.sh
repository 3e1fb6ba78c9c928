#!/usr/bin/env bash
# WebSocket speed (issue: WebSocket APIs), in one run on this machine,
# against `portico serve` with a MOCK two-way route:
# - the round trip on one connection (p50 / p99, messages/s),
# - messages/s across 100 connections,
# - 10,000 concurrent idle connections and the server's resident memory.
# Usage: benches/websocket.sh [IDLE_CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE="${1:-10000}"
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet --bin portico --example ws_load
TARGET="${CARGO_TARGET_DIR:-target}/release"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
mkdir -p "$WORK/project"
cat > "$WORK/project/portico.json" <<'JSON'
{"version": 1,
 "webSocketApis": [{"apiId": "benchws001", "name": "Bench",
  "routes": [{"routeId": "r1", "routeKey": "echo", "target": "integrations/m1",
              "routeResponseSelectionExpression": "$default"}],
  "integrations": [{"integrationId": "m1", "integrationType": "MOCK",
    "requestTemplates": {"$default": "{\"statusCode\": 200}"},
    "integrationResponses": [{"integrationResponseId": "ok", "integrationResponseKey": "$default",
      "responseTemplates": {"$default": "{\"echo\": \"$context.routeKey\"}"}}]}],
  "stages": [{"stageName": "bench", "autoDeploy": true}]}]}
JSON
"$TARGET/portico" serve --project "$WORK/project" --port "$PORT" --no-metrics --ws-connections-per-second 100000 >/dev/null & PIDS+=($!)
SERVER=$!
URL="ws://127.0.0.1:$PORT/restapis/benchws001/bench/_user_request_/"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.05; done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER/status"; }
echo "server RSS at start: $(rss) MB"
"$TARGET/examples/ws_load" "$URL" rtt 20000
"$TARGET/examples/ws_load" "$URL" fanout 100 500
exec 3> >("$TARGET/examples/ws_load" "$URL" idle "$IDLE" > "$WORK/idle.out")
LOADER=$!
for _ in $(seq 600); do grep -q open "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
cat "$WORK/idle.out"
sleep 1
echo "server RSS with $IDLE idle connections: $(rss) MB (target < 200 MB)"
echo done >&3
exec 3>&-
