#!/usr/bin/env bash
# Test dependencies of internal/secret and the `ward secret` scripts.
# Idempotent.
#   git  history/staged scanning tests, 10,000-commit fast-import test
#   tar  testscript building a .tar.gz fixture
set -euo pipefail

source "$(dirname "$0")/lib/apt.sh"
apt_install_missing git tar
