#!/usr/bin/env python3
"""PyTorch eager twin of `torchswift example transformer --train-steps N`: times forward + MSE + backward +
AdamW steps of TransformerEncoder(TransformerEncoderLayer(512, 8), 6) on [10, 32, 512] and prints the median.

    .venv/bin/python bench/transformer_step.py --steps 10 --threads 2            # AdamW default (CPU: for-loop)
    .venv/bin/python bench/transformer_step.py --steps 10 --threads 2 --adamw fused
    .build/release/torchswift example transformer --train-steps 10 --threads 2    # the Swift side (fused AdamW)
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup-steps", type=int, default=2)
p.add_argument("--threads", type=int, default=None)
p.add_argument("--device", default="cpu")
p.add_argument("--batch-first", action="store_true")
p.add_argument("--adamw", choices=["default", "fused", "foreach", "forloop"], default="default",
               help="AdamW implementation (default: PyTorch's choice, a for-loop on the CPU)")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
dev = torch.device(args.device)


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, batch_first=args.batch_first)
model = nn.TransformerEncoder(layer, num_layers=6).to(dev)
shape = (32, 10, 512) if args.batch_first else (10, 32, 512)
src = torch.rand(*shape, device=dev)
t0 = time.perf_counter()
out = model(src)
sync()
print(f"Output shape: {list(out.shape)}")
print(f"Device: {dev}")
print(f"Time: {(time.perf_counter() - t0) * 1e3:.1f} ms (forward, training mode, {torch.get_num_threads()} threads)")

target = torch.randn(*shape, device=dev)
kw = {"fused": {"fused": True}, "foreach": {"foreach": True}, "forloop": {"foreach": False}}.get(args.adamw, {})
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, **kw)
times = []
for i in range(args.warmup_steps + args.steps):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.mse_loss(model(src), target)
    loss.backward()
    opt.step()
    sync()
    if i >= args.warmup_steps:
        times.append((time.perf_counter() - t0) * 1e3)
print(f"Train step (forward + MSE + backward + AdamW {args.adamw}): median {statistics.median(times):.1f} ms over "
      f"{len(times)} steps (min {min(times):.1f}, max {max(times):.1f}, {torch.get_num_threads()} threads)")
