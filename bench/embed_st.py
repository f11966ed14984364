#!/usr/bin/env python3
"""sentence-transformers twin of `torchswift-bench embed`: SentenceTransformer(model).encode(first N tweets, batch 32)."""
import argparse
import csv
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--corpus", required=True)
ap.add_argument("--count", type=int, default=4000)
ap.add_argument("--batch-size", type=int, default=32)
ap.add_argument("--quantize", choices=["dynamic-int8"], help="torch.ao.quantization.quantize_dynamic (qint8) first")
a = ap.parse_args()
with open(a.corpus, encoding="utf-8", errors="replace", newline="") as f:
    texts = [r["text"] for r in csv.DictReader(f)][:a.count]
st = SentenceTransformer(a.model, device="cpu")
if a.quantize:
    st = torch.ao.quantization.quantize_dynamic(st, {torch.nn.Linear}, dtype=torch.qint8)
st.encode(texts[:64], batch_size=a.batch_size)
t0 = time.perf_counter()
st.encode(texts, batch_size=a.batch_size)
s = time.perf_counter() - t0
print(json.dumps({"benchmark": "embed", "variant": a.quantize or "", "impl": "pytorch", "sentences_per_s": len(texts) / s, "threads": torch.get_num_threads()}))
