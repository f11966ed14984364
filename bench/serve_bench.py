#!/usr/bin/env python3
"""`torchswift serve` against Python servers doing the same work (bench/scenarios/serve.sh, part of make bench).

    serve_bench.py make DIR                      # a ~100M random Llama with an ASCII byte-level BPE tokenizer
    serve_bench.py reference embed|generate --model DIR --port P [--max-batch-size N]
        # embed: sentence-transformers behind a minimal HTTP server that batches requests arriving within 5 ms
        #        (as `torchswift serve --task embed` does), OpenAI's /v1/embeddings shape
        # generate: transformers' `generate` called per request (a thread each), /v1/completions with SSE
    serve_bench.py load embed|generate --base URL --impl swift|pytorch --clients 1,8,32 [--requests N]
        # closed-loop clients on loopback (one keep-alive connection each); prints JSON lines for bench/report.py

Embeddings: requests/s and p50/p99 latency per client count. Generation: aggregate completion tokens/s over all
streams (greedy, no EOS: every request generates --new-tokens) and p99 time to the first streamed token.
"""
import argparse
import http.client
import json
import os
import queue
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEXT = ("the quick brown fox jumps over the lazy dog while a small cat sleeps in the warm sun and the children "
        "play in the garden near the old river where many birds sing songs of spring and summer every day "
        "people walk to work read books write letters cook dinner and talk about the weather news and sports ")
SENTENCES = ["The weather is lovely today.", "A man is playing a guitar on the street.",
             "Stocks fell sharply on Monday after the report.", "I love pizza with extra cheese.",
             "The committee will meet again next week to discuss the budget.", "Cats sleep most of the day.",
             "Please send me the files before Friday.", "The new phone has a much better camera than the old one."]


def make(out):
    """A ~100M-parameter Llama (768 wide, 12 layers) with random N(0, 0.02) weights and a byte-level BPE whose
    tokens are all ASCII (so every generated token is text at once); no EOS, so every request runs to its limit."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1024, special_tokens=["<|pad|>"], show_progress=False)
    tok.train_from_iterator([TEXT] * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>")
    fast.save_pretrained(out)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=768, intermediate_size=2560,
                         num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=12,
                         max_position_embeddings=1024, tie_word_embeddings=True, bos_token_id=None,
                         eos_token_id=None, pad_token_id=0)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    model.generation_config.eos_token_id = None
    model.generation_config.bos_token_id = None
    model.save_pretrained(out, safe_serialization=True)


class EmbedBatcher:
    """Requests arriving within `window` seconds of the first run together, up to `max_batch` texts."""

    def __init__(self, model, max_batch, window=0.005):
        from sentence_transformers import SentenceTransformer
        self.st = SentenceTransformer(model, device="cpu")
        self.max_batch, self.window = max_batch, window
        self.jobs = queue.Queue()
        threading.Thread(target=self.loop, daemon=True).start()

    def submit(self, texts):
        done = threading.Event()
        job = {"texts": texts, "done": done}
        self.jobs.put(job)
        done.wait()
        return job["out"]

    def loop(self):
        import torch
        while True:
            batch = [self.jobs.get()]
            deadline = time.perf_counter() + self.window
            while sum(len(j["texts"]) for j in batch) < self.max_batch:
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                try:
                    batch.append(self.jobs.get(timeout=left))
                except queue.Empty:
                    break
            texts = [t for j in batch for t in j["texts"]]
            with torch.no_grad():
                emb = self.st.encode(texts, batch_size=len(texts)).tolist()
            i = 0
            for j in batch:
                j["out"] = emb[i:i + len(j["texts"])]
                i += len(j["texts"])
                j["done"].set()


def reference(task, model, port, max_batch):
    import torch
    if task == "embed":
        batcher = EmbedBatcher(model, max_batch)
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.generation.streamers import BaseStreamer
        lm = AutoModelForCausalLM.from_pretrained(model, torch_dtype=torch.float32).eval()
        tok = AutoTokenizer.from_pretrained(model)

        class Tokens(BaseStreamer):
            def __init__(self):
                self.q, self.first = queue.Queue(), True

            def put(self, value):
                if self.first:  # the prompt
                    self.first = False
                    return
                self.q.put(value.tolist())

            def end(self):
                self.q.put(None)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body are separate writes: without this, Nagle + delayed ACK adds ~40 ms per response.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *a):
            pass

        def send(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.send({"status": "ok"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if task == "embed":
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                out = batcher.submit(texts)
                self.send({"object": "list", "model": "m", "data": [
                    {"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(out)]})
                return
            ids = tok(body["prompt"], return_tensors="pt").input_ids
            n = body["max_tokens"]
            streamer = Tokens()

            def run():
                with torch.no_grad():
                    lm.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                                do_sample=False, streamer=streamer, pad_token_id=0)

            threading.Thread(target=run).start()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            count = 0

            def chunk(obj):
                data = ("data: " + (obj if isinstance(obj, str) else json.dumps(obj)) + "\n\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            while (t := streamer.q.get()) is not None:
                count += len(t)
                chunk({"object": "text_completion", "choices": [{"index": 0, "text": tok.decode(t),
                                                                  "finish_reason": None}]})
            chunk({"object": "text_completion", "choices": [], "usage": {
                "prompt_tokens": ids.shape[1], "completion_tokens": count, "total_tokens": ids.shape[1] + count}})
            chunk("[DONE]")
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"reference {task} server on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    return conn.getresponse()


def load(task, base, impl, clients, requests, new_tokens):
    u = urllib.parse.urlparse(base)
    # Warm-up (untimed): two requests, so lazy initialisation on either side is not measured.
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    for _ in range(2):
        if task == "embed":
            r = post(conn, "/v1/embeddings", {"model": "m", "input": SENTENCES[0], "encoding_format": "float"})
        else:
            r = post(conn, "/v1/completions", {"model": "m", "prompt": TEXT[:40], "max_tokens": 4, "temperature": 0,
                                               "stream": True})
        r.read()
    conn.close()
    for n in clients:
        count = max(requests, 2 * n) if task == "embed" else max(2 * n, 4)
        lock = threading.Lock()
        todo = list(range(count))
        latencies, firsts, tokens = [], [], [0]

        def client():
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
            while True:
                with lock:
                    if not todo:
                        break
                    i = todo.pop()
                t0 = time.perf_counter()
                if task == "embed":
                    r = post(conn, "/v1/embeddings", {"model": "m", "input": SENTENCES[i % len(SENTENCES)],
                                                      "encoding_format": "float"})
                    assert r.status == 200, r.status
                    json.loads(r.read())
                else:
                    r = post(conn, "/v1/completions", {
                        "model": "m", "prompt": TEXT[:(40 + 7 * i) % 160 + 40], "max_tokens": new_tokens,
                        "temperature": 0, "stream": True, "stream_options": {"include_usage": True}})
                    assert r.status == 200, r.status
                    first = None
                    while line := r.readline():
                        line = line.strip()
                        if not line.startswith(b"data: ") or line == b"data: [DONE]":
                            if line == b"data: [DONE]":
                                r.read()
                                break
                            continue
                        obj = json.loads(line[6:])
                        if first is None and obj.get("choices") and obj["choices"][0].get("text"):
                            first = time.perf_counter() - t0
                        if obj.get("usage"):
                            with lock:
                                tokens[0] += obj["usage"]["completion_tokens"]
                    with lock:
                        firsts.append(first if first is not None else time.perf_counter() - t0)
                with lock:
                    latencies.append(time.perf_counter() - t0)
            conn.close()

        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        lat = sorted(latencies)
        p = lambda xs, q: sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000
        row = {"benchmark": "serve_" + task, "variant": f"{n} clients", "impl": impl, "requests": count,
               "p50_ms": round(p(lat, 0.5), 2), "p99_ms": round(p(lat, 0.99), 2)}
        if task == "embed":
            row["requests_per_s"] = count / seconds
        else:
            row["tokens_per_s"] = tokens[0] / seconds
            row["ttft_p99_ms"] = round(p(firsts, 0.99), 2)
            row["new_tokens"] = new_tokens
        print(json.dumps(row), flush=True)



def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    r = sub.add_parser("reference")
    r.add_argument("task", choices=["embed", "generate"])
    r.add_argument("--model", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--max-batch-size", type=int, default=32)
    lo = sub.add_parser("load")
    lo.add_argument("task", choices=["embed", "generate"])
    lo.add_argument("--base", required=True)
    lo.add_argument("--impl", required=True)
    lo.add_argument("--clients", default="1,8,32")
    lo.add_argument("--requests", type=int, default=128)
    lo.add_argument("--new-tokens", type=int, default=32)
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.dir)
    elif a.cmd == "reference":
        reference(a.task, a.model, a.port, a.max_batch_size)
    else:
        load(a.task, a.base, a.impl, [int(c) for c in a.clients.split(",")], a.requests, a.new_tokens)


if __name__ == "__main__":
    main()
