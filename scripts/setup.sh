#!/usr/bin/env bash
# TorchSwift setup: idempotent; prints what it does; installs nothing twice.
#  1. a project-local Python venv (.venv) with the pinned torch (unless LIBTORCH points at your own torch);
#  2. finds torch's include/lib folders, version and C++ ABI, and writes .torchswift/config.mk and
#     .torchswift/pkgconfig/ctorch.pc (what `swift build` needs, through PKG_CONFIG_PATH);
#  3. regenerates the op layer when the torch found differs from the one it was generated for;
#  4. builds the C layer (libctorch.so) against that torch.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TORCH_PIN="$(cat python/TORCH_PIN)"
VENV="$ROOT/.venv"
CONF="$ROOT/.torchswift"
say() { echo "setup: $*"; }

# ---- 1. Python venv and torch ----
if [ ! -x "$VENV/bin/python" ]; then
  say "creating Python venv in .venv"
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
install_reqs() {  # install a requirements file once (stamp = its hash)
  local req="$1" stamp="$VENV/.stamp-$(basename "$1")"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  say "pip install -r $req (into .venv)"
  "$PY" -m pip install --disable-pip-version-check -q -r "$req"
  echo "$want" > "$stamp"
}
if [ -n "${LIBTORCH:-}" ]; then
  TORCH_DIR="$(cd "$LIBTORCH" && pwd)"
  say "using LIBTORCH=$TORCH_DIR (no torch install)"
  install_reqs python/requirements-build.txt
else
  install_reqs python/requirements-build.txt
  install_reqs python/requirements-torch.txt
  TORCH_DIR="$(ls -d "$VENV"/lib/python3*/site-packages/torch | head -n 1)"
fi
for d in include lib; do
  [ -d "$TORCH_DIR/$d" ] || { echo "setup: error: $TORCH_DIR has no $d/ folder: LIBTORCH must be the folder holding torch's include/ and lib/ (e.g. .../site-packages/torch)" >&2; exit 1; }
done
[ -f "$TORCH_DIR/lib/libtorch_cpu.so" ] || { echo "setup: error: $TORCH_DIR/lib/libtorch_cpu.so not found" >&2; exit 1; }

# ---- 1b. gloo's headers for c10d's Gloo process groups (the torch wheel ships c10d's headers, not gloo's) ----
if [ ! -f /usr/include/gloo/config.h ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "apt-get install libgloo-dev (gloo's headers, for distributed training on the CPU)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgloo-dev >/dev/null || {
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgloo-dev >/dev/null; } \
      || say "warning: could not install libgloo-dev: the C layer builds without Gloo (no CPU process groups)"
  else
    say "warning: gloo's headers are missing (install Debian's libgloo-dev as root): building without Gloo process groups"
  fi
fi

# ---- 2. version, ABI, CUDA, config files ----
if [ -f "$TORCH_DIR/version.py" ]; then
  TORCH_VERSION="$(sed -n "s/^__version__ = '\([^']*\)'.*/\1/p" "$TORCH_DIR/version.py")"
elif [ -f "$TORCH_DIR/build-version" ]; then
  TORCH_VERSION="$(cat "$TORCH_DIR/build-version")"
else
  TORCH_VERSION=unknown
fi
TORCH_VERSION_BASE="${TORCH_VERSION%%+*}"
# The C++ ABI torch was built with: its libc10 exports std::__cxx11 symbols only under the new ABI.
CXX11_SYMBOLS="$( (nm -D --defined-only "$TORCH_DIR/lib/libc10.so" 2>/dev/null || true) | grep -c '__cxx11' || true)"
if [ "${CXX11_SYMBOLS:-0}" -gt 0 ]; then ABI=1; else ABI=0; fi
CUDA_LIBS=""
if [ -f "$TORCH_DIR/lib/libtorch_cuda.so" ]; then CUDA_LIBS="-ltorch_cuda -lc10_cuda"; fi
# CUDA headers for the C layer's CUDA part (memory stats, streams, graphs): the CUDA toolkit if present,
# else the headers inside the nvidia-* wheels (cuda_runtime + cuda_nvcc for crt/), installed for the pinned torch.
CUDA_CFLAGS=""
if [ -n "$CUDA_LIBS" ]; then
  SITE="$(dirname "$TORCH_DIR")"
  if [ -z "${LIBTORCH:-}" ]; then install_reqs python/requirements-cuda-headers.txt; fi
  WHEEL_INCS="$(ls -d "$SITE"/nvidia/*/include 2>/dev/null | grep -v '/cu13/' | sort | tr '\n' ':' | sed 's/:$//')"
  for inc in "${CUDA_HOME:-/nonexistent}/include" /usr/local/cuda/include "$SITE/nvidia/cu13/include" \
             "$SITE/nvidia/cuda_runtime/include:$WHEEL_INCS"; do
    first="${inc%%:*}"
    ok=1
    [ -f "$first/cuda_runtime_api.h" ] || ok=0
    crt_found=0
    for part in ${inc//:/ }; do [ -f "$part/crt/host_defines.h" ] && crt_found=1; done
    if [ $ok = 1 ] && [ $crt_found = 1 ]; then
      for part in ${inc//:/ }; do CUDA_CFLAGS="$CUDA_CFLAGS -isystem $part"; done
      CUDA_CFLAGS="-DTS_WITH_CUDA$CUDA_CFLAGS"
      break
    fi
  done
  [ -n "$CUDA_CFLAGS" ] || say "warning: no CUDA headers found (set CUDA_HOME): CUDA memory stats, streams and graphs are disabled"
fi
mkdir -p "$CONF/pkgconfig" "$CONF/lib"
write_if_changed() {  # path, content
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then printf '%s\n' "$2" > "$1"; say "wrote ${1#$ROOT/}"; fi
}
write_if_changed "$CONF/config.mk" "# written by scripts/setup.sh
TORCH_DIR := $TORCH_DIR
TORCH_VERSION := $TORCH_VERSION
CXX11_ABI := $ABI
TORCH_CUDA_LIBS := $CUDA_LIBS
CUDA_CFLAGS := $CUDA_CFLAGS
CTORCH_LIB_DIR := $CONF/lib"
write_if_changed "$CONF/pkgconfig/ctorch.pc" "# written by scripts/setup.sh: TorchSwift's C layer over libtorch $TORCH_VERSION
libdir=$CONF/lib
Name: ctorch
Description: TorchSwift C layer over libtorch
Version: $TORCH_VERSION_BASE
Cflags:
Libs: -L\${libdir} -lctorch"
say "libtorch $TORCH_VERSION at $TORCH_DIR (C++11 ABI=$ABI${CUDA_LIBS:+, CUDA libraries present})"

# ---- 3. generated op layer ----
GEN_VERSION="$(cat csrc/generated/TORCH_VERSION 2>/dev/null || echo none)"
if [ "$GEN_VERSION" != "$TORCH_VERSION_BASE" ]; then
  say "op layer was generated for torch $GEN_VERSION; regenerating for $TORCH_VERSION_BASE"
  "$PY" tools/codegen/gen_ctorch.py --torch-dir "$TORCH_DIR"
fi

# ---- 4. the C layer ----
make --no-print-directory -C csrc -j"$(nproc)"

# ---- 5. the bundled model and corpus ----
"$ROOT/scripts/setup-data.sh"
