#!/usr/bin/env bash
# Debian packages for the runtime sensor: clang/llvm/libbpf-dev/bpftool to
# regenerate the BPF objects (go generate ./internal/runtime/bpf), podman and
# runc for the container scenarios, busybox-static for the test image.
set -euo pipefail
pkgs=(clang llvm libbpf-dev bpftool podman runc busybox-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
