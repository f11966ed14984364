#!/usr/bin/env bash
# CPU data-parallel training, same job (256→1024→1024→16 ReLU MLP, MSE, AdamW, global batch $BATCH, $STEPS timed
# steps after 5 warm-up), same run, interleaved rounds:
#   TorchSwift DDP 2 processes × 1 thread   (Tests/DistributedWorker bench --mode ddp, Gloo on 127.0.0.1)
#   TorchSwift     1 process  × 2 threads   (… --mode single --threads 2)
#   PyTorch DDP    2 processes × 1 thread   (Tests/DistributedTests/Fixtures/reference.py bench --mode ddp)
# Prints one JSON line per run ({"benchmark": "ddp", "impl": ..., "samples_per_s": ...}, appended to $RAW when
# set, in the format of bench/report.py) and the medians with the ratio TorchSwift DDP / PyTorch DDP.
#   bench/ddp.sh            (ROUNDS=3 STEPS=100 BATCH=128 by default; WORKER=path to a DistributedWorker build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
ROUNDS="${ROUNDS:-3}"
STEPS="${STEPS:-100}"
BATCH="${BATCH:-128}"
if [ -z "${WORKER:-}" ]; then
  WORKER="$ROOT/.build/release/DistributedWorker"
  if [ ! -x "$WORKER" ]; then
    echo "bench: building DistributedWorker (release)" >&2
    PKG_CONFIG_PATH="$ROOT/.torchswift/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" swift build -c release --product DistributedWorker >&2
  fi
fi
export LD_LIBRARY_PATH="$ROOT/.torchswift/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_NUM_THREADS=1 GLOO_SOCKET_IFNAME=lo MASTER_ADDR=127.0.0.1
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# two ranks of "$@" on a fresh port; rank 0's JSON line on stdout; both killed after 300 s
two_ranks() {
  local port pids=() r
  port="$(free_port)"
  for r in 0 1; do
    RANK=$r LOCAL_RANK=$r WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_PORT=$port timeout 300 "$@" > "$OUT.$r" 2> "$OUT.$r.err" &
    pids+=($!)
  done
  for r in 0 1; do wait "${pids[$r]}" || { cat "$OUT.$r.err" >&2; rm -f "$OUT".*; return 1; }; done
  grep '^{' "$OUT.0"
  rm -f "$OUT".*
}

tag() { sed "s/^{/{\"benchmark\": \"ddp\", $1/"; }

echo "bench: CPU DDP, MLP 256-1024-1024-16, batch $BATCH, $STEPS steps, $ROUNDS interleaved rounds" >&2
for i in $(seq "$ROUNDS"); do
  two_ranks "$WORKER" bench --mode ddp --threads 1 --steps "$STEPS" --batch "$BATCH" | tag '"variant": "2 processes x 1 thread", ' >> "$OUT"
  two_ranks "$PY" Tests/DistributedTests/Fixtures/reference.py bench --mode ddp --threads 1 --steps "$STEPS" --batch "$BATCH" \
    | tag '"variant": "2 processes x 1 thread", ' >> "$OUT"
  "$WORKER" bench --mode single --threads 2 --steps "$STEPS" --batch "$BATCH" | grep '^{' \
    | tag '"variant": "1 process x 2 threads", ' >> "$OUT"
done
cat "$OUT"
[ -n "${RAW:-}" ] && cat "$OUT" >> "$RAW"
"$PY" - "$OUT" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def med(impl, mode):
    v = [r["samples_per_s"] for r in runs if r["impl"] == impl and r["mode"] == mode]
    return statistics.median(v) if v else float("nan")
ts_ddp, pt_ddp, ts_single = med("swift", "ddp"), med("pytorch", "ddp"), med("swift", "single")
print(f"TorchSwift DDP 2x1 thread : {ts_ddp:10.0f} samples/s")
print(f"PyTorch DDP    2x1 thread : {pt_ddp:10.0f} samples/s")
print(f"TorchSwift     1x2 threads: {ts_single:10.0f} samples/s")
print(f"ratio TorchSwift DDP / PyTorch DDP: {ts_ddp / pt_ddp:.2f}x;  TorchSwift DDP / TorchSwift 1x2 threads: {ts_ddp / ts_single:.2f}x")
EOF
