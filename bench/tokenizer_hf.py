#!/usr/bin/env python3
"""Measure HF `tokenizers` throughput on the corpus, the way TokenizersBench measures Swift.

Every text of the CSV's `text` column (read with Python's csv module from bytes decoded
with errors="replace") is encoded with add_special_tokens=True, no truncation, no padding.
Reports tokens/s for: a loop of `encode` calls, and `encode_batch`, each with one Rayon
thread and with all threads (each configuration runs in a fresh subprocess, because Rayon's
pool size is fixed at first use).

    .venv/bin/python bench/tokenizer_hf.py --model DIR --corpus CSV [--repeat 5]

Prints one JSON line per configuration (the `pytorch` side of `make bench`; HF tokenizers is the reference).
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time


def load_texts(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("text")
    return [row[column] if column < len(row) else "" for row in rows[1:]]


def measure(model, corpus, repeat):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    texts = load_texts(corpus)
    tokens = sum(len(e.ids) for e in tok.encode_batch(texts))
    best_loop = best_batch = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for t in texts:
            tok.encode(t)
        best_loop = min(best_loop, time.perf_counter() - start)
        start = time.perf_counter()
        tok.encode_batch(texts)
        best_batch = min(best_batch, time.perf_counter() - start)
    return {"texts": len(texts), "tokens": tokens, "loop_s": best_loop, "batch_s": best_batch}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(measure(a.model, a.corpus, a.repeat)))
        return
    # One thread: a loop of encode calls (as the Swift single-thread number); all threads: encode_batch.
    for label, threads, key in (("1 thread", "1", "loop_s"), ("all cores", str(os.cpu_count()), "batch_s")):
        env = dict(os.environ, RAYON_NUM_THREADS=threads, TOKENIZERS_PARALLELISM="true")
        out = subprocess.run([sys.executable, __file__, "--child", "--model", a.model, "--corpus", a.corpus,
                              "--repeat", str(a.repeat)], env=env, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(json.dumps({"benchmark": "tokenizer", "variant": label, "impl": "pytorch",
                          "tokens_per_s": r["tokens"] / r[key], "tokens": r["tokens"]}))


if __name__ == "__main__":
    main()
