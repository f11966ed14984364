#!/usr/bin/env bash
# Runs inside the TorchSwift image (scripts/test-image.sh mounts it at /opt/image-checks.sh), as the image's user,
# with /workspace a host folder, /keys the test's SSH key pair and its public key at /run/secrets/authorized_keys.
#   bash /opt/image-checks.sh JUPYTER_PORT SSH_PORT TENSORBOARD_PORT
# Every server listens on 127.0.0.1 only. Prints "image-test: ok|FAIL <check>"; exits 1 when a check failed.
set -u
JPORT="$1"; SPORT="$2"; TPORT="$3"
EP=/usr/local/bin/torchswift-entrypoint
failed=0
ok() { echo "image-test: ok   $*"; }
fail() { echo "image-test: FAIL $*"; failed=1; }
show() { echo "----- $1"; tail -n "${2:-30}" "$1"; echo "-----"; }
# HTTP status of a GET (000 when nothing answers).
status() {
  python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}
wait_http() {  # url seconds: until anything answers
  local i
  for ((i = 0; i < $2; i++)); do [ "$(status "$1")" != 000 ] && return 0; sleep 1; done
  return 1
}

# ---- the user ----
[ "$(id -u)" != 0 ] && ok "runs as $(id -un) (uid $(id -u)), not root" || fail "runs as root"
[ "$(pwd)" = /workspace ] && ok "working directory /workspace" || fail "working directory is $(pwd)"

# ---- doctor ----
if torchswift doctor > /tmp/doctor.txt 2>&1 && grep -q "All checks passed" /tmp/doctor.txt; then
  ok "torchswift doctor passes (CPU)"
  grep -E "^(libtorch \(loaded\)|built with CUDA|NVIDIA driver|container|NVIDIA_VISIBLE|CUDA_VISIBLE|/dev/shm|  - )" /tmp/doctor.txt | sed 's/^/    /'
else
  fail "torchswift doctor"; show /tmp/doctor.txt 60
fi

# ---- example ----
if torchswift example transformer > /tmp/example.txt 2>&1 && grep -qF "Output shape: [10, 32, 512]" /tmp/example.txt; then
  ok "torchswift example transformer prints Output shape: [10, 32, 512]"
else
  fail "torchswift example transformer"; show /tmp/example.txt
fi

# ---- a short fine-tuning job writing under /workspace ----
if torchswift finetune --max-steps 5 --train-size 160 --eval-size 64 --batch-size 16 --max-length 48 > /tmp/finetune.txt 2>&1 \
   && [ -f /workspace/runs/finetune/model/config.json ] && [ -f /workspace/runs/finetune/logs/metrics.jsonl ] \
   && ls /workspace/runs/finetune/logs/events.out.tfevents.* >/dev/null 2>&1; then
  ok "finetune --max-steps 5 wrote runs/finetune/{model,logs} under /workspace"
else
  fail "finetune --max-steps 5"; show /tmp/finetune.txt; ls -R /workspace | head -30
fi

# ---- JupyterLab through the entry point: random token, 403 without it, 200 with it ----
JUPYTER_IP=127.0.0.1 JUPYTER_PORT="$JPORT" "$EP" jupyter > /tmp/jupyter.log 2>&1 &
jpid=$!
if wait_http "http://127.0.0.1:$JPORT/api/status" 120; then
  token="$(grep -o 'token=[0-9a-f]*' /tmp/jupyter.log | head -n 1 | cut -d= -f2)"
  without="$(status "http://127.0.0.1:$JPORT/api/status")"
  wrong="$(status "http://127.0.0.1:$JPORT/api/status?token=not-the-token")"
  with="$(status "http://127.0.0.1:$JPORT/api/status?token=$token")"
  if [ "${#token}" -eq 48 ] && [ "$without" = 403 ] && [ "$wrong" = 403 ] && [ "$with" = 200 ]; then
    ok "JupyterLab: generated a 48-digit token; /api/status 403 without it, 403 with a wrong one, 200 with it"
  else
    fail "JupyterLab: token '${token}', without $without, wrong $wrong, with $with"; show /tmp/jupyter.log
  fi
else
  fail "JupyterLab did not answer on 127.0.0.1:$JPORT"; show /tmp/jupyter.log
fi
kill "$jpid" 2>/dev/null; wait "$jpid" 2>/dev/null

# ---- sshd through the entry point: public key only ----
SSH_LISTEN=127.0.0.1 SSH_PORT="$SPORT" "$EP" ssh > /tmp/sshd.log 2>&1 &
spid=$!
SSH_OPTS=(-p "$SPORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o BatchMode=yes -o LogLevel=ERROR)
for ((i = 0; i < 30; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && break
  sleep 1
done
out="$(ssh "${SSH_OPTS[@]}" -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
        "$(id -un)@127.0.0.1" true 2>&1)"; rc=$?
if [ $rc -ne 0 ] && grep -q "Permission denied (publickey)" <<<"$out"; then
  ok "sshd rejects password login (offers publickey only: '$(grep -o 'Permission denied ([a-z,-]*)' <<<"$out")')"
else
  fail "sshd password login: rc $rc, $out"; show /tmp/sshd.log
fi
ssh-keygen -q -t ed25519 -N '' -f /tmp/other_key </dev/null
out="$(ssh "${SSH_OPTS[@]}" -o IdentitiesOnly=yes -i /tmp/other_key "$(id -un)@127.0.0.1" true 2>&1)"; rc=$?
[ $rc -ne 0 ] && ok "sshd rejects a key that was not mounted" || fail "sshd accepted a key that was not mounted"
out="$(ssh "${SSH_OPTS[@]}" -o IdentitiesOnly=yes -i /keys/id_ed25519 "$(id -un)@127.0.0.1" \
        'echo "user=$(id -un) pwd=$(pwd)"; torchswift --version >/dev/null 2>&1 || torchswift --help >/dev/null && echo cli=yes' 2>&1)"; rc=$?
if [ $rc -eq 0 ] && grep -q "user=$(id -un)" <<<"$out" && grep -q "cli=yes" <<<"$out"; then
  ok "sshd accepts the mounted key ($(tr '\n' ' ' <<<"$out"))"
else
  fail "ssh with the mounted key: rc $rc, $out"; show /tmp/sshd.log
fi
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null

# ---- TensorBoard through the entry point, over the fine-tuning logs ----
TENSORBOARD_HOST=127.0.0.1 TENSORBOARD_PORT="$TPORT" "$EP" tensorboard > /tmp/tensorboard.log 2>&1 &
tpid=$!
if wait_http "http://127.0.0.1:$TPORT/" 90 && python3 - "$TPORT" <<'EOF'
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/data/plugin/scalars/tags"
for _ in range(30):
    tags = json.load(urllib.request.urlopen(url, timeout=5))
    if any("finetune" in run for run in tags):
        sys.exit(0)
    time.sleep(1)
sys.exit(1)
EOF
then
  ok "TensorBoard serves the fine-tuning scalars from /workspace/runs"
else
  fail "TensorBoard"; show /tmp/tensorboard.log
fi
kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null

exit $failed
