#!/usr/bin/env bash
# Test dependencies of internal/artifact, internal/inventory (os), pkg/sbom
# and internal/testutil/registry. Idempotent.
#   docker-registry  real OCI registry for registry tests
#   apache2-utils    htpasswd, for the registry basic-auth test
#   rpm              rpmbuild/rpm to build real rpm databases in tests
#   debootstrap      a real Debian root file system: the dpkg ground truth
set -euo pipefail

source "$(dirname "$0")/lib/apt.sh"
apt_install_missing docker-registry apache2-utils rpm debootstrap dpkg

# Debian 12 minbase root file system for TestDebootstrapRootfs (about 200 MB,
# cached; the test skips when it is absent).
root=${WARD_DEBIAN_ROOTFS:-/var/cache/ward-test/bookworm}
if [[ ! -f "$root/var/lib/dpkg/status" ]]; then
	mkdir -p "$(dirname "$root")/debs"
	if ! debootstrap --variant=minbase --cache-dir="$(dirname "$root")/debs" bookworm "$root" >/tmp/ward-debootstrap.log 2>&1; then
		echo "deps-artifact: debootstrap failed (see /tmp/ward-debootstrap.log); TestDebootstrapRootfs will skip" >&2
		rm -rf "$root"
	fi
fi
