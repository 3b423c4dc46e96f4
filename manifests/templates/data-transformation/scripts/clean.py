"""Clean: trim text, parse dates and numbers, drop duplicates and rows that cannot be used.
Fails when more than --max-dropped (a fraction) of the sales rows had to be dropped: that is
a broken export, not noise."""

import argparse
import sys

from frames import pandas, set_outputs, stage

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--max-dropped", type=float, default=0.2)
args = parser.parse_args()
pd = pandas()

sales = pd.read_pickle(stage("sales"))
before = len(sales)
sales["sku"] = sales["sku"].astype("string").str.strip().str.upper()
sales["store_id"] = sales["store_id"].astype("string").str.strip()
sales["date"] = pd.to_datetime(sales["date"], errors="coerce", format="%Y-%m-%d")
for column in ("qty", "unit_price"):
    sales[column] = pd.to_numeric(sales[column], errors="coerce")
duplicates = int(sales.duplicated().sum())
sales = sales.drop_duplicates()
unusable = sales[["date", "sku", "store_id", "qty", "unit_price"]].isna().any(axis=1) | (
    sales["qty"] <= 0
)
sales = sales[~unusable]
dropped = before - len(sales)
print(f"{before} rows: {duplicates} duplicates and {int(unusable.sum())} unusable rows dropped")

ratio = dropped / before if before else 0.0
if ratio > args.max_dropped:
    sys.exit(
        f"error: dropped {dropped} of {before} sales rows ({ratio:.0%}), more than the "
        f"{args.max_dropped:.0%} allowed (-p maxDroppedRatio=...); check the export"
    )

products = pd.read_pickle(stage("products"))
products["sku"] = products["sku"].astype("string").str.strip().str.upper()
stores = pd.read_pickle(stage("stores"))
stores["store_id"] = stores["store_id"].astype("string").str.strip()

sales.to_pickle(stage("sales_clean"))
products.drop_duplicates("sku").to_pickle(stage("products_clean"))
stores.drop_duplicates("store_id").to_pickle(stage("stores_clean"))
set_outputs(rows=len(sales), dropped=dropped)
