#!/usr/bin/env python3
"""Writes the chat-template fixtures: public chat templates of Hugging Face models (templates/*.jinja) and the
sample data huggingface.js renders them with (hub_cases.json).

The templates come from huggingface.js's `packages/jinja/test/e2e.test.js` (MIT; TEST_DEFAULT_TEMPLATES and
TEST_CUSTOM_TEMPLATES, extracted to JSON with node), plus three templates copied from the models' tokenizer
configs (Llama 3 Instruct, Gemma, Phi-3). Regenerate with:

  node extract.mjs path/to/e2e.test.js > e2e_templates.json
  python make_fixtures.py e2e_templates.json

The expected outputs are not stored: the tests render every template with transformers'
apply_chat_template (Tests/Reference/chat_template_reference.py) at test time.
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

EXTRA = {
    # meta-llama/Meta-Llama-3-8B-Instruct
    "meta-llama/Meta-Llama-3-8B-Instruct": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
    # google/gemma-7b-it (also gemma-2)
    "google/gemma-7b-it": "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
    # microsoft/Phi-3-mini-4k-instruct
    "microsoft/Phi-3-mini-4k-instruct": "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
}

LLAMA31_DATE = """{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}"""
LLAMA32_DATE = """{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}"""


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def main() -> None:
    source = json.loads(Path(sys.argv[1]).read_text())
    cases = {}
    for name, entry in source.items():
        cases[name] = {"file": slug(name) + ".jinja", "data": entry["data"]}
        (HERE / "templates" / cases[name]["file"]).write_text(entry["chat_template"])
    # Llama 3.2 Instruct's date line: 3.1's template with the strftime_now default of the 3.2 templates.
    llama31 = source["meta-llama/Llama-3.1-8B-Instruct"]["chat_template"]
    assert LLAMA31_DATE in llama31
    EXTRA["meta-llama/Llama-3.2-Instruct (3.1 with strftime_now date)"] = llama31.replace(LLAMA31_DATE, LLAMA32_DATE)
    for name, template in EXTRA.items():
        cases[name] = {"file": slug(name) + ".jinja", "data": None}
        (HERE / "templates" / cases[name]["file"]).write_text(template)
    (HERE / "hub_cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
