"""Check: fail the run before loading when the data is wrong.

Fails (exit 1) when more rows were rejected than --max-bad allows, printing each bad row as
``FILE:LINE: reason``, or when rows went missing between extract and transform.
"""

import argparse
import csv
import sys

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rejects", required=True)
parser.add_argument("--max-bad", type=int, default=0)
parser.add_argument("--extracted", type=int, required=True)
parser.add_argument("--clean", type=int, required=True)
parser.add_argument("--rejected", type=int, required=True)
args = parser.parse_args()

with open(args.rejects, newline="", encoding="utf-8") as handle:
    rejects = list(csv.DictReader(handle))

failed = False
if args.clean + args.rejected != args.extracted:
    print(
        f"check failed: extracted {args.extracted} orders but transform accounts for "
        f"{args.clean + args.rejected} ({args.clean} clean + {args.rejected} rejected)",
        file=sys.stderr,
    )
    failed = True
for row in rejects:
    print(f"{row['source']}: {row['reason']}", file=sys.stderr)
if len(rejects) > args.max_bad:
    print(
        f"check failed: {len(rejects)} bad row(s), at most {args.max_bad} allowed "
        f"(details in {args.rejects}); nothing was loaded",
        file=sys.stderr,
    )
    failed = True
if failed:
    sys.exit(1)
print(f"check passed: {args.clean} rows to load, {len(rejects)} rejected (allowed {args.max_bad})")
