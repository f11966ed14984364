#!/usr/bin/env bash
# make bench: each scenario in Swift and in PyTorch on this machine, same threads, interleaved
# (Swift, PyTorch, Swift, PyTorch, ...); prints a table of medians and ratios and writes
# bench/results/latest.json and bench/results/latest.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
BIN="$ROOT/.build/release/torchswift"
BENCH_BIN="$ROOT/.build/release/torchswift-bench"
export LD_LIBRARY_PATH="$ROOT/.torchswift/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ROUNDS="${BENCH_ROUNDS:-3}"
mkdir -p bench/results
RAW="$(mktemp)"
trap 'rm -f "$RAW"' EXIT

echo "bench: per-op overhead (add of two 4-element tensors), $ROUNDS interleaved rounds"
for i in $(seq "$ROUNDS"); do
  "$BENCH_BIN" op-overhead >> "$RAW"
  "$PY" bench/op_overhead.py >> "$RAW"
done
echo "bench: CPU DDP (TorchSwift 2 processes x 1 thread vs PyTorch DDP; TorchSwift 1 process x 2 threads)"
ROUNDS="$ROUNDS" PY="$PY" RAW="$RAW" bash bench/ddp.sh
for extra in bench/scenarios/*.sh; do
  [ -f "$extra" ] && ROUNDS="$ROUNDS" BIN="$BIN" BENCH_BIN="$BENCH_BIN" PY="$PY" RAW="$RAW" bash "$extra"
done
"$PY" bench/report.py "$RAW" --machine "$(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)" \
  --json bench/results/latest.json --markdown bench/results/latest.md
