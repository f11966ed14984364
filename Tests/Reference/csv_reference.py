"""Reference CSV/TSV parsing with Python's csv module, for the Swift DelimitedFileReader tests.

usage:
  csv_reference.py rows <delimiter: comma|tab> <path>...
      -> JSON {path: [{"line": start line, "fields": [...]}, ...]} for every non-blank record
         (csv.reader over open(path, encoding="utf-8", errors="replace", newline=""))
  csv_reference.py fuzz <dir> <count> <seed>
      -> writes <count> random CSV files (fuzz-<i>.csv) with quotes, delimiters, CR/LF/CRLF,
         tabs and valid/ill-formed UTF-8 into <dir>; prints nothing
  csv_reference.py corpus <path> <text column> <label column>
      -> JSON {"header": [...], "rows": [{"line", "label", "text", "fffd"}]} via csv.DictReader
"""
import csv
import json
import random
import sys


def rows(path, delimiter):
    out = []
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        previous_end = 0
        for row in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if row:
                out.append({"line": start, "fields": row})
    return out


PIECES = [b"a", b"b", b"xyz", b" ", b",", b",", b"\t", b'"', b'"', b'""', b"\r", b"\n", b"\r\n",
          "é".encode(), "€".encode(), "😀".encode(), b"\xff", b"\x80", b"\xe2\x82", b"\xf0\x9f\x98",
          b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe0\x80", b"\xc3"]


def fuzz(directory, count, seed):
    rng = random.Random(seed)
    for i in range(count):
        data = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 200)))
        with open(f"{directory}/fuzz-{i}.csv", "wb") as f:
            f.write(data)


def corpus(path, text_column, label_column):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        out = []
        header = reader.fieldnames
        previous_end = reader.line_num
        for row in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            fffd = sum(v.count("\ufffd") for v in row.values() if isinstance(v, str))
            out.append({"line": start, "label": row[label_column], "text": row[text_column], "fffd": fffd})
    return {"header": header, "rows": out}


def main():
    command = sys.argv[1]
    if command == "rows":
        delimiter = {"comma": ",", "tab": "\t"}[sys.argv[2]]
        json.dump({path: rows(path, delimiter) for path in sys.argv[3:]}, sys.stdout)
    elif command == "fuzz":
        fuzz(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif command == "corpus":
        json.dump(corpus(sys.argv[2], sys.argv[3], sys.argv[4]), sys.stdout)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
