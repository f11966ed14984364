#!/usr/bin/env python3
"""Reference renders for the ChatTemplates tests (reads one JSON request on stdin, writes a JSON list to stdout).

  {"mode": "chat", "now": <unix seconds>, "cases": [{"template", "messages", "add_generation_prompt", "tools",
   "special_tokens": {"bos_token": ...}, "kwargs": {...}, "continue_final_message"}]}
      -> transformers' tokenizer.apply_chat_template(..., tokenize=False) for each case, with strftime_now's clock
         fixed at `now`
  {"mode": "snippets", "cases": [{"template", "variables"}]}
      -> the template compiled in transformers' jinja2 environment, rendered with the variables
  {"mode": "random", "seed": <int>, "count": <int>}
      -> {"variables", "cases"}: `count` random small templates (expressions, filters, loops, whitespace control),
         each with its render of the variables

Each result is {"output": str} or {"error": exception class name, "message": str}.
"""
import copy
import datetime as _datetime
import json
import random
import sys

import transformers.utils.chat_template_utils as ctu
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast


def fixed_clock(now):
    class FixedDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return _datetime.datetime.fromtimestamp(now, tz)

    ctu.datetime = FixedDatetime


def result(render):
    try:
        return {"output": render()}
    except Exception as e:  # noqa: BLE001 - every failure is part of the reference
        return {"error": type(e).__name__, "message": str(e)}


def chat_case(case):
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel({"<unk>": 0}, unk_token="<unk>")), **case.get("special_tokens", {})
    )
    return result(
        lambda: tokenizer.apply_chat_template(
            case["messages"],
            tools=case.get("tools"),
            chat_template=case["template"],
            tokenize=False,
            add_generation_prompt=case.get("add_generation_prompt", False),
            continue_final_message=case.get("continue_final_message", False),
            **case.get("kwargs", {}),
        )
    )


def snippet(template, variables):
    return result(lambda: ctu._compile_jinja_template(template).render(**variables))


# Random templates: a small grammar over the features chat templates use.
VARIABLES = {
    "s": "  Hello, Wörld! ",
    "t": "a-b c_d {x} 'q' \"dq\"",
    "u": "héllo 世界 😀",
    "n": 7,
    "m": -3,
    "f": 2.5,
    "z": 0,
    "b": True,
    "nothing": None,
    "items": [3, 1, 2],
    "words": ["b", "A", "c", "a"],
    "empty": [],
    "d": {"role": "user", "content": "hi", "n": 2},
    "msgs": [
        {"role": "system", "content": " sys "},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2\n"},
    ],
}
STRINGS = ["''", "'x'", "'ab c'", '"q\\"uote"', "'it\\'s'", "'\\n'", "'a\\tb'", "'ü'", "'{{'", "'%}'", "' pad '"]
NUMBERS = ["0", "1", "2", "3", "-1", "10", "1.5", "0.25", "-2.0", "1e3"]
NAMES = list(VARIABLES) + ["missing"]
FILTERS = [
    "trim", "upper", "lower", "length", "first", "last", "string", "list", "title", "capitalize", "tojson", "int",
    "float", "abs", "reverse | list", "unique | list", "sort", "items | list", "join", "join(', ')", "default('dflt')", "replace('a', 'X')",
    "tojson(indent=2)", "count", "trim('-')", "map(attribute='role') | list",
    "selectattr('role', 'equalto', 'user') | list", "rejectattr('role', 'equalto', 'user') | list", "indent(2)", "safe", "round", "sum", "min", "max",
]
TESTS = ["defined", "undefined", "none", "string", "number", "mapping", "iterable", "sequence", "odd", "even",
         "boolean", "true", "false", "integer", "float", "divisibleby(3)", "eq(2)", "in([1, 2])"]
METHODS = ["strip()", "upper()", "lower()", "split()", "split(',')", "startswith('H')", "endswith(' ')",
           "replace('l', 'L')", "lstrip()", "rstrip()", "title()", "find('o')", "count('l')", "capitalize()"]
BINARY = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "and", "or", "in", "not in", "**"]


class Generator:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def atom(self, depth):
        r = self.r
        k = r.randrange(10)
        if k < 3:
            return r.choice(NAMES)
        if k < 4:
            return r.choice(STRINGS)
        if k < 5:
            return r.choice(NUMBERS)
        if k < 6:
            return r.choice(["true", "false", "none", "True", "None", "[]", "[1, 'a', none]", "{'k': 1, 'j': 'v'}"])
        if k < 7:
            return r.choice(["d.role", "d['content']", "msgs[0].content", "msgs[-1]['role']", "items[1]", "s[1:4]",
                             "items[::-1]", "msgs[1:]", "u[0]", "t[-3:]", "d.missing", "words[:2]", "missing.x"])
        if k < 8:
            return "(" + self.expr(depth + 1) + ")"
        if k < 9:
            return r.choice(["s", "t", "u", "d.content"]) + "." + r.choice(METHODS)
        return r.choice(["range(3) | list", "range(1, 7, 2) | list", "namespace(a=1).a", "d.get('role')", "d.get('x', 'y')",
                         "d.items() | list", "d.keys() | list", "d.values() | list"])

    def expr(self, depth=0):
        r = self.r
        e = self.atom(depth)
        if depth > 2:
            return e
        k = r.randrange(8)
        if k < 2:
            e = e + " | " + r.choice(FILTERS)
        elif k < 3:
            e = e + " is " + r.choice(["", "not "]) + r.choice(TESTS)
        elif k < 5:
            op = r.choice(BINARY)
            right = self.atom(depth + 1) if op != "**" else r.choice(["2", "3", "0"])
            e = e + " " + op + " " + right
        elif k < 6:
            e = e + " if " + self.atom(depth + 1) + (" else " + self.atom(depth + 1) if r.random() < 0.8 else "")
        elif k < 7:
            e = "not " + e
        return e

    def text(self):
        return self.r.choice(["", "x", " ", "\n", "  \n", "\n  ", "a b\n", " \t", "{ }", "line\n  "])

    def open(self, kind):
        return kind[0] + self.r.choice(["", "", "-", "+"] if kind[0] == "{%" else ["", "", "-"])

    def close(self, kind):
        return self.r.choice(["", "", "-"] + (["+"] if kind[1] == "%}" else [])) + kind[1]

    def block(self, tag):
        return self.open(("{%", "%}")) + " " + tag + " " + self.close(("{%", "%}"))

    def statements(self, depth=0):
        r = self.r
        parts = []
        for _ in range(r.randrange(1, 4)):
            parts.append(self.text())
            k = r.randrange(9 if depth < 2 else 4)
            if k < 2:
                parts.append(self.open(("{{", "}}")) + " " + self.expr() + " " + self.close(("{{", "}}")))
            elif k < 3:
                parts.append(self.block("set v" + str(r.randrange(3)) + " = " + self.expr()))
                parts.append("{{ v" + str(r.randrange(3)) + " }}")
            elif k < 4:
                parts.append("{# c #}" if r.random() < 0.5 else self.open(("{#", "#}")) + " c " + self.close(("{#", "#}")))
            elif k < 6:
                parts.append(self.block("if " + self.expr()))
                parts.append(self.statements(depth + 1))
                if r.random() < 0.4:
                    parts.append(self.block("elif " + self.expr()))
                    parts.append(self.statements(depth + 1))
                if r.random() < 0.5:
                    parts.append(self.block("else"))
                    parts.append(self.statements(depth + 1))
                parts.append(self.block("endif"))
            else:
                target, iterable = r.choice([("x", "items"), ("m", "msgs"), ("k, v", "d.items()"), ("c", "'abc'"),
                                             ("x", "empty"), ("i", "range(4)"), ("w", "words | sort")])
                cond = " if " + self.expr() if r.random() < 0.2 else ""
                parts.append(self.block("for " + target + " in " + iterable + cond))
                parts.append(r.choice(["{{ loop.index }}", "{{ loop.index0 }}{{ loop.first }}", "{{ loop.last }}",
                                       "{{ loop.length }}{{ loop.revindex }}", "{{ loop.previtem }}",
                                       "{{ " + target.split(",")[0] + " }}", ""]))
                parts.append(self.statements(depth + 1))
                if r.random() < 0.2:
                    parts.append(self.block(r.choice(["break", "continue"])))
                if r.random() < 0.3:
                    parts.append(self.block("else") + "empty")
                parts.append(self.block("endfor"))
        parts.append(self.text())
        return "".join(parts)


def main():
    request = json.load(sys.stdin)
    mode = request["mode"]
    if mode == "chat":
        fixed_clock(request["now"])
        out = [chat_case(case) for case in request["cases"]]
    elif mode == "snippets":
        out = [snippet(case["template"], case.get("variables", {})) for case in request["cases"]]
    elif mode == "random":
        # Keys sorted, as the Swift side reads the variables back from JSON.
        variables = json.loads(json.dumps(VARIABLES, sort_keys=True))
        generator = Generator(request["seed"])
        cases = []
        for _ in range(request["count"]):
            template = generator.statements()
            # A copy per render: jinja2's indent filter extends a list it is given (`s += "\n"`).
            cases.append({"template": template, **snippet(template, copy.deepcopy(variables))})
        out = {"variables": variables, "cases": cases}
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
