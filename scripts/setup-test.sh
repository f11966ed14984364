#!/usr/bin/env bash
# Reference tools for the tests (PyTorch, numpy, ...), installed once into .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
req=python/requirements-test.txt
stamp="$VENV/.stamp-$(basename "$req")"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup-test: pip install -r $req (into .venv)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
  echo "$want" > "$stamp"
fi
