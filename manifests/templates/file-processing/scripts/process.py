"""Process one chunk of the batch: summarise each CSV file (sku, qty, price) into a JSON file.

Error recovery: a file that cannot be processed is recorded (file, line, reason) in the error
folder and the chunk goes on with the next file; the report task decides what failures mean.
"""

import argparse
import csv
import json
import os
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--batch", required=True)
parser.add_argument("--chunk", type=int, required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--errors", required=True)
args = parser.parse_args()


class BadFile(Exception):
    pass


def summarise(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"sku", "qty", "price"} - set(reader.fieldnames or [])
        if missing:
            raise BadFile(f"line 1: missing column(s) {', '.join(sorted(missing))}")
        rows = units = revenue = 0
        for record in reader:
            try:
                qty, price = int(record["qty"]), float(record["price"])
            except (TypeError, ValueError):
                raise BadFile(
                    f"line {reader.line_num}: qty {record['qty']!r} / price {record['price']!r}"
                    " are not numbers"
                ) from None
            rows, units, revenue = rows + 1, units + qty, revenue + qty * price
    return {"file": path, "rows": rows, "units": units, "revenue": round(revenue, 2)}


with open(args.batch, encoding="utf-8") as handle:
    files = json.load(handle)["chunks"][args.chunk]

done, failures = 0, []
for number, path in enumerate(files, start=1):
    try:
        summary = summarise(path)
    except (BadFile, OSError, UnicodeDecodeError, csv.Error) as error:
        failures.append({"file": path, "error": str(error)})
        print(f"[{number}/{len(files)}] {path}: FAILED: {error}")
        continue
    target = Path(args.out) / (Path(path).as_posix().replace("/", "__") + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary), encoding="utf-8")
    done += 1
    print(f"[{number}/{len(files)}] {path}: {summary['rows']} rows")

with open(os.path.join(args.errors, f"chunk-{args.chunk}.json"), "w", encoding="utf-8") as handle:
    json.dump(failures, handle, indent=2)
print(f"chunk {args.chunk}: {done} processed, {len(failures)} failed")

output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a", encoding="utf-8") as handle:
        handle.write(f"processed={done}\nfailed={len(failures)}\n")
