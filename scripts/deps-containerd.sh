#!/usr/bin/env bash
# Debian's containerd (with ctr) for the tests that read images from a
# containerd content store: they start their own containerd on a private
# root and socket, never the system service.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"
apt_install_missing containerd
