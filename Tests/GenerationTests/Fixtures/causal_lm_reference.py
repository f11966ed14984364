"""Reference fixtures for the decoder-only model and generation tests, made with transformers.

Usage: causal_lm_reference.py OUTDIR
       causal_lm_reference.py --large OUTDIR   (a ~200 MB bfloat16 model for the loading-memory test)

For each family variant it writes OUTDIR/<variant>/ with a small randomly initialised model saved by
transformers (config.json, generation_config.json, safetensors weights; one variant sharded, one in bfloat16)
and reference.safetensors holding:
  input_ids, attention_mask      a left-padded batch of 3 prompts
  position_ids                   as generate computes them (cumsum of the mask - 1)
  logits_default                 model(input_ids, attention_mask) (positions 0..T-1, transformers' default)
  logits_positions               model(input_ids, attention_mask, position_ids)
  greedy_b1_cache / _nocache     generate(prompt 0 alone, 32 new tokens, greedy), with and without the KV cache
  greedy_b3_cache / _nocache     generate(the padded batch, 32 new tokens, greedy)
Also OUTDIR/processors.safetensors: the logits processors of transformers on random scores.
The Swift tests run this once (cached by the script's hash) and compare against it.
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
import transformers
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)
from transformers.generation.logits_process import (MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                                                    TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)

VOCAB = 320
PAD, BOS, EOS = 0, 1, 2
NEW_TOKENS = 32

common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
              num_key_value_heads=2, initializer_range=0.1, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS,
              rms_norm_eps=1e-6)

VARIANTS = {
    # Llama 3.2 style: llama3 rope scaling, tied embeddings, GQA.
    "llama3": (LlamaForCausalLM, LlamaConfig(**common, max_position_embeddings=128, rope_theta=500000.0,
               tie_word_embeddings=True, rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 16})),
    # Llama 2 style: untied head, linear scaling (old "type" key), attention biases; saved in shards.
    "llama_linear": (LlamaForCausalLM, LlamaConfig(**common, max_position_embeddings=64, tie_word_embeddings=False,
                     attention_bias=True, rope_scaling={"type": "linear", "factor": 2.0})),
    # Dynamic NTK that grows past a 16-position trained context during generation; saved in bfloat16.
    "llama_dynamic": (LlamaForCausalLM, LlamaConfig(**common, max_position_embeddings=16, tie_word_embeddings=False,
                      rope_scaling={"rope_type": "dynamic", "factor": 2.0})),
    # Mistral with a sliding window shorter than the prompts.
    "mistral": (MistralForCausalLM, MistralConfig(**common, max_position_embeddings=128, sliding_window=8,
                tie_word_embeddings=False)),
    # Qwen2: q/k/v biases, tied embeddings.
    "qwen2": (Qwen2ForCausalLM, Qwen2Config(**common, max_position_embeddings=128, tie_word_embeddings=True,
              rope_theta=1000000.0)),
    # Qwen3: q/k norms, head_dim different from hidden/heads, yarn scaling.
    "qwen3": (Qwen3ForCausalLM, Qwen3Config(**common, head_dim=24, max_position_embeddings=128,
              tie_word_embeddings=False, rope_scaling={"rope_type": "yarn", "factor": 4.0,
              "original_max_position_embeddings": 32})),
    # GPT-2: Conv1D weights, learned positions, tied head.
    "gpt2": (GPT2LMHeadModel, GPT2Config(vocab_size=VOCAB, n_positions=128, n_embd=64, n_layer=3, n_head=4,
             initializer_range=0.1, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)),
}


def prompts(seed):
    g = torch.Generator().manual_seed(seed)
    lengths = [11, 5, 8]
    width = max(lengths)
    ids = torch.full((3, width), PAD, dtype=torch.long)
    mask = torch.zeros((3, width), dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, width - n:] = torch.randint(3, VOCAB, (n,), generator=g)
        mask[i, width - n:] = 1
    return ids, mask


def greedy(model, ids, mask, use_cache):
    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW_TOKENS, do_sample=False,
                         use_cache=use_cache, pad_token_id=PAD, eos_token_id=EOS)
    return out[:, ids.shape[1]:].contiguous()


def make_variant(out, name, cls, config, seed):
    torch.manual_seed(seed)
    model = cls(config).eval()
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    kwargs = {}
    if name == "llama_linear":
        kwargs["max_shard_size"] = "60KB"
    if name == "llama_dynamic":
        model = model.to(torch.bfloat16)
    model.generation_config.eos_token_id = [EOS, 3] if name == "llama3" else EOS
    model.save_pretrained(d, safe_serialization=True, **kwargs)
    # The reference runs in float32 on what was saved (bfloat16 weights upcast, as TorchSwift loads them).
    model = cls.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="sdpa").eval()
    ids, mask = prompts(seed)
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    ref = {"input_ids": ids, "attention_mask": mask, "position_ids": pos}
    with torch.no_grad():
        ref["logits_default"] = model(input_ids=ids, attention_mask=mask).logits.float()
        ref["logits_positions"] = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        for cache in (True, False):
            suffix = "cache" if cache else "nocache"
            model = cls.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="sdpa").eval()
            n = int(mask[0].sum())
            ref[f"greedy_b1_{suffix}"] = greedy(model, ids[:1, -n:], mask[:1, -n:], cache)
            model = cls.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="sdpa").eval()
            ref[f"greedy_b3_{suffix}"] = greedy(model, ids, mask, cache)
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(d, "reference.safetensors"))


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "Swift is a general-purpose programming language built using a modern approach to safety and performance.",
    "PyTorch is an optimized tensor library for deep learning using GPUs and CPUs.",
    "Once upon a time there was a small model that learned to write short stories about tensors.",
    "Grüße aus Zürich! 東京は晴れです。 Emoji: 🙂🚀",
] * 20


def make_tokenizer(d):
    """A byte-level BPE with the fixture vocabulary size (ids 0-2: pad, bos, eos; 3-4: ChatML markers), saved
    with a ChatML chat template, as transformers' tokenizer files."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|pad|>", "<|bos|>", "<|eos|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TEXT, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<|bos|> $A", pair="<|bos|> $A <|bos|> $B",
                                                       special_tokens=[("<|bos|>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                                   pad_token="<|pad|>", additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    fast.chat_template = CHATML
    fast.save_pretrained(d)
    return fast


def make_text_reference(out, name, cls):
    """Text in, text out through the tokenizer: what `torchswift generate` must print."""
    d = os.path.join(out, name)
    tok = make_tokenizer(d)
    model = cls.from_pretrained(d, torch_dtype=torch.float32).eval()
    prompts = ["The quick brown fox", "Swift is a"]
    ref = {}
    for i, p in enumerate(prompts):
        ids = tok(p, return_tensors="pt", return_token_type_ids=False)
        gen = model.generate(**ids, max_new_tokens=16, do_sample=False, pad_token_id=PAD, eos_token_id=EOS)
        ref[f"prompt_{i}"] = p
        ref[f"completion_{i}"] = tok.decode(gen[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    chat_ids = tok.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt")
    gen = model.generate(chat_ids, attention_mask=torch.ones_like(chat_ids), max_new_tokens=16, do_sample=False,
                         pad_token_id=PAD, eos_token_id=EOS)
    ref["chat_prompt_ids"] = chat_ids[0].tolist()
    ref["chat_completion"] = tok.decode(gen[0, chat_ids.shape[1]:], skip_special_tokens=True)
    with open(os.path.join(d, "text_reference.json"), "w") as f:
        json.dump(ref, f, ensure_ascii=False)


def make_processors(out):
    g = torch.Generator().manual_seed(7)
    scores = torch.randn(3, VOCAB, generator=g) * 3
    ids = torch.randint(0, VOCAB, (3, 12), generator=g)
    ref = {"scores": scores, "input_ids": ids}
    ref["repetition_1.3"] = RepetitionPenaltyLogitsProcessor(1.3)(ids, scores.clone())
    ref["temperature_0.7"] = TemperatureLogitsWarper(0.7)(ids, scores.clone())
    ref["top_k_20"] = TopKLogitsWarper(20)(ids, scores.clone())
    ref["top_p_0.9"] = TopPLogitsWarper(0.9)(ids, scores.clone())
    ref["min_p_0.05"] = MinPLogitsWarper(0.05)(ids, scores.clone())
    chain = scores.clone()
    for p in (RepetitionPenaltyLogitsProcessor(1.1), TemperatureLogitsWarper(0.8), TopKLogitsWarper(50),
              TopPLogitsWarper(0.95), MinPLogitsWarper(0.02)):
        chain = p(ids, chain)
    ref["chain"] = chain
    save_file(ref, os.path.join(out, "processors.safetensors"))


def make_large_bf16(out):
    """A ~200 MB bfloat16 Llama (random weights) with the small fixture tokenizer: for the loading-memory test."""
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=1536, intermediate_size=4096, num_hidden_layers=4,
                         num_attention_heads=12, num_key_value_heads=3, max_position_embeddings=256,
                         tie_word_embeddings=False, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS)
    torch.manual_seed(0)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = model.to_empty(device="cpu").to(torch.bfloat16)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    model.save_pretrained(out, safe_serialization=True)
    make_tokenizer(out)


def main():
    if sys.argv[1] == "--large":
        make_large_bf16(sys.argv[2])
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for seed, (name, (cls, config)) in enumerate(VARIANTS.items()):
        make_variant(out, name, cls, config, seed + 10)
    make_processors(out)
    make_text_reference(out, "qwen2", Qwen2ForCausalLM)
    make_text_reference(out, "gpt2", GPT2LMHeadModel)
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__}, f)


if __name__ == "__main__":
    main()
