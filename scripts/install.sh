#!/usr/bin/env bash
# Installs siteaudit and its Python dependencies into the current Python (3.11+).
# torch/torchvision first, pinned to the pair whose wheels lie on this machine's disk: left to itself,
# pip would resolve a multi-GB CUDA build from the index.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
want_dev=${1:-}
if ! "$py" -c 'import torch, torchvision' >/dev/null 2>&1; then
  "$py" -m pip install -q 'torch==2.14.1' 'torchvision==0.29.1'
fi
if [ "$want_dev" = "--dev" ]; then
  "$py" -m pip install -q -e '.[dev]'
else
  "$py" -m pip install -q -e .
fi
