#!/usr/bin/env bash
# The seed's encoder training step (6 layers, d512, 8 heads, input [10, 32, 512]; forward, MSE, backward,
# AdamW), TorchSwift vs PyTorch eager, same threads, interleaved.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="$(nproc)"
echo "bench: TransformerEncoder training step [10, 32, 512], $T threads, $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  ms="$("$BIN" example transformer --train-steps 10 --threads "$T" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')"
  echo "{\"benchmark\": \"transformer_step\", \"impl\": \"swift\", \"ms_per_step\": $ms}" >> "$RAW"
  for impl in default fused; do
    pms="$("$PY" "$ROOT/bench/transformer_step.py" --steps 10 --threads "$T" --adamw $impl | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')"
    variant=""; [ $impl = fused ] && variant=", \"variant\": \"vs fused AdamW\""
    if [ $impl = fused ]; then echo "{\"benchmark\": \"transformer_step\", \"variant\": \"vs fused AdamW\", \"impl\": \"swift\", \"ms_per_step\": $ms}" >> "$RAW"; fi
    echo "{\"benchmark\": \"transformer_step\"$variant, \"impl\": \"pytorch\", \"ms_per_step\": $pms}" >> "$RAW"
  done
done
