#!/usr/bin/env python3
"""HF `tokenizers` side of the BPE tokenizer benchmark (the Swift twin is `torchswift-bench tokenizer-bpe`).

* load: `Tokenizer.from_file` of a 150k-token byte-level tokenizer.json (median of --repeat loads, ms);
* encode: every corpus text encoded with special tokens by a GPT-2-style byte-level tokenizer on one
  thread, as a loop of `encode` calls and as `encode_batch` with RAYON_NUM_THREADS=1 (the faster one is
  reported; each runs in a fresh subprocess because Rayon's pool size is fixed at first use).

    .venv/bin/python bench/tokenizer_bpe_hf.py --load BIG/tokenizer.json --tokenizer DIR --corpus CSV [--repeat 5]

Prints JSON lines for bench/report.py. The fixtures (`.data/bpe-fixtures/{big,gpt2}`) come from
Tests/TokenizersTests/Fixtures/make_bpe_fixtures.py (run by scripts/setup-test.sh).
"""
import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time


def load_texts(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("text")
    return [row[column] if column < len(row) else "" for row in rows[1:]]


def child(a):
    from tokenizers import Tokenizer

    times = []
    for _ in range(a.repeat):
        start = time.perf_counter()
        Tokenizer.from_file(a.load)
        times.append(time.perf_counter() - start)
    tok = Tokenizer.from_file(os.path.join(a.tokenizer, "tokenizer.json"))
    texts = load_texts(a.corpus)
    tokens = sum(len(e.ids) for e in tok.encode_batch(texts))
    best_loop = best_batch = float("inf")
    for _ in range(a.repeat):
        start = time.perf_counter()
        for t in texts:
            tok.encode(t)
        best_loop = min(best_loop, time.perf_counter() - start)
        start = time.perf_counter()
        tok.encode_batch(texts)
        best_batch = min(best_batch, time.perf_counter() - start)
    return {"load_ms": 1000 * statistics.median(times), "tokens": tokens, "loop_s": best_loop, "batch_s": best_batch}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--load", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(a)))
        return
    env = dict(os.environ, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="true")
    out = subprocess.run([sys.executable, __file__, "--child", "--load", a.load, "--tokenizer", a.tokenizer,
                          "--corpus", a.corpus, "--repeat", str(a.repeat)],
                         env=env, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    name = os.path.basename(os.path.normpath(a.tokenizer))
    print(json.dumps({"benchmark": "tokenizer_load", "variant": "150k-token BPE", "impl": "pytorch",
                      "ms": r["load_ms"]}))
    print(json.dumps({"benchmark": "tokenizer_bpe", "variant": f"{name}, 1 thread", "impl": "pytorch",
                      "tokens_per_s": r["tokens"] / min(r["loop_s"], r["batch_s"]), "tokens": r["tokens"],
                      "encode_loop_tokens_per_s": r["tokens"] / r["loop_s"],
                      "encode_batch_tokens_per_s": r["tokens"] / r["batch_s"]}))


if __name__ == "__main__":
    main()
