#!/usr/bin/env python3
"""PyTorch twin of `torchswift-bench op-overhead`: a + b on two 4-element float tensors."""
import argparse
import json
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--iterations", type=int, default=200_000)
ap.add_argument("--repeats", type=int, default=7)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
torch.set_num_threads(args.threads)
a = torch.tensor([1.0, 2.0, 3.0, 4.0])
b = torch.tensor([5.0, 6.0, 7.0, 8.0])
for _ in range(10_000):
    a + b
samples = []
for _ in range(args.repeats):
    t0 = time.perf_counter_ns()
    for _ in range(args.iterations):
        a + b
    samples.append((time.perf_counter_ns() - t0) / args.iterations)
samples.sort()
print(json.dumps({"benchmark": "op_overhead", "impl": "pytorch", "ns_per_op": samples[len(samples) // 2],
                  "threads": args.threads, "torch": torch.__version__}))
