#!/usr/bin/env python3
"""Reference values for TorchSwift's optimizer tests (Tests/OptimTests).

SGD (momentum / dampening / nesterov / weight decay / maximize) and Adam / AdamW (weight decay, amsgrad)
trajectories on a small least-squares problem with PyTorch's default (single-tensor) implementation;
the learning rates of transformers' warmup schedules (the lambdas of get_linear_schedule_with_warmup,
get_cosine_schedule_with_warmup and get_constant_schedule_with_warmup, reimplemented here so that the
transformers package is not needed) driven by torch's LambdaLR; clip_grad_norm_ with several norms;
torch.amp.GradScaler("cpu") driving a fused AdamW (the scale and the overflow flag go into the fused kernel)
through steps with forced inf/NaN gradients, with and without unscale_ + clipping before the step; one
GradScaler shared by two optimizers (fused AdamW and SGD with momentum), each skipping only its own overflows.
Regenerate with the pinned torch:  .venv/bin/python Tests/OptimTests/Fixtures/make_optim_fixtures.py
"""
import math
import os

import torch

torch.set_num_threads(1)
OUT = {}
g = torch.Generator().manual_seed(31337)
def randn(*s): return torch.randn(*s, generator=g)


# ---------- optimizer trajectories ----------
X, Y = randn(5, 4), randn(5, 3)
W0, B0 = randn(4, 3), randn(3)
OUT.update({"x": X, "y": Y, "w0": W0, "b0": B0})
STEPS = 6
CONFIGS = {
    "sgd_plain": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    "sgd_dampening": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.5)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": (torch.optim.SGD, dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    "sgd_maximize": (torch.optim.SGD, dict(lr=0.01, momentum=0.9, maximize=True)),
    "adam": (torch.optim.Adam, dict(lr=0.01)),
    "adam_weight_decay": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.1)),
    "adam_amsgrad": (torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), amsgrad=True)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01)),
    "adamw_amsgrad": (torch.optim.AdamW, dict(lr=0.02, weight_decay=0.1, amsgrad=True, eps=1e-6)),
}
for name, (cls, kw) in CONFIGS.items():
    w, b = W0.clone().requires_grad_(), B0.clone().requires_grad_()
    opt = cls([w, b], **kw)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((X @ w + b - Y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    OUT[f"{name}.losses"] = torch.tensor(losses, dtype=torch.float64)
    OUT[f"{name}.w"] = w.detach().clone()
    OUT[f"{name}.b"] = b.detach().clone()


# ---------- schedules (transformers' lambdas) ----------
def linear_warmup(warmup, total):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def cosine_warmup(warmup, total, cycles=0.5):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress)))
    return f


def constant_warmup(warmup):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1.0, warmup))
        return 1.0
    return f


SCHEDULES = {
    "linear": linear_warmup(3, 10),
    "cosine": cosine_warmup(2, 12),
    "cosine_cycles": cosine_warmup(2, 12, 1.5),
    "constant": constant_warmup(4),
}
for name, fn in SCHEDULES.items():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, fn)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(14):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    OUT[f"sched.{name}"] = torch.tensor(lrs, dtype=torch.float64)

# ---------- clip_grad_norm_ ----------
grads = [randn(4, 5) * 3, randn(7) * 2, randn(2, 3, 2)]
for i, gr in enumerate(grads):
    OUT[f"clip.grad{i}"] = gr
for name, (max_norm, norm_type) in {"l2": (1.0, 2.0), "inf": (0.5, float("inf")), "l1": (2.0, 1.0),
                                    "none": (1e3, 2.0)}.items():
    ps = [torch.zeros_like(gr, requires_grad=True) for gr in grads]
    for p, gr in zip(ps, grads):
        p.grad = gr.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    OUT[f"clip.{name}.total"] = total
    for i, p in enumerate(ps):
        OUT[f"clip.{name}.grad{i}"] = p.grad.clone()

# ---------- GradScaler + fused AdamW (grad_scale / found_inf passed to the kernel) ----------
gs = torch.Generator().manual_seed(4242)
SW0, SB0 = torch.randn(4, 3, generator=gs), torch.randn(3, generator=gs)
OUT.update({"scaled.w0": SW0, "scaled.b0": SB0})
SCALED_STEPS = 12
BAD = {2: ("w", float("inf")), 3: ("b", float("nan")), 8: ("w", float("inf"))}  # step -> (param, value)
CLIP_AT = {1, 3, 5, 8, 9}  # steps that unscale_ and clip before step (the FineTuner's order)
dirs = torch.randn(SCALED_STEPS, 3, generator=gs)
OUT["scaled.dirs"] = dirs
w = SW0.clone().requires_grad_()
b = SB0.clone().requires_grad_()
opt = torch.optim.AdamW([w, b], lr=0.01, weight_decay=0.1, fused=True)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
scales, norms = [], []
for k in range(SCALED_STEPS):
    opt.zero_grad()
    loss = ((X @ w + b - Y) * dirs[k]).pow(2).mean()
    if k in BAD:
        which, value = BAD[k]
        loss = loss + (w if which == "w" else b).sum() * value
    scaler.scale(loss).backward()
    if k in CLIP_AT:
        scaler.unscale_(opt)
        norms.append(float(torch.nn.utils.clip_grad_norm_([w, b], 0.5)))
    scaler.step(opt)
    scaler.update()
    scales.append(scaler.get_scale())
OUT["scaled.scales"] = torch.tensor(scales, dtype=torch.float64)
OUT["scaled.norms"] = torch.tensor(norms, dtype=torch.float64)
OUT["scaled.w"] = w.detach().clone()
OUT["scaled.b"] = b.detach().clone()
for name, p in (("w", w), ("b", b)):
    st = opt.state[p]
    OUT[f"scaled.{name}.step"] = st["step"].clone()
    OUT[f"scaled.{name}.exp_avg"] = st["exp_avg"].clone()
    OUT[f"scaled.{name}.exp_avg_sq"] = st["exp_avg_sq"].clone()

# ---------- one GradScaler, two optimizers ----------
w = SW0.clone().requires_grad_()
b = SB0.clone().requires_grad_()
opt_w = torch.optim.AdamW([w], lr=0.01, fused=True)
opt_b = torch.optim.SGD([b], lr=0.05, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
TWO_BAD = {1: "b", 4: "w", 5: "b", 6: "w"}
scales = []
for k in range(10):
    opt_w.zero_grad()
    opt_b.zero_grad()
    loss = ((X @ w + b - Y) * dirs[k]).pow(2).mean()
    if k in TWO_BAD:
        loss = loss + (w if TWO_BAD[k] == "w" else b).sum() * float("inf")
    scaler.scale(loss).backward()
    if k % 3 == 0:
        scaler.unscale_(opt_b)
    scaler.step(opt_w)
    scaler.step(opt_b)
    scaler.update()
    scales.append(scaler.get_scale())
OUT["two.scales"] = torch.tensor(scales, dtype=torch.float64)
OUT["two.w"] = w.detach().clone()
OUT["two.b"] = b.detach().clone()
OUT["two.w.step"] = opt_w.state[w]["step"].clone()

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.pt")
torch.save(OUT, path)
print(f"wrote {path}: {len(OUT)} tensors")
