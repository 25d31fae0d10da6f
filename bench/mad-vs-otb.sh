#!/usr/bin/env bash
# Benchmark: one MAD iteration including the output write on an 8192 x 8192 x 4-band uint16 pair, SiteWatch
# (ChangeDetector, method mad) against Orfeo ToolBox's otbcli_MultivariateAlterationDetector on the same pair in the
# same run; wall time, peak RSS, and the agreement of the MAD variates (|correlation| per variate).
#   bench/mad-vs-otb.sh [SIZE]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${1:-8192}"
source "$ROOT/scripts/bootstrap.sh"
for pkg in otb-bin time; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; }
done
dotnet build "$ROOT/bench/MadBench" -c Release --verbosity quiet -nologo >/dev/null
BENCH="$ROOT/bench/MadBench/bin/Release/net10.0/linux-x64/MadBench"
WORK="$ROOT/bench/results/mad"
mkdir -p "$WORK"
A="$WORK/a-$SIZE.tif"; B="$WORK/b-$SIZE.tif"
[ -f "$B" ] || { echo "==> generating the pair ($SIZE x $SIZE x 4 uint16, tiled, uncompressed)"; "$BENCH" make-pair "$A" "$B" "$SIZE"; }
rm -f "$WORK/ours.tif" "$WORK/ours.tif.mask.tif" "$WORK/otb.tif"
/usr/bin/time -o "$WORK/t-ours" -f "%e %M" "$BENCH" mad "$A" "$B" "$WORK/ours.tif"
/usr/bin/time -o "$WORK/t-otb" -f "%e %M" otbcli_MultivariateAlterationDetector -in1 "$A" -in2 "$B" -out "$WORK/otb.tif" float >/dev/null
read -r ot om < "$WORK/t-ours"; read -r bt bm < "$WORK/t-otb"
printf "%-52s %8s %14s\n" "" "wall s" "peak RSS MiB"
printf "%-52s %8s %14d\n" "SiteWatch MAD (chi2, P(no change), 4 MAD, mask)" "$ot" $((om / 1024))
printf "%-52s %8s %14d\n" "OTB MultivariateAlterationDetector (4 MAD)" "$bt" $((bm / 1024))
awk -v a="$ot" -v b="$bt" 'BEGIN { printf "time ratio SiteWatch / OTB: %.3f\n", a / b }'
"$BENCH" correlate "$WORK/ours.tif" "$WORK/otb.tif" 4
