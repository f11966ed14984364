"""PyTorch's side of the distributed tests: the scenarios of Tests/DistributedWorker/main.swift with
torch.distributed (Gloo) and torch.nn.parallel.DistributedDataParallel, printing the same JSON lines.

Run as a rank (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set, or under torchrun):
    python reference.py collectives
    python reference.py train --mode ddp|single [--steps N] [--accumulate N] [--unused]
And without processes:
    python reference.py bench --mode ddp|single [--threads N] [--steps N] [--batch N]   (bench/ddp.sh)
    python reference.py sampler < cases.json   (torch.utils.data.DistributedSampler's indices per rank)
The tests start it themselves; nothing is stored.
"""
import argparse
import datetime
import json
import math
import sys

import torch
import torch.distributed as dist
import torch.nn as nn

torch.set_num_threads(1)


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def values(n, f):
    # float32 of a float64 formula, as the Swift worker computes them
    return torch.tensor([f(i) for i in range(n)], dtype=torch.float64).to(torch.float32)


class TinyNet(nn.Module):
    def __init__(self, unused):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)
        self.spare = nn.Linear(4, 4) if unused else None

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh())


def initialize(net, rank):
    shift = 0.0 if rank == 0 else 1.0
    with torch.no_grad():
        for k, (_, p) in enumerate(net.named_parameters()):
            p.copy_(values(p.numel(), lambda i: 0.3 * math.sin(0.13 * i + k) + shift).view(p.shape))


def batch(step, lo, hi):
    n = hi - lo
    x = values(n * 8, lambda i: math.sin(0.1 * (step * 64 + lo * 8 + i) + 0.5)).view(n, 8)
    y = values(n * 4, lambda i: math.cos(0.07 * (step * 32 + lo * 4 + i))).view(n, 4)
    return x, y


def collectives():
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank, world = dist.get_rank(), dist.get_world_size()
    r = float(rank)
    out = {"rank": rank, "world_size": world}
    ops = {"sum": dist.ReduceOp.SUM, "avg": dist.ReduceOp.AVG, "product": dist.ReduceOp.PRODUCT,
           "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}
    for name, op in ops.items():
        t = values(6, lambda i: i * 0.5 - r * 1.25 + 0.1).view(2, 3)
        if name == "avg":  # Gloo refuses AVG: the mean as sum / world, which TorchSwift's avg must equal
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            t /= world
        else:
            dist.all_reduce(t, op=op)
        out[f"all_reduce_{name}"] = t.double().flatten().tolist()
    ints = torch.tensor([i * 3 + rank * 7 for i in range(5)], dtype=torch.int64)
    dist.all_reduce(ints, op=dist.ReduceOp.MAX)
    out["all_reduce_int_max"] = ints.tolist()
    b = values(4, lambda i: i + r * 10)
    dist.broadcast(b, src=1)
    out["broadcast_from_1"] = b.double().tolist()
    inp = values(3, lambda i: i + r * 100)
    g = torch.zeros(world * 3)
    dist.all_gather_into_tensor(g, inp)
    out["all_gather_into_tensor"] = g.double().tolist()
    parts = [torch.zeros(3) for _ in range(world)]
    dist.all_gather(parts, inp)
    out["all_gather"] = [p.double().tolist() for p in parts]
    for name in ["sum", "avg", "max", "min"]:
        rs_in = values(world * 4, lambda i: i * 0.25 + r)
        # Reference semantics from all_reduce (Gloo's reduce-scatter sums whatever the op: PyTorch issue 162338)
        full = rs_in.clone()
        if name == "avg":
            dist.all_reduce(full, op=dist.ReduceOp.SUM)
            full /= world
        else:
            dist.all_reduce(full, op=ops[name])
        out[f"reduce_scatter_{name}"] = full[rank * 4:(rank + 1) * 4].double().tolist()
        if name == "sum":  # and the real reduce_scatter_tensor agrees for SUM
            rs_out = torch.zeros(4)
            dist.reduce_scatter_tensor(rs_out, rs_in, op=dist.ReduceOp.SUM)
            assert rs_out.tolist() == full[rank * 4:(rank + 1) * 4].tolist()
    c1 = values(3, lambda i: i + r)
    c2 = values(2, lambda i: i * r - 1)
    dist.all_reduce_coalesced([c1, c2], op=dist.ReduceOp.SUM)
    out["all_reduce_coalesced"] = [c1.double().tolist(), c2.double().tolist()]
    dist.barrier()
    emit(out)
    dist.destroy_process_group()


def train(args):
    net = TinyNet(args.unused)
    rank, world = 0, 1
    if args.mode != "single":
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        rank, world = dist.get_rank(), dist.get_world_size()
    initialize(net, rank)
    lo, hi = rank * 8 // world, (rank + 1) * 8 // world
    model = net
    if args.mode == "ddp":
        model = nn.parallel.DistributedDataParallel(net, find_unused_parameters=args.unused)
    opt = torch.optim.AdamW(net.parameters(), lr=0.01, fused=True)
    for step in range(args.steps):
        losses, grad_sums = [], []
        for micro in range(args.accumulate):
            x, y = batch(step * args.accumulate + micro, lo, hi)
            last = micro == args.accumulate - 1
            if args.mode == "ddp" and not last:
                with model.no_sync():
                    loss = ((model(x) - y) ** 2).mean() / args.accumulate
                    loss.backward()
            else:
                loss = ((model(x) - y) ** 2).mean() / args.accumulate
                loss.backward()
            losses.append(loss.item() * args.accumulate)
            grad_sums.append(sum(p.grad.double().sum().item() for p in net.parameters() if p.grad is not None))
        opt.step()
        opt.zero_grad(set_to_none=True)
        emit({"step": step, "rank": rank, "losses": losses, "grad_sums": grad_sums})
    emit({"rank": rank, "params": {n: p.detach().double().flatten().tolist() for n, p in net.named_parameters()}})
    if args.mode != "single":
        dist.destroy_process_group()


def sampler(args):
    """torch.utils.data.DistributedSampler's indices for every rank of each case in the JSON list on stdin
    ({"n", "world", "shuffle", "seed", "epoch", "drop_last"}): prints [[rank 0's indices, ...], ...]."""
    from torch.utils.data import DistributedSampler
    cases = json.load(sys.stdin)
    out = []
    for c in cases:
        ranks = []
        for rank in range(c["world"]):
            s = DistributedSampler(range(c["n"]), num_replicas=c["world"], rank=rank, shuffle=c["shuffle"],
                                   seed=c["seed"], drop_last=c["drop_last"])
            s.set_epoch(c["epoch"])
            idx = list(iter(s))
            assert len(idx) == len(s)
            ranks.append(idx)
        out.append(ranks)
    print(json.dumps(out))


def bench(args):
    """The worker's `bench` job with PyTorch (DDP or one process): rank 0 prints samples/s."""
    import time
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rank, world = 0, 1
    if args.mode == "ddp":
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        rank, world = dist.get_rank(), dist.get_world_size()
    net = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 16))
    model = nn.parallel.DistributedDataParallel(net) if args.mode == "ddp" else net
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(args.batch // world, 256)
    y = torch.randn(args.batch // world, 16)
    start = time.perf_counter()
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            if world > 1:
                dist.barrier()
            start = time.perf_counter()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        n = args.batch // world * world
        emit({"impl": "pytorch", "mode": args.mode, "world_size": world, "threads": args.threads, "steps": args.steps,
              "batch": n, "seconds": seconds, "samples_per_s": n * args.steps / seconds})
    if world > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--mode", default="ddp")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--accumulate", type=int, default=1)
    p.add_argument("--unused", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args()
    if args.scenario == "collectives":
        collectives()
    elif args.scenario == "bench":
        bench(args)
    elif args.scenario == "sampler":
        sampler(args)
    elif args.scenario == "train":
        train(args)
    else:
        sys.exit(f"unknown scenario {args.scenario}")


if __name__ == "__main__":
    main()
