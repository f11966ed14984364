#!/usr/bin/env bash
# make bench: the CPU rows of the seed's training-step table (torchswift-bench table --quick), TorchSwift beside
# PyTorch eager and torch.compile. Writes bench/results/seed_table.{json,md,svg} and adds the samples/s of each
# row to the summary table (RAW, read by bench/report.py). Called by scripts/bench.sh with BENCH_BIN, PY and RAW set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
echo "bench: seed table, CPU rows (torchswift-bench table --quick --compare-pytorch --device-rows cpu)"
"$BENCH_BIN" table --quick --compare-pytorch --device-rows cpu --python "$PY" --out bench/results --name seed_table
"$PY" - bench/results/seed_table.json >> "$RAW" <<'PYEOF'
import json, sys
table = json.load(open(sys.argv[1]))
for r in table["results"]:
    variant = f'{r["scenario"]} {r["shape"]}, {r["row_title"]}'
    for impl, key in (("swift", "swift"), ("pytorch", "pytorch_eager"), ("pytorch_compile", "pytorch_compile")):
        o = r.get(key) or {}
        if o.get("status") == "ok":
            print(json.dumps({"benchmark": "seed_table", "variant": variant, "impl": impl, "samples_per_s": o["samples_per_s"]}))
PYEOF
