#!/usr/bin/env bash
# Benchmark: the web UI on loopback in Debian's chromium. Time from navigation to the site view's first complete map
# (everything the view asks for drawn, MapLibre idle) over the demo workspace, against a bare MapLibre page drawing
# only the same scene's tiles from the same server in the same run; and the JS/CSS bundle size against MapLibre's own
# files; and the delay from an alert stored in the workspace to its appearance in an open site page. Not a test.
#   bench/web.sh [RUNS]                    e.g. bench/web.sh 10; bench/web.sh 2 (smoke)
#   bench/web.sh --screenshots DIR         instead: the README's screenshots of the demo's views (docs/web)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHOTS=""
if [ "${1:-}" = "--screenshots" ]; then
  SHOTS="$(mkdir -p "${2:?--screenshots needs a folder}" && cd "$2" && pwd)"
  set -- 1
fi
RUNS="${1:-10}"
source "$ROOT/scripts/bootstrap.sh"
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo
dotnet build "$ROOT/bench/WebBench" -c Release --verbosity quiet -nologo
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
BENCH="$ROOT/bench/WebBench/bin/Release/net10.0/linux-x64/WebBench"
WORK="$ROOT/bench/results/web"
DEMO="$WORK/demo"
mkdir -p "$WORK"
[ -f "$DEMO/workspace/sitewatch.db" ] || { echo "==> demo workspace (once)"; "$SW" demo --out "$DEMO" --no-drone >/dev/null; }
# Every run serves a fresh copy of the demo workspace: the alert bench stores alerts, which would otherwise pile up
# in the site view the next run measures.
WS="$WORK/workspace"
rm -rf "$WS"; cp -r "$DEMO/workspace" "$WS"
# A viewer for the bench and an analyst for the screenshots, with passwords kept beside the bench's workspace.
for who in bench-web:viewer docs-analyst:analyst; do
  [ -f "$WORK/${who%%:*}.password" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(18))' > "$WORK/${who%%:*}.password"
  "$SW" user add "${who%%:*}" --role "${who##*:}" --password-stdin -w "$WS" < "$WORK/${who%%:*}.password" >/dev/null 2>&1 \
    || "$SW" user password "${who%%:*}" --password-stdin -w "$WS" < "$WORK/${who%%:*}.password" >/dev/null
done
PASSWORD="$(cat "$WORK/bench-web.password")"
SITE="$("$SW" site show hamhung-plant -w "$WS" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
SCENE="$("$SW" scene list --site hamhung-plant -w "$WS" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')"
BBOX="$("$SW" site show hamhung-plant -w "$WS" --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["bbox"]))')"

# The web root: the built UI plus the peer page and MapLibre's own files (same origin, same CSP).
ROOTDIR="$WORK/webroot"
rm -rf "$ROOTDIR"; mkdir -p "$ROOTDIR/maplibre"
cp -r "$ROOT/web/dist/." "$ROOTDIR/"
cp "$ROOT/bench/WebBench/bare.html" "$ROOT/bench/WebBench/bare.css" "$ROOT/bench/WebBench/bare.js" "$ROOTDIR/"
cp "$ROOT/web/node_modules/maplibre-gl/dist/"{maplibre-gl.mjs,maplibre-gl-shared.mjs,maplibre-gl-worker.mjs,maplibre-gl.css} "$ROOTDIR/maplibre/"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SITEWATCH_Server__WebRoot="$ROOTDIR" SITEWATCH_Server__LoginPermitsPerMinute=100000 \
  "$SW" serve -w "$WS" --urls "http://127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

if [ -n "$SHOTS" ]; then
  # As the analyst, so the pictures show what analysts do (products, upload, notes).
  "$BENCH" shots "http://127.0.0.1:$PORT" docs-analyst "$(cat "$WORK/docs-analyst.password")" "$SITE" "$SHOTS"
  exit 0
fi
echo "==> load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$BENCH" "http://127.0.0.1:$PORT" bench-web "$PASSWORD" "$SITE" "/api/scenes/$SCENE/tiles/{z}/{x}/{y}.png" "$BBOX" "$RUNS"
# The live view: alerts stored by another process (as watch stores them) to their appearance in the page.
"$BENCH" alerts "http://127.0.0.1:$PORT" bench-web "$PASSWORD" "$SITE" "$WS" $(( RUNS * 2 ))

size() { stat -c %s "$@" | awk '{ s += $1 } END { printf "%.0f", s / 1024 }'; }
gz() { cat "$@" | gzip -9 | wc -c | awk '{ printf "%.0f", $1 / 1024 }'; }
JS=("$ROOT"/web/dist/assets/*.js)
WORKER=("$ROOT"/web/dist/assets/*.mjs)
CSS=("$ROOT"/web/dist/assets/*.css)
ML=("$ROOT"/web/node_modules/maplibre-gl/dist/maplibre-gl.mjs "$ROOT"/web/node_modules/maplibre-gl/dist/maplibre-gl-shared.mjs)
echo "bundle (KiB, raw / gzip -9):"
echo "  SiteWatch main JS       $(size "${JS[@]}") / $(gz "${JS[@]}")"
echo "  map worker              $(size "${WORKER[@]}") / $(gz "${WORKER[@]}")"
echo "  CSS                     $(size "${CSS[@]}") / $(gz "${CSS[@]}")"
echo "  peer: MapLibre main     $(size "${ML[@]}") / $(gz "${ML[@]}")  (maplibre-gl.mjs + shared; worker $(size "$ROOT/web/node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs") KiB)"
