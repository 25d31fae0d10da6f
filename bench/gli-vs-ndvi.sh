#!/usr/bin/env bash
# How well the green leaf index (visible bands only) tells vegetated change objects from the rest, against NDVI > 0.3,
# on the change objects of IR-MAD and CVA runs: the demo's consecutive pairs (seed as argument) and the real NAIP series
# (bench/lib/naip.sh: the held-out columns, bands named). Prints, per cut of the index, the area-weighted balanced
# accuracy on each set.
#   bench/gli-vs-ndvi.sh [SEED]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEED="${1:-42}"
NAIP="$ROOT/../shared/data/real/naip-nd-wetlands"
[ -d "$NAIP" ] || { echo "no $NAIP: this bench needs the shared data" >&2; exit 1; }
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo >/dev/null
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "==> demo site, seed $SEED (no drone)" >&2
"$SW" demo --seed "$SEED" --no-drone --out "$OUT/demo" --json > /dev/null
WS="$OUT/demo/workspace"; SITE=hamhung-plant
mapfile -t DATES < <("$SW" scene list --site "$SITE" -w "$WS" --json | python3 -c 'import json,sys; print("\n".join(sorted({s["acquired_utc"][:10] for s in json.load(sys.stdin)})))')
for m in irmad cva; do
  for ((i = 1; i < ${#DATES[@]}; i++)); do
    "$SW" change --site "$SITE" -w "$WS" --before "${DATES[i-1]}" --after "${DATES[i]}" --method $m --json > /dev/null
  done
done

echo "==> NAIP series" >&2
source "$ROOT/bench/lib/naip.sh"
naip_held_out "$NAIP" "$OUT/naip"
VRTS=("${NAIP_CUTS[@]}")
for m in irmad cva; do
  for ((i = 1; i < ${#VRTS[@]}; i++)); do
    "$SW" change detect "${VRTS[i-1]}" "${VRTS[i]}" --out "$OUT/naip/run-$m-$i" --method $m --json > /dev/null
  done
done

python3 - "$OUT" <<'PY'
import glob, json, sys
out = sys.argv[1]
def load(paths):
    rows = []
    for p in paths:
        for f in json.load(open(p))["features"]:
            q = f["properties"]
            if q.get("ndvi_after") is not None and q.get("gli_after") is not None:
                rows.append((q["ndvi_after"] > 0.3, q["gli_after"], q["area_m2"]))
    return rows
sets = {"demo": load(glob.glob(f"{out}/demo/workspace/changes/*/*_irmad/changes.geojson") + glob.glob(f"{out}/demo/workspace/changes/*/*_cva/changes.geojson")),
        "NAIP": load(glob.glob(f"{out}/naip/run-*/changes.geojson"))}
print("| cut of gli_after | " + " | ".join(f"{n} balanced accuracy ({len(r)} objects, {sum(v for v, _, _ in r)} NDVI > 0.3)" for n, r in sets.items()) + " |")
print("| --- | " + " | ".join("---" for _ in sets) + " |")
for t in [x / 100 for x in range(-4, 21, 2)]:
    cells = []
    for rows in sets.values():
        tp = sum(a for v, g, a in rows if v and g > t); fn = sum(a for v, g, a in rows if v and g <= t)
        tn = sum(a for v, g, a in rows if not v and g <= t); fp = sum(a for v, g, a in rows if not v and g > t)
        cells.append(f"{((tp / (tp + fn) if tp + fn else 0) + (tn / (tn + fp) if tn + fp else 0)) / 2:.3f}")
    print(f"| {t:+.2f} | " + " | ".join(cells) + " |")
PY
