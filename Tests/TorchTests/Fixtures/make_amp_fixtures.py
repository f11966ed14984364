#!/usr/bin/env python3
"""Reference values for AMPTests.swift: CPU autocast (bfloat16) outputs and GradScaler's scale sequence
with forced overflows. Regenerate: .venv/bin/python Tests/TorchTests/Fixtures/make_amp_fixtures.py"""
import os

import torch
import torch.nn.functional as F

g = torch.Generator().manual_seed(99)
out = {}
a = torch.randn(8, 16, generator=g)
b = torch.randn(16, 4, generator=g)
w = torch.randn(4, 16, generator=g)
bias = torch.randn(4, generator=g)
out["a"], out["b"], out["w"], out["bias"] = a, b, w, bias
with torch.autocast("cpu", dtype=torch.bfloat16):
    mm = a @ b
    lin = F.linear(a, w, bias)
    sm = torch.softmax(mm, dim=-1)
out["autocast.mm"] = mm
out["autocast.linear"] = lin
out["autocast.softmax"] = sm

# GradScaler with forced infs: SGD(lr=0.1) on p, loss = sum(p * d_k), d_k[0] = inf at chosen steps.
p = torch.randn(5, generator=g).requires_grad_()
out["scaler.p0"] = p.detach().clone()
opt = torch.optim.SGD([p], lr=0.1)
scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
dirs, scales = [], []
for k in range(14):
    d = torch.randn(5, generator=g)
    if k in (2, 3, 9):
        d[1] = float("inf")
    if k == 6:
        d[0] = float("nan")
    dirs.append(d)
    opt.zero_grad()
    scaler.scale((p * d).sum()).backward()
    scaler.step(opt)
    scaler.update()
    scales.append(scaler.get_scale())
out["scaler.dirs"] = torch.stack(dirs)
out["scaler.scales"] = torch.tensor(scales, dtype=torch.float64)
out["scaler.p_final"] = p.detach().clone()
torch.save(out, os.path.join(os.path.dirname(os.path.abspath(__file__)), "amp.pt"))
print("wrote amp.pt with torch", torch.__version__, "scales", scales)
