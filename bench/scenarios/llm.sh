#!/usr/bin/env bash
# Decoder-only generation on the CPU: a random model with SmolLM-135M's config (float32, made once into
# .cache/bench-smollm-135m), batch 1, 128-token prompt, 64 new tokens, greedy: TorchSwift (static KV cache) vs
# transformers' generate (its default dynamic cache), interleaved.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="$ROOT/.cache/bench-smollm-135m"
if [ ! -f "$MODEL/model.safetensors" ]; then
  echo "bench: making a random SmolLM-135M-config model in .cache/bench-smollm-135m"
  "$PY" "$ROOT/bench/llm_generate.py" --make "$MODEL"
fi
echo "bench: decoder-only prefill and decode tokens/s (SmolLM-135M config, fp32, batch 1), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  "$BENCH_BIN" llm --model "$MODEL" >> "$RAW"
  "$PY" "$ROOT/bench/llm_generate.py" --model "$MODEL" >> "$RAW"
done
echo "bench: LoRA fine-tuning steps/s (SmolLM-135M config, r=16 on q/v, batch 4 x 256, fp32), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  "$BENCH_BIN" sft --model "$MODEL" >> "$RAW"
  "$PY" "$ROOT/bench/sft_peft.py" --model "$MODEL" >> "$RAW"
done
