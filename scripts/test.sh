#!/usr/bin/env bash
# Runs all of Ward's tests: installs what they need (scripts/setup.sh),
# then every package's tests, including the integration tests against a
# real registry, real Debian root file systems, real containers and eBPF
# where this machine allows (they skip with a reason where it does not).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Where the eBPF sensor can run (root, BTF), its tests must not skip: a
# program the verifier rejects is a failure, not a reason to skip.
if [ "$(id -u)" = 0 ] && [ -e /sys/kernel/btf/vmlinux ] && [ -z "${WARD_REQUIRE_SENSOR+x}" ]; then
	export WARD_REQUIRE_SENSOR=1
fi
# The Kubernetes tests share one test API server (scripts/testcluster.sh),
# started on first use and left running between test binaries: stop it
# when the run ends, unless it was already running before.
if ! bash scripts/testcluster.sh status >/dev/null 2>&1; then
	trap 'bash scripts/testcluster.sh stop >/dev/null 2>&1 || true' EXIT
fi
go test -count=1 -timeout 40m ./... "$@"
