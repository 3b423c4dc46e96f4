"""What a run will cost, before it starts: each task's reserved cost over its median duration
in the history, or over its timeout (an upper bound for one attempt) when it has never run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psr_engine.cost.history import median_durations, opened, spent_since
from psr_engine.cost.model import Rates, priced_request, rates_for, reserved_cost
from psr_engine.cost.prices import PriceTable
from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.settings import BudgetSettings
from psr_engine.units import format_duration

if TYPE_CHECKING:
    from psr_engine.store import RunStore


# spec.cost.budget, as the Plan holds it (limit, currency, action, scope; to_dict()).
Budget = BudgetSettings


@dataclass(frozen=True, slots=True)
class TaskProjection:
    id: str
    seconds: float | None  # None: no history and no timeout
    basis: str  # history | timeout | unknown
    reserved: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.id,
            "durationS": self.seconds,
            "basis": self.basis,
            "reserved": round(self.reserved, 8),
        }


@dataclass(frozen=True, slots=True)
class ProjectedCost:
    """A run's projected reserved cost, per task and in total, with its budget's standing."""

    workflow: str
    rates: Rates
    tasks: tuple[TaskProjection, ...]
    budget: Budget | None = None
    spent_in_scope: float = 0.0  # day/month budgets: what earlier runs in the period cost
    scope_start: float | None = None

    @property
    def total(self) -> float:
        return sum(t.reserved for t in self.tasks)

    @property
    def currency(self) -> str:
        return self.rates.currency

    @property
    def upper_bound(self) -> bool:
        """Some task was priced at its timeout: the total is an upper bound (one attempt)."""
        return any(t.basis == "timeout" for t in self.tasks)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tasks if t.basis == "unknown")

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.spent_in_scope + self.total > self.budget.limit

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "currency": self.currency,
            "rates": self.rates.to_dict(),
            "total": round(self.total, 8),
            "upperBound": self.upper_bound,
            "unknown": list(self.unknown),
            "tasks": [t.to_dict() for t in self.tasks],
            "budget": None if self.budget is None else self.budget.to_dict(),
            "spentInScope": round(self.spent_in_scope, 8),
            "overBudget": self.over_budget,
        }


def scope_start(scope: str, now: float) -> float | None:
    """Start (UTC, as the clouds' billing days are) of the day or month holding `now`."""
    moment = datetime.fromtimestamp(now, UTC)
    if scope == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    if scope == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    return None


def project_task(task: PlannedTask, rates: Rates, medians: dict[str, float]) -> TaskProjection:
    cpu, memory = priced_request(task.resources.cpu, task.resources.memory)
    if task.id in medians:
        seconds, basis = medians[task.id], "history"
    elif task.timeout:
        seconds, basis = float(task.timeout), "timeout"
    else:
        return TaskProjection(task.id, None, "unknown", 0.0)
    cost = reserved_cost(rates, seconds=seconds, cpu=cpu, memory_bytes=memory)
    return TaskProjection(task.id, seconds, basis, cost)


def projection(
    plan: Plan,
    store_or_state_dir: RunStore | str | None,
    *,
    now: float | None = None,
    table: PriceTable | None = None,
) -> ProjectedCost | None:
    """The projected cost of running `plan` (None when the plan has no `spec.cost`).
    `store_or_state_dir`: an open RunStore, or the state folder holding runs.db."""
    if not plan.cost:
        return None
    rates = rates_for(plan.cost, table=table)
    budget = plan.cost.budget
    start = scope_start(budget.scope, time.time() if now is None else now) if budget else None
    with opened(store_or_state_dir) as store:
        medians = median_durations(store, plan.workflow)
        spent = (
            spent_since(store, workflow=plan.workflow, since=start, currency=rates.currency)
            if start is not None
            else 0.0
        )
    tasks = tuple(project_task(t, rates, medians) for t in (*plan.tasks, *plan.on_exit))
    return ProjectedCost(plan.workflow, rates, tasks, budget, spent, start)


def money(amount: float, currency: str) -> str:
    return f"{amount:.4f} {currency}" if amount >= 0.01 else f"{amount:.6f} {currency}"


def projection_text(projected: ProjectedCost) -> str:
    """The block `psr-engine plan` prints under its table."""
    lines = [f"projected cost ({projected.rates.source}, {_rates_line(projected.rates)}):"]
    width = max((len(t.id) for t in projected.tasks), default=4)
    for task in projected.tasks:
        if task.basis == "unknown":
            lines.append(f"  {task.id.ljust(width)}  -  (no history, no timeout)")
            continue
        seconds = format_duration(task.seconds or 0.0)
        note = "median of history" if task.basis == "history" else "timeout: upper bound"
        lines.append(
            f"  {task.id.ljust(width)}  {money(task.reserved, projected.currency)}"
            f"  ({seconds}, {note})"
        )
    total = money(projected.total, projected.currency)
    qualifier = " (upper bound)" if projected.upper_bound else ""
    if projected.unknown:
        qualifier += f" ({len(projected.unknown)} task(s) not priced)"
    lines.append(f"  total {total}{qualifier}")
    budget = projected.budget
    if budget is not None:
        scope = "this run" if budget.scope == "run" else f"this {budget.scope}"
        spent = projected.spent_in_scope + projected.total
        standing = "OVER" if projected.over_budget else "within"
        lines.append(
            f"  budget {money(budget.limit, budget.currency)} for {scope} ({budget.action}): "
            f"{standing}, {money(spent, projected.currency)} with this run"
        )
    return "\n".join(lines) + "\n"


def _rates_line(rates: Rates) -> str:
    return f"{rates.vcpu_hour:.6f}/vCPU-h, {rates.gib_hour:.6f}/GiB-h {rates.currency}"
