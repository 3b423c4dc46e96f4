"""Generate a day's raw orders per region as CSV (a stand-in for an API or a database dump)."""

import argparse
import csv
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--date", required=True)
parser.add_argument("--rows", type=int, default=100)
parser.add_argument("--out", required=True)
parser.add_argument("--regions", default="eu,us,apac")
args = parser.parse_args()

os.makedirs(args.out, exist_ok=True)
rng = random.Random(args.date)
files = 0
for region in args.regions.split(","):
    with open(os.path.join(args.out, f"{region}.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "region", "date", "amount"])
        for i in range(args.rows):
            writer.writerow([f"{region}-{i}", region, args.date, round(rng.uniform(1, 500), 2)])
    files += 1

print(f"extracted {files * args.rows} orders into {files} files")
try:
    from psr_engine import set_output
except ImportError:  # run outside the engine
    set_output = None
if set_output and os.environ.get("PSR_OUTPUT"):
    set_output("files", files)
    set_output("rows", files * args.rows)
