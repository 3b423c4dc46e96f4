"""Cloud cost attribution: prices, the cost model, projections, budgets, chargeback and the
clouds' own figures (actuals).

    rates_for(plan.cost) -> Rates                 the vCPU-hour and GiB-hour prices
    projection(plan, state_dir) -> ProjectedCost  before a run (`psr-engine plan`)
    check_budget_before_run(plan, projected)      BudgetExceeded (exit 3) or a warning
    annotator(plan)                               the engine's TaskEndHook: costs on events
    chargeback(rows, by=...)                      `psr-engine cost report`
    CloudCostTracker(labels=...)                  `psr-engine cost actual` (AWS, Azure, GCP)

Light modules only are imported here; the cloud SDKs load inside the functions using them.
"""

from __future__ import annotations

from psr_engine.cost.budget import (
    BudgetExceeded,
    CostAnnotator,
    annotator,
    check_budget_before_run,
)
from psr_engine.cost.model import Rates, TaskCost, rates_for, reserved_cost, split_price, used_cost
from psr_engine.cost.prices import CostError, InstancePrice, PriceTable, load_table
from psr_engine.cost.projection import Budget, ProjectedCost, projection, projection_text

__all__ = [
    "Budget",
    "BudgetExceeded",
    "CostAnnotator",
    "CostError",
    "InstancePrice",
    "PriceTable",
    "ProjectedCost",
    "Rates",
    "TaskCost",
    "annotator",
    "check_budget_before_run",
    "load_table",
    "projection",
    "projection_text",
    "rates_for",
    "reserved_cost",
    "split_price",
    "used_cost",
]
