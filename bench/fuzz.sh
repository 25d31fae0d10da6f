#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (TS demuxer, KLV decoder per standard, KLV dump, GeoJSON AOI, watch zones,
# STAC item, alert rules) with a time budget per target; see bench/README.md ("Fuzzing").
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target; `SiteWatch.Fuzz list` names them)
#   FUZZ_COVERAGE=1 bench/fuzz.sh ...                  then line coverage of the parsers (coverlet) over seeds alone and
#                                                      over seeds + corpus, measured once by replaying them in the tests
# Builds bench/Fuzz, copies it to bench/results/fuzz/bin and instruments the parsers' assemblies there with SharpFuzz
# (the product's own build is never touched). The corpus lives in bench/results/fuzz/corpus/TARGET and grows from run to
# run; seeds are built in and read from ../shared/data/klv at run time. Every crasher, minimised, goes to
# tests/SiteWatch.Video.Tests/Fuzz/crashers/TARGET/, where FuzzCrasherTests replays it: commit it with its fix.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
source "$ROOT/scripts/bootstrap.sh"
WORK="$ROOT/bench/results/fuzz"
CRASHERS="$ROOT/tests/SiteWatch.Video.Tests/Fuzz/crashers"
SHARED="$ROOT/../shared/data/klv"
[ -d "$SHARED" ] || echo "note: $SHARED not found: KLV and TS targets start from their built-in seeds only"

dotnet build "$ROOT/bench/Fuzz" -c Release --verbosity quiet -nologo
mkdir -p "$WORK"
rm -rf "$WORK/bin"
cp -r "$ROOT/bench/Fuzz/bin/Release/net10.0/linux-x64" "$WORK/bin"
FUZZ="$WORK/bin/SiteWatch.Fuzz"
"$FUZZ" instrument "$WORK/bin"

if [ $# -gt 0 ]; then TARGETS=("$@"); else mapfile -t TARGETS < <("$FUZZ" list | awk '{print $1}'); fi
before=$(find "$CRASHERS" -type f -name '*.bin' | wc -l)
log="$WORK/last-run.log"
: > "$log"
for t in "${TARGETS[@]}"; do
  "$FUZZ" run "$t" --seconds "$SECONDS_PER_TARGET" --work "$WORK" --crashers "$CRASHERS" --shared "$SHARED" 2>&1 | tee -a "$log" | grep -v '^RESULT' || true
done
echo
echo "Per target, $SECONDS_PER_TARGET s each (features: distinct edge x hit-count buckets of the instrumented parsers; corpus: inputs kept):"
grep '^RESULT' "$log" | sed 's/^RESULT //'
after=$(find "$CRASHERS" -type f -name '*.bin' | wc -l)
echo "crashers kept in tests/SiteWatch.Video.Tests/Fuzz/crashers: $after ($((after - before)) new in this run)"

if [ "${FUZZ_COVERAGE:-0}" = "1" ]; then
  # Line coverage, measured once with coverlet by replaying inputs through the same targets in the test project:
  # the built-in seeds alone (the baseline), then the seeds and the whole corpus.
  for mode in seeds corpus; do
    out="$WORK/coverage-$mode"
    rm -rf "$out"
    SITEWATCH_FUZZ_CORPUS="$WORK/corpus" SITEWATCH_FUZZ_REPLAY="$mode" \
      dotnet test "$ROOT/tests/SiteWatch.Video.Tests" -c Release --verbosity quiet -nologo --filter "FullyQualifiedName~FuzzCorpusReplay" \
        --collect "XPlat Code Coverage" --results-directory "$out" > "$out.log" 2>&1 || { tail -20 "$out.log"; exit 1; }
    python3 "$ROOT/bench/Fuzz/coverage.py" "$mode" "$(find "$out" -name coverage.cobertura.xml | head -1)"
  done
fi
