"""Budgets: block a run whose projection is over its limit, stop (or warn about) one that
crosses it while running, and the engine hook that puts each task's cost on its event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from psr_engine.cost.model import Measured, Rates, task_cost
from psr_engine.cost.projection import Budget, ProjectedCost, money, projection

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import BudgetExceeded as BudgetExceeded
from psr_engine.plan.model import Plan, PlannedTask

Warn = Callable[[str], None]

STOP_REASON = "budget"


def _stderr(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


def _scope_words(budget: Budget) -> str:
    return "for one run" if budget.scope == "run" else f"per {budget.scope}"


def check_budget_before_run(
    plan: Plan, projected: ProjectedCost | None, *, warn: Warn | None = None
) -> None:
    """Before any task: raise BudgetExceeded (action fail) or warn (action warn) when the
    projection, with what the day or month has spent already, is over the budget."""
    if projected is None or projected.budget is None or not projected.over_budget:
        return
    budget = projected.budget
    total = projected.spent_in_scope + projected.total
    bound = " (an upper bound: some tasks are priced at their timeout)" * projected.upper_bound
    message = (
        f"workflow {plan.workflow}: projected cost {money(total, projected.currency)}{bound} "
        f"is over its budget of {money(budget.limit, budget.currency)} {_scope_words(budget)}"
    )
    if budget.scope != "run":
        message += f" ({money(projected.spent_in_scope, projected.currency)} spent already)"
    if budget.action == "fail":
        raise BudgetExceeded(
            f"{message}; no task was started. Raise spec.cost.budget.limit, shorten the "
            "tasks' timeouts, or set action: warn"
        )
    (warn or _stderr)(message)


class CostAnnotator:
    """The engine's TaskEndHook (run/hooks.py): each finished task's reserved and used cost,
    the run's running total, and the budget's standing on its task.finished event; stops the
    run when a `fail` budget is crossed."""

    def __init__(
        self,
        rates: Rates,
        *,
        workflow: str,
        budget: Budget | None = None,
        spent_before: float = 0.0,
        warn: Warn | None = None,
    ) -> None:
        self.rates = rates
        self.workflow = workflow
        self.budget = budget
        self.spent_before = spent_before
        self.run_reserved = 0.0
        self.run_used = 0.0
        self.crossed = False
        self._warn = warn or _stderr

    def task_ended(
        self, *, task: PlannedTask, result: Measured, stop: Callable[[str], None]
    ) -> Mapping[str, Any] | None:
        if not result.attempts:
            return None  # never started: nothing was reserved
        cost = task_cost(
            self.rates, cpu=task.resources.cpu, memory=task.resources.memory, result=result
        )
        self.run_reserved += cost.reserved
        self.run_used += cost.used
        data = cost.to_dict(self.rates)
        data["runReserved"] = round(self.run_reserved, 8)
        data["runUsed"] = round(self.run_used, 8)
        if self.budget is not None:
            data["budget"] = self._check(task, stop)
        return {"cost": data}

    def _check(self, task: PlannedTask, stop: Callable[[str], None]) -> dict[str, Any]:
        budget = self.budget
        assert budget is not None
        spent = self.spent_before + self.run_reserved
        standing = {**budget.to_dict(), "spent": round(spent, 8), "exceeded": spent > budget.limit}
        if spent > budget.limit and not self.crossed:
            self.crossed = True
            message = (
                f"workflow {self.workflow}: {money(spent, self.rates.currency)} spent, over its "
                f"budget of {money(budget.limit, budget.currency)} {_scope_words(budget)}"
            )
            # onExit tasks still run after a stop; stopping them too would skip the cleanup
            # the stop is meant to leave room for.
            if budget.action == "fail" and not task.on_exit:
                self._warn(message + "; cancelling the remaining tasks (reason: budget)")
                stop(STOP_REASON)
            else:
                self._warn(message)
        return standing


def annotator(
    plan: Plan,
    *,
    projected: ProjectedCost | None = None,
    state_dir: str | None = None,
    warn: Warn | None = None,
) -> CostAnnotator | None:
    """The engine's TaskEndHook for `plan` (None when the plan has no `spec.cost`).

    `projected`: the projection already made for the run (its rates, budget and what the
    day/month spent before); without it one is made from `state_dir`'s history."""
    if not plan.cost:
        return None
    projected = projected or projection(plan, state_dir)
    assert projected is not None
    return CostAnnotator(
        projected.rates,
        workflow=plan.workflow,
        budget=projected.budget,
        spent_before=projected.spent_in_scope,
        warn=warn,
    )
