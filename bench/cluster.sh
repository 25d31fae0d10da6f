#!/usr/bin/env bash
# Benchmark: the cluster's catalog and throughput, on this machine, in one run.
#   bench/cluster.sh [SITES] [SCENES] [ALERTS] [CLUSTER_SITES] [SCENE_SIZE]   (default 10000 1000000 100000 12 1400)
# 1. Catalog query times with SITES sites, SCENES scene rows and ALERTS alerts, the same rows and the same questions
#    to the embedded SQLite catalog and to PostgreSQL + PostGIS (a private server started here): sites in a box,
#    scenes of a site, alerts since T, a site by name. Median and p95 of 200 runs, and the ratio.
# 2. Sites processed per hour with 1, 2 and 3 silos: CLUSTER_SITES sites, three SCENE_SIZE x SCENE_SIZE 4-band scenes
#    each (1400: the demo's scene size) from a static STAC catalog (ingest, then change against the previous scene
#    with the default method and co-registration; no detection), a fresh database per silo count, timed from the
#    silos' start until every site's round has ended; and the CPU cost of one new scene (wall x cores / scenes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SITES="${1:-10000}"
SCENES="${2:-1000000}"
ALERTS="${3:-100000}"
CLUSTER_SITES="${4:-12}"
SCENE_SIZE="${5:-1400}"
source "$ROOT/scripts/bootstrap.sh"
source "$ROOT/scripts/postgres.sh"
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --no-restore --verbosity quiet -nologo
dotnet build "$ROOT/bench/CatalogBench" -c Release --no-restore --verbosity quiet -nologo
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
BENCH="$ROOT/bench/CatalogBench/bin/Release/net10.0/linux-x64/CatalogBench"
WORK="$ROOT/bench/results/cluster"
rm -rf "$WORK"
mkdir -p "$WORK"
pg_start
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  pg_stop "$PG_DATA"
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"

echo "==> 1. catalog queries: $SITES sites, $SCENES scenes, $ALERTS alerts"
pg_createdb queries
"$BENCH" queries "$WORK/queries" "$(pg_connection queries)" "$SITES" "$SCENES" "$ALERTS" 200

echo
echo "==> 2. sites per hour with 1, 2 and 3 silos ($CLUSTER_SITES sites, 3 scenes of $SCENE_SIZE x $SCENE_SIZE each)"
"$BENCH" make-stac "$WORK/stac-source" 3 "$SCENE_SIZE" >/dev/null
echo "| silos | sites | wall (s) | sites per hour | speed-up | core-seconds per new scene |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
first=""
for silos in 1 2 3; do
  db="sites$silos"
  ws="$WORK/ws-$silos"
  pg_createdb "$db"
  "$SW" init "$ws" --postgres "$(pg_connection "$db")" >/dev/null
  for i in $(seq 1 "$CLUSTER_SITES"); do
    "$SW" site add "site-$i" --aoi "$WORK/stac-source/aoi.geojson" --gsd 1 -w "$ws" >/dev/null
    "$SW" monitor --schedule --site "site-$i" --stac "$WORK/stac-source/stac/catalog.json" --every 600 \
      --no-detect --no-alerts -w "$ws" 2>/dev/null
  done
  start=$(date +%s.%N)
  pids=()
  for s in $(seq 1 "$silos"); do
    "$SW" silo -w "$ws" --name "silo-$s" --silo-port "$(free_port $((11200 + 10 * silos + s)))" \
      --gateway-port "$(free_port $((30200 + 10 * silos + s)))" --advertise 127.0.0.1 --heartbeat 2 > "$WORK/silo-$silos-$s.log" 2>&1 &
    pids+=($!)
  done
  while [ "$("$SW" monitor --list --json -w "$ws" | grep -c '"last_round": "')" -lt "$CLUSTER_SITES" ]; do
    sleep 1
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "error: a silo stopped; see $WORK/silo-$silos-*.log" >&2; exit 1; }
    done
  done
  end=$(date +%s.%N)
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  wall=$(echo "$end - $start" | bc -l)
  rate=$(echo "$CLUSTER_SITES / $wall * 3600" | bc -l)
  [ -z "$first" ] && first=$rate
  printf "| %d | %d | %.1f | %.0f | %.2f | %.2f |\n" "$silos" "$CLUSTER_SITES" "$wall" "$rate" "$(echo "$rate / $first" | bc -l)" \
    "$(echo "$wall * $(nproc) / ($CLUSTER_SITES * 3)" | bc -l)"
done
echo "(wall time includes the silos' start, about 5 s; load after: $(cut -d' ' -f1-3 /proc/loadavg))"
