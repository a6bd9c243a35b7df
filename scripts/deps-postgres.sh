#!/usr/bin/env bash
# Debian packages the store tests use: PostgreSQL (initdb and postgres under
# /usr/lib/postgresql/*/bin). internal/testutil/pgtest starts a throwaway
# cluster from them on 127.0.0.1 in a temporary directory for the tests and
# stops it after; no system service is enabled or started here.
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"
apt_install_missing postgresql
