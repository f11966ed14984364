#!/usr/bin/env python3
"""PyTorch's repr() of assorted tensors, for TensorDescriptionTests.swift.
Writes Fixtures/repr.pt (the tensors) and Fixtures/repr.json (name -> repr string).
Regenerate: .venv/bin/python Tests/TorchTests/Fixtures/make_repr_fixtures.py
"""
import json
import os

import torch

g = torch.Generator().manual_seed(7)
T = {
    "ints_as_float": torch.tensor([[1.0, 2.0], [3.0, 40.0]]),
    "small_floats": torch.randn(3, 4, generator=g),
    "sci": torch.tensor([1e-5, 1.0, 12345.678]),
    "big_ints_float": torch.tensor([1.0, 2e9]),
    "nan_inf": torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    "zeros": torch.zeros(2, 3),
    "int64": torch.arange(12).reshape(3, 4),
    "int32": torch.tensor([-5, 100, 7], dtype=torch.int32),
    "bool": torch.tensor([[True, False], [False, True]]),
    "float64": torch.randn(2, 2, generator=g, dtype=torch.float64),
    "float16": torch.tensor([0.5, 1.25, -3.0], dtype=torch.float16),
    "scalar": torch.tensor(3.5),
    "int_scalar": torch.tensor(42),
    "empty": torch.zeros(0),
    "empty_2d": torch.zeros(2, 0),
    "summarized": torch.arange(2000.0).reshape(40, 50) / 7,
    "summarized_1d": torch.arange(5000),
    "three_d": torch.randn(2, 3, 4, generator=g),
    "long_row": torch.randn(30, generator=g),
    "negative": torch.tensor([-1.5, 2.25, -0.125]),
}
reprs = {k: repr(v) for k, v in T.items()}
leaf = torch.tensor([1.0, 2.0], requires_grad=True)
T["requires_grad"] = leaf.detach()
reprs["requires_grad"] = repr(leaf)
here = os.path.dirname(os.path.abspath(__file__))
torch.save({k: v.contiguous() for k, v in T.items()}, os.path.join(here, "repr.pt"))
with open(os.path.join(here, "repr.json"), "w") as f:
    json.dump(reprs, f, indent=1, sort_keys=True)
print(f"wrote {len(reprs)} reprs with torch {torch.__version__}")
