#!/usr/bin/env bash
# `make check-consumer`: TorchSwift as a dependency of a package of your own, as the README describes it.
# Installs the C layer into a scratch prefix (scripts/install.sh), copies Examples/Consumer into a scratch folder
# beside a link to this tree named `torchswift-checkout` (another name than this folder's: the dependency is found
# by its `name:`, not its folder), builds it with only PKG_CONFIG_PATH=PREFIX/lib/pkgconfig and
# `-Xlinker -rpath -Xlinker PREFIX/lib`, and runs it with no LD_LIBRARY_PATH. Not part of make test: the consumer
# builds TorchSwift's Torch and NN targets from scratch (minutes).
#   scripts/check-consumer.sh [SCRATCH]     (default .build/check-consumer; kept, so a second run is incremental)
#   CONSUMER_PREFIX=/usr/local scripts/check-consumer.sh   installs there instead (root) and builds with no
#                                           PKG_CONFIG_PATH and no rpath flag: the `sudo make install` way
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRATCH="${1:-$ROOT/.build/check-consumer}"
start=$(date +%s)
mkdir -p "$SCRATCH"
SCRATCH="$(cd "$SCRATCH" && pwd)"
PREFIX="${CONSUMER_PREFIX:-$SCRATCH/prefix}"
"$ROOT/scripts/install.sh" "$PREFIX" | sed 's/^/check-consumer: /'
ln -sfn "$ROOT" "$SCRATCH/torchswift-checkout"
mkdir -p "$SCRATCH/app"
cp -R "$ROOT/Examples/Consumer/Sources" "$SCRATCH/app/"
sed 's|path: "../torchswift"|path: "../torchswift-checkout"|' "$ROOT/Examples/Consumer/Package.swift" > "$SCRATCH/app/Package.swift"
grep -q 'path: "../torchswift-checkout"' "$SCRATCH/app/Package.swift" || { echo "check-consumer: error: no path dependency in Examples/Consumer/Package.swift" >&2; exit 1; }
cd "$SCRATCH/app"
if [ -n "${CONSUMER_PREFIX:-}" ]; then
  echo "check-consumer: swift build in $SCRATCH/app (no PKG_CONFIG_PATH, no rpath flag, no LD_LIBRARY_PATH)"
  build=(env -u LD_LIBRARY_PATH -u PKG_CONFIG_PATH swift build)
else
  echo "check-consumer: swift build in $SCRATCH/app (PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig, rpath $PREFIX/lib, no LD_LIBRARY_PATH)"
  build=(env -u LD_LIBRARY_PATH PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" swift build -Xlinker -rpath -Xlinker "$PREFIX/lib")
fi
"${build[@]}" 2>&1 | grep -v '^\[' | sed 's/^/check-consumer:   /'
[ "${PIPESTATUS[0]}" = 0 ] || { echo "check-consumer: error: the consumer package did not build" >&2; exit 1; }
bin="$(swift build --show-bin-path)/consumer"
if [ -e "$(dirname "$bin")/libctorch.so" ]; then echo "check-consumer: error: libctorch.so beside the binary: the test would prove nothing" >&2; exit 1; fi
out="$(env -u LD_LIBRARY_PATH "$bin" 2>&1)" || { echo "$out" >&2; echo "check-consumer: error: the consumer did not run without LD_LIBRARY_PATH" >&2; exit 1; }
echo "check-consumer: $out"
resolved="$(env -u LD_LIBRARY_PATH ldd "$bin" | awk '/libctorch.so/ { print $3 }')"
echo "check-consumer: libctorch.so resolved to $resolved"
[ "$resolved" = "$PREFIX/lib/libctorch.so" ] || { echo "check-consumer: error: not the installed $PREFIX/lib/libctorch.so" >&2; exit 1; }
case "$out" in *"output [2, 2], weight gradient [2, 3]"*) ;; *) echo "check-consumer: error: unexpected output" >&2; exit 1 ;; esac
echo "check-consumer: passed in $(( $(date +%s) - start )) s"
