#!/usr/bin/env bash
# Rebuilds public/models/*.onnx, their model cards and public/fashion-mnist-sample.bin from scratch.
# Needs Debian's torch, torchvision, onnx and the Fashion-MNIST package; installs them when root.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null || [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Needs: sudo apt-get install python3-torch python3-torchvision python3-onnx dataset-fashion-mnist libopenblas0-pthread" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision python3-onnx dataset-fashion-mnist libopenblas0-pthread
fi
# Debian's python, not whatever python3 comes first on PATH: only it has the packages above.
exec /usr/bin/python3 scripts/train/train.py "$@"
