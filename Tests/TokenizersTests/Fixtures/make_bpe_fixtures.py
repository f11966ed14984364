#!/usr/bin/env python3
"""Build BPE tokenizers (byte-level and SentencePiece-style) and HF `tokenizers` reference outputs.

Run once by scripts/setup-test.sh (and by the Swift tests when the output is missing or older than this
script); writes into OUT (git-ignored, default `.data/bpe-fixtures`):

* ``gpt2/``: GPT-2's real byte-level BPE. Its ranks ship in the openai-whisper sdist as
  ``whisper/assets/gpt2.tiktoken`` (downloaded once from PyPI into ``--cache``); merges are recovered
  from the ranks as transformers' ``TikTokenConverter`` does and built into a tokenizers ``BPE`` with
  GPT-2's ByteLevel pre-tokenizer, decoder and post-processor; ``<|endoftext|>`` is 50256.
* ``llama3/``: BPE trained with tokenizers on the corpus with Llama 3's Split regex +
  ByteLevel(use_regex=false), ``ignore_merges``, Llama 3's special tokens and a BOS template.
* ``qwen2/``: the same with Qwen2's regex, an NFC normalizer and ``<|im_start|>``-style tokens.
* ``llama2/``: SentencePiece BPE with byte fallback trained on the corpus, converted by transformers'
  ``LlamaTokenizerFast`` (legacy: Prepend/Replace normalizers); ``mistral/``: the same model with
  ``legacy=False`` (Metaspace pre-tokenizer); ``metaspace/``: that one with Metaspace split and decoder.
* ``misc/``: a character-level BPE with ``[UNK]``, ``##`` prefix and ``</w>`` suffix behind
  NFD/Lowercase/NFKC, a literal Split, Digits and a general regex (the fallback path).
* ``gpt2-prefix/``: GPT-2's vocabulary behind Strip/NFKD/regex Replace, Digits and ByteLevel(add_prefix_space).
* ``big/``: a 150k-token byte-level vocabulary (GPT-2's plus 100k synthetic merges), for load timing.

For each tokenizer but ``big``, ``reference.jsonl`` holds one line per text of ``texts.json`` (corpus rows and
generated hard cases): ids with and without special tokens, ``decode`` with ``skip_special_tokens`` false
and true, and for some rows the pieces of tokenizers' ``DecodeStream``; then lines for random id sequences
(decoder edge cases: invalid UTF-8, byte fallback).

    .venv/bin/python Tests/TokenizersTests/Fixtures/make_bpe_fixtures.py --corpus CSV [--out DIR] [--cache DIR]
"""
import argparse
import base64
import csv
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

WHISPER = "openai-whisper==20250625"
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CORPUS_ROWS = 3000
STREAM_ROWS = 300

# --------------------------------------------------------------------------- inputs


def corpus_texts(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("text")
    return [row[column] if column < len(row) else "" for row in rows[1:]]


SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|eot_id|>", "<s>", "</s>", "<unk>",
    "<mask>", "<tool_call>", "zebra", "[UNK]",
]

HARD = [
    "", " ", "  ", "\n", "\t", "a", "Hello world", "Hello, world!", " Hello", "  Hello  ", "hello   world",
    "I'm you're we've it's they'll she'd I've", "I'M YOU'RE WE'VE IT'S THEY'LL SHE'D", "he'S they'Ll we'rE",
    "'s 't 're 've 'm 'll 'd", "''s '''ll", "'ſ 'ſuper", "don't stop", "rock'n'roll", "O'Neil's",
    "1 12 123 1234 12345 123456 1234567", "3.14159 2,718 1e10 0x1F", "٠١٢٣٤ ١٢٣٤٥٦ ۱۲۳", "½ ¼ ⅞ Ⅻ ② ⑽",
    "phone: +1 (555) 123-4567", "2024-01-31T12:34:56Z",
    "我爱北京天安门", "東京は日本の首都です。", "カタカナ ひらがな ｶﾀｶﾅ", "안녕하세요 세계", "中文English混合123",
    "\u1100\u1161\u11a8 decomposed hangul", "Привет, мир!", "Ελληνικά", "مرحبا بالعالم", "שָׁלוֹם", "नमस्ते दुनिया",
    "สวัสดีครับ", "Tiếng Việt có dấu", "Ångström café naïve résumé", "e\u0301 a\u0308\u0304 o\u0328\u0301",
    "\u0301leading mark", "x\u0301\u0301\u0301\u0301", "ﬁle ﬂow Ⅷ ㎏ ｶ ①", "İstanbul ı I ǅ ǈ", "straße STRASSE ΣΊΣΥΦΟΣ",
    "👩‍👩‍👧‍👦 family", "🇺🇸🇫🇷🇯🇵 flags", "👍🏽👍🏿 tones", "keycap 1️⃣ #️⃣", "❤️‍🔥 🏳️‍🌈", "😀😃😄😁😆", "I ❤️ NY",
    "a\u0000b\u0001c\u007fd\u0085e", "\u001b[31mred\u001b[0m", "\x0b\x0c vertical", "\r\n\r\n", "tab\tsep\nnew\rline\r\nend",
    "\ufffd \ufffd\ufffd", "\ufdd0 \ufffe \uffff \U0010ffff \U0001fffe", "\ue000 private \U000f0000", "\u200b\u200c\u200d\u2060\ufeff",
    "soft\u00adhyphen", "\u202ertl\u202c", "non\u00a0breaking\u00a0\u00a0x", "em\u2003space\u3000ideo\u2028ls\u2029ps\u1680og",
    " " * 40, "\n" * 30, "\t" * 10 + "x", " \t \n \t\n\n  \r\n x", "a" + " " * 17 + "b", "x \n y  \n\n  z   ",
    "   leading", "trailing   ", "\n\nhello\n\n", " \n", "\n ", "a\n\n\n", "  \n\n  foo",
    "!!!???...", "-----", "(((())))", "«quoted» „lower“ ‹x›", "¿Qué? ¡Sí!", "wait…what", "a—b–c", "1,000.50$ 3.14%",
    "#hashtag @user http://t.co/abc?x=1&y=2", "def f(x):\n    return x**2  # square\n", "{\"key\": [1, 2, 3]}",
    "<|endoftext|>", "hi<|endoftext|>there", "a <|endoftext|> b", "<|endoftext|><|endoftext|>", "<|endoftext|",
    "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", "<|begin_of_text|>Hello<|eot_id|>", "<s>hello</s>",
    " <s> spaced </s> ", "<unk>", "x<mask>y", "a <mask> b", "zebra zebras zebra", "azebra zebra.", "<tool_call>{}</tool_call>",
    "[UNK] unknown", "e\u0301x ex éx", "Hello 世界 🌍 à la carte!", "∑x² ≤ ∞ ℃ № ™", "ＦＵＬＬ　ｗｉｄｔｈ",
    "supercalifragilisticexpialidocious" * 4, "x" * 300, "ab" * 200, "é" * 100, "😀" * 60, "1" * 50,
    "the the the the the the the", "Mr. Smith's dog's bone", "UPPER lower MiXeD", "CamelCaseWordsHere", "snake_case_here",
]

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    " \t\n\r\u00a0\u3000\u2003",
    "'\"!?.,;:-_()[]{}<>/\\|@#$%^&*+=~`",
    "àáâãäåæçèéêëìíîïñòóôõöùúûüýÿßœŒÆ",
    "\u0300\u0301\u0302\u0308\u0327\u0328",
    "我爱北京天安门東京日本首都中文混合",
    "カタカナひらがなｶﾀｶﾅ안녕하세요",
    "ПриветмирΕλληνικά",
    "😀👍🏽🇺🇸👩‍👧❤️\u200d",
    "٠١٢٣½Ⅻ②",
    "\u0000\u0001\u001f\u007f\u0085\ufffd\ufdd0",
]


def generated_texts(seed=1234, count=1500):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        picks = rng.sample(ALPHABETS, rng.randint(1, 4))
        chars = "".join(picks)
        n = rng.randint(1, 40)
        s = "".join(rng.choice(chars) for _ in range(n))
        if rng.random() < 0.15:
            s = s[: rng.randint(0, len(s))] + rng.choice(SPECIALS) + s[rng.randint(0, len(s)):]
        if rng.random() < 0.1:
            s = s + " " * rng.randint(1, 5) + rng.choice(["'s", "'LL", "'Re", "'d"])
        out.append(s)
    return out


# --------------------------------------------------------------------------- tokenizers


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def whisper_gpt2_ranks(cache):
    os.makedirs(cache, exist_ok=True)
    name = WHISPER.replace("==", "-").replace("-", "_", 1)
    tarball = os.path.join(cache, name + ".tar.gz")
    if not os.path.exists(tarball):
        subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                        "--no-binary", ":all:", WHISPER, "-d", cache], check=True)
    with tarfile.open(tarball) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("whisper/assets/gpt2.tiktoken"))
        data = tar.extractfile(member).read().decode()
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def bpe_parts(ranks, token, max_rank):
    parts = [bytes([b]) for b in token]
    while True:
        best = None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < max_rank and (best is None or rank < best[1]):
                best = (i, rank)
        if best is None:
            return parts
        i = best[0]
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]


def gpt2_vocab_merges(cache):
    ranks = whisper_gpt2_ranks(cache)
    enc = bytes_to_unicode()
    show = lambda b: "".join(enc[x] for x in b)
    vocab = {show(t): r for t, r in ranks.items()}
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) == 1:
            continue
        parts = bpe_parts(ranks, token, rank)
        assert len(parts) == 2, (token, parts)
        merges.append((show(parts[0]), show(parts[1])))
    return vocab, merges


def gpt2(cache):
    vocab, merges = gpt2_vocab_merges(cache)
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    assert tok.encode("Hello world").ids == [15496, 995], tok.encode("Hello world").ids
    assert tok.token_to_id("<|endoftext|>") == 50256
    return tok, vocab, merges


def gpt2_variant(vocab, merges):
    """GPT-2's vocabulary behind Strip + NFKD + a regex Replace, Digits and ByteLevel(add_prefix_space) on each
    split, with a template around the text (like RoBERTa's)."""
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.NFKD(),
                                           normalizers.Replace(Regex(r"[0-9]{5,}"), "<num>")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    eot = tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|endoftext|> $A <|endoftext|>", pair="<|endoftext|> $A <|endoftext|> <|endoftext|> $B:1 <|endoftext|>:1",
        special_tokens=[("<|endoftext|>", eot)])
    return tok


def big(vocab, merges, size=150_000, seed=7):
    """GPT-2 plus synthetic merges of existing token pairs, up to `size` tokens."""
    rng = random.Random(seed)
    vocab = dict(vocab)
    merges = list(merges)
    tokens = list(vocab)
    while len(vocab) < size:
        a, b = rng.choice(tokens), rng.choice(tokens)
        if a + b in vocab or len(a + b) > 24:
            continue
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
        merges.append((a, b))
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    return tok


def train_byte_level(texts, pattern, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.decoder = decoders.ByteLevel()
    return tok


def with_json(tok, change):
    document = json.loads(tok.to_str())
    change(document)
    return Tokenizer.from_str(json.dumps(document))


def llama3(texts):
    tok = train_byte_level(texts, LLAMA3_PATTERN, 6000)

    def change(d):
        d["model"]["ignore_merges"] = True
    tok = with_json(tok, change)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eot_id|>"]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("zebra", single_word=True, normalized=True)])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A:0",
                                      pair="<|begin_of_text|> $A:0 <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return tok


def qwen2(texts):
    tok = train_byte_level(texts, QWEN2_PATTERN, 5000)
    tok.normalizer = normalizers.NFC()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    tok.add_tokens([AddedToken("<tool_call>", special=False, normalized=False),
                    AddedToken("</tool_call>", special=False, normalized=False),
                    AddedToken("e\u0301x", special=False, normalized=True)])
    return tok


def sentencepiece_model(texts, work):
    import sentencepiece as spm

    path = os.path.join(work, "corpus.txt")
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            t = t.replace("\n", " ").replace("\r", " ")
            if t.strip():
                f.write(t + "\n")
    prefix = os.path.join(work, "sp")
    spm.SentencePieceTrainer.train(
        input=path, model_prefix=prefix, vocab_size=3000, model_type="bpe", byte_fallback=True,
        character_coverage=0.9995, split_digits=True, allow_whitespace_only_pieces=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=2, minloglevel=2, input_sentence_size=20000,
        shuffle_input_sentence=False)
    return prefix + ".model"


def llama_family(model_file):
    from transformers import LlamaTokenizerFast

    # add_prefix_space=True gives Llama 2's Prepend normalizer and Strip decoder (and Metaspace "first").
    legacy = LlamaTokenizerFast(vocab_file=model_file, legacy=True, from_slow=True, add_prefix_space=True)
    modern = LlamaTokenizerFast(vocab_file=model_file, legacy=False, from_slow=True, add_prefix_space=True)
    llama2 = Tokenizer.from_str(legacy.backend_tokenizer.to_str())
    mistral = Tokenizer.from_str(modern.backend_tokenizer.to_str())

    def change(d):
        d["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
        d["decoder"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
    metaspace = with_json(mistral, change)
    return llama2, mistral, metaspace


def misc(texts):
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(" ", behavior="removed"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Split(Regex(r"[\p{P}\p{S}]"), behavior="isolated"),
        pre_tokenizers.Split(Regex(r"\t+"), behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\n"), behavior="merged_with_next"),
        pre_tokenizers.Split(Regex(r"x"), behavior="contiguous"),
        pre_tokenizers.Split(Regex(r"[a-f]+"), behavior="removed", invert=True)])
    trainer = trainers.BpeTrainer(vocab_size=3000, min_frequency=2, show_progress=False, special_tokens=["[UNK]"],
                                  limit_alphabet=150, continuing_subword_prefix="##", end_of_word_suffix="</w>")
    tok.train_from_iterator(texts, trainer)
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    return tok


# --------------------------------------------------------------------------- references


def write_reference(tok, texts, out_dir, seed):
    from tokenizers.decoders import DecodeStream

    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    tok = Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))  # what Swift loads
    with_special = tok.encode_batch(texts, add_special_tokens=True)
    plain = tok.encode_batch(texts, add_special_tokens=False)
    with open(os.path.join(out_dir, "reference.jsonl"), "w", encoding="utf-8") as f:
        for i, (a, b) in enumerate(zip(with_special, plain)):
            row = {"i": i, "ids": a.ids, "plain": b.ids, "dec": tok.decode(a.ids, skip_special_tokens=False),
                   "dec_skip": tok.decode(a.ids, skip_special_tokens=True)}
            if i % (len(texts) // STREAM_ROWS + 1) == 0:
                for skip in (False, True):
                    stream = DecodeStream(skip_special_tokens=skip)
                    row["stream_skip" if skip else "stream"] = [stream.step(tok, t) for t in a.ids]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        rng = random.Random(seed)
        size = tok.get_vocab_size(with_added_tokens=True)
        for i in range(400):
            ids = [rng.randrange(size + 2) for _ in range(rng.randint(1, 12))]
            if i % 2:
                ids = [rng.randrange(min(size, 300)) for _ in range(rng.randint(1, 12))]
            row = {"random_ids": ids, "dec": tok.decode(ids, skip_special_tokens=False),
                   "dec_skip": tok.decode(ids, skip_special_tokens=True)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", default=".data/bpe-fixtures")
    p.add_argument("--cache", default=".cache/bpe-fixtures")
    a = p.parse_args()
    corpus = corpus_texts(a.corpus)
    texts = corpus[:CORPUS_ROWS] + HARD + generated_texts()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "texts.json"), "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)

    gpt2_tok, vocab, merges = gpt2(a.cache)
    write_reference(gpt2_tok, texts, os.path.join(a.out, "gpt2"), 1)
    write_reference(gpt2_variant(vocab, merges), texts, os.path.join(a.out, "gpt2-prefix"), 8)
    os.makedirs(os.path.join(a.out, "big"), exist_ok=True)
    big(vocab, merges).save(os.path.join(a.out, "big", "tokenizer.json"))
    write_reference(llama3(corpus), texts, os.path.join(a.out, "llama3"), 2)
    write_reference(qwen2(corpus), texts, os.path.join(a.out, "qwen2"), 3)
    with tempfile.TemporaryDirectory() as work:
        llama2, mistral, metaspace = llama_family(sentencepiece_model(corpus, work))
    write_reference(llama2, texts, os.path.join(a.out, "llama2"), 4)
    write_reference(mistral, texts, os.path.join(a.out, "mistral"), 5)
    write_reference(metaspace, texts, os.path.join(a.out, "metaspace"), 6)
    write_reference(misc(corpus), texts, os.path.join(a.out, "misc"), 7)
    with open(os.path.join(a.out, "done"), "w") as f:
        f.write("ok\n")


if __name__ == "__main__":
    main()
