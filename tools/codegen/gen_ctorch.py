#!/usr/bin/env python3
"""Generate TorchSwift's op layer from the installed torch's native_functions.yaml.

Reads `torchgen/packaged/ATen/native/{native_functions,tags}.yaml` shipped in the torch wheel
(parsed by torchgen itself), filters it with tools/codegen/op_filter.yaml and writes:

  csrc/generated/ops_<k>.cpp          C ABI entry points `atg_<name>` calling at::_ops::<name>::call
  csrc/generated/TORCH_VERSION        the torch version the layer was generated for
  Sources/CTorch/generated/ctorch_generated.h   their C declarations
  Sources/Torch/Generated/ATen.swift  `ATen.<name>(...)` Swift wrappers that throw on error

Usage: python tools/codegen/gen_ctorch.py [--out ROOT]   (ROOT defaults to the repository root)
The output is committed; `make check-generated` regenerates into a temporary folder and diffs.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

import yaml


def _torch_dir_from_argv() -> str | None:
    for i, a in enumerate(sys.argv):
        if a == "--torch-dir" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--torch-dir="):
            return a.split("=", 1)[1]
    return os.environ.get("LIBTORCH")


# torchgen is the package beside the torch we generate for (same wheel), imported without importing torch.
_TORCH_DIR = _torch_dir_from_argv()
if _TORCH_DIR is None:
    import importlib.util
    _spec = importlib.util.find_spec("torch")
    if _spec is None or _spec.origin is None:
        sys.exit("gen_ctorch: cannot find torch: pass --torch-dir DIR (the folder holding include/ and lib/)")
    _TORCH_DIR = os.path.dirname(_spec.origin)
_TORCH_DIR = os.path.abspath(_TORCH_DIR)
if os.path.isdir(os.path.join(os.path.dirname(_TORCH_DIR), "torchgen")):
    sys.path.insert(0, os.path.dirname(_TORCH_DIR))

import torchgen  # noqa: E402
from torchgen import local  # noqa: E402
from torchgen.api import dispatcher  # noqa: E402
from torchgen.gen import parse_native_yaml  # noqa: E402
from torchgen.model import BaseTy, BaseType, ListType, NativeFunction, OptionalType, Type  # noqa: E402


def torch_version(torch_dir: str) -> str:
    path = os.path.join(torch_dir, "version.py")
    if os.path.exists(path):
        m = re.search(r"__version__\s*=\s*'([^']+)'", open(path).read())
        if m:
            return m.group(1).split("+")[0]
    path = os.path.join(torch_dir, "build-version")
    if os.path.exists(path):
        return open(path).read().strip().split("+")[0]
    sys.exit(f"gen_ctorch: cannot read the torch version in {torch_dir}")

SHARDS = 4

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
    "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
    "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
    "as", "Any", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try",
}

SCALAR_TYPE_DEFAULTS = {"long": ".int64", "float": ".float32", "double": ".float64", "int": ".int32", "bool": ".bool"}


class Unsupported(Exception):
    pass


@dataclass
class Arg:
    """One schema argument, with its C parameters, its C++ conversion and its Swift surface."""
    name: str
    c_params: list[str]
    cpp_expr: str
    swift_param: str | None  # None: not exposed (always nullopt)
    swift_setup: list[str] = field(default_factory=list)
    swift_call: list[str] = field(default_factory=list)


def cpp_type(a) -> str:
    t = dispatcher.argument_type(a, binds=a.name, symint=True).cpp_type()
    return t.replace("const ", "").replace(" &", "").strip()


def swift_ident(name: str) -> str:
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def swift_default(t: Type, d: str | None) -> str | None:
    if d is None:
        return None
    if d == "None":
        return "nil" if isinstance(t, OptionalType) else None
    base = t.elem if isinstance(t, OptionalType) else t
    if isinstance(base, ListType):
        if isinstance(base.elem, BaseType) and base.elem.name in (BaseTy.int, BaseTy.SymInt):
            if d.startswith("["):
                return d.replace(",", ", ")
            if re.fullmatch(r"-?\d+", d) and base.size:
                return "[" + ", ".join([d] * base.size) + "]"
        return None
    if not isinstance(base, BaseType):
        return None
    n = base.name
    if n == BaseTy.bool:
        return {"True": "true", "False": "false"}.get(d)
    if n in (BaseTy.int, BaseTy.SymInt):
        if re.fullmatch(r"-?\d+", d):
            return d
        return {"Mean": "1", "Sum": "2", "None": "0"}.get(d)
    if n == BaseTy.float:
        if d in ("inf", "-inf"):
            return ".infinity" if d == "inf" else "-.infinity"
        try:
            float(d)
            return d if any(ch in d for ch in ".e") else d + ".0"
        except ValueError:
            return None
    if n == BaseTy.Scalar:
        try:
            float(d)
            return d
        except ValueError:
            return None
    if n == BaseTy.str:
        if len(d) >= 2 and d[0] == d[-1] and d[0] in "'\"" and "\\" not in d and '"' not in d[1:-1]:
            return '"' + d[1:-1] + '"'
        return None
    if n == BaseTy.ScalarType:
        return SCALAR_TYPE_DEFAULTS.get(d)
    return None


def convert_arg(a, first: bool) -> Arg:
    t = a.type
    n = a.name
    cname = f"a_{n}"
    sname = f"a_{n}"
    label = "_" if first else swift_ident(n)
    opt = isinstance(t, OptionalType)
    base = t.elem if opt else t
    ct = cpp_type(a)

    def swift(decl_type: str) -> str:
        default = swift_default(t, a.default)
        s = f"{label} {sname}: {decl_type}"
        return s + (f" = {default}" if default is not None else "")

    if isinstance(base, BaseType):
        b = base.name
        if b == BaseTy.Tensor:
            if opt:
                return Arg(n, [f"ts_tensor {cname}"], f"({cname} ? {ct}(*(at::Tensor*){cname}) : {ct}())",
                           swift("Tensor?"), [], [f"{sname}?.handle"])
            return Arg(n, [f"ts_tensor {cname}"], f"(*(at::Tensor*){cname})", swift("Tensor"), [], [f"{sname}.handle"])
        if b in (BaseTy.int, BaseTy.SymInt):
            if opt:
                return Arg(n, [f"int64_t {cname}", f"uint8_t {cname}_null"],
                           f"({cname}_null ? {ct}() : {ct}({cname}))", swift("Int?"), [],
                           [f"Int64({sname} ?? 0)", f"{sname} == nil ? 1 : 0"])
            return Arg(n, [f"int64_t {cname}"], cname, swift("Int"), [], [f"Int64({sname})"])
        if b == BaseTy.float:
            if opt:
                return Arg(n, [f"double {cname}", f"uint8_t {cname}_null"],
                           f"({cname}_null ? {ct}() : {ct}({cname}))", swift("Double?"), [],
                           [f"{sname} ?? 0", f"{sname} == nil ? 1 : 0"])
            return Arg(n, [f"double {cname}"], cname, swift("Double"), [], [sname])
        if b == BaseTy.bool:
            if opt:
                return Arg(n, [f"int8_t {cname}"], f"({cname} < 0 ? {ct}() : {ct}({cname} != 0))", swift("Bool?"),
                           [], [f"{sname}.map {{ $0 ? 1 : 0 }} ?? -1"])
            return Arg(n, [f"uint8_t {cname}"], f"({cname} != 0)", swift("Bool"), [], [f"{sname} ? 1 : 0"])
        if b == BaseTy.Scalar:
            if opt:
                return Arg(n, [f"ts_scalar {cname}", f"uint8_t {cname}_null"],
                           f"({cname}_null ? {ct}() : {ct}(ts::to_scalar({cname})))", swift("Scalar?"), [],
                           [f"({sname} ?? .int(0)).c", f"{sname} == nil ? 1 : 0"])
            return Arg(n, [f"ts_scalar {cname}"], f"ts::to_scalar({cname})", swift("Scalar"), [], [f"{sname}.c"])
        if b == BaseTy.ScalarType:
            if opt:
                return Arg(n, [f"int32_t {cname}"], f"({cname} < 0 ? {ct}() : {ct}(static_cast<at::ScalarType>({cname})))",
                           swift("DType?"), [], [f"{sname}?.rawValue ?? -1"])
            return Arg(n, [f"int32_t {cname}"], f"static_cast<at::ScalarType>({cname})", swift("DType"), [],
                       [f"{sname}.rawValue"])
        if b == BaseTy.str:
            if opt:
                return Arg(n, [f"const char *{cname}"], f"({cname} ? {ct}({cname}) : {ct}())", swift("String?"), [],
                           [sname])
            return Arg(n, [f"const char *{cname}"], cname, swift("String"), [], [sname])
        if b == BaseTy.Device and opt:
            return Arg(n, [f"int32_t {cname}_type", f"int32_t {cname}_index"],
                       f"ts::opt_device({cname}_type, {cname}_index)", swift("Device?"), [],
                       [f"{sname}?.typeCode ?? -1", f"{sname}?.indexCode ?? -1"])
        if b == BaseTy.Device and not opt:
            return Arg(n, [f"int32_t {cname}_type", f"int32_t {cname}_index"],
                       f"ts::device({cname}_type, {cname}_index)", swift("Device"), [],
                       [f"{sname}.typeCode", f"{sname}.indexCode"])
        if b == BaseTy.MemoryFormat and not opt:
            return Arg(n, [f"int32_t {cname}"], f"static_cast<at::MemoryFormat>({cname})", swift("MemoryFormat"), [],
                       [f"{sname}.rawValue"])
        if b == BaseTy.MemoryFormat and opt:
            return Arg(n, [f"int32_t {cname}"],
                       f"({cname} < 0 ? {ct}() : {ct}(static_cast<at::MemoryFormat>({cname})))",
                       swift("MemoryFormat?"), [], [f"{sname}?.rawValue ?? -1"])
        if b in (BaseTy.Layout, BaseTy.Generator) and opt:
            return Arg(n, [], f"{ct}()", None)
        raise Unsupported(str(t))
    if isinstance(base, ListType) and isinstance(base.elem, BaseType):
        e = base.elem.name
        if e in (BaseTy.int, BaseTy.SymInt):
            ref = f"at::IntArrayRef({cname}, (size_t){cname}_len)"
            if e == BaseTy.SymInt:
                ref = f"c10::fromIntArrayRefSlow({ref})"
            setup = [f"let {sname}_c = {sname}{'?' if opt else ''}.map {{ Int64($0) }}"]
            if opt:
                return Arg(n, [f"const int64_t *{cname}", f"int64_t {cname}_len"],
                           f"({cname}_len < 0 ? {ct}() : {ct}({ref}))", swift("[Int]?"), setup,
                           [f"{sname}_c ?? []", f"Int64({sname}_c?.count ?? -1)"])
            return Arg(n, [f"const int64_t *{cname}", f"int64_t {cname}_len"], ref, swift("[Int]"), setup,
                       [f"{sname}_c", f"Int64({sname}_c.count)"])
        if e == BaseTy.Tensor and not opt:
            setup = [f"let {sname}_c: [ts_tensor?] = {sname}.map {{ $0.handle }}"]
            return Arg(n, [f"const ts_tensor *{cname}", f"int64_t {cname}_len"],
                       f"ts::tensor_list({cname}, {cname}_len)", swift("[Tensor]"), setup,
                       [f"{sname}_c", f"Int64({sname}_c.count)"])
        if isinstance(base.elem, OptionalType):
            raise Unsupported(str(t))
    if isinstance(base, ListType) and isinstance(base.elem, OptionalType) and not opt:
        inner = base.elem.elem
        if isinstance(inner, BaseType) and inner.name == BaseTy.Tensor:
            setup = [f"let {sname}_c: [ts_tensor?] = {sname}.map {{ $0?.handle }}"]
            return Arg(n, [f"const ts_tensor *{cname}", f"int64_t {cname}_len"],
                       f"ts::optional_tensor_list({cname}, {cname}_len)", swift("[Tensor?]"), setup,
                       [f"{sname}_c", f"Int64({sname}_c.count)"])
    raise Unsupported(str(t))


@dataclass
class Ret:
    c_params: list[str]
    cpp_store: list[str]
    swift_type: str
    swift_setup: list[str]
    swift_call: list[str]
    swift_result: str


def convert_returns(f: NativeFunction) -> Ret:
    rs = f.func.returns
    if len(rs) == 0:
        return Ret([], [], "Void", [], [], "")
    kinds = []
    for r in rs:
        t = r.type
        if isinstance(t, BaseType) and t.name == BaseTy.Tensor:
            kinds.append("T")
        elif isinstance(t, ListType) and isinstance(t.elem, BaseType) and t.elem.name == BaseTy.Tensor and len(rs) == 1:
            kinds.append("L")
        elif isinstance(t, BaseType) and len(rs) == 1 and t.name in (BaseTy.bool, BaseTy.int, BaseTy.float, BaseTy.Scalar, BaseTy.ScalarType, BaseTy.SymInt):
            kinds.append(t.name)
        else:
            raise Unsupported("return " + str(t))
    if kinds == ["L"]:
        return Ret(["ts_tensor **out", "int64_t *out_len"],
                   ["*out_len = (int64_t)r.size();",
                    "*out = (ts_tensor *)malloc(sizeof(ts_tensor) * (r.size() ? r.size() : 1));",
                    "if (!*out) throw std::bad_alloc();",
                    "for (size_t i = 0; i < r.size(); i++) (*out)[i] = ts::wrap(std::move(r[i]));"],
                   "[Tensor]", ["var out: UnsafeMutablePointer<ts_tensor?>? = nil", "var outLen: Int64 = 0"],
                   ["&out", "&outLen"], "return Tensor.takeList(out, count: outLen)")
    if all(k == "T" for k in kinds):
        if len(kinds) == 1:
            return Ret(["ts_tensor *out"], ["*out = ts::wrap(std::move(r));"], "Tensor", ["var out: ts_tensor? = nil"],
                       ["&out"], "return Tensor(taking: out!)")
        k = len(kinds)
        stores = [f"out[{i}] = ts::wrap(std::move(std::get<{i}>(r)));" for i in range(k)]
        tup = ", ".join(f"Tensor(taking: out[{i}]!)" for i in range(k))
        return Ret(["ts_tensor *out"], stores, "(" + ", ".join(["Tensor"] * k) + ")",
                   [f"var out = [ts_tensor?](repeating: nil, count: {k})"], ["&out"], f"return ({tup})")
    k = kinds[0]
    if k == BaseTy.bool:
        return Ret(["uint8_t *out"], ["*out = r ? 1 : 0;"], "Bool", ["var out: UInt8 = 0"], ["&out"], "return out != 0")
    if k in (BaseTy.int, BaseTy.SymInt):
        conv = "r" if k == BaseTy.int else "r.guard_int(__FILE__, __LINE__)"
        return Ret(["int64_t *out"], [f"*out = {conv};"], "Int", ["var out: Int64 = 0"], ["&out"], "return Int(out)")
    if k == BaseTy.float:
        return Ret(["double *out"], ["*out = r;"], "Double", ["var out: Double = 0"], ["&out"], "return out")
    if k == BaseTy.Scalar:
        return Ret(["ts_scalar *out"], ["*out = ts::from_scalar(r);"], "Scalar", ["var out = ts_scalar()"], ["&out"],
                   "return Scalar(out)")
    if k == BaseTy.ScalarType:
        return Ret(["int32_t *out"], ["*out = (int32_t)r;"], "DType", ["var out: Int32 = 0"], ["&out"],
                   "return try DType(code: out)")
    raise Unsupported("return")


def load_filter():
    with open(os.path.join(HERE, "op_filter.yaml")) as fh:
        return yaml.safe_load(fh)


def selected(f: NativeFunction, flt) -> bool:
    name = str(f.func.name.name)
    full = str(f.func.name)
    if full in flt["allow"] or name in flt["allow"]:
        return True
    if full in flt["deny"] or name in flt["deny"]:
        return False
    base = f.func.name.name.base
    if any(base.startswith(p) or name.startswith(p) for p in flt["deny_prefixes"]):
        return False
    if any(s in name for s in flt["deny_substrings"]):
        return False
    return True


@dataclass
class Op:
    uname: str
    schema: str
    c_decl: str
    cpp_def: str
    swift_def: str


def build_op(f: NativeFunction) -> Op:
    with local.parametrize(use_const_ref_for_mutable_tensors=f.use_const_ref_for_mutable_tensors,
                           use_ilistref_for_tensor_lists=f.part_of_structured_group):
        return _build_op(f)


def _build_op(f: NativeFunction) -> Op:
    uname = f.func.name.unambiguous_name()
    args = [convert_arg(a, i == 0) for i, a in enumerate(f.func.arguments.flat_all)]
    ret = convert_returns(f)
    c_params = ret.c_params + [p for a in args for p in a.c_params]
    c_decl = f"int atg_{uname}({', '.join(c_params) if c_params else 'void'})"
    call = f"at::_ops::{uname}::call({', '.join(a.cpp_expr for a in args)})"
    body = [f"{c_decl} {{", "  TS_TRY"]
    if ret.cpp_store:
        body.append(f"    auto r = {call};")
        body += ["    " + s for s in ret.cpp_store]
    else:
        body.append(f"    {call};")
    body += ["  TS_CATCH", "}"]
    schema = str(f.func)
    sparams = [a.swift_param for a in args if a.swift_param is not None]
    setup = [s for a in args for s in a.swift_setup] + ret.swift_setup
    ccall_args = ret.swift_call + [c for a in args for c in a.swift_call]
    fname = swift_ident(uname)
    sw = [f"  /// `{schema}`",
          f"  @inlinable",
          f"  public static func {fname}({', '.join(sparams)}) throws -> {ret.swift_type} {{"]
    sw += ["    " + s for s in setup]
    sw.append(f"    try check(atg_{uname}({', '.join(ccall_args)}))")
    if ret.swift_result:
        sw.append("    " + ret.swift_result)
    sw.append("  }")
    return Op(uname, schema, c_decl + ";", "\n".join(body), "\n".join(sw))


def generate(out_root: str) -> dict:
    native = os.path.join(os.path.dirname(torchgen.__file__), "packaged", "ATen", "native")
    parsed = parse_native_yaml(os.path.join(native, "native_functions.yaml"), os.path.join(native, "tags.yaml"))
    flt = load_filter()
    ops: list[Op] = []
    skipped: dict[str, str] = {}
    for f in parsed.native_functions:
        fn = f.func
        if fn.is_out_fn() or not selected(f, flt):
            continue
        if any("Dimname" in str(a.type) for a in fn.arguments.flat_all):
            continue
        try:
            ops.append(build_op(f))
        except Unsupported as e:
            skipped[str(fn.name)] = str(e)
    ops.sort(key=lambda o: o.uname)
    version = torch_version(_TORCH_DIR)

    header = [
        "// GENERATED by tools/codegen/gen_ctorch.py from torch " + version + "'s native_functions.yaml. Do not edit.",
        "// Each function returns 0 on success or 1 on error (message: ts_last_error()).",
        "#pragma once",
        '#include "../ctorch.h"',
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
    ] + [o.c_decl for o in ops] + ["", "#ifdef __cplusplus", "}", "#endif", ""]

    swift = [
        "// GENERATED by tools/codegen/gen_ctorch.py from torch " + version + "'s native_functions.yaml. Do not edit.",
        "// `ATen.<op>(...)` calls libtorch's operator `aten::<op>` through the C layer and throws `TorchError`",
        "// with libtorch's message on failure. The hand-written API in Sources/Torch builds on these.",
        "import CTorch",
        "",
        "/// Every bound ATen operator, named as in `native_functions.yaml` (`name` or `name_overload`).",
        "public enum ATen {",
    ]
    swift += [o.swift_def for o in ops]
    swift += ["}", ""]

    files = {
        "Sources/CTorch/generated/ctorch_generated.h": "\n".join(header),
        "Sources/Torch/Generated/ATen.swift": "\n".join(swift),
        "csrc/generated/TORCH_VERSION": version + "\n",
    }
    per = (len(ops) + SHARDS - 1) // SHARDS
    for k in range(SHARDS):
        chunk = ops[k * per:(k + 1) * per]
        src = [
            "// GENERATED by tools/codegen/gen_ctorch.py from torch " + version + "'s native_functions.yaml. Do not edit.",
            '#include "../ctorch_internal.h"',
            "#include <ATen/Operators.h>",
            "",
            'extern "C" {',
            "",
        ] + [o.cpp_def + "\n" for o in chunk] + ["}  // extern \"C\"", ""]
        files[f"csrc/generated/ops_{k}.cpp"] = "\n".join(src)
    skipped_txt = ["# Native functions selected by op_filter.yaml but skipped for unsupported types (generated)."]
    skipped_txt += [f"{k}: {v}" for k, v in sorted(skipped.items())]
    files["csrc/generated/SKIPPED.txt"] = "\n".join(skipped_txt) + "\n"
    for rel, text in files.items():
        path = os.path.join(out_root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
    return {"ops": len(ops), "skipped": len(skipped), "version": version}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--torch-dir", help="torch folder (holding include/ and lib/); default: the importable torch")
    ap.add_argument("--out", default=REPO, help="root folder to write into (default: the repository)")
    args = ap.parse_args()
    info = generate(args.out)
    print(f"gen_ctorch: torch {info['version']}: {info['ops']} ops generated, {info['skipped']} skipped for types -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
