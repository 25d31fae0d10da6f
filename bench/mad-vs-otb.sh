#!/usr/bin/env bash
# Benchmark: one MAD iteration including the output write on an 8192 x 8192 x 4-band uint16 pair, SiteWatch
# (ChangeDetector, method mad) against Orfeo ToolBox's otbcli_MultivariateAlterationDetector on the same pair in the
# same run, interleaved (ours, OTB, ours, OTB ...); median wall and user CPU time, peak RSS, the load average, and the
# agreement of the MAD variates (|correlation| per variate).
#   bench/mad-vs-otb.sh [SIZE] [RUNS]
# The peer comes from Debian's otb-bin package (installed with apt-get when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${1:-8192}"
RUNS="${2:-1}"
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
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ot=(); ou=(); om=(); bt=(); bu=(); bm=()
echo "load before: $(uptime)"
for i in $(seq "$RUNS"); do
  rm -f "$WORK/ours.tif" "$WORK/ours.tif.mask.tif" "$WORK/otb.tif"
  /usr/bin/time -o "$WORK/t-ours" -f "%e %U %M" "$BENCH" mad "$A" "$B" "$WORK/ours.tif"
  /usr/bin/time -o "$WORK/t-otb" -f "%e %U %M" otbcli_MultivariateAlterationDetector -in1 "$A" -in2 "$B" -out "$WORK/otb.tif" float >/dev/null
  read -r t u m < "$WORK/t-ours"; ot+=("$t"); ou+=("$u"); om+=("$m")
  read -r t u m < "$WORK/t-otb"; bt+=("$t"); bu+=("$u"); bm+=("$m")
  echo "run $i: SiteWatch ${ot[-1]} s (user ${ou[-1]} s), OTB ${bt[-1]} s (user ${bu[-1]} s)"
done
echo "load after:  $(uptime)"
mot=$(printf '%s\n' "${ot[@]}" | median); mou=$(printf '%s\n' "${ou[@]}" | median)
mbt=$(printf '%s\n' "${bt[@]}" | median); mbu=$(printf '%s\n' "${bu[@]}" | median)
pom=$(printf '%s\n' "${om[@]}" | sort -n | tail -1); pbm=$(printf '%s\n' "${bm[@]}" | sort -n | tail -1)
printf "%-52s %8s %8s %14s\n" "" "wall s" "user s" "peak RSS MiB"
printf "%-52s %8s %8s %14d\n" "SiteWatch MAD (chi2, P(no change), 4 MAD, mask)" "$mot" "$mou" $((pom / 1024))
printf "%-52s %8s %8s %14d\n" "OTB MultivariateAlterationDetector (4 MAD)" "$mbt" "$mbu" $((pbm / 1024))
awk -v a="$mot" -v b="$mbt" -v c="$mou" -v d="$mbu" 'BEGIN { printf "time ratio SiteWatch / OTB: %.3f (user CPU %.3f)\n", a / b, c / d }'
"$BENCH" correlate "$WORK/ours.tif" "$WORK/otb.tif" 4
