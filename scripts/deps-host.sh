#!/usr/bin/env bash
# Debian packages needed by the host-benchmark tests (internal/benchmark):
#   debootstrap - builds the fixture root filesystems from real Debian packages
#   lynis       - used only for the comparison figure in the closing note
# Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(debootstrap lynis)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
