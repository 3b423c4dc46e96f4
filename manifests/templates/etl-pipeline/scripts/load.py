"""Load: upsert the clean rows into SQLite in one transaction (idempotent: safe to retry).

Exit codes: 0 ok, 75 the database is locked or busy (the workflow retries 75), 1 otherwise.
"""

import argparse
import json
import os
import sqlite3
import sys

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--in", dest="src", required=True)
parser.add_argument("--db", required=True)
args = parser.parse_args()

with open(args.src, encoding="utf-8") as handle:
    rows = [json.loads(line) for line in handle if line.strip()]

os.makedirs(os.path.dirname(args.db) or ".", exist_ok=True)
try:
    db = sqlite3.connect(args.db, timeout=5)
    with db:
        db.execute(
            "create table if not exists orders (order_id text primary key, customer_id text,"
            " customer text, country text, date text, amount real)"
        )
        db.executemany(
            "insert or replace into orders values"
            " (:order_id, :customer_id, :customer, :country, :date, :amount)",
            rows,
        )
    total = db.execute("select count(*) from orders").fetchone()[0]
except sqlite3.OperationalError as error:
    if "locked" in str(error) or "busy" in str(error):
        print(f"{args.db}: {error}; will retry", file=sys.stderr)
        sys.exit(75)
    raise
print(f"loaded {len(rows)} rows into {args.db} ({total} in the table)")

output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a", encoding="utf-8") as handle:
        handle.write(f"loaded={len(rows)}\n")
