#!/usr/bin/env bash
# A SiteWatch cluster on this machine: a private PostgreSQL/PostGIS (initdb in a temporary folder, a loopback port),
# an S3-compatible server for the scenes (s3rver on loopback), the demo's scenes served as a STAC API on loopback
# (sitewatch stac serve), N demo sites with standing monitoring orders on that API, a border site with a drone feed
# (udp on loopback), three silos running all of it, and the web server joined to the cluster as a client.
#
#   scripts/cluster.sh start [--sites N] [--every MINUTES]   (default 3 sites, every 60 minutes)
#   scripts/cluster.sh status                                 (orders, feeds, silos)
#   scripts/cluster.sh fly [SECONDS]                          (stream a simulated sortie to the border feed)
#   scripts/cluster.sh kill-silo N                            (kill -9 one silo: its sites and feed move to the others)
#   scripts/cluster.sh stop
#
# Everything lives in $SITEWATCH_CLUSTER_DIR (default ./cluster-run): the workspace (ws/), the bucket (s3/), the demo
# (demo/), the logs (silo-N.log, serve.log, stac.log, s3.log) and the web sign-in (admin.txt). The PostgreSQL data
# folder is under /tmp (the postgres user must be able to read it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${SITEWATCH_CLUSTER_DIR:-$ROOT/cluster-run}"
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
SILOS=3
# s3rver's fixed keys: the S3 client and GDAL read them from the environment, as they would a real store's.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-S3RVER}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-S3RVER}"

source "$ROOT/scripts/postgres.sh"

start() {
  local sites=3 every=60
  while [ $# -gt 0 ]; do
    case "$1" in
      --sites) sites="$2"; shift 2 ;;
      --every) every="$2"; shift 2 ;;
      *) echo "error: unknown option $1 (start takes --sites N and --every MINUTES)" >&2; exit 2 ;;
    esac
  done
  if [ -f "$RUN/pg.port" ]; then
    echo "error: a cluster is already set up in $RUN; run '$0 stop' first" >&2
    exit 1
  fi
  source "$ROOT/scripts/bootstrap.sh"
  echo "==> building"
  dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --no-restore --verbosity quiet -nologo
  mkdir -p "$RUN"

  echo "==> starting a private PostgreSQL"
  pg_start
  echo "$PG_DATA" > "$RUN/pg.data"
  echo "$PG_PORT" > "$RUN/pg.port"
  pg_createdb sitewatch
  local port="$PG_PORT"

  if [ ! -f "$RUN/demo/stac/catalog.json" ]; then
    echo "==> rendering the demo's scenes (the STAC source)"
    "$SW" demo --out "$RUN/demo" --no-drone >/dev/null
  fi

  echo "==> serving the demo's scenes as a STAC API on loopback"
  local stac_port
  stac_port="$(free_port 8090)"
  nohup "$SW" stac serve "$RUN/demo/stac" --urls "http://127.0.0.1:$stac_port" > "$RUN/stac.log" 2>&1 &
  echo $! > "$RUN/stac.pid"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$stac_port") 2>/dev/null && break; sleep 0.2; done

  echo "==> starting the S3 server (s3rver) for the scenes"
  local s3_port
  s3_port="$(free_port 4568)"
  mkdir -p "$RUN/s3"
  nohup node "$ROOT/tests/s3server/node_modules/s3rver/bin/s3rver.js" -d "$RUN/s3" -a 127.0.0.1 -p "$s3_port" --silent \
    --configure-bucket sitewatch > "$RUN/s3.log" 2>&1 &
  echo $! > "$RUN/s3.pid"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.2; done

  echo "==> a workspace: catalog in PostgreSQL, scenes in the bucket, $sites monitored demo sites and a drone feed"
  "$SW" init "$RUN/ws" --postgres "Host=127.0.0.1;Port=$port;Database=sitewatch;Username=sitewatch" \
    --imagery s3://sitewatch/ws --s3-endpoint "http://127.0.0.1:$s3_port" --s3-region us-east-1 >/dev/null
  for i in $(seq 1 "$sites"); do
    "$SW" site add "demo-$i" --aoi "$RUN/demo/aoi.geojson" -w "$RUN/ws" >/dev/null
    "$SW" monitor --schedule --site "demo-$i" --stac "http://127.0.0.1:$stac_port/" --every "$every" --no-detect -w "$RUN/ws" 2>/dev/null
  done
  if [ ! -f "$RUN/flight/zones.geojson" ]; then
    "$SW" simulate flight --out "$RUN/flight" --seconds 2 --size 320x180 --vmti >/dev/null
  fi
  echo '{"type":"Polygon","coordinates":[[[-64.6,-22.55],[-64.4,-22.55],[-64.4,-22.45],[-64.6,-22.45],[-64.6,-22.55]]]}' > "$RUN/border.geojson"
  "$SW" site add border --aoi "$RUN/border.geojson" -w "$RUN/ws" >/dev/null
  local feed_port
  feed_port="$(free_port 5600)"
  echo "$feed_port" > "$RUN/feed.port"
  "$SW" feed add ridge "udp://127.0.0.1:$feed_port" --site border --zones "$RUN/flight/zones.geojson" --detector vmti -w "$RUN/ws" 2>/dev/null

  echo "==> starting $SILOS silos"
  # Every port is chosen before any silo starts, each past the last one chosen: a silo still starting has not bound
  # its port yet, and two silos on one port (Linux lets them share it) would split each other's messages.
  local silo_ports=() gateway_ports=() next_silo=11111 next_gateway=30001
  for s in $(seq 1 $SILOS); do
    silo_ports[s]="$(free_port $next_silo)"; next_silo=$((silo_ports[s] + 1))
    gateway_ports[s]="$(free_port $next_gateway)"; next_gateway=$((gateway_ports[s] + 1))
  done
  for s in $(seq 1 $SILOS); do
    local silo_port="${silo_ports[s]}" gateway_port="${gateway_ports[s]}"
    nohup "$SW" silo -w "$RUN/ws" --name "silo-$s" --silo-port "$silo_port" --gateway-port "$gateway_port" \
      --advertise 127.0.0.1 --heartbeat 5 > "$RUN/silo-$s.log" 2>&1 &
    echo $! > "$RUN/silo-$s.pid"
  done

  echo "==> the web server, a client of the cluster"
  local web_port
  web_port="$(free_port 8080)"
  "$SW" user add admin --role admin -w "$RUN/ws" > "$RUN/admin.txt" 2>&1
  nohup "$SW" serve -w "$RUN/ws" --urls "http://127.0.0.1:$web_port" --cluster sitewatch > "$RUN/serve.log" 2>&1 &
  echo $! > "$RUN/serve.pid"
  echo "cluster up: PostgreSQL on 127.0.0.1:$port, the bucket on http://127.0.0.1:$s3_port, the STAC API on http://127.0.0.1:$stac_port/,"
  echo "  the feed on udp://127.0.0.1:$feed_port, the web UI on http://127.0.0.1:$web_port (sign-in in $RUN/admin.txt), logs in $RUN/*.log"
  echo "fly a sortie with '$0 fly', watch it with '$0 status', stop it with '$0 stop'"
}

fly() {
  [ -f "$RUN/feed.port" ] || { echo "no cluster in $RUN" >&2; exit 1; }
  "$SW" simulate flight --out "$RUN/flight" --seconds "${1:-20}" --size 640x360 --vmti --udp "127.0.0.1:$(cat "$RUN/feed.port")"
}

status() {
  [ -f "$RUN/pg.port" ] || { echo "no cluster in $RUN" >&2; exit 1; }
  "$SW" monitor --list -w "$RUN/ws"
  "$SW" feed list -w "$RUN/ws"
  for pidfile in "$RUN"/silo-*.pid; do
    local name pid
    name="$(basename "$pidfile" .pid)"
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid): running; $(grep -c 'round ended' "$RUN/$name.log" || true) round(s) ended here, $(grep -c 'watch started' "$RUN/$name.log" || true) feed run(s) started here"
    else
      echo "$name (pid $pid): not running"
    fi
  done
}

kill_silo() {
  local pid
  pid="$(cat "$RUN/silo-$1.pid")"
  kill -9 "$pid" && echo "silo-$1 (pid $pid) killed; its sites move to the other silos within seconds"
}

stop() {
  local pids=()
  for pidfile in "$RUN/serve.pid" "$RUN"/silo-*.pid "$RUN/stac.pid" "$RUN/s3.pid"; do
    [ -f "$pidfile" ] || continue
    pids+=("$(cat "$pidfile")")
    kill "${pids[-1]}" 2>/dev/null || true
    rm -f "$pidfile"
  done
  # Silos leave the cluster politely (their sites move at once) before the database they meet in goes.
  for _ in $(seq 1 60); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  if [ -f "$RUN/pg.data" ]; then
    pg_stop "$(cat "$RUN/pg.data")"
  fi
  # The workspace's catalog lived in that PostgreSQL: the folder goes with it (the demo's scenes stay for next time).
  rm -rf "$RUN/ws" "$RUN/s3" "$RUN/pg.data" "$RUN/pg.port" "$RUN/feed.port" "$RUN/admin.txt"
  echo "cluster stopped"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) status ;;
  fly) shift; fly "$@" ;;
  kill-silo) kill_silo "${2:?silo number}" ;;
  stop) stop ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
