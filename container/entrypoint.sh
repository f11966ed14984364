#!/usr/bin/env bash
# TorchSwift container entry point (runs as the image's non-root user).
#
#   jupyter [ARGS...]      JupyterLab on $JUPYTER_IP:$JUPYTER_PORT (0.0.0.0:8888), notebooks in $JUPYTER_ROOT (/workspace).
#                          Token: $JUPYTER_TOKEN, else the file $JUPYTER_TOKEN_FILE, else the secret
#                          $TORCHSWIFT_SECRETS_DIR/jupyter_token (/run/secrets/jupyter_token), else a random one,
#                          printed with the URL. Never an empty token; never a token on the command line.
#   ssh                    OpenSSH server on $SSH_LISTEN:$SSH_PORT (0.0.0.0:2222), public-key login only, as this user.
#                          Keys: $SSH_AUTHORIZED_KEYS (the key lines), else the file $SSH_AUTHORIZED_KEYS_FILE, else
#                          $TORCHSWIFT_SECRETS_DIR/authorized_keys, else a mounted ~/.ssh/authorized_keys. No key: error.
#   tensorboard [ARGS...]  TensorBoard on $TENSORBOARD_HOST:$TENSORBOARD_PORT (0.0.0.0:6006) over $TENSORBOARD_LOGDIR
#                          (/workspace/runs, where torchswift finetune writes).
#   shell                  an interactive bash.
#   help                   this text.
#   anything else          runs as a command: torchswift finetune --max-steps 100, python train.py, ...
set -euo pipefail

SECRETS_DIR="${TORCHSWIFT_SECRETS_DIR:-/run/secrets}"
STATE_DIR="${TORCHSWIFT_STATE_DIR:-$HOME/.torchswift-container}"

die() { echo "torchswift-entrypoint: error: $*" >&2; exit 2; }
say() { echo "torchswift-entrypoint: $*"; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

# First line of a secret file, surrounding whitespace removed.
read_secret() {
  local file="$1" what="$2" value
  [ -r "$file" ] || die "$what: cannot read $file"
  value="$(head -n 1 "$file" | tr -d '\r')"
  value="${value#"${value%%[![:space:]]*}"}"
  value="${value%"${value##*[![:space:]]}"}"
  [ -n "$value" ] || die "$what: $file is empty (an empty token would let anyone in)"
  printf '%s' "$value"
}

random_token() {  # 24 random bytes as 48 hex digits
  local t
  t="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  [ "${#t}" -eq 48 ] || die "jupyter: could not read random bytes from /dev/urandom for a token"
  printf '%s' "$t"
}

run_jupyter() {
  local arg token source
  for arg in "$@"; do
    case "$arg" in
      *[Tt]oken=*|*[Tt]oken|*.password=*|*.password)
        die "jupyter: '$arg': pass the token through JUPYTER_TOKEN or a secret file (JUPYTER_TOKEN_FILE, $SECRETS_DIR/jupyter_token), not on the command line" ;;
    esac
  done
  if [ -n "${JUPYTER_TOKEN:-}" ]; then
    token="$JUPYTER_TOKEN"; source="JUPYTER_TOKEN"
    [ -n "${token//[[:space:]]/}" ] || die "jupyter: JUPYTER_TOKEN is blank"
  elif [ -n "${JUPYTER_TOKEN_FILE:-}" ]; then
    token="$(read_secret "$JUPYTER_TOKEN_FILE" "jupyter: JUPYTER_TOKEN_FILE")"; source="$JUPYTER_TOKEN_FILE"
  elif [ -e "$SECRETS_DIR/jupyter_token" ]; then
    token="$(read_secret "$SECRETS_DIR/jupyter_token" "jupyter: the secret")"; source="$SECRETS_DIR/jupyter_token"
  else
    token="$(random_token)"; source=""
  fi
  local ip="${JUPYTER_IP:-0.0.0.0}" port="${JUPYTER_PORT:-8888}" root="${JUPYTER_ROOT:-/workspace}"
  if [ -z "$source" ]; then
    say "jupyter: no JUPYTER_TOKEN or token file given: generated a random token. Open (with your published port):"
    say "  http://127.0.0.1:$port/lab?token=$token"
  else
    say "jupyter: token from $source; open http://127.0.0.1:$port/lab and enter it"
  fi
  export JUPYTER_TOKEN="$token"
  unset JUPYTER_TOKEN_FILE
  exec jupyter lab --no-browser --ip="$ip" --port="$port" --ServerApp.root_dir="$root" "$@"
}

# Public-key lines only (comments and blank lines dropped); fails when none is there.
key_lines() {
  grep -E '(^|[[:space:]])(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)[[:space:]]+AAAA' || true
}

run_ssh() {
  [ $# -eq 0 ] || die "ssh takes no arguments (configure it with SSH_PORT, SSH_LISTEN, SSH_AUTHORIZED_KEYS)"
  local keys="" source=""
  if [ -n "${SSH_AUTHORIZED_KEYS:-}" ]; then
    keys="$SSH_AUTHORIZED_KEYS"; source="SSH_AUTHORIZED_KEYS"
  elif [ -n "${SSH_AUTHORIZED_KEYS_FILE:-}" ]; then
    [ -r "$SSH_AUTHORIZED_KEYS_FILE" ] || die "ssh: cannot read SSH_AUTHORIZED_KEYS_FILE=$SSH_AUTHORIZED_KEYS_FILE"
    keys="$(cat "$SSH_AUTHORIZED_KEYS_FILE")"; source="$SSH_AUTHORIZED_KEYS_FILE"
  elif [ -r "$SECRETS_DIR/authorized_keys" ]; then
    keys="$(cat "$SECRETS_DIR/authorized_keys")"; source="$SECRETS_DIR/authorized_keys"
  elif [ -r "$HOME/.ssh/authorized_keys" ]; then
    keys="$(cat "$HOME/.ssh/authorized_keys")"; source="$HOME/.ssh/authorized_keys"
  fi
  local lines
  lines="$(printf '%s\n' "$keys" | key_lines)"
  if [ -z "$lines" ]; then
    if [ -n "$source" ]; then
      die "ssh: no public key in $source (expected lines like 'ssh-ed25519 AAAA... you@laptop'); password login is disabled"
    fi
    die "ssh: no public key given, and password login is disabled. Mount your public key:
  docker run -v ~/.ssh/id_ed25519.pub:$SECRETS_DIR/authorized_keys:ro ... torchswift ssh
or pass it: -e SSH_AUTHORIZED_KEYS=\"\$(cat ~/.ssh/id_ed25519.pub)\""
  fi
  local user port="${SSH_PORT:-2222}" listen="${SSH_LISTEN:-0.0.0.0}" sshd
  user="$(id -un)"
  sshd="$(command -v sshd || echo /usr/sbin/sshd)"
  [ -x "$sshd" ] || die "ssh: no sshd found"
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  umask 077
  printf '%s\n' "$lines" > "$STATE_DIR/authorized_keys"
  if [ ! -f "$STATE_DIR/ssh_host_ed25519_key" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "torchswift-container" -f "$STATE_DIR/ssh_host_ed25519_key" </dev/null >/dev/null \
      || die "ssh: ssh-keygen could not make a host key in $STATE_DIR"
  fi
  # Login sessions get this environment (PATH with the Python venv, the bundled model and data, GPU selection).
  local setenv="" name
  for name in PATH LANG TORCHSWIFT_MODEL_DIR TORCHSWIFT_CORPUS NVIDIA_VISIBLE_DEVICES CUDA_VISIBLE_DEVICES; do
    [ -n "${!name:-}" ] && setenv="$setenv \"$name=${!name}\""
  done
  cat > "$STATE_DIR/sshd_config" <<EOF
# written by torchswift-entrypoint: public-key login for $user only
Port $port
ListenAddress $listen
HostKey $STATE_DIR/ssh_host_ed25519_key
PidFile $STATE_DIR/sshd.pid
AuthorizedKeysFile $STATE_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin no
AllowUsers $user
UsePAM no
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
${setenv:+SetEnv$setenv}
EOF
  say "ssh: sshd on $listen:$port for user $user, public-key login only ($(printf '%s\n' "$lines" | wc -l) key(s) from $source)"
  say "ssh: host key $(ssh-keygen -l -f "$STATE_DIR/ssh_host_ed25519_key.pub" 2>/dev/null || echo '(fingerprint unavailable)')"
  exec "$sshd" -D -e -f "$STATE_DIR/sshd_config"
}

run_tensorboard() {
  local logdir="${TENSORBOARD_LOGDIR:-/workspace/runs}"
  mkdir -p "$logdir" 2>/dev/null || true
  exec tensorboard --logdir "$logdir" --host "${TENSORBOARD_HOST:-0.0.0.0}" --port "${TENSORBOARD_PORT:-6006}" "$@"
}

[ $# -gt 0 ] || { usage >&2; exit 2; }
cmd="$1"; shift
case "$cmd" in
  jupyter) run_jupyter "$@" ;;
  ssh) run_ssh "$@" ;;
  tensorboard) run_tensorboard "$@" ;;
  shell) exec bash -l "$@" ;;
  help|-h|--help) usage ;;
  *) exec "$cmd" "$@" ;;
esac
