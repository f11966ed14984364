#!/usr/bin/env python3
"""Summarises the JSON lines written by the Swift and PyTorch benchmark twins: medians over rounds,
Swift/PyTorch ratios, a terminal table, markdown and JSON."""
import argparse
import datetime
import json
import statistics
from collections import defaultdict

ap = argparse.ArgumentParser()
ap.add_argument("raw")
ap.add_argument("--machine", default="")
ap.add_argument("--json")
ap.add_argument("--markdown")
args = ap.parse_args()

# (benchmark, metric, lower_is_better)
METRICS = {
    "op_overhead": ("ns_per_op", True),
    "transformer_step": ("ms_per_step", True),
    "tokenizer": ("tokens_per_s", False),
    "tokenizer_bpe": ("tokens_per_s", False),
    "tokenizer_load": ("ms", True),
    "embed": ("sentences_per_s", False),
    "finetune": ("samples_per_s", False),
    "seed_table": ("samples_per_s", False),
    "ddp": ("samples_per_s", False),
    "llm_prefill": ("tokens_per_s", False),
    "llm_decode": ("tokens_per_s", False),
    "sft_lora": ("steps_per_s", False),
    "serve_embed": ("requests_per_s", False),
    "serve_generate": ("tokens_per_s", False),
}
rows = defaultdict(lambda: defaultdict(list))
extra = defaultdict(dict)
for line in open(args.raw):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    name = r["benchmark"] + (f" ({r['variant']})" if r.get("variant") else "")
    metric, _ = METRICS[r["benchmark"]]
    rows[name][r["impl"]].append(r[metric])
    extra[name].update({k: v for k, v in r.items() if k not in ("impl", metric)})

today = datetime.date.today().isoformat()
out = {"date": today, "machine": args.machine, "results": []}
lines = [f"| benchmark | metric | TorchSwift | PyTorch | ratio (speed-up) |", "|---|---|---|---|---|"]
W = max([34] + [len(n) for n in rows])
print(f"\n{'benchmark':<{W}} {'metric':<16} {'TorchSwift':>12} {'PyTorch':>12} {'speed-up':>9}")
for name, impls in rows.items():
    bench = name.split(" ")[0]
    metric, lower = METRICS[bench]
    s = statistics.median(impls["swift"]) if impls.get("swift") else None
    p = statistics.median(impls["pytorch"]) if impls.get("pytorch") else None
    ratio = None
    if s and p:
        ratio = (p / s) if lower else (s / p)
    fmt = lambda v: "-" if v is None else (f"{v:,.1f}" if v >= 100 else f"{v:.3g}")
    print(f"{name:<{W}} {metric:<16} {fmt(s):>12} {fmt(p):>12} {('%.2fx' % ratio) if ratio else '-':>9}")
    lines.append(f"| {name} | {metric} | {fmt(s)} | {fmt(p)} | {('%.2fx' % ratio) if ratio else '-'} |")
    out["results"].append({"benchmark": name, "metric": metric, "swift": s, "pytorch": p, "speedup": ratio,
                           "rounds": {k: v for k, v in impls.items()}, "details": extra[name]})
print(f"\n({today}, {args.machine}; speed-up = how many times faster TorchSwift is)")
if args.json:
    json.dump(out, open(args.json, "w"), indent=1)
if args.markdown:
    open(args.markdown, "w").write(f"Measured {today} on {args.machine}.\n\n" + "\n".join(lines) + "\n")
