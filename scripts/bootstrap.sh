#!/usr/bin/env bash
# Installs what SiteWatch needs and is missing, then restores NuGet packages. Idempotent; sourced by demo.sh and test.sh.
set -euo pipefail

SYSTEM_PACKAGES=(gdal-bin libgdal32 libgtk-3-0 fonts-dejavu-core ffmpeg ca-certificates)

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
