#!/usr/bin/env bash
# Debian packages for the runtime sensor: clang/llvm/libbpf-dev/bpftool to
# regenerate the BPF objects (go generate ./internal/runtime/bpf), podman and
# runc for the container scenarios, busybox-static for the test image.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"
apt_install_missing clang llvm libbpf-dev bpftool podman runc busybox-static
