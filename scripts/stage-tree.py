#!/usr/bin/env python3
"""Copies the working tree (tracked files and untracked ones git does not ignore, as they are now) into a staging
folder, so that a build there for another torch leaves this tree untouched (scripts/check-torch.sh,
scripts/build-gpu-bundle.sh):

    scripts/stage-tree.py ROOT STAGE

Copies only what changed (the staged build stays incremental) and removes what is gone since the last staging. The
generated op layer (csrc/generated, Sources/CTorch/generated, Sources/Torch/Generated) is copied only when the stage
has none or one for the same torch as the tree: otherwise it belongs to the stage's torch (setup regenerates it).
"""
import filecmp
import os
import shutil
import subprocess
import sys

GENERATED = ("csrc/generated/", "Sources/CTorch/generated/", "Sources/Torch/Generated/")


def version(base: str) -> str:
    try:
        with open(os.path.join(base, "csrc/generated/TORCH_VERSION")) as f:
            return f.read().strip()
    except OSError:
        return ""


def main() -> None:
    root, stage = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    out = subprocess.run(["git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                         capture_output=True).stdout.decode()
    files = sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(root, f)))
    stage_gen = version(stage)
    copy_generated = stage_gen in ("", version(root))
    wanted = [f for f in files if copy_generated or not f.startswith(GENERATED)]
    os.makedirs(stage, exist_ok=True)
    copied = 0
    for rel in wanted:
        s, d = os.path.join(root, rel), os.path.join(stage, rel)
        if os.path.islink(s):
            continue
        if not os.path.exists(d) or not filecmp.cmp(s, d, shallow=False):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)
            copied += 1
    manifest = os.path.join(stage, ".stage-manifest")
    removed = 0
    if os.path.exists(manifest):
        with open(manifest) as f:
            before = [line.rstrip("\n") for line in f if line.strip()]
        keep = set(files)
        for rel in before:
            if rel not in keep and not (not copy_generated and rel.startswith(GENERATED)):
                p = os.path.join(stage, rel)
                if os.path.isfile(p):
                    os.remove(p)
                    removed += 1
    with open(manifest, "w") as f:
        f.write("\n".join(files) + "\n")
    print(f"stage-tree: {len(wanted)} files in {os.path.relpath(stage, root)} ({copied} copied, {removed} removed)"
          + ("" if copy_generated else f"; its op layer stays the one for torch {stage_gen}"))


if __name__ == "__main__":
    main()
