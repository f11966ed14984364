#!/usr/bin/env bash
# make image-test: builds the image (scripts/build-image.sh, cached) and checks it from the inside
# (container/image-checks.sh): doctor, the transformer example, a 5-step fine-tuning job writing to a host folder
# mounted at /workspace, JupyterLab's token (403/200), sshd's public-key-only login with a mounted key, TensorBoard.
# Then, from outside: the default user is not root, root's password is locked, no SSH host key is baked in, and
# the fine-tuning outputs are on the host. Servers listen on 127.0.0.1 only. Takes minutes; not part of make test.
# Podman: containers run with `buildah run --isolation chroot` (host network); Docker: `docker run --network host`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${TORCHSWIFT_IMAGE:-localhost/torchswift:latest}"
say() { echo "image-test: $*"; }
die() { echo "image-test: error: $*" >&2; exit 1; }

"$ROOT/scripts/build-image.sh"

if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
WORK="$(mktemp -d /tmp/torchswift-image-test.XXXXXX)"
CTR=""
cleanup() {
  [ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/workspace" "$WORK/keys"
chown 1000:1000 "$WORK/workspace" "$WORK/keys"
chmod 700 "$WORK/keys"

# in_image [--user U] [-v MOUNT]... -- COMMAND...
if [ "$ENGINE" = docker ]; then
  in_image() {
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
    docker run --rm --network host --entrypoint "" "${opts[@]}" "$IMAGE" "$@"
  }
else
  CTR="$(buildah from --pull=never "$IMAGE")"
  in_image() {
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
    buildah run --isolation chroot --network host "${opts[@]}" "$CTR" -- "$@"
  }
fi
port() { "$ROOT/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

failed=0
say "a test key pair (Debian's ssh-keygen, in the image)"
in_image -v "$WORK/keys:/keys" -- ssh-keygen -q -t ed25519 -N '' -C image-test -f /keys/id_ed25519
say "checks inside the image ($ENGINE; /workspace = a host folder; the public key at /run/secrets/authorized_keys)"
in_image -v "$WORK/workspace:/workspace" -v "$WORK/keys:/keys:ro" \
  -v "$WORK/keys/id_ed25519.pub:/run/secrets/authorized_keys:ro" \
  -v "$ROOT/container/image-checks.sh:/opt/image-checks.sh:ro" \
  -- bash /opt/image-checks.sh "$(port)" "$(port)" "$(port)" || failed=1

user="$(in_image -- id -un)"
[ "$user" != root ] && say "ok   default user: $user" || { say "FAIL the default user is root"; failed=1; }
root_pw="$(in_image --user root -- sh -c 'grep "^root:" /etc/shadow | cut -d: -f2')"
case "$root_pw" in
  '!'*|'*'*) say "ok   root has no password (shadow field '${root_pw:0:2}...')" ;;
  *) say "FAIL root has a usable password"; failed=1 ;;
esac
if [ -n "$(in_image -- sh -c 'ls /etc/ssh/ | grep "^ssh_host_" || true')" ]; then
  say "FAIL SSH host keys are baked into the image"; failed=1
else
  say "ok   no SSH host key in the image (each container makes its own)"
fi
if [ -f "$WORK/workspace/runs/finetune/model/config.json" ] && [ "$(stat -c %u "$WORK/workspace/runs/finetune/model/config.json")" = 1000 ]; then
  say "ok   the fine-tuning outputs are on the host: $(cd "$WORK/workspace" && find runs -maxdepth 3 -type d | sort | tr '\n' ' ')"
else
  say "FAIL no fine-tuning outputs in the host folder"; failed=1
fi

SIZE="$($ENGINE image inspect --format '{{.Size}}' "$IMAGE")"
say "image $IMAGE: $(awk -v s="$SIZE" 'BEGIN { printf "%.2f GB", s / 1e9 }')"
[ $failed = 0 ] || die "some checks failed"
say "all checks passed ($SECONDS s, build included)"
