"""The official `openai` client (and raw HTTP) against a running `torchswift serve`; used by Tests/ServeTests.

Usage: openai_client.py SCENARIO BASE_URL [ARGS...]; prints one JSON object with what it saw. The Swift tests
compare it with `torchswift generate` / `embed` / `predict` and check the error shapes.
"""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse

import openai

GREEDY = dict(temperature=0, max_tokens=12)
PROMPTS = ["Hello there", "Once upon a time", "The cat", "A story about a dog", "Why is the sky blue?",
           "Tell me a joke", "What is two plus two?", "Write a poem"]


def client(base, key="none"):
    return openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=60)


def parallel(fn, items):
    out = [None] * len(items)
    errors = []

    def run(i, x):
        try:
            out[i] = fn(x)
        except Exception as e:  # noqa: BLE001 - reported to the test
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(i, x)) for i, x in enumerate(items)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, errors


def error_of(fn):
    try:
        fn()
    except openai.APIStatusError as e:
        body = e.body if isinstance(e.body, dict) else {}
        return {"status": e.status_code, "body": body, "message": e.message}
    return {"status": 200}


def raw(base, method, path, body=b"", headers=None, timeout=30):
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def chat_text(c, prompt, **kw):
    r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": prompt}], **{**GREEDY, **kw})
    return r.choices[0].message.content


def generate(base):
    c = client(base)
    out = {"models": [m.id for m in c.models.list().data]}
    r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": PROMPTS[0]}], **GREEDY)
    out["chat"] = {"text": r.choices[0].message.content, "finish_reason": r.choices[0].finish_reason,
                   "usage": r.usage.model_dump(), "object": r.object}
    r = c.completions.create(model="m", prompt=PROMPTS[1], **GREEDY)
    out["completion"] = {"text": r.choices[0].text, "finish_reason": r.choices[0].finish_reason,
                         "usage": r.usage.model_dump()}
    pieces = []
    finish = None
    usage = None
    for chunk in c.chat.completions.create(model="m", messages=[{"role": "user", "content": PROMPTS[0]}],
                                           stream=True, stream_options={"include_usage": True}, **GREEDY):
        if chunk.usage:
            usage = chunk.usage.model_dump()
        for ch in chunk.choices:
            pieces.append(ch.delta.content or "")
            finish = ch.finish_reason or finish
    out["chat_stream"] = {"pieces": pieces, "finish_reason": finish, "usage": usage}
    pieces = [ch.choices[0].text for ch in c.completions.create(model="m", prompt=PROMPTS[1], stream=True, **GREEDY)
              if ch.choices]
    out["completion_stream"] = pieces
    # Continuous batching: 8 concurrent greedy requests, then each alone.
    together, errors = parallel(lambda p: chat_text(c, p, max_tokens=20), PROMPTS)
    out["together"] = together
    out["together_errors"] = errors
    out["alone"] = [chat_text(c, p, max_tokens=20) for p in PROMPTS]
    # Stop strings cut the text as `generate` does.
    out["stop"] = c.completions.create(model="m", prompt=PROMPTS[1], stop=[out["completion"]["text"][3:5]],
                                       **GREEDY).choices[0].text
    out["errors"] = {
        "no_messages": error_of(lambda: c.chat.completions.create(model="m", messages=[], **GREEDY)),
        "wrong_type": error_of(lambda: c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}],
                                                                 max_tokens="lots")),
        "too_long": error_of(lambda: c.completions.create(model="m", prompt="word " * 2000, max_tokens=4)),
        "too_many_tokens": error_of(lambda: c.completions.create(model="m", prompt="hi", max_tokens=100000)),
        "n2": error_of(lambda: c.completions.create(model="m", prompt="hi", max_tokens=2, n=2)),
    }
    return out


def auth(base, key):
    return {
        "wrong": error_of(lambda: client(base, "wrong-key").models.list()),
        "missing": raw(base, "GET", "/v1/models")[0],
        "right": [m.id for m in client(base, key).models.list().data],
        "health": raw(base, "GET", "/health")[0],
    }


def embed(base, texts_json):
    texts = json.loads(texts_json)
    c = client(base)
    out = {}
    r = c.embeddings.create(model="m", input=texts, encoding_format="float")
    out["float"] = [d.embedding for d in r.data]
    out["usage"] = r.usage.model_dump()
    out["base64"] = [d.embedding for d in c.embeddings.create(model="m", input=texts).data]  # the client's default
    out["single"] = c.embeddings.create(model="m", input=texts[0], encoding_format="float").data[0].embedding
    together, errors = parallel(lambda t: c.embeddings.create(model="m", input=t, encoding_format="float")
                                .data[0].embedding, texts * 4)
    out["together"] = together
    out["together_errors"] = errors
    out["bad_format"] = error_of(lambda: c.embeddings.create(model="m", input="x", encoding_format="int8"))
    out["no_input"] = raw(base, "POST", "/v1/embeddings", b'{"model": "m"}')[0]
    return out


def classify(base, texts_json):
    texts = json.loads(texts_json)
    status, data = raw(base, "POST", "/v1/classify", json.dumps({"model": "m", "input": texts}).encode())
    return {"status": status, "body": json.loads(data)}


def queue(base):
    """More concurrent long requests than 1 slot + 1 queue place: some are answered 429 in OpenAI's shape."""
    c = client(base)

    def one(_):
        try:
            c.completions.create(model="m", prompt="Once", max_tokens=100, temperature=0)
            return 200
        except openai.RateLimitError as e:
            return {"status": 429, "body": e.body}

    out, errors = parallel(one, range(8))
    return {"results": out, "errors": errors}


def disconnect(base):
    """A client that goes away mid-stream; then, with one slot, another request still completes."""
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("POST", "/v1/completions", body=json.dumps({"model": "m", "prompt": "Once", "max_tokens": 120,
                                                          "temperature": 0, "stream": True}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    first = r.readline()
    c.sock.close()
    c.close()
    time.sleep(0.3)
    after = client(base).completions.create(model="m", prompt="Hello", max_tokens=5, temperature=0)
    metrics = raw(base, "GET", "/metrics")[1].decode()
    return {"first": first.decode(), "after": after.choices[0].finish_reason, "metrics": metrics}


def sigterm(base, pid):
    """Requests in flight when SIGTERM arrives complete."""
    results = {}

    errors = []

    def run(i):
        try:  # plain HTTP: the requests must all be sent before the signal
            status, data = raw(base, "POST", "/v1/completions", json.dumps(
                {"model": "m", "prompt": PROMPTS[i], "max_tokens": 40, "temperature": 0}).encode(), timeout=120)
            assert status == 200, (status, data[:200])
            results[i] = json.loads(data)["choices"][0]["finish_reason"]
        except Exception as e:  # noqa: BLE001 - reported to the test
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    start = time.time()
    deadline = start + 10
    while time.time() < deadline:  # until all 4 are being served
        metrics = raw(base, "GET", "/metrics")[1].decode()
        line = next((x for x in metrics.splitlines() if x.startswith("torchswift_requests_in_flight ")), "x 0")
        if float(line.split()[1]) >= 4:
            break
        time.sleep(0.01)
    waited = time.time() - start
    os.kill(int(pid), signal.SIGTERM)
    for t in threads:
        t.join()
    return {"finished": sorted(results.values()), "count": len(results), "errors": errors, "waited": waited}


def fuzz(base, count):
    """Malformed JSON, wrong types, huge bodies, invalid UTF-8 and random mutations of valid requests: every
    answer is a 4xx with OpenAI's error shape (or a 200), never a 5xx, and the server keeps serving."""
    rng = random.Random(7)
    statuses = {}
    bad = []
    valid = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "temperature": 0}
    values = [None, True, False, 0, -1, 1.5, 1e300, "", "x", [], [1, "a"], {}, {"a": 1}, "\u0000", "é" * 3,
              [{"role": 1}], [{"role": "user", "content": ["x"]}], 2 ** 64]
    cases = [b"", b"{", b"[]", b"null", b"\"str\"", b"{\"messages\": [", b"\xff\xfe{}", b"{\"model\": \"\xc3\x28\"}",
             b"{" * 5000, b"{\"messages\": \"" + b"a" * 300_000 + b"\"}"]
    for _ in range(int(count)):
        body = dict(valid)
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(list(valid) + ["stop", "top_p", "seed", "n", "stream", "stream_options", "logprobs"])
            body[key] = rng.choice(values)
        if rng.random() < 0.3:
            body.pop(rng.choice(list(body)), None)
        cases.append(json.dumps(body).encode())
    for i, data in enumerate(cases):
        path = "/v1/chat/completions" if i % 3 else "/v1/completions"
        status, resp = raw(base, "POST", path, data)
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500:
            bad.append({"body": data[:200].decode("utf-8", "replace"), "status": status})
        elif status >= 400:
            try:
                err = json.loads(resp)["error"]
                assert isinstance(err["message"], str) and "type" in err
            except Exception:  # noqa: BLE001
                bad.append({"body": data[:200].decode("utf-8", "replace"), "status": status, "resp": resp[:200].decode()})
    health = raw(base, "GET", "/health")[0]
    return {"statuses": {str(k): v for k, v in statuses.items()}, "bad": bad, "health": health,
            "unknown": raw(base, "GET", "/v1/nothing")[0]}


def main():
    scenario, base, *args = sys.argv[1:]
    result = globals()[scenario](base, *args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
