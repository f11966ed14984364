#!/usr/bin/env bash
# Builds TorchSwift against every supported torch (make check-torch; not part of make test: it downloads):
#
#   scripts/check-torch.sh                 # 2.8.0 2.9.1 2.10.0 2.11.0 (python/TORCH_VERSIONS)
#   scripts/check-torch.sh 2.11.0          # one version
#   scripts/check-torch.sh --no-swift 2.11.0   # the C layer and its smoke test only (scripts/build-gpu-bundle.sh)
#   LIBTORCH=.venv/lib/python3.11/site-packages/torch scripts/check-torch.sh 2.8.0   # an installed torch, not the wheel
#
# For each version, leaving this working tree untouched:
#  1. scripts/torch-wheel.sh: the torch wheel from PyPI, fetched once into .torchswift/wheels/ and unzipped once
#     into .torchswift/torch-VERSION/;
#  2. scripts/stage-tree.py: this working tree as it is (tracked and untracked, not ignored files) copied into
#     .torchswift/check-torch/VERSION/src/, which keeps its own .torchswift/, .build/ and op layer between runs;
#  3. there, LIBTORCH=<that torch> scripts/setup.sh --no-data: regenerates the op layer for that torch and builds the
#     C layer, with its CUDA part when CUDA headers are at hand (CUDA_HOME, /usr/local/cuda, else the nvidia-* wheels'
#     headers in .venv, those of the pinned torch's CUDA: a compile check, as the torch wheel ships none);
#  4. swift build (debug, every target but the tests) against it;
#  5. the C layer's smoke test (csrc/tests/smoke.c: tensor math, autograd, a Gloo group and DDP's Reducer) where the
#     libraries that libtorch loads are present: those beside torch, or .venv's nvidia-* wheels when their CUDA
#     major is torch's; otherwise it says which libraries are missing.
# Prints one line per version (built / ran / why not); logs in .torchswift/check-torch/VERSION/*.log.
# Exits non-zero when any version fails to build or its smoke test fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WITH_SWIFT=1
VERSIONS=()
for arg in "$@"; do
  case "$arg" in
    --no-swift) WITH_SWIFT=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "check-torch: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    *) VERSIONS+=("$arg") ;;
  esac
done
[ ${#VERSIONS[@]} -gt 0 ] || read -r -a VERSIONS < python/TORCH_VERSIONS
WORK="$ROOT/.torchswift/check-torch"
VENV_SITE="$( (ls -d "$ROOT"/.venv/lib/python3*/site-packages 2>/dev/null || true) | head -n 1)"
say() { echo "check-torch: $*"; }
cudart_major() { sed -n 's/^#define CUDART_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$1/cuda_runtime_api.h" 2>/dev/null | head -n 1 | awk '{print int($1/1000) "." int(($1%1000)/10)}'; }
codegen_hash() { cat tools/codegen/* 2>/dev/null | sha256sum | cut -d' ' -f1; }

# CUDA headers for the C layer's CUDA part: the environment's (setup finds CUDA_HOME or /usr/local/cuda itself), else
# the nvidia-* wheels in .venv (cuda_runtime first; crt/ from cuda_nvcc; cccl, nccl, cublas, ... for c10d's NCCL).
CUDA_INCLUDE=""
CUDA_NOTE="no CUDA headers here: CUDA part not compiled"
if [ -f "${CUDA_HOME:-/nonexistent}/include/cuda_runtime_api.h" ] || [ -f /usr/local/cuda/include/cuda_runtime_api.h ]; then
  CUDA_NOTE="CUDA part compiled with the CUDA toolkit's headers"
elif [ -n "$VENV_SITE" ] && [ -f "$VENV_SITE/nvidia/cuda_runtime/include/cuda_runtime_api.h" ]; then
  CUDA_INCLUDE="$VENV_SITE/nvidia/cuda_runtime/include"
  for inc in "$VENV_SITE"/nvidia/*/include; do
    [ "$inc" = "$VENV_SITE/nvidia/cuda_runtime/include" ] || CUDA_INCLUDE="$CUDA_INCLUDE:$inc"
  done
  CUDA_NOTE="CUDA part compiled with CUDA $(cudart_major "$VENV_SITE/nvidia/cuda_runtime/include") headers from .venv"
fi

FAILED=0
LINES=()
T_ALL=$SECONDS
for V in "${VERSIONS[@]}"; do
  T0=$SECONDS
  DIR="$WORK/$V"
  STAGE="$DIR/src"
  mkdir -p "$DIR"
  say "== torch $V"
  # 1. the wheel (or LIBTORCH, for one version: an installed torch of that version)
  if [ -n "${LIBTORCH:-}" ]; then
    [ ${#VERSIONS[@]} = 1 ] || { echo "check-torch: LIBTORCH names one torch: give its version alone" >&2; exit 2; }
    TORCH_DIR="$(cd "$LIBTORCH" && pwd)"
    say "using LIBTORCH=$TORCH_DIR instead of the wheel"
  elif ! TORCH_DIR="$(scripts/torch-wheel.sh "$V" 2> >(tee "$DIR/wheel.log" >&2) | tail -n 1)" || [ ! -d "$TORCH_DIR" ]; then
    LINES+=("$(printf '%-8s FAILED: no torch %s wheel (%s)' "$V" "$V" "$(tail -n 1 "$DIR/wheel.log" 2>/dev/null)")"); FAILED=1; continue
  fi
  FULL="$(sed -n "s/^__version__ = '\([^']*\)'.*/\1/p" "$TORCH_DIR/version.py" 2>/dev/null)"
  TORCH_CUDA="$(sed -n "s/^cuda: .* = '\([^']*\)'.*/\1/p" "$TORCH_DIR/version.py" 2>/dev/null)"
  if [ -n "$FULL" ] && [ "${FULL%%+*}" != "$V" ]; then
    LINES+=("$(printf '%-8s FAILED: %s holds torch %s, not %s' "$V" "$TORCH_DIR" "$FULL" "$V")"); FAILED=1; continue
  fi
  # 2. the staged tree
  if [ "$(cat "$DIR/codegen.sha" 2>/dev/null)" != "$(codegen_hash)" ]; then rm -f "$STAGE/csrc/generated/TORCH_VERSION"; fi
  "$ROOT/.venv/bin/python" scripts/stage-tree.py "$ROOT" "$STAGE" 2>/dev/null || python3 scripts/stage-tree.py "$ROOT" "$STAGE"
  ln -sfn "$ROOT/.venv" "$STAGE/.venv"
  # 3. setup: op layer and C layer
  say "setup against torch $FULL (log: ${DIR#$ROOT/}/setup.log)"
  if ! (cd "$STAGE" && LIBTORCH="$TORCH_DIR" TORCHSWIFT_CUDA_INCLUDE="$CUDA_INCLUDE" scripts/setup.sh --no-data) > "$DIR/setup.log" 2>&1; then
    tail -n 25 "$DIR/setup.log" | sed 's/^/  | /'
    LINES+=("$(printf '%-8s FAILED: the op layer or the C layer did not build (%s/setup.log)' "$V" "${DIR#$ROOT/}")"); FAILED=1; continue
  fi
  codegen_hash > "$DIR/codegen.sha"
  OPS="$(grep -c '^int atg_' "$STAGE/Sources/CTorch/generated/ctorch_generated.h" 2>/dev/null || echo '?')"
  if grep -q -- '-DTS_WITH_CUDA' "$STAGE/.torchswift/config.mk"; then CPART="$CUDA_NOTE"
  elif [ -n "$TORCH_CUDA" ]; then CPART="no CUDA headers: CUDA part not compiled"
  else CPART="CPU torch"; fi
  T_C=$((SECONDS - T0))
  WHAT="C layer ($OPS ops; $CPART) ${T_C} s"
  # 4. the Swift package
  if [ $WITH_SWIFT = 1 ]; then
    T1=$SECONDS
    say "swift build against torch $FULL (log: ${DIR#$ROOT/}/swift.log)"
    # The CUDA runtime libraries a CUDA libtorch needs are not part of the wheel: link without resolving them.
    if ! (cd "$STAGE" && PKG_CONFIG_PATH="$STAGE/.torchswift/pkgconfig" swift build \
          -Xlinker -rpath-link -Xlinker "$TORCH_DIR/lib" -Xlinker --allow-shlib-undefined) > "$DIR/swift.log" 2>&1; then
      grep -E 'error:' "$DIR/swift.log" | head -n 20 | sed 's/^/  | /'
      LINES+=("$(printf '%-8s FAILED: %s built; swift build failed (%s/swift.log)' "$V" "$WHAT" "${DIR#$ROOT/}")"); FAILED=1; continue
    fi
    WHAT="$WHAT, Swift package $((SECONDS - T1)) s"
  fi
  # 5. the smoke test
  RUN=""
  if ! make --no-print-directory -C "$STAGE/csrc" smoke > "$DIR/smoke.log" 2>&1; then
    LINES+=("$(printf '%-8s FAILED: %s built; the smoke test did not compile (%s/smoke.log)' "$V" "$WHAT" "${DIR#$ROOT/}")"); FAILED=1; continue
  fi
  SMOKE="$STAGE/.torchswift/lib/ctorch-smoke"
  LP=""
  for d in "$(dirname "$TORCH_DIR")"/nvidia/*/lib; do [ -d "$d" ] && LP="$LP:$d"; done
  VENV_CUDA=""
  [ -n "$VENV_SITE" ] && VENV_CUDA="$(cudart_major "$VENV_SITE/nvidia/cuda_runtime/include")"
  if [ -n "$TORCH_CUDA" ] && [ -n "$VENV_CUDA" ] && [ "${TORCH_CUDA%%.*}" = "${VENV_CUDA%%.*}" ]; then
    for d in "$VENV_SITE"/nvidia/*/lib; do [ -d "$d" ] && LP="$LP:$d"; done
  fi
  LP="${LP#:}"
  MISSING="$(LD_LIBRARY_PATH="$LP${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$SMOKE" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
  if [ -n "$MISSING" ]; then
    N="$(echo "$MISSING" | wc -w)"
    RUN="smoke test not run: libtorch needs $N $([ "$N" = 1 ] && echo library || echo libraries) not here ($(echo "$MISSING" | cut -d' ' -f1-3)$([ "$N" -gt 3 ] && echo ", ...")): torch ${TORCH_CUDA:+CUDA $TORCH_CUDA }runtime wheels not installed"
  else
    say "smoke test (log: ${DIR#$ROOT/}/smoke.log)"
    if LD_LIBRARY_PATH="$LP${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" timeout 180 "$SMOKE" >> "$DIR/smoke.log" 2>&1; then
      RUN="smoke test ran: $(grep -c ' ok$' "$DIR/smoke.log") checks ok"
    else
      grep -E 'FAILED|failed' "$DIR/smoke.log" | head -n 5 | sed 's/^/  | /'
      RUN="smoke test FAILED (${DIR#$ROOT/}/smoke.log)"; FAILED=1
    fi
  fi
  LINES+=("$(printf '%-8s built: %s; %s (total %d s)' "$V" "$WHAT" "$RUN" $((SECONDS - T0)))")
done
say "== summary ($((SECONDS - T_ALL)) s)"
for l in "${LINES[@]}"; do echo "check-torch: $l"; done
exit $FAILED
