#!/usr/bin/env python3
"""Python-side reference for the Swift tests (safetensors==0.6.2, numpy==2.2.6).

Usage:
  reference_tool.py digest FILE...   Loads each file with Python safetensors and
      prints one JSON object {FILE: {"metadata": ..., "tensors": {name:
      {"dtype", "shape", "hex"}}, "keys": [...]}} on stdout. Tensors whose dtype
      numpy supports are also loaded with safetensors.numpy.load_file and must
      agree with the raw bytes.
  reference_tool.py save SPEC OUT...  For each (SPEC, OUT) pair: SPEC is JSON
      {"metadata": {...}|null, "tensors": [{"name","dtype","shape","hex"}]};
      writes the bytes of safetensors.numpy.save (or of safetensors.serialize
      when a dtype has no numpy equivalent, e.g. BF16) to OUT.
  reference_tool.py verdicts CORPUS  CORPUS is a sequence of (u64 little-endian
      length, file image) records. Prints a JSON list with, per image, either
      {"ok": [sorted tensor names]} or {"error": "<reference error text>"},
      plus "duplicates": true when the header is JSON with a repeated key in
      some object (the reference keeps the last value; the Swift reader rejects).
"""
import json
import struct
import sys

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file, save

NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U8": "u1", "BOOL": "?", "U16": "<u2", "U32": "<u4", "U64": "<u8",
}
RUST_NAMES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
    "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool", "U16": "uint16",
    "U32": "uint32", "U64": "uint64", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
    "F8_E8M0": "float8_e8m0fnu", "F4": "float4_e2m1fn_x2",
}


def digest(path):
    with open(path, "rb") as f:
        blob = f.read()
    tensors = {}
    for name, view in safetensors.deserialize(blob):
        tensors[name] = {"dtype": view["dtype"], "shape": list(view["shape"]), "hex": bytes(view["data"]).hex()}
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata()
        keys = list(f.keys())
    if all(t["dtype"] in NUMPY for t in tensors.values()):
        for name, arr in load_file(path).items():
            t = tensors[name]
            assert list(arr.shape) == t["shape"], name
            assert np.ascontiguousarray(arr).tobytes().hex() == t["hex"], name
    return {"metadata": metadata, "tensors": tensors, "keys": keys}


def save_spec(spec_path, out_path):
    with open(spec_path) as f:
        spec = json.load(f)
    entries = spec["tensors"]
    metadata = spec["metadata"]
    if all(e["dtype"] in NUMPY for e in entries):
        arrays = {
            e["name"]: np.frombuffer(bytes.fromhex(e["hex"]), dtype=NUMPY[e["dtype"]]).reshape(e["shape"])
            for e in entries
        }
        blob = save(arrays, metadata=metadata)
    else:
        raw = {
            e["name"]: {"dtype": RUST_NAMES[e["dtype"]], "shape": e["shape"], "data": bytes.fromhex(e["hex"])}
            for e in entries
        }
        blob = bytes(safetensors.serialize(raw, metadata=metadata))
    with open(out_path, "wb") as f:
        f.write(blob)


def has_duplicate_keys(image):
    found = []

    def hook(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            found.append(True)
        return dict(pairs)

    try:
        (n,) = struct.unpack_from("<Q", image, 0)
        json.loads(image[8 : 8 + n].decode("utf-8"), object_pairs_hook=hook)
    except Exception:
        return False
    return bool(found)


def verdicts(corpus_path):
    with open(corpus_path, "rb") as f:
        blob = f.read()
    out, pos = [], 0
    while pos < len(blob):
        (n,) = struct.unpack_from("<Q", blob, pos)
        image = blob[pos + 8 : pos + 8 + n]
        pos += 8 + n
        try:
            verdict = {"ok": sorted(name for name, _ in safetensors.deserialize(image))}
        except Exception as e:  # the reference raises SafetensorError
            verdict = {"error": str(e)}
        verdict["duplicates"] = has_duplicate_keys(image)
        out.append(verdict)
    return out


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "digest":
        print(json.dumps({path: digest(path) for path in args}, sort_keys=True))
    elif command == "verdicts":
        print(json.dumps(verdicts(args[0])))
    elif command == "save":
        for spec_path, out_path in zip(args[0::2], args[1::2]):
            save_spec(spec_path, out_path)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
