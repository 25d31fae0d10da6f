#!/usr/bin/env bash
# Accuracy of every change method on the Taizhou Landsat pair (Wu, Du and Zhang, IEEE TGRS 2014) against its changed
# and unchanged references, through the CLI exactly as a user runs it. Prints a Markdown table.
#   bench/taizhou-eval.sh [DATA_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${1:-$ROOT/../shared/data/change/taizhou}"
[ -f "$DATA/2000TM" ] || { echo "error: $DATA/2000TM not found (the Taizhou pair lives in ../shared/data/change/taizhou)" >&2; exit 1; }
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo >/dev/null
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
echo "| method | threshold | OA | kappa | precision | recall | F1 | IoU |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for spec in "irmad auto" "irmad chi2" "mad chi2" "mad otsu" "cva otsu" "pcakmeans auto" "deepcva otsu" "objects auto" "objects chi2"; do
  set -- $spec
  "$SW" change detect "$DATA/2000TM" "$DATA/2003TM" --out "$OUT/$1-$2" --method "$1" --threshold "$2" --json >/dev/null
  "$SW" eval change --predicted "$OUT/$1-$2/change_mask.tif" --reference "$DATA/change.bmp" --unchanged "$DATA/unchanged.bmp" --json \
    | awk -v m="$1" -v t="$2" -F'[:,]' '{ gsub(/[ "]/, "", $1); v[$1] = $2 }
        END { printf "| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", m, t, v["overall_accuracy"], v["kappa"], v["precision"], v["recall"], v["f1"], v["iou"] }'
done
