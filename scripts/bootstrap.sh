#!/usr/bin/env bash
# Installs what SiteWatch needs and is missing, then restores NuGet packages. Idempotent; sourced by demo.sh and test.sh.
set -euo pipefail

# postgresql-15-postgis-3: the tests start a private PostgreSQL/PostGIS for the cluster-mode catalog.
SYSTEM_PACKAGES=(gdal-bin libgdal32 libgtk-3-0 fonts-dejavu-core ffmpeg ca-certificates chromium postgresql-15-postgis-3)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
  else
    SUDO=
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK is not installed (dotnet not on PATH); install it from https://dot.net and run this again" >&2
  exit 1
fi
sdk_major=$(dotnet --version | cut -d. -f1)
if [ "$sdk_major" -lt 10 ]; then
  echo "error: SiteWatch needs the .NET 10 SDK; found $(dotnet --version)" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "==> restoring NuGet packages"
dotnet restore "$ROOT/SiteWatch.slnx" --verbosity quiet

# The web UI (web/, served by `sitewatch serve`): npm packages from the lock file, then a build, each only when
# what it depends on changed. Vite needs Node.js 20.19+ (Debian 12's own nodejs is 18).
if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "error: the web UI needs Node.js 20.19 or newer with npm (found $(node --version 2>/dev/null || echo none)); install it (e.g. nodesource's nodejs 20 or 22) and run this again" >&2
  exit 1
fi
WEB="$ROOT/web"
if [ ! -f "$WEB/node_modules/.package-lock.json" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
  echo "==> installing the web UI's npm packages"
  if ! out=$(cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
    echo "$out" >&2
    exit 1
  fi
fi
# The S3-compatible server the imagery-store tests run on loopback (s3rver), from its lock file.
S3SERVER="$ROOT/tests/s3server"
if [ ! -f "$S3SERVER/node_modules/.package-lock.json" ] || [ "$S3SERVER/package-lock.json" -nt "$S3SERVER/node_modules/.package-lock.json" ]; then
  echo "==> installing the tests' S3 server (s3rver)"
  if ! out=$(cd "$S3SERVER" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
    echo "$out" >&2
    exit 1
  fi
fi
if [ ! -f "$WEB/dist/index.html" ] || [ -n "$(find "$WEB/src" "$WEB/index.html" "$WEB/package-lock.json" "$WEB/vite.config.ts" "$WEB/tsconfig.json" -newer "$WEB/dist/index.html" -print -quit)" ]; then
  echo "==> building the web UI"
  if ! out=$(cd "$WEB" && npm run build 2>&1); then
    echo "$out" >&2
    exit 1
  fi
fi
