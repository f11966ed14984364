#!/usr/bin/env bash
# Fails when regenerating the op layer for the pinned torch would change the committed files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PIN="$(cat python/TORCH_PIN)"
GEN="$(cat csrc/generated/TORCH_VERSION)"
TORCH_DIR="$(sed -n 's/^TORCH_DIR := //p' .torchswift/config.mk)"
if [ "$GEN" != "$PIN" ]; then
  echo "check-generated: the committed op layer is for torch $GEN, the pin is $PIN: run 'make generate' and commit" >&2
  exit 1
fi
found="$(sed -n 's/^TORCH_VERSION := //p' .torchswift/config.mk)"
if [ "${found%%+*}" != "$PIN" ]; then
  echo "check-generated: skipped (building against torch $found, not the pinned $PIN)"
  exit 0
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
.venv/bin/python tools/codegen/gen_ctorch.py --torch-dir "$TORCH_DIR" --out "$TMP" > /dev/null
status=0
for f in $(cd "$TMP" && find . -type f | sort); do
  if ! cmp -s "$TMP/$f" "$ROOT/$f"; then echo "check-generated: $f differs from a fresh generation" >&2; status=1; fi
done
if [ $status -ne 0 ]; then echo "check-generated: run 'make generate' and commit the result" >&2; exit 1; fi
echo "check-generated: op layer matches a fresh generation for torch $PIN"
