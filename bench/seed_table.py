#!/usr/bin/env python3
"""PyTorch twin of `torchswift-bench table`: the same training steps, run from the spec the Swift side writes.

`torchswift-bench table --compare-pytorch` starts this script once per scenario configuration with
`--spec FILE`, a JSON object:

    {"scenario": "minilm", "kind": "bert" | "encoder",
     "model": {...},            # encoder: d_model, nhead, num_layers, dim_feedforward, dropout, seq_first
                                # bert: transformers.BertConfig fields (hidden_size, num_hidden_layers, ...)
     "batch": 32, "seq": 128, "device": "cpu" | "cuda",
     "rows": ["cpu-fp32", "cpu-bf16", "gpu-fp32", "gpu-tf32", "gpu-amp-fp16", "gpu-amp-bf16", "gpu-graph"],
     "eager": true,                                 # false: only the torch.compile passes
     "compile_rows": ["gpu-amp-bf16", "gpu-graph"],   # rows also run under torch.compile (all when absent)
     "steps": 10, "warmup": 3, "threads": 2, "seed": 0,
     "deadline": 1767225600.0,  # optional unix time: no row starts after it, no compile within 60 s of it
     "profile_dir": "...", "profile_name": "encoder-128x64"}  # optional: profile 3 more steps per (row, mode)

and prints one JSON line per (row, mode) on stdout:

    {"row": "gpu-amp-bf16", "mode": "eager", "status": "ok", "median_ms": ..., "p90_ms": ..., "peak_mem_bytes": ...,
     "samples_per_s": ..., "first_step_s": ...}
    {"row": "gpu-graph", "mode": "compile", "status": "skipped", "reason": "..."}

Modes: "eager" (for the gpu-graph row: a whole-step `torch.cuda.graph` capture, the exact twin of Swift's
`CUDAGraph.make`), "compile" (`torch.compile(model)`; mode "reduce-overhead" for the gpu-graph row).
A training step is forward, loss (MSE against a random target for the encoder, cross-entropy for BERT),
backward and fused AdamW (lr 1e-4), with autocast (+ GradScaler for fp16) as the row says.
"""
import argparse
import json
import math
import os
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--spec", required=True, help="JSON spec file written by `torchswift-bench table`")
args = ap.parse_args()
spec = json.load(open(args.spec))


def emit(obj):
    print(json.dumps(obj), flush=True)


if spec.get("threads"):
    torch.set_num_threads(int(spec["threads"]))
dev = torch.device(spec["device"])
B, T = int(spec["batch"]), int(spec["seq"])
STEPS, WARMUP = int(spec["steps"]), int(spec["warmup"])
POOL = 4  # distinct batches cycled through, created on the device before timing


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def read_status_kb(field):
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_cpu_peak():
    """Resets VmHWM (Linux: writing 5 to clear_refs); returns VmRSS in bytes, or None when unavailable."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    rss = read_status_kb("VmRSS")
    return None if rss is None else rss * 1024


def cpu_peak_delta(base):
    hwm = read_status_kb("VmHWM")
    if base is None or hwm is None:
        return None
    return max(0, hwm * 1024 - base)


# ---------------------------------------------------------------- models and batches
def make_model():
    m = spec["model"]
    if spec["kind"] == "encoder":
        layer = nn.TransformerEncoderLayer(d_model=m["d_model"], nhead=m["nhead"], dim_feedforward=m["dim_feedforward"],
                                           dropout=m["dropout"], batch_first=not m.get("seq_first", True))
        return nn.TransformerEncoder(layer, num_layers=m["num_layers"], enable_nested_tensor=False)
    import transformers
    from transformers import BertConfig, BertForSequenceClassification
    import transformers.models.bert.modeling_bert as mb

    # The batches have no padding, so the attention mask is all ones and HF drops it (mask None) after a
    # host-side torch.all() check, which would break CUDA graph capture. Skip the check: same result, no sync
    # (Swift's side passes no mask either).
    mb._prepare_4d_attention_mask_for_sdpa = lambda mask, dtype, tgt_len=None: None
    transformers.logging.set_verbosity_error()
    cfg = BertConfig(**m, attn_implementation="sdpa")
    return BertForSequenceClassification(cfg)


def make_batches():
    g = torch.Generator(device="cpu").manual_seed(int(spec.get("seed", 0)) + 1)
    out = []
    m = spec["model"]
    for _ in range(POOL):
        if spec["kind"] == "encoder":
            shape = (T, B, m["d_model"]) if m.get("seq_first", True) else (B, T, m["d_model"])
            out.append((torch.rand(shape, generator=g).to(dev), torch.randn(shape, generator=g).to(dev)))
        else:
            ids = torch.randint(0, m["vocab_size"], (B, T), generator=g).to(dev)
            labels = torch.randint(0, m.get("num_labels", 2), (B,), generator=g).to(dev)
            out.append((ids, labels))
    return out


def loss_fn(model, batch):
    if spec["kind"] == "encoder":
        return F.mse_loss(model(batch[0]), batch[1])
    return model(input_ids=batch[0], labels=batch[1]).loss


def autocast_for(row, cache_enabled=True):
    if row == "cpu-bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=cache_enabled)
    if row == "gpu-amp-fp16":
        return torch.autocast("cuda", dtype=torch.float16, cache_enabled=cache_enabled)
    if row in ("gpu-amp-bf16", "gpu-graph"):
        return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=cache_enabled)
    return torch.autocast(dev.type, enabled=False)


def set_tf32(on):
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on


# ---------------------------------------------------------------- one (row, mode)
def run(row, mode):
    torch.manual_seed(int(spec.get("seed", 0)))
    set_tf32(row == "gpu-tf32")
    graph_row = row == "gpu-graph"
    model = make_model().to(dev).train()
    batches = make_batches()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True, capturable=graph_row and mode == "eager")
    scaler = torch.amp.GradScaler("cuda") if row == "gpu-amp-fp16" else None
    fwd = model
    if mode == "compile":
        torch._dynamo.reset()
        fwd = torch.compile(model, mode="reduce-overhead" if graph_row else None)

    mark_step = graph_row and mode == "compile" and hasattr(torch.compiler, "cudagraph_mark_step_begin")

    def step(batch):
        if mark_step:  # a new iteration for reduce-overhead's CUDA graph trees
            torch.compiler.cudagraph_mark_step_begin()
        opt.zero_grad(set_to_none=True)
        with autocast_for(row, cache_enabled=not (graph_row and mode == "eager")):
            loss = loss_fn(fwd, batch)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        return loss

    warmup = max(WARMUP, 3) if mode == "compile" else WARMUP
    # Peak memory from the first step on: GPU, max_memory_allocated (model included); CPU, peak RSS growth.
    if dev.type == "cuda":
        sync()
        torch.cuda.reset_peak_memory_stats(dev)
        base = None
    else:
        base = reset_cpu_peak()
    if graph_row and mode == "eager":
        # The whole step captured once (torch.cuda.graph), as Swift's CUDAGraph.make: warm-up on a side stream,
        # capture, then per step copy the next batch into the static inputs and replay.
        static = tuple(t.clone() for t in batches[0])
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        t0 = time.perf_counter()
        with torch.cuda.stream(side):
            for _ in range(3):
                step(static)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=side):  # one stream for warm-up and capture, as Swift's
            step(static)
        sync()
        first = time.perf_counter() - t0

        def timed(i):
            for s, src in zip(static, batches[i % POOL]):
                s.copy_(src, non_blocking=True)
            graph.replay()
    else:
        first = None

        def timed(i):
            step(batches[i % POOL])

    for i in range(warmup):
        t0 = time.perf_counter()
        timed(i)
        sync()
        if first is None:
            first = time.perf_counter() - t0
    note = None
    if mode == "compile" and dev.type == "cpu":
        base = reset_cpu_peak()  # leave the compiler's own memory out
        note = "peak RSS growth measured after compilation (timed steps only)"
    times = []
    for i in range(STEPS):
        t0 = time.perf_counter()
        timed(warmup + i)
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev)
    else:
        peak = cpu_peak_delta(base)
    if spec.get("profile_dir"):
        write_profile(row, mode, timed, warmup + STEPS)
    times.sort()
    median = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
    p90 = times[min(len(times) - 1, math.ceil(0.9 * len(times)) - 1)]
    return {"row": row, "mode": mode, "status": "ok", "median_ms": median, "p90_ms": p90, "peak_mem_bytes": peak,
            "samples_per_s": B / (median / 1e3), "first_step_s": first, "steps": STEPS, "note": note}


def write_profile(row, mode, timed, start, steps=3):
    """torch.profiler over `steps` more steps: <profile_dir>/<profile_name>-<row>-pytorch-<mode>.json (Chrome trace)
    and .txt (key_averages table by self device time on the GPU, self CPU time on the CPU)."""
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for i in range(steps):
            timed(start + i)
        sync()
    stem = os.path.join(spec["profile_dir"], f"{spec['profile_name']}-{row}-pytorch-{mode}")
    prof.export_chrome_trace(stem + ".json")
    sort = "self_device_time_total" if dev.type == "cuda" else "self_cpu_time_total"
    with open(stem + ".txt", "w") as f:
        f.write(f"{spec['scenario']} {row}, PyTorch {mode}: {steps} steps\n")
        f.write(prof.key_averages().table(sort_by=sort, row_limit=60))


def cleanup():
    """Between rows: free the last row's tensors, cached blocks and cuBLAS workspaces (kept per stream, and
    counted by max_memory_allocated), so each row's peak starts from the same state (as the Swift side)."""
    import gc
    gc.collect()
    if dev.type == "cuda":
        torch._C._cuda_clearCublasWorkspaces()
        torch.cuda.empty_cache()


deadline = spec.get("deadline")
compile_rows = spec.get("compile_rows", spec["rows"])
for row in spec["rows"]:
    for mode in (("eager", "compile") if spec.get("eager", True) else ("compile",)):
        if mode == "compile" and row not in compile_rows:
            emit({"row": row, "mode": mode, "status": "skipped", "reason": "not in --compile-rows"})
            continue
        if deadline is not None and time.time() + (60 if mode == "compile" else 0) > deadline:
            emit({"row": row, "mode": mode, "status": "skipped", "reason": "time budget (--budget-s) spent"})
            continue
        try:
            emit(run(row, mode))
        except Exception as e:  # report and go on with the next row
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            print(f"seed_table.py: {row}/{mode} failed:\n{traceback.format_exc()}", file=sys.stderr)
            emit({"row": row, "mode": mode, "status": "failed", "reason": f"{type(e).__name__}: {msg}"[:300]})
        finally:
            cleanup()
