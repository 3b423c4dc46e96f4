"""Store: write the fetched items as CSV (the place to put your own sink)."""

import argparse
import csv
import json

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--in", dest="src", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

with open(args.src, encoding="utf-8") as handle:
    items = [json.loads(line) for line in handle if line.strip()]
fields = sorted({key for item in items for key in item})
with open(args.out, "w", newline="", encoding="utf-8") as handle:
    writer = csv.DictWriter(handle, fieldnames=fields)
    writer.writeheader()
    writer.writerows(items)
print(f"stored {len(items)} items in {args.out}")
