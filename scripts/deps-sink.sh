#!/usr/bin/env bash
# Debian packages the sink tests use: rsyslog (started by
# internal/sink's TestRsyslog on 127.0.0.1 with a temporary config; no
# system service is enabled or started).
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"
apt_install_missing rsyslog
