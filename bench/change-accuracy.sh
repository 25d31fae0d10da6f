#!/usr/bin/env bash
# Accuracy of every change method on every labelled pair SiteWatch has, through the CLI as a user runs it, in one
# table: the Taizhou Landsat pair (changed/unchanged references) and the demo's consecutive pairs plus first-to-last
# (truth masks rasterised from the generator's ground truth; pooled over the pairs by summing their confusion
# matrices). The learned default (method model, the shipped sitewatch-change.onnx) runs with the others; other learned
# models: pass MODEL.onnx files as extra arguments.
#   bench/change-accuracy.sh [SEED] [MODEL.onnx ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEED="${1:-42}"
shift || true
MODELS=("$@")
TAIZHOU="$ROOT/../shared/data/change/taizhou"
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo >/dev/null
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "==> demo site, seed $SEED (no drone)" >&2
"$SW" demo --seed "$SEED" --no-drone --out "$OUT/demo" --json > "$OUT/demo.json"
WS="$OUT/demo/workspace"
SITE=hamhung-plant
mapfile -t DATES < <("$SW" scene list --site "$SITE" -w "$WS" --json | python3 -c 'import json,sys; print("\n".join(sorted({s["acquired_utc"][:10] for s in json.load(sys.stdin)})))')
PAIRS=()
for ((i = 1; i < ${#DATES[@]}; i++)); do PAIRS+=("${DATES[i-1]} ${DATES[i]}"); done
PAIRS+=("${DATES[0]} ${DATES[-1]}")

# eval change --json -> "tp fp tn fn"
counts() { python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["true_positives"], a["false_positives"], a["true_negatives"], a["false_negatives"])'; }
# "tp fp tn fn" sums -> kappa F1 precision recall
figures() {
  awk '{ tp += $1; fp += $2; tn += $3; fn += $4 }
    END { n = tp + fp + tn + fn; po = (tp + tn) / n; pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n);
          p = tp + fp ? tp / (tp + fp) : 0; r = tp + fn ? tp / (tp + fn) : 0; f = p + r ? 2 * p * r / (p + r) : 0;
          printf "%.3f | %.3f | %.3f | %.3f", (po - pe) / (1 - pe), f, p, r }'
}

SPECS=("irmad auto" "mad chi2" "cva otsu" "pcakmeans auto" "deepcva otsu" "objects auto" "model model")
for m in "${MODELS[@]}"; do SPECS+=("model:$m model"); done
echo "| method | threshold | Taizhou kappa | F1 | precision | recall | demo seed $SEED pooled kappa | F1 | precision | recall | demo pairs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for spec in "${SPECS[@]}"; do
  set -- $spec
  method="$1"; threshold="$2"; extra=(); label="$method"
  [ "$method" = model ] && label="model (default)"
  if [[ "$method" == model:* ]]; then extra=(--model "${method#model:}"); label="$(basename "${method#model:}")"; method=model; fi
  name="$(echo "$label-$threshold" | tr -c 'A-Za-z0-9.\n-' _)"
  taizhou="- | - | - | -"
  if [ -f "$TAIZHOU/2000TM" ]; then
    "$SW" change detect "$TAIZHOU/2000TM" "$TAIZHOU/2003TM" --out "$OUT/tz-$name" --method "$method" --threshold "$threshold" "${extra[@]}" --json >/dev/null
    taizhou=$("$SW" eval change --predicted "$OUT/tz-$name/change_mask.tif" --reference "$TAIZHOU/change.bmp" --unchanged "$TAIZHOU/unchanged.bmp" --json | counts | figures)
  fi
  : > "$OUT/demo-$name.txt"
  for pair in "${PAIRS[@]}"; do
    set -- $pair
    dir=$("$SW" change --site "$SITE" -w "$WS" --before "$1" --after "$2" --method "$method" --threshold "$threshold" "${extra[@]}" --json \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d[0] if isinstance(d, list) else d)["directory"])')
    "$SW" eval change --predicted "$dir/change_mask.tif" --reference "$OUT/demo/truth/change_truth_$1_$2.tif" --json | counts >> "$OUT/demo-$name.txt"
  done
  echo "| $label | $threshold | $taizhou | $(figures < "$OUT/demo-$name.txt") | ${#PAIRS[@]} |"
done
