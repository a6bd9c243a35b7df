#!/usr/bin/env bash
# Build Ward's container image as an OCI image layout, without a container
# engine (go-containerregistry, internal/deploytest/buildimage).
#   scripts/build-image.sh DIR [VERSION]
# Then: ward image oci:DIR, or push it with any OCI tool (crane push DIR REF,
# skopeo copy oci:DIR docker://REF).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: scripts/build-image.sh DIR [VERSION]" >&2; exit 2; }
exec go run ./internal/deploytest/buildimage -o "$1" -version "${2:-dev}"
