#!/usr/bin/env bash
# First README command: install what is missing, build, and run the built-in demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
echo "==> building"
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --no-restore --verbosity quiet -nologo
OUT="${SITEWATCH_DEMO_OUT:-$ROOT/demo-output}"
echo "==> running the demo into $OUT"
"$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch" demo --out "$OUT" "$@"
