#!/usr/bin/env bash
# Second README command: install what is missing and run every test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
echo "==> building"
dotnet build "$ROOT/SiteWatch.slnx" -c Release --no-restore --verbosity quiet -nologo
echo "==> testing"
log="$(mktemp)"
set +e
dotnet test "$ROOT/SiteWatch.slnx" -c Release --no-build --verbosity quiet -nologo --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line over all test projects.
awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { gsub(",", "", f); printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
