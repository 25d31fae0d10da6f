#!/usr/bin/env bash
# Benchmark: map tiles rendered on the fly by `sitewatch serve` from the demo's stored 0.9 m COGs, against the same
# tiles served as pre-rendered static files by the same server in the same run. A load generator in another process
# on loopback (Debian's wrk). Reports cold latency (first request of each tile after a restart: p50, p99), warm
# throughput and latency for dynamic and static tiles (requests/s, p50, p99), their ratio, and the server's peak RSS.
#   bench/tiles.sh [SECONDS] [ZOOMS]      e.g. bench/tiles.sh 10 "16 17 18"; bench/tiles.sh 2 18 (smoke)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_WARM="${1:-10}"
ZOOMS="${2:-16 17 18}"
source "$ROOT/scripts/bootstrap.sh"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
WORK="$ROOT/bench/results/tiles"
DEMO="$WORK/demo"
mkdir -p "$WORK"
[ -f "$DEMO/workspace/sitewatch.db" ] || { echo "==> demo workspace (once)"; "$SW" demo --out "$DEMO" --no-drone >/dev/null; }
WS="$DEMO/workspace"
KEY="$("$SW" user list -w "$WS" --json | python3 -c 'import json,sys; print("yes" if any(u["name"]=="bench" for u in json.load(sys.stdin)) else "")')"
[ -n "$KEY" ] || "$SW" user add bench --role viewer -w "$WS" --json >/dev/null
KEY="$("$SW" user key bench -w "$WS" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"
SCENE="$("$SW" scene list --site hamhung-plant -w "$WS" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')"
BBOX="$("$SW" site show hamhung-plant -w "$WS" --json | python3 -c 'import json,sys; print(*json.load(sys.stdin)["bbox"])')"

# The tiles covering the site at each zoom (Web Mercator XYZ).
python3 - "$BBOX" "$ZOOMS" > "$WORK/tiles.txt" <<'PY'
import math, sys
w, s, e, n = map(float, sys.argv[1].split())
def tile(lon, lat, z):
    x = (lon + 180) / 360 * 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z
    return int(x), int(y)
for z in map(int, sys.argv[2].split()):
    x0, y0 = tile(w, n, z); x1, y1 = tile(e, s, z)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            print(f"{z}/{x}/{y}")
PY
echo "==> $(wc -l < "$WORK/tiles.txt") tiles of scene $SCENE at zoom(s) $ZOOMS"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
STATIC="$WORK/static"
rm -rf "$STATIC"; mkdir -p "$STATIC"
start_server() {
  SITEWATCH_Server__WebRoot="$STATIC" SITEWATCH_Server__LoginPermitsPerMinute=100000 \
    "$SW" serve -w "$WS" --urls "http://127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start; see $WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap stop_server EXIT

# Cold: a fresh server, every tile requested once, one at a time (none is in the cache); the responses become the
# static tiles.
start_server
python3 - "$PORT" "$KEY" "$SCENE" "$WORK/tiles.txt" "$STATIC" <<'PY'
import os, sys, time, urllib.request
port, key, scene, listing, static = sys.argv[1:]
times = []
for t in open(listing).read().split():
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/scenes/{scene}/tiles/{t}.png", headers={"X-Api-Key": key})
    t0 = time.perf_counter()
    body = urllib.request.urlopen(req).read()
    times.append((time.perf_counter() - t0) * 1000)
    path = os.path.join(static, "tiles", t + ".png")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(body)
# The first request also pays the process's JIT and the scene's statistics (percentiles from an overview, once per scene).
first, times = times[0], sorted(times[1:])
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"first tile after start: {first:.1f} ms; then cold dynamic tiles: {len(times)} requests, p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {times[-1]:.1f} ms")
PY

# Warm: wrk cycles through the same tiles, dynamic (rendered once, then from the in-process cache) and static.
cat > "$WORK/cycle.lua" <<'LUA'
local paths, i = {}, 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = args[2] .. line .. ".png" end
  if args[3] then wrk.headers["X-Api-Key"] = args[3] end
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
run_wrk() { wrk -t2 -c8 -d"${SECONDS_WARM}s" --latency -s "$WORK/cycle.lua" "http://127.0.0.1:$PORT" -- "$@"; }
summary() { awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} / [0-9]+ requests in/ {n=$1} /Non-2xx/ {bad=$NF} END {printf "%s req/s, p50 %s, p99 %s (%s requests, non-2xx %s)\n", rps, p50, p99, n, (bad==""?0:bad)}'; }
for round in 1 2; do
  echo "round $round: warm dynamic $(run_wrk "$WORK/tiles.txt" "/api/scenes/$SCENE/tiles/" "$KEY" | tee "$WORK/dynamic.txt" | summary)"
  echo "round $round: static       $(run_wrk "$WORK/tiles.txt" "/tiles/" | tee "$WORK/static.txt" | summary)"
done
python3 - "$WORK/dynamic.txt" "$WORK/static.txt" <<'PY'
import re, sys
rps = [float(re.search(r"Requests/sec:\s+([\d.]+)", open(f).read()).group(1)) for f in sys.argv[1:]]
print(f"warm dynamic / static throughput: {rps[0] / rps[1]:.2f} (time per tile {rps[1] / rps[0]:.2f}x static)")
PY
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$SERVER/status)"
echo "load during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
