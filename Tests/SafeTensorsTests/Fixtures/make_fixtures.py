#!/usr/bin/env python3
"""Writes reference safetensors files with the Python `safetensors` package.

Usage: make_fixtures.py OUTDIR

For every `<case>.safetensors` it also writes `<case>.json`, a sidecar the
Swift tests compare against:

    {"metadata": {...} | null,
     "tensors": {name: {"dtype": "F32", "shape": [..], "data_offsets": [b, e],
                        "hex": "<little-endian bytes>", "values": [...]}}}

`values` are the flattened elements: ints for integer types, booleans for
BOOL, and `repr(float(x))` strings for float types (so NaN/inf/-0.0 survive).
Pinned: safetensors==0.6.2, numpy==2.2.6.
"""
import json
import os
import struct
import sys

import numpy as np
import safetensors
from safetensors.numpy import save_file


def bf16_bits(values):
    """float32 -> bfloat16 bit patterns, round-to-nearest-even (NaN kept quiet)."""
    f = np.asarray(values, dtype=np.float32)
    bits = f.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(f)
    rounded[nan] = (bits[nan] >> 16) | 0x40
    return rounded.astype(np.uint16)


def bf16_to_float(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def flat_values(dtype, raw, shape):
    if dtype == "BF16":
        arr = bf16_to_float(np.frombuffer(raw, dtype="<u2"))
        return [repr(float(x)) for x in arr]
    npdtype = {
        "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
        "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?", "U16": "<u2",
        "U32": "<u4", "U64": "<u8",
    }[dtype]
    arr = np.frombuffer(raw, dtype=npdtype).reshape(shape)
    flat = arr.reshape(-1)
    if dtype.startswith("F"):
        return [repr(float(x)) for x in flat]
    if dtype == "BOOL":
        return [bool(x) for x in flat]
    return [int(x) for x in flat]


def sidecar(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    metadata = header.pop("__metadata__", None)
    data = blob[8 + n :]
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = data[b:e]
        tensors[name] = {
            "dtype": info["dtype"],
            "shape": info["shape"],
            "data_offsets": [b, e],
            "hex": raw.hex(),
            "values": flat_values(info["dtype"], raw, info["shape"]),
        }
    out = {"metadata": metadata, "tensors": tensors}
    with open(path[: -len(".safetensors")] + ".json", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    special = [0.0, -0.0, 1.0, -2.5, float("inf"), float("-inf"), float("nan"), 1e-40, 65504.0, 3.14159]

    tensors = {
        "f64": np.array(special + [1e300, -1e-300], dtype=np.float64).reshape(3, 4),
        "f32": np.array(special + [1e-45, 3.4e38], dtype=np.float32).reshape(2, 2, 3),
        "f16": np.array(special[:8] + [6e-8, 0.1], dtype=np.float16).reshape(10),
        "i64": np.array([0, 1, -1, 2**63 - 1, -(2**63), 123456789012], dtype=np.int64),
        "i32": np.array([[0, 1, -1], [2**31 - 1, -(2**31), 7]], dtype=np.int32),
        "i16": np.array([0, 1, -1, 32767, -32768], dtype=np.int16),
        "i8": np.array([0, 1, -1, 127, -128], dtype=np.int8),
        "u8": rng.integers(0, 256, size=(4, 4), dtype=np.uint8),
        "bool": np.array([[True, False, True], [False, False, True]]),
        "random.f32": rng.standard_normal((3, 5)).astype(np.float32),
    }
    save_file(tensors, os.path.join(out, "all_dtypes.safetensors"),
              metadata={"format": "np", "note": 'ünïcode "quoted" \\ / \n'})

    save_file(
        {
            "scalar.f32": np.array(1.5, dtype=np.float32),
            "scalar.i64": np.array(-7, dtype=np.int64),
            "scalar.bool": np.array(True),
            "empty.f32": np.zeros((0,), dtype=np.float32),
            "empty.i16": np.zeros((2, 0, 3), dtype=np.int16),
            "empty.u8": np.zeros((0, 5), dtype=np.uint8),
            "one": np.array([42], dtype=np.uint8),
        },
        os.path.join(out, "scalars_and_empty.safetensors"),
    )

    save_file({"only": np.arange(6, dtype=np.float32).reshape(2, 3)},
              os.path.join(out, "no_metadata.safetensors"))
    save_file({}, os.path.join(out, "no_tensors.safetensors"), metadata={"k": "v"})

    # BF16 has no numpy dtype without extra packages: hand the raw bytes to
    # the Rust serializer through the dtype name it understands.
    bf_values = [0.0, -0.0, 1.0, -1.5, 3.140625, float("inf"), float("-inf"), float("nan"), 1e30, 1.0e-3, 2.0, 256.0]
    bf = bf16_bits(bf_values).astype("<u2").tobytes()
    safetensors.serialize_file(
        {
            "bf16": {"dtype": "bfloat16", "shape": [3, 4], "data": bf},
            "bf16.scalar": {"dtype": "bfloat16", "shape": [], "data": bf16_bits([-0.5]).astype("<u2").tobytes()},
            "f32": {"dtype": "float32", "shape": [2], "data": np.array([1, 2], dtype="<f4").tobytes()},
        },
        os.path.join(out, "bf16.safetensors"),
        metadata={"dtype": "bfloat16"},
    )

    for name in sorted(os.listdir(out)):
        if name.endswith(".safetensors"):
            sidecar(os.path.join(out, name))


if __name__ == "__main__":
    main()
