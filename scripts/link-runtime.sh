#!/usr/bin/env bash
# Puts libctorch.so beside the Swift build products: SwiftPM links executables and test bundles with
# RUNPATH $ORIGIN, so they find the C layer there (and it finds libtorch through its own RUNPATH).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$(cd "$ROOT" && swift build -c "${1:-debug}" --show-bin-path)"
mkdir -p "$BIN"
ln -sf "$ROOT/.torchswift/lib/libctorch.so" "$BIN/libctorch.so"
