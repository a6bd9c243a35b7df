#!/usr/bin/env bash
# Debian packages needed by the host-benchmark tests (internal/benchmark):
#   debootstrap - builds the fixture root filesystems from real Debian packages
#   lynis       - used only for the comparison figure in the closing note
# Idempotent: installs only what is missing.
set -euo pipefail

source "$(dirname "$0")/lib/apt.sh"
apt_install_missing debootstrap lynis
