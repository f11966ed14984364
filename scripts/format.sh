#!/usr/bin/env bash
# One code style (.swift-format: 2-space indentation, 120 columns) for the hand-written Swift sources and tests.
#   scripts/format.sh          check: lists every file swift-format would change and fails if there is one
#   scripts/format.sh --fix    rewrite the files in place
# Generated files (Sources/Torch/Generated, UnicodeTableData.swift) keep their generators' layout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mapfile -t FILES < <(find Sources Tests Examples -name '*.swift' -not -path '*/Generated/*' \
  -not -name 'UnicodeTableData.swift' -not -path '*/Fixtures/*' 2>/dev/null | sort)
if [ "${1:-}" = "--fix" ]; then
  echo "format: swift format -i (${#FILES[@]} files)"
  swift format format --configuration .swift-format --parallel --in-place "${FILES[@]}"
  exit 0
fi
echo "format: swift format lint --strict (${#FILES[@]} files)"
if ! swift format lint --configuration .swift-format --parallel --strict "${FILES[@]}"; then
  echo "format: the files above are not formatted: run 'make format' and commit the result" >&2
  exit 1
fi
