#!/usr/bin/env bash
# How much of a real scene without new structures each change method marks: consecutive dates of the real NAIP series
# (../shared/data/real/naip-nd-wetlands, North Dakota prairie wetlands, 5 m, 2009-2020), cut to the columns the
# learned default never trained on (x >= 597 of 934). No reference exists: water levels, crops and fields really
# change between these dates, buildings hardly; for a user after built change, the marked share is the price in
# false alarms. Prints one row per pair and method, then the mean.
#   bench/change-naip.sh [MODEL.onnx ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAIP="$ROOT/../shared/data/real/naip-nd-wetlands"
[ -d "$NAIP" ] || { echo "no $NAIP: this bench needs the shared data" >&2; exit 1; }
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo >/dev/null
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
source "$ROOT/bench/lib/naip.sh"
naip_held_out "$NAIP" "$OUT/cut"
FILES=("${NAIP_CUTS[@]}")
SPECS=("irmad auto" "cva otsu" "objects auto" "model model")
for m in "$@"; do SPECS+=("model:$m model"); done
echo "| pair | $(for s in "${SPECS[@]}"; do set -- $s; printf '%s | ' "${1#model:}"; done)"
echo "| --- | $(for s in "${SPECS[@]}"; do printf -- '--- | '; done)"
declare -A SUM
for ((i = 1; i < ${#FILES[@]}; i++)); do
  a="${FILES[i-1]}"; b="${FILES[i]}"
  row="| $(basename "$a" .vrt | sed 's/.*_//') to $(basename "$b" .vrt | sed 's/.*_//') |"
  for spec in "${SPECS[@]}"; do
    set -- $spec
    method="$1"; extra=()
    if [[ "$method" == model:* ]]; then extra=(--model "${method#model:}"); method=model; fi
    fraction=$("$SW" change detect "$a" "$b" --out "$OUT/run" --method "$method" --threshold "$2" "${extra[@]}" --json \
      | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["changed_fraction"])')
    rm -rf "$OUT/run"
    row="$row $fraction |"
    SUM[$spec]=$(python3 -c "print(${SUM[$spec]:-0} + $fraction)")
  done
  echo "$row"
done
echo "| mean | $(for s in "${SPECS[@]}"; do python3 -c "print('%.4f |' % (${SUM[$s]} / $(( ${#FILES[@]} - 1 ))), end=' ')"; done)"
