#!/usr/bin/env bash
# Runs every bench script at a tiny size, to prove each still runs end to end (a CI step; not part of
# scripts/test.sh, which it would slow down). The figures it prints mean nothing at these sizes: the README's figures
# come from the commands written beside them. Fails (exit 1) when any script fails; logs in bench/results/smoke/.
#   bench/smoke.sh [NAME ...]        (default: every script; NAME is a script name without .sh)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOGS="$ROOT/bench/results/smoke"
mkdir -p "$LOGS"

# Each bench script with its tiny-size arguments.
declare -A TINY=(
  [ts-klv-throughput]="2 0.2"
  [watch-latency]="2 320x180"
  [detect-throughput]="--size 256 --runs 1"
  [mad-vs-otb]="256"
  [raster-io]="256 1"
  [taizhou-eval]=""
  [detector-eval]="--quick 42"
  [drone-eval]="1 2 320x180 3"
  [tiles]="2 18"
  [fuzz]="2"
  [web]="1"
  [change-accuracy]="42"
  [change-naip]=""
  [gli-vs-ndvi]="42"
  [cluster]="200 2000 200 2 300"
)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for script in "$ROOT"/bench/*.sh; do
    name="$(basename "$script" .sh)"
    [ "$name" = smoke ] || names+=("$name")
  done
fi

failed=()
for name in "${names[@]}"; do
  if [ ! -v "TINY[$name]" ]; then
    echo "FAIL $name: no tiny size known to bench/smoke.sh (add it to TINY)"
    failed+=("$name")
    continue
  fi
  start=$(date +%s)
  # shellcheck disable=SC2086  # the tiny arguments are words
  if bash "$ROOT/bench/$name.sh" ${TINY[$name]} > "$LOGS/$name.log" 2>&1; then
    echo "ok   $name (${TINY[$name]:-no arguments}) $(( $(date +%s) - start )) s"
  else
    echo "FAIL $name (${TINY[$name]:-no arguments}), exit $?; last lines of $LOGS/$name.log:"
    tail -n 5 "$LOGS/$name.log" | sed 's/^/     /'
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "bench smoke: ${#failed[@]} of ${#names[@]} failed: ${failed[*]}"
  exit 1
fi
echo "bench smoke: all ${#names[@]} ran"
