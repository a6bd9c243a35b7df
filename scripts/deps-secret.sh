#!/usr/bin/env bash
# Test dependencies of internal/secret and the `ward secret` scripts.
# Idempotent.
#   git  history/staged scanning tests, 10,000-commit fast-import test
#   tar  testscript building a .tar.gz fixture
set -euo pipefail

pkgs=(git tar)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
