"""Publish: write the results as CSV, JSON and an Excel workbook (one sheet per table)."""

import argparse
import os

from frames import pandas, stage

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", required=True, help="the output folder")
args = parser.parse_args()
pd = pandas()

by_region = pd.read_pickle(stage("by_region"))
by_day = pd.read_pickle(stage("by_day"))
os.makedirs(args.out, exist_ok=True)
by_region.to_csv(os.path.join(args.out, "revenue_by_region.csv"), index=False)
by_region.to_json(os.path.join(args.out, "revenue_by_region.json"), orient="records", indent=2)
with pd.ExcelWriter(os.path.join(args.out, "report.xlsx"), engine="openpyxl") as writer:
    by_region.to_excel(writer, sheet_name="by region", index=False)
    by_day.to_excel(writer, sheet_name="by day", index=False)
print(f"wrote revenue_by_region.csv, revenue_by_region.json and report.xlsx to {args.out}")
