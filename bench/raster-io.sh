#!/usr/bin/env bash
# Benchmark: block-by-block read of a 10000 x 10000 x 4-band uint16 COG and write back as COG through SiteWatch.Gdal,
# against gdal_translate -of COG on the same file, same creation options, in the same run. Reports wall time
# (median of N runs), the ratio, and peak RSS of each.
#   bench/raster-io.sh [SIZE] [RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${1:-10000}"
RUNS="${2:-3}"
source "$ROOT/scripts/bootstrap.sh"
dpkg-query -W -f='${Status}' time 2>/dev/null | grep -q "install ok installed" || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
dotnet build "$ROOT/bench/RasterIoBench" -c Release --verbosity quiet -nologo
BENCH="$ROOT/bench/RasterIoBench/bin/Release/net10.0/linux-x64/RasterIoBench"
WORK="$ROOT/bench/results"
mkdir -p "$WORK"
INPUT="$WORK/input-${SIZE}.tif"
[ -f "$INPUT" ] || { echo "==> generating $INPUT"; "$BENCH" make-input "$INPUT" "$SIZE"; }
# The creation options CogWriter uses (CogOptions defaults).
CO=(-co COMPRESS=DEFLATE -co BLOCKSIZE=512 -co OVERVIEW_RESAMPLING=AVERAGE -co RESAMPLING=AVERAGE -co OVERVIEWS=AUTO -co PREDICTOR=YES -co BIGTIFF=IF_SAFER -co NUM_THREADS=ALL_CPUS)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ours_t=(); ours_m=(); gdal_t=(); gdal_m=()
for i in $(seq "$RUNS"); do
  rm -f "$WORK/ours.tif" "$WORK/gdal.tif"
  /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "$BENCH" copy "$INPUT" "$WORK/ours.tif" >/dev/null 2>&1
  read -r t m < "$WORK/time.txt"; ours_t+=("$t"); ours_m+=("$m")
  /usr/bin/time -o "$WORK/time.txt" -f "%e %M" gdal_translate -q -of COG "${CO[@]}" "$INPUT" "$WORK/gdal.tif" >/dev/null 2>&1
  read -r t m < "$WORK/time.txt"; gdal_t+=("$t"); gdal_m+=("$m")
  echo "run $i: sitewatch ${ours_t[-1]} s (peak ${ours_m[-1]} KiB), gdal_translate ${gdal_t[-1]} s (peak ${gdal_m[-1]} KiB)"
done
ot=$(printf '%s\n' "${ours_t[@]}" | median); gt=$(printf '%s\n' "${gdal_t[@]}" | median)
om=$(printf '%s\n' "${ours_m[@]}" | sort -n | tail -1); gm=$(printf '%s\n' "${gdal_m[@]}" | sort -n | tail -1)
echo
echo "input: $INPUT (${SIZE} x ${SIZE} x 4 uint16, $(du -h "$INPUT" | cut -f1))"
printf "%-40s %10s %14s\n" "" "median s" "peak RSS MiB"
printf "%-40s %10s %14d\n" "SiteWatch.Gdal block copy -> COG" "$ot" $((om / 1024))
printf "%-40s %10s %14d\n" "gdal_translate -of COG (baseline)" "$gt" $((gm / 1024))
awk -v a="$ot" -v b="$gt" 'BEGIN { printf "time ratio sitewatch / gdal_translate: %.2f\n", a / b }'
gdalinfo "$WORK/ours.tif" | grep -q "LAYOUT=COG" && echo "output is a valid COG layout"
cmp -s <(gdalinfo -checksum "$WORK/ours.tif" | grep Checksum) <(gdalinfo -checksum "$WORK/gdal.tif" | grep Checksum) && echo "pixel checksums of both outputs match"
