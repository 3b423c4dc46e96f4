"""Clean one region's raw orders: drop malformed rows, round amounts, convert to JSON lines."""

import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--region", required=True)
parser.add_argument("--in", dest="src", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

os.makedirs(args.out, exist_ok=True)
kept = 0
with open(os.path.join(args.src, f"{args.region}.csv"), newline="") as src, open(
    os.path.join(args.out, f"{args.region}.jsonl"), "w"
) as dst:
    for row in csv.DictReader(src):
        try:
            amount = round(float(row["amount"]), 2)
        except ValueError:
            continue
        dst.write(json.dumps({**row, "amount": amount}) + "\n")
        kept += 1

print(f"{args.region}: kept {kept} rows")
output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a") as handle:
        handle.write(f"rows={kept}\n")
