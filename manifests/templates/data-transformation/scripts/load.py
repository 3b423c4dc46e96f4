"""Load: read sales (CSV), products (JSON) and stores (Excel), check each has the columns the
later steps use, and stage them."""

import argparse

from frames import read, require, set_outputs, stage

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--sales", required=True)
parser.add_argument("--products", required=True)
parser.add_argument("--stores", required=True)
args = parser.parse_args()

sources = {
    "sales": (args.sales, ["date", "store_id", "sku", "qty", "unit_price"]),
    "products": (args.products, ["sku", "name", "category"]),
    "stores": (args.stores, ["store_id", "city", "region"]),
}
counts = {}
for name, (path, columns) in sources.items():
    frame = read(path)
    require(frame, columns, path)
    frame.to_pickle(stage(name))
    counts[name] = len(frame)
    print(f"{path}: {len(frame)} rows, columns {', '.join(map(str, frame.columns))}")
set_outputs(sales=counts["sales"], products=counts["products"], stores=counts["stores"])
