"""Aggregate: join sales with products and stores, then revenue, units and orders per region
and category, and revenue per day. Sales whose product or store is unknown are counted under
"unknown" rather than lost."""

from frames import pandas, set_outputs, stage

pd = pandas()
sales = pd.read_pickle(stage("sales_clean"))
products = pd.read_pickle(stage("products_clean"))
stores = pd.read_pickle(stage("stores_clean"))

joined = sales.merge(products, on="sku", how="left").merge(stores, on="store_id", how="left")
joined[["category", "region"]] = joined[["category", "region"]].fillna("unknown")
joined["revenue"] = joined["qty"] * joined["unit_price"]

by_region = (
    joined.groupby(["region", "category"], as_index=False)
    .agg(revenue=("revenue", "sum"), units=("qty", "sum"), orders=("sku", "size"))
    .sort_values(["region", "revenue"], ascending=[True, False])
)
by_region["revenue"] = by_region["revenue"].round(2)
by_region["units"] = by_region["units"].astype(int)
by_day = joined.groupby(joined["date"].dt.date)["revenue"].sum().round(2).reset_index()

by_region.to_pickle(stage("by_region"))
by_day.to_pickle(stage("by_day"))
print(by_region.to_string(index=False))
set_outputs(groups=len(by_region), revenue=round(float(joined["revenue"].sum()), 2))
