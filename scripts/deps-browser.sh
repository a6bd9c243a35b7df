#!/usr/bin/env bash
# Test dependency of internal/web (browser tests of the dashboard): Debian's
# chromium and node, and playwright-core from npm installed into a cache
# outside the repo. Playwright drives the system browser through
# executablePath=/usr/bin/chromium; it never downloads a browser build.
# Idempotent: nothing to do when everything is already there. The Go test
# finds the module via WARD_PLAYWRIGHT_DIR or this path and skips with the
# reason when something is absent (unless WARD_REQUIRE_BROWSER=1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apt.sh
source "$here/lib/apt.sh"

version=${WARD_PLAYWRIGHT_VERSION:-1.65.1}
dir=${WARD_PLAYWRIGHT_DIR:-${WARD_TEST_CACHE:-/var/cache/ward-test}/playwright}

apt_install_missing chromium fonts-dejavu-core
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install_missing nodejs npm

pkg=$dir/node_modules/playwright-core/package.json
if [[ -f "$pkg" ]] && grep -q "\"version\": \"$version\"" "$pkg"; then
	exit 0
fi
mkdir -p "$dir"
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing on
# install anyway; set it in case a future version changes that.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
	"playwright-core@$version" >"$dir/install.log" 2>&1 || {
	echo "deps-browser: npm install playwright-core@$version failed (see $dir/install.log); browser tests will skip" >&2
	exit 0
}
