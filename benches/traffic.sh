#!/usr/bin/env bash
# Traffic benchmark (issue: canary, throttling, keys, caching, metrics).
# Measures, in one run on this machine:
#   - requests/s of a MOCK route with throttling (account + stage method
#     buckets, never tripping), metrics and the stage cache all on, vs the
#     same route with them off (`--no-metrics`, no method settings, no
#     cache): once with every request a cache hit, once with every request
#     a miss (a fresh cache key per request);
#   - p50 latency of a cache hit vs an HTTP_PROXY miss to a 1 ms backend.
# Everything listens on 127.0.0.1. Usage: benches/traffic.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-6}"
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
BACKEND_PORT=$(free_port); OFF_PORT=$(free_port); ON_PORT=$(free_port)

"$TARGET/examples/hello_server" "127.0.0.1:$BACKEND_PORT" 1 >/dev/null & PIDS+=($!)

mkdir -p "$WORK/project"
cat > "$WORK/project/portico.json" <<JSON
{"version": 1, "restApis": [{"id": "benchapi01", "name": "Bench", "resources": [
  {"id": "root000001", "path": "/"},
  {"id": "mock01", "parentId": "root000001", "pathPart": "mock", "path": "/mock", "resourceMethods": {"GET": {
    "httpMethod": "GET", "authorizationType": "NONE",
    "requestParameters": {"method.request.querystring.k": false},
    "methodIntegration": {"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
      "cacheKeyParameters": ["method.request.querystring.k"],
      "integrationResponses": {"200": {"statusCode": "200", "responseTemplates": {"application/json": "hello"}}}}}}},
  {"id": "prox01", "parentId": "root000001", "pathPart": "proxy", "path": "/proxy"},
  {"id": "prox02", "parentId": "prox01", "pathPart": "{proxy+}", "path": "/proxy/{proxy+}", "resourceMethods": {"ANY": {
    "httpMethod": "ANY", "authorizationType": "NONE",
    "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": "http://127.0.0.1:$BACKEND_PORT/{proxy}"}}}}
]}]}
JSON
"$TARGET/portico" deploy --project "$WORK/project" --api Bench --stage off >/dev/null
"$TARGET/portico" deploy --project "$WORK/project" --api Bench --stage on >/dev/null
# The "on" stage: its cache, caching for every method (so the proxy route
# is cached too), and method throttling that never trips.
python3 - "$WORK/project/portico.json" <<'PY'
import json, sys
path = sys.argv[1]
project = json.load(open(path))
stage = next(s for s in project["restApis"][0]["stages"] if s["stageName"] == "on")
stage["cacheClusterEnabled"] = True
stage["cacheClusterSize"] = "0.5"
stage["methodSettings"] = {"*/*": {"throttlingRateLimit": 1e9, "throttlingBurstLimit": 2000000000,
                                   "cachingEnabled": True, "cacheTtlInSeconds": 3600}}
json.dump(project, open(path, "w"), indent=2)
PY

serve() { "$TARGET/portico" serve --project "$WORK/project" --port "$1" --account-rate 1e9 --account-burst 2000000000 "${@:2}" >/dev/null & PIDS+=($!); }
serve "$OFF_PORT" --no-metrics
serve "$ON_PORT"
for port in "$OFF_PORT" "$ON_PORT"; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/off/mock" && break; sleep 0.05; done
done

cat > "$WORK/fresh-key.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", wrk.path .. "?k=" .. counter .. "-" .. math.random(1e9))
end
LUA
rps() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${@:2}" "$1" | awk '/Requests\/sec/ {print $2}'; }
p50_us() { wrk -t1 -c1 -d"${DURATION}s" --latency "$1" | awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }

for url in "http://127.0.0.1:$OFF_PORT/off/mock" "http://127.0.0.1:$ON_PORT/on/mock"; do wrk -t1 -c8 -d1s "$url" >/dev/null; done
# The misses' runs send a fresh query string per request (a wrk script,
# which costs wrk time on these same 2 cores): their baseline does too.
OFF=(); HIT=(); OFF_FRESH=(); MISS=()
for _ in $(seq "$ROUNDS"); do
  OFF+=("$(rps "http://127.0.0.1:$OFF_PORT/off/mock")")
  HIT+=("$(rps "http://127.0.0.1:$ON_PORT/on/mock")")
  OFF_FRESH+=("$(rps "http://127.0.0.1:$OFF_PORT/off/mock" -s "$WORK/fresh-key.lua")")
  MISS+=("$(rps "http://127.0.0.1:$ON_PORT/on/mock" -s "$WORK/fresh-key.lua")")
done
curl -sf -o /dev/null "http://127.0.0.1:$ON_PORT/on/proxy/x"   # fills the cache
HIT_P50=$(p50_us "http://127.0.0.1:$ON_PORT/on/proxy/x")
MISS_P50=$(p50_us "http://127.0.0.1:$OFF_PORT/off/proxy/x")

python3 - "${OFF[*]}" "${HIT[*]}" "${OFF_FRESH[*]}" "${MISS[*]}" "$HIT_P50" "$MISS_P50" <<'PY'
import statistics, sys
off, hit, off_fresh, miss = ([float(v) for v in a.split()] for a in sys.argv[1:5])
hit_p50, miss_p50 = float(sys.argv[5]), float(sys.argv[6])
m = statistics.median
rounds = lambda values: ", ".join(f"{v:.0f}" for v in values)
print(f"MOCK, all off                    {m(off):10.0f} req/s   (rounds: {rounds(off)})")
print(f"MOCK, all on, cache hits         {m(hit):10.0f} req/s   cost {100*(1-m(hit)/m(off)):5.1f}% (target < 10%)   (rounds: {rounds(hit)})")
print(f"MOCK, all off, fresh query       {m(off_fresh):10.0f} req/s   (rounds: {rounds(off_fresh)})")
print(f"MOCK, all on, fresh query: misses {m(miss):9.0f} req/s   cost {100*(1-m(miss)/m(off_fresh)):5.1f}% (target < 10%)   (rounds: {rounds(miss)})")
print(f"p50 cache hit {hit_p50:.0f} us vs HTTP_PROXY miss to a 1 ms backend {miss_p50:.0f} us: {miss_p50/hit_p50:.1f}x faster (target >= 5x)")
PY
