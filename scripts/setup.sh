#!/usr/bin/env bash
# Installs everything Ward's build and tests need on Debian 12 (run as root):
# Debian packages named by scripts/deps-*.sh and the Go lint tools.
# Idempotent: installed packages and tools are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # Refresh the package lists once, if they have never been fetched.
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
    apt-get update -qq
  fi
  for s in scripts/deps-*.sh; do
    [ -f "$s" ] || continue
    echo "setup: $s"
    bash "$s"
  done
else
  echo "setup: not root or no apt-get: skipping Debian packages (tests that need them will skip)" >&2
fi

# Lint tool, pinned to a release that builds with Go 1.26.
STATICCHECK_VERSION=v0.8.2
GOBIN=$(go env GOPATH)/bin
if ! "$GOBIN/staticcheck" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
  echo "setup: installing staticcheck $STATICCHECK_VERSION"
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
