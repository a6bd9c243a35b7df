# Sourced by scripts/deps-*.sh.
# apt_install_missing PKG...: installs the Debian packages not yet installed
# (nothing to do: no apt call at all). Uses sudo when not root.
apt_install_missing() {
	local missing=() p sudo=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y --no-install-recommends "${missing[@]}"
}
