"""Extract: read a CSV or JSON source and write it as JSON lines, each record keeping where it
came from (``_source``: file and line, or file and record number) so later errors can point
at the input a person must fix.

Exit codes: 0 ok, 2 the source is missing or unreadable (retrying will not help).
"""

import argparse
import csv
import json
import os
import sys

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--source", required=True, help="a .csv or .json file")
parser.add_argument("--out", required=True, help="the JSON lines file to write")
args = parser.parse_args()


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for record in reader:
            yield {**record, "_source": f"{path}:{reader.line_num}"}


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of objects")
    for number, record in enumerate(data, start=1):
        yield {**record, "_source": f"{path}#{number}"}


readers = {".csv": read_csv, ".json": read_json}
kind = os.path.splitext(args.source)[1].lower()
if kind not in readers:
    sys.exit(f"{args.source}: unsupported file type {kind!r}; use .csv or .json")
try:
    records = list(readers[kind](args.source))
except FileNotFoundError:
    sys.exit(f"{args.source}: no such file (set -p orders=... / -p customers=...)")
except (ValueError, csv.Error) as error:  # json.JSONDecodeError is a ValueError
    print(f"{args.source}: cannot read: {error}", file=sys.stderr)
    sys.exit(2)

os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
with open(args.out, "w", encoding="utf-8") as handle:
    for record in records:
        handle.write(json.dumps(record) + "\n")
print(f"extracted {len(records)} records from {args.source}")

output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a", encoding="utf-8") as handle:
        handle.write(f"rows={len(records)}\n")
