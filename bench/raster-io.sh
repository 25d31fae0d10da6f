#!/usr/bin/env bash
# Benchmark: writing a 10000 x 10000 x 4-band uint16 COG through SiteWatch.Gdal against gdal_translate -of COG on the
# same file, same creation options, in the same run, interleaved (ours, peer, ours, peer ...). Reports wall time
# (median of N runs), user CPU time (median; steadier than wall on a shared machine), the ratios, peak RSS, the load
# average, and whether every output's checksums (full resolution and overviews) match the peer's.
#   bench/raster-io.sh [SIZE] [RUNS]
# Three SiteWatch routes, each against its peer:
#   copy       RasterDataset.CopyToCog from the source (how ingest and co-registration store rasters)
#              vs gdal_translate -of COG (default OVERVIEWS=AUTO: the input's own overviews are reused)
#   block      every block read through RasterDataset and written through CogWriter (how computed pixels are stored;
#              CogWriter cannot know its pixels are a copy, so it computes every overview)
#              vs the same gdal_translate (the issue's original pairing)
#              and vs gdal_translate -co OVERVIEWS=IGNORE_EXISTING (the peer doing the same work: every overview computed)
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
CO=(-co COMPRESS=DEFLATE -co BLOCKSIZE=512 -co OVERVIEW_RESAMPLING=AVERAGE -co RESAMPLING=AVERAGE -co PREDICTOR=YES -co BIGTIFF=IF_SAFER -co NUM_THREADS=ALL_CPUS)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T U M
NAMES=(copy gdal block gdal_ignore)
run() { # name command...
  local name="$1"; shift
  /usr/bin/time -o "$WORK/time.txt" -f "%e %U %M" "$@" >/dev/null 2>&1
  read -r t u m < "$WORK/time.txt"
  T[$name]+="$t "; U[$name]+="$u "; M[$name]+="$m "
  printf "  %-12s %7.2f s wall %7.2f s user %6d MiB\n" "$name" "$t" "$u" $((m / 1024))
}
echo "load before: $(uptime)"
for i in $(seq "$RUNS"); do
  echo "run $i"
  rm -f "$WORK"/out-*.tif
  run copy "$BENCH" translate "$INPUT" "$WORK/out-copy.tif"
  run gdal gdal_translate -q -of COG "${CO[@]}" -co OVERVIEWS=AUTO "$INPUT" "$WORK/out-gdal.tif"
  run block "$BENCH" copy "$INPUT" "$WORK/out-block.tif"
  run gdal_ignore gdal_translate -q -of COG "${CO[@]}" -co OVERVIEWS=IGNORE_EXISTING "$INPUT" "$WORK/out-gdal_ignore.tif"
done
echo "load after:  $(uptime)"
echo
echo "input: $INPUT (${SIZE} x ${SIZE} x 4 uint16, $(du -h "$INPUT" | cut -f1))"
printf "%-58s %9s %9s %13s\n" "" "median s" "user s" "peak RSS MiB"
label() { case "$1" in
  copy) echo "SiteWatch CopyToCog (ingest's route)";;
  gdal) echo "gdal_translate -of COG (peer)";;
  block) echo "SiteWatch block copy through CogWriter";;
  gdal_ignore) echo "gdal_translate -of COG -co OVERVIEWS=IGNORE_EXISTING";; esac; }
declare -A MT MU
for n in "${NAMES[@]}"; do
  MT[$n]=$(tr ' ' '\n' <<<"${T[$n]}" | grep . | median); MU[$n]=$(tr ' ' '\n' <<<"${U[$n]}" | grep . | median)
  mm=$(tr ' ' '\n' <<<"${M[$n]}" | grep . | sort -n | tail -1)
  printf "%-58s %9s %9s %13d\n" "$(label "$n")" "${MT[$n]}" "${MU[$n]}" $((mm / 1024))
done
ratio() { awk -v a="${MT[$1]}" -v b="${MT[$2]}" -v c="${MU[$1]}" -v d="${MU[$2]}" -v l="$3" 'BEGIN { printf "%-58s wall %.2f  user %.2f\n", l, a / b, c / d }'; }
ratio copy gdal "ratio CopyToCog / gdal_translate:"
ratio block gdal "ratio block copy / gdal_translate:"
ratio block gdal_ignore "ratio block copy / gdal_translate IGNORE_EXISTING:"
for n in copy block; do
  gdalinfo "$WORK/out-$n.tif" | grep -q "LAYOUT=COG" || echo "out-$n.tif is NOT a COG layout"
  if cmp -s <(gdalinfo -checksum "$WORK/out-$n.tif" | grep -i checksum) <(gdalinfo -checksum "$WORK/out-gdal.tif" | grep -i checksum); then
    echo "$n: valid COG, checksums of every band and overview match gdal_translate's"
  else
    echo "$n: checksums DIFFER from gdal_translate's"
  fi
done
