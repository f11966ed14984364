#!/usr/bin/env bash
# Installs the C layer where a Swift package that depends on TorchSwift finds it with no environment variables:
#   PREFIX/lib/libctorch.so            (the dynamic linker: /usr/local/lib is in ld.so.conf; ldconfig is run)
#   PREFIX/lib/pkgconfig/ctorch.pc     (pkg-config and SwiftPM: /usr/local/lib/pkgconfig is on their default path)
#
#   scripts/install.sh [PREFIX]        (default /usr/local; `make install PREFIX=…`)
# libctorch.so finds libtorch through its RUNPATH (the torch `make setup` used: .venv's or LIBTORCH), so that torch
# must stay where it is. For a PREFIX outside the default paths, build with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig and
# link with `swift build -Xlinker -rpath -Xlinker PREFIX/lib` (no LD_LIBRARY_PATH needed at run time).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:-${PREFIX:-/usr/local}}"
LIB="$ROOT/.torchswift/lib/libctorch.so"
PC="$ROOT/.torchswift/pkgconfig/ctorch.pc"
[ -f "$LIB" ] && [ -f "$PC" ] || { echo "install: error: $LIB or $PC missing: run make setup first" >&2; exit 1; }
mkdir -p "$PREFIX/lib/pkgconfig" || { echo "install: error: cannot create $PREFIX/lib (run as root for /usr/local, or set PREFIX)" >&2; exit 1; }
PREFIX="$(cd "$PREFIX" && pwd)"
install -m 755 "$LIB" "$PREFIX/lib/libctorch.so"
sed "s|^libdir=.*|libdir=$PREFIX/lib|" "$PC" > "$PREFIX/lib/pkgconfig/ctorch.pc"
echo "install: $PREFIX/lib/libctorch.so"
echo "install: $PREFIX/lib/pkgconfig/ctorch.pc"
on_path() { case ":$1:" in *":$2:"*) return 0 ;; *) return 1 ;; esac; }
pc_path="$(pkg-config --variable pc_path pkg-config 2>/dev/null || echo /usr/local/lib/pkgconfig:/usr/lib/pkgconfig)"
ld_dirs="$( (cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null || true) | grep '^/' | tr '\n' ':')/lib:/usr/lib"
if on_path "$ld_dirs" "$PREFIX/lib" && [ -w /etc/ld.so.cache ]; then
  ldconfig && echo "install: ldconfig (the dynamic linker finds libctorch.so)"
fi
if ! on_path "$pc_path" "$PREFIX/lib/pkgconfig"; then
  echo "install: $PREFIX/lib/pkgconfig is not on pkg-config's default path: build with PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig"
fi
if ! on_path "$ld_dirs" "$PREFIX/lib"; then
  echo "install: $PREFIX/lib is not a dynamic-linker folder: link with swift build -Xlinker -rpath -Xlinker $PREFIX/lib"
fi
