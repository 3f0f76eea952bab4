#!/usr/bin/env bash
# The checks too long for the suite (scripts/test.sh deselects them): a review item's whole recorded span
# over ~60 s of real footage, memory over a 150 s span, and kill/restart of workers and PostgreSQL with
# nothing lost. Same fixtures as the suite (real RTSP server, PostgreSQL, S3 endpoint); one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
export SITEAUDIT_STRICT_TESTS=1
exec python3 -m pytest -p no:xdist -m soak "$@"
