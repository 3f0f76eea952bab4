#!/usr/bin/env bash
# One command on a fresh machine: install what the tests need (Debian packages for the RTSP server,
# ffmpeg, Chromium and coturn; Python training + dev dependencies), then run the whole suite. PostgreSQL
# (initdb/pg_ctl), the S3 endpoint (moto), the RTSP server and coturn are started by the test fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
apt_pkgs=(gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base
          gstreamer1.0-plugins-good gstreamer1.0-plugins-bad ffmpeg chromium coturn
          fonts-noto-cjk poppler-utils)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || {
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql-15" >&2; exit 2; }
bash scripts/install.sh --dev
export SITEAUDIT_STRICT_TESTS=1  # a skipped test (missing server, browser) fails the run
# -n 3: most tests wait on real servers, browsers and sockets, so 3 workers fit 2 cores (~15 min vs ~30)
# Minutes-long footage and kill/restart checks (marker `soak`) run in bench/soak.sh, not here.
exec python3 -m pytest -n 3 -m "not soak" "$@"
