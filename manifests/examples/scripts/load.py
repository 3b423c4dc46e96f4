"""Load cleaned orders into SQLite, replacing the day's rows (idempotent: safe to retry)."""

import argparse
import glob
import json
import os
import sqlite3

parser = argparse.ArgumentParser()
parser.add_argument("--in", dest="src", required=True)
parser.add_argument("--db", required=True)
parser.add_argument("--date", required=True)
args = parser.parse_args()

os.makedirs(os.path.dirname(args.db) or ".", exist_ok=True)
db = sqlite3.connect(args.db)
db.execute("create table if not exists orders (order_id text primary key, region text, date text, amount real)")
with db:
    db.execute("delete from orders where date = ?", (args.date,))
    loaded = 0
    for path in sorted(glob.glob(os.path.join(args.src, "*.jsonl"))):
        with open(path) as handle:
            rows = [json.loads(line) for line in handle]
        db.executemany(
            "insert or replace into orders values (:order_id, :region, :date, :amount)", rows
        )
        loaded += len(rows)

print(f"loaded {loaded} orders for {args.date}")
output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a") as handle:
        handle.write(f"loaded={loaded}\n")
