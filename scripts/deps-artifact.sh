#!/usr/bin/env bash
# Test dependencies of internal/artifact, internal/inventory (os), pkg/sbom
# and internal/testutil/registry. Idempotent.
#   docker-registry  real OCI registry for registry tests
#   apache2-utils    htpasswd, for the registry basic-auth test
#   rpm              rpmbuild/rpm to build real rpm databases in tests
#   debootstrap      a real Debian root file system: the dpkg ground truth
set -euo pipefail

source "$(dirname "$0")/lib/apt.sh"
apt_install_missing docker-registry apache2-utils rpm debootstrap dpkg util-linux

# Debian 12 minbase root file system for TestDebootstrapRootfs (about 200 MB,
# cached; the test skips when it is absent).
#
# The tree only ever appears at $root complete: debootstrap builds it in a
# temporary directory beside it (same file system), which is renamed into
# place after a successful run. A lock (flock) keeps two runs from building
# at once; the second waits, then finds the cache made. Whatever an
# interrupted run left (a partial $root from before this scheme, temporary
# directories, /proc or /sys still mounted inside them) is unmounted first
# and removed without ever crossing into a mounted file system.
root=${WARD_DEBIAN_ROOTFS:-/var/cache/ward-test/bookworm}
cache=$(dirname "$root")
name=$(basename "$root")
marker=.ward-complete

# mounts_below DIR: mount points at or below DIR, deepest first.
mounts_below() {
	local dir
	dir=$(realpath -m -- "$1")
	awk -v d="$dir" '{
		p = $5
		while (match(p, /\\[0-7][0-7][0-7]/)) {   # mountinfo escapes space, tab, newline, backslash
			c = substr(p, RSTART + 1, 3)
			p = substr(p, 1, RSTART - 1) sprintf("%c", (substr(c,1,1)*64 + substr(c,2,1)*8 + substr(c,3,1))) substr(p, RSTART + 4)
		}
		if (p == d || index(p, d "/") == 1) print length(p) "\t" p
	}' /proc/self/mountinfo | sort -rn | cut -f2-
}

# safe_remove DIR: unmount everything mounted below DIR, then remove it
# without crossing file systems. Refuses (returns 1) if a mount remains.
safe_remove() {
	local dir m
	[[ -e $1 ]] || return 0
	dir=$(realpath -e -- "$1")
	case $dir in
	/ | "$cache") echo "deps-artifact: refusing to remove $dir" >&2 && return 1 ;;
	esac
	while IFS= read -r m; do
		[[ $m == "$dir" ]] && continue # DIR itself is never a debootstrap mount
		umount -- "$m" 2>/dev/null || umount --lazy -- "$m" || true
	done < <(mounts_below "$dir")
	if [[ -n $(mounts_below "$dir") ]]; then
		echo "deps-artifact: not removing $dir: still mounted: $(mounts_below "$dir" | tr '\n' ' ')" >&2
		return 1
	fi
	rm -rf --one-file-system -- "$dir"
}

# complete DIR: a finished debootstrap tree. Trees made by this script carry
# the marker; an older tree counts if dpkg's status is filled in and
# debootstrap removed its work directory (it does so only on success).
complete() {
	[[ -f $1/$marker ]] && return 0
	[[ -s $1/var/lib/dpkg/status && ! -e $1/debootstrap && -x $1/usr/bin/dpkg ]]
}

build_rootfs() {
	local tmp
	if complete "$root"; then
		[[ -f $root/$marker ]] || touch "$root/$marker"
		return 0
	fi
	# Leftovers of interrupted runs: nobody else builds while we hold the lock.
	for tmp in "$cache/.$name.tmp."* "$cache/.$name.stale."*; do
		[[ -e $tmp ]] || continue
		echo "deps-artifact: removing $tmp, left by an interrupted run" >&2
		safe_remove "$tmp" || echo "deps-artifact: could not remove $tmp (see above)" >&2
	done
	if [[ -e $root ]]; then
		# A partial tree: move it aside at once (tests never see it), then remove.
		tmp=$(mktemp -d "$cache/.$name.stale.XXXXXX")
		echo "deps-artifact: $root is incomplete (an interrupted run?); rebuilding it" >&2
		mv -T -- "$root" "$tmp/tree"
		safe_remove "$tmp" || echo "deps-artifact: could not remove $tmp (see above); it does not affect the tests" >&2
	fi
	tmp=$(mktemp -d "$cache/.$name.tmp.XXXXXX")
	# On failure or interruption, take the temporary tree down with us.
	trap 'safe_remove "'"$tmp"'" || true' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p "$cache/debs"
	if ! debootstrap --variant=minbase --cache-dir="$cache/debs" bookworm "$tmp/tree" >/tmp/ward-debootstrap.log 2>&1; then
		echo "deps-artifact: debootstrap failed (see /tmp/ward-debootstrap.log); TestDebootstrapRootfs will skip" >&2
		return 0
	fi
	if [[ -n $(mounts_below "$tmp/tree") ]]; then
		safe_remove_mounts_only "$tmp/tree"
	fi
	touch "$tmp/tree/$marker"
	mv -T -- "$tmp/tree" "$root"
	echo "deps-artifact: Debian root file system ready at $root" >&2
}

# safe_remove_mounts_only DIR: unmount what debootstrap left mounted in a
# finished tree (it normally unmounts /proc and /sys itself).
safe_remove_mounts_only() {
	local m
	while IFS= read -r m; do
		umount -- "$m" 2>/dev/null || umount --lazy -- "$m" || true
	done < <(mounts_below "$1")
}

mkdir -p "$cache"
if ! complete "$root"; then
	exec 9>"$cache/.$name.lock"
	if ! flock -w 1800 9; then
		echo "deps-artifact: another run has held $cache/.$name.lock for 30 minutes; not building $root" >&2
		exit 0
	fi
	build_rootfs
fi
