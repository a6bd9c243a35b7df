#!/usr/bin/env bash
# Test dependency of internal/signing and the sign_* CLI scripts: the real
# cosign CLI, built from the Go module proxy at a pinned version (the newest
# release whose go.mod builds with Go 1.26), into a cache outside the repo.
# Tests only: Ward never links cosign. Idempotent: nothing to do when the
# binary is already there. Tests find it via WARD_COSIGN or this path and
# skip with the reason when it is absent.
set -euo pipefail

version=${WARD_COSIGN_VERSION:-v3.1.3}
dir=${WARD_TEST_CACHE:-/var/cache/ward-test}/cosign-$version
if [[ -x "$dir/cosign" ]] && "$dir/cosign" version >/dev/null 2>&1; then
	exit 0
fi
mkdir -p "$dir"
log=$dir/build.log
# -trimpath and no VCS stamp: reproducible; GOFLAGS from the environment are
# kept (the machine sets -buildvcs=false).
if ! GOBIN="$dir" GOTOOLCHAIN=local go install -trimpath -ldflags='-s -w' \
	"github.com/sigstore/cosign/v3/cmd/cosign@$version" >"$log" 2>&1; then
	echo "deps-cosign: building cosign $version failed (see $log); interop tests will skip" >&2
	rm -f "$dir/cosign"
	exit 0
fi
"$dir/cosign" version >/dev/null
