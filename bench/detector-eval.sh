#!/usr/bin/env bash
# Accuracy of the default object detector on held-out synthetic scenes: for each demo seed (42 is the demo's own
# site; the detector was trained on seeds 1-10 only), generate the demo, run `detect file` on every stored scene
# (the site grid, as `detect --site` sees it) and score it with `eval detect` against the demo's ground truth at
# IoU 0.3 for the scene's date. Prints per-class precision / recall / F1 over all scenes, and over the cloud-free ones.
#   bench/detector-eval.sh [SEED ...]        (default: 42 1001)
#   bench/detector-eval.sh --quick [SEED]   tiny size (bench/smoke.sh): no drone flight, the first two scenes only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=(); SCENES=1000
if [ "${1:-}" = --quick ]; then QUICK=(--no-drone); SCENES=2; shift; fi
SEEDS=("$@"); [ ${#SEEDS[@]} -gt 0 ] || SEEDS=(42 1001)
source "$ROOT/scripts/bootstrap.sh"
command -v python3 >/dev/null || apt-get install -y -qq python3 >/dev/null
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
WORK="$ROOT/bench/results/detector-eval"
rm -rf "$WORK"; mkdir -p "$WORK"
for seed in "${SEEDS[@]}"; do
  out="$WORK/seed-$seed"
  echo "==> seed $seed: generating the demo site"
  "$SW" demo --seed "$seed" --out "$out" "${QUICK[@]}" --json > "$out.demo.json"
  (cd "$out/workspace" && "$SW" scene list --site hamhung-plant --json) > "$out.scenes.json"
  python3 - "$out.scenes.json" <<'PY' > "$out.list"
import json, sys
for s in json.load(open(sys.argv[1])):
    print(s["acquired_utc"][:10], s["file"], 1 if (s.get("cloud_cover_percent") or 0) > 0 or s.get("cloud_mask_file") else 0)
PY
  while read -r date file cloudy; do
    [[ "$file" = /* ]] || file="$out/workspace/$file"
    "$SW" detect file "$file" --out "$out/det-$date.geojson" --json > /dev/null
    "$SW" eval detect --predicted "$out/det-$date.geojson" --truth "$out/truth/ground_truth.geojson" --date "$date" --json \
      | python3 -c "import json,sys; d=json.load(sys.stdin); d['seed']=$seed; d['cloudy']=$cloudy; print(json.dumps(d))" >> "$WORK/scores.jsonl"
  done < <(head -n "$SCENES" "$out.list")
done
python3 - "$WORK/scores.jsonl" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
def table(title, keep):
    agg = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    n = 0
    for r in rows:
        if not keep(r): continue
        n += 1
        for c in r["classes"]:
            a = agg[c["class"]]
            a[0] += c["truth"]; a[1] += c["predicted"]; a[2] += c["true_positives"]; a[3] += c["false_positives"]; a[4] += c["false_negatives"]
    print(f"\n{title} ({n} scenes, IoU >= 0.3)")
    print(f"{'class':15} {'truth':>6} {'found':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'precision':>9} {'recall':>7} {'F1':>6}")
    for k in sorted(agg):
        t, p, tp, fp, fn = agg[k]
        prec = tp / p if p else float('nan'); rec = tp / t if t else float('nan'); f1 = 2 * tp / (t + p) if t + p else float('nan')
        print(f"{k:15} {t:6d} {p:6d} {tp:5d} {fp:5d} {fn:5d} {prec:9.3f} {rec:7.3f} {f1:6.3f}")
table("all scenes of seeds " + ",".join(sorted({str(r['seed']) for r in rows})), lambda r: True)
table("cloud-free scenes", lambda r: r["cloudy"] == 0)
PY
