#!/usr/bin/env python3
"""A small fine-tuning kit for `scripts/gpu-check`, small enough to travel with the GPU bundle.

    make-gpu-finetune-kit.py MODEL_DIR CORPUS_CSV OUT_DIR [--layers 2] [--rows 3000]

OUT_DIR/model: the bundled all-MiniLM-L6-v2 cut to its first --layers encoder layers (embeddings, those layers
and the pooler, as float16 safetensors — TorchSwift loads them into float32 modules, as transformers does),
with its config.json (num_hidden_layers changed) and tokenizer files. OUT_DIR/tweets.csv: --rows rows of the sentiment
corpus, a seeded sample (same columns). About 31 MiB with 2 layers.
Needs torch and safetensors (make setup-test installs both into .venv).
"""
import argparse
import csv
import json
import os
import random
import re
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("model_dir")
ap.add_argument("corpus_csv")
ap.add_argument("out_dir")
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--rows", type=int, default=3000)
args = ap.parse_args()

config = json.load(open(os.path.join(args.model_dir, "config.json")))
if not 1 <= args.layers <= config["num_hidden_layers"]:
    sys.exit(f"--layers must be 1...{config['num_hidden_layers']}, got {args.layers}")
weights = load_file(os.path.join(args.model_dir, "model.safetensors"))
layer_re = re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\.")
kept = {}
for name, t in weights.items():
    m = layer_re.search(name)
    if m and int(m.group(1)) >= args.layers:
        continue
    kept[name] = t.to(torch.float16).contiguous() if t.is_floating_point() else t.contiguous()

model_out = os.path.join(args.out_dir, "model")
os.makedirs(model_out, exist_ok=True)
save_file(kept, os.path.join(model_out, "model.safetensors"), metadata={"format": "pt"})
config["num_hidden_layers"] = args.layers
json.dump(config, open(os.path.join(model_out, "config.json"), "w"), indent=2)
for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
    if os.path.exists(os.path.join(args.model_dir, f)):
        shutil.copy(os.path.join(args.model_dir, f), model_out)

with open(args.corpus_csv, newline="", encoding="utf-8", errors="replace") as src, \
        open(os.path.join(args.out_dir, "tweets.csv"), "w", newline="", encoding="utf-8") as dst:
    reader, writer = csv.reader(src), csv.writer(dst)
    header, rows = next(reader), list(reader)
    # The corpus is sorted by label: a seeded sample keeps every class.
    writer.writerow(header)
    writer.writerows(random.Random(0).sample(rows, min(args.rows, len(rows))))
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out_dir) for f in fs)
print(f"make-gpu-finetune-kit: {len(kept)} tensors ({args.layers} of {len(set(int(m.group(1)) for n in weights for m in [layer_re.search(n)] if m))} layers), "
      f"{args.rows} rows, {size / 2**20:.1f} MiB in {args.out_dir}")
