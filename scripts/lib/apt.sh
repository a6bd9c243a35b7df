# Sourced by scripts/deps-*.sh.
#
# apt_install_missing PKG...: installs the Debian packages not yet installed
# (nothing to do: no apt call at all). Uses sudo when not root. Waits for
# another apt or dpkg run to finish instead of failing at once (see apt_run).
apt_install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	export DEBIAN_FRONTEND=noninteractive
	apt_run update -qq
	apt_run install -y --no-install-recommends "${missing[@]}"
}

# apt_run ARGS...: apt-get ARGS (with sudo when not root), waiting up to
# WARD_APT_LOCK_TIMEOUT seconds (default 600) for the locks another apt or
# dpkg run holds. DPkg::Lock::Timeout makes apt-get itself wait for the dpkg
# locks; the package-list and archive locks (apt-get update, downloads) have
# no such option, so a run that failed only for a lock is retried until the
# deadline. Any other failure is returned at once.
apt_run() {
	local timeout=${WARD_APT_LOCK_TIMEOUT:-600} sudo="" log rc
	local deadline=$((SECONDS + timeout))
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	log=$(mktemp "${TMPDIR:-/tmp}/ward-apt.XXXXXX")
	while :; do
		rc=0
		$sudo apt-get -o DPkg::Lock::Timeout="$timeout" "$@" >"$log" 2>&1 || rc=$?
		cat "$log"
		if ((rc == 0)); then
			rm -f "$log"
			return 0
		fi
		if ! grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' "$log" || ((SECONDS >= deadline)); then
			rm -f "$log"
			return "$rc"
		fi
		echo "apt: another apt or dpkg run holds a lock; retrying apt-get $1 in 5 s" >&2
		sleep 5
	done
}
