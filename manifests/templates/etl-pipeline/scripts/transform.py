"""Transform: validate every order, join it with its customer, and split the result into clean
rows and rejected rows (with the source line and the reason). Rejecting is not failing: the
check task decides what a rejected row means for the run.
"""

import argparse
import csv
import datetime
import json
import os

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--orders", required=True)
parser.add_argument("--customers", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--rejects", required=True)
args = parser.parse_args()


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


customers = {str(c.get("id")): c for c in read_lines(args.customers)}


def problems(order, seen):
    """Why an order cannot be loaded (an empty list when it can)."""
    found = []
    order_id = (order.get("order_id") or "").strip()
    if not order_id:
        found.append("order_id is empty")
    elif order_id in seen:
        found.append(f"order_id {order_id} appears twice")
    try:
        amount = float(order.get("amount") or "")
        if amount < 0:
            found.append(f"amount {amount} is negative")
    except ValueError:
        found.append(f"amount {order.get('amount')!r} is not a number")
    try:
        datetime.date.fromisoformat((order.get("date") or "").strip())
    except ValueError:
        found.append(f"date {order.get('date')!r} is not YYYY-MM-DD")
    if str(order.get("customer_id")) not in customers:
        found.append(f"customer {order.get('customer_id')!r} is unknown")
    return found


clean, rejected, seen = [], [], set()
for order in read_lines(args.orders):
    reasons = problems(order, seen)
    seen.add((order.get("order_id") or "").strip())
    if reasons:
        rejected.append({"source": order["_source"], "reason": "; ".join(reasons)})
        continue
    customer = customers[str(order["customer_id"])]
    clean.append(
        {
            "order_id": order["order_id"].strip(),
            "customer_id": str(order["customer_id"]),
            "customer": customer.get("name", ""),
            "country": customer.get("country", ""),
            "date": order["date"].strip(),
            "amount": round(float(order["amount"]), 2),
        }
    )

for path in (args.out, args.rejects):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
with open(args.out, "w", encoding="utf-8") as handle:
    handle.writelines(json.dumps(row) + "\n" for row in clean)
with open(args.rejects, "w", newline="", encoding="utf-8") as handle:
    writer = csv.DictWriter(handle, fieldnames=["source", "reason"])
    writer.writeheader()
    writer.writerows(rejected)
print(f"{len(clean)} clean rows, {len(rejected)} rejected (see {args.rejects})")

output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a", encoding="utf-8") as handle:
        handle.write(f"rows={len(clean)}\nrejected={len(rejected)}\n")
