#!/usr/bin/env bash
# One command on a fresh machine: install, then run the whole path on the embedded default
# (SQLite + local object store under ./data) on a sample video, and serve http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export SITEAUDIT_DEV_MODE=${SITEAUDIT_DEV_MODE:-true}
exec siteaudit demo "$@"
