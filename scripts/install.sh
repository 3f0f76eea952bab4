#!/usr/bin/env bash
# Installs siteaudit into the current Python (3.11+).
#   scripts/install.sh          the runtime: API + workers, ONNX Runtime inference, no torch
#   scripts/install.sh --train  + torch/torchvision/Ultralytics for `siteaudit model train|eval|export`
#   scripts/install.sh --dev    + training and test dependencies (what scripts/test.sh uses)
# torch/torchvision go first, pinned to the pair whose wheels lie on this machine's disk: left to itself,
# pip would resolve a multi-GB CUDA build from the index.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
case "${1:-}" in
  "") extras="" ;;
  --train) extras="[train]" ;;
  --dev) extras="[train,dev]" ;;
  *) echo "usage: scripts/install.sh [--train|--dev]" >&2; exit 2 ;;
esac
if [ -n "$extras" ] && ! "$py" -c 'import torch, torchvision' >/dev/null 2>&1; then
  "$py" -m pip install -q 'torch==2.14.1' 'torchvision==0.29.1'
fi
"$py" -m pip install -q -e ".${extras}"
