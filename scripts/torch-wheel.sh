#!/usr/bin/env bash
# The torch wheel of one version, fetched once and unzipped once (used by scripts/check-torch.sh and
# scripts/build-gpu-bundle.sh):
#
#   scripts/torch-wheel.sh 2.11.0      # prints the torch folder (.torchswift/torch-2.11.0/torch) on its last line
#
#  1. pip download --no-deps torch==VERSION into .torchswift/wheels/ (Linux x86-64 wheels from PyPI are CUDA builds,
#     0.5-1 GB; their CUDA runtime libraries are separate nvidia-* wheels, not fetched);
#  2. unzips torch/include, torch/lib, torch/version.py and torchgen/ (the op-layer generator needs it) into
#     .torchswift/torch-VERSION/.
# TORCHSWIFT_TORCH_CACHE moves the cache (default .torchswift). Messages go to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:-}"
say() { echo "torch-wheel: $*" >&2; }
die() { echo "torch-wheel: error: $*" >&2; exit 1; }
[ -n "$VERSION" ] || die "usage: scripts/torch-wheel.sh VERSION (e.g. 2.11.0)"
CACHE="${TORCHSWIFT_TORCH_CACHE:-$ROOT/.torchswift}"
WHEELS="$CACHE/wheels"
DEST="$CACHE/torch-$VERSION"
TORCH_DIR="$DEST/torch"
if [ -f "$TORCH_DIR/version.py" ] && [ -f "$TORCH_DIR/lib/libtorch_cpu.so" ] && [ -d "$DEST/torchgen" ]; then
  echo "$TORCH_DIR"
  exit 0
fi
command -v unzip >/dev/null || die "unzip is needed to extract the torch wheel (Debian: apt-get install unzip)"
mkdir -p "$WHEELS"
WHEEL="$( (ls "$WHEELS"/torch-"$VERSION"-*.whl 2>/dev/null || true) | head -n 1)"
if [ -z "$WHEEL" ]; then
  PY="$ROOT/.venv/bin/python"
  [ -x "$PY" ] || PY=python3
  say "pip download --no-deps torch==$VERSION into ${WHEELS#$ROOT/} (0.5-1 GB, once)"
  "$PY" -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: -d "$WHEELS" "torch==$VERSION" >&2 ||
    die "pip download torch==$VERSION failed (above): check that PyPI is reachable and that torch $VERSION exists for this Python and platform"
  WHEEL="$( (ls "$WHEELS"/torch-"$VERSION"-*.whl 2>/dev/null || true) | head -n 1)"
  [ -n "$WHEEL" ] || die "pip download left no torch-$VERSION-*.whl in ${WHEELS#$ROOT/}"
fi
say "unzipping torch/include, torch/lib and torchgen from $(basename "$WHEEL") into ${DEST#$ROOT/}"
rm -rf "$DEST.tmp"
unzip -q "$WHEEL" 'torch/include/*' 'torch/lib/*' 'torch/version.py' 'torchgen/*' -d "$DEST.tmp" ||
  die "unzip of $WHEEL failed (a partial download? delete it and run again)"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
FOUND="$(sed -n "s/^__version__ = '\([^'+]*\).*/\1/p" "$TORCH_DIR/version.py")"
[ "$FOUND" = "$VERSION" ] || die "$(basename "$WHEEL") holds torch $FOUND, expected $VERSION"
echo "$TORCH_DIR"
