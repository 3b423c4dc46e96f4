"""Airflow's trigger rules, decided once every upstream task has ended.

A failed task with ``continueOnError`` counts as a success downstream (GitHub's
continue-on-error: the step failed, the job goes on), and a task skipped because its own
upstream failed counts as failed (Airflow's ``upstream_failed``), so failures propagate
through chains of skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from psr_engine.status import FAILED, TaskStatus


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one upstream task ended, as trigger rules see it."""

    status: TaskStatus
    reason: str | None = None
    continue_on_error: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded" or (self.continue_on_error and self.status in FAILED)

    @property
    def failed(self) -> bool:
        if self.continue_on_error:
            return False
        return self.status in FAILED or (
            self.status == "skipped" and self.reason == "upstream_failed"
        )

    @property
    def skipped(self) -> bool:
        return self.status == "skipped" and not self.failed


def decide(trigger: str, upstream: Iterable[Outcome]) -> str | None:
    """None when the task should run, else the skip reason."""
    outcomes = list(upstream)
    if not outcomes or trigger in ("always", "all_done"):
        return None
    any_failed = any(o.failed for o in outcomes)
    skip_reason = "upstream_failed" if any_failed else "upstream_skipped"
    if trigger == "all_success":
        return None if all(o.succeeded for o in outcomes) else skip_reason
    if trigger == "all_failed":
        return None if all(o.failed for o in outcomes) else "upstream_succeeded"
    if trigger == "one_failed":
        return None if any_failed else "upstream_succeeded"
    if trigger == "one_success":
        return None if any(o.succeeded for o in outcomes) else skip_reason
    if trigger == "none_failed":
        return None if not any_failed else "upstream_failed"
    raise ValueError(f"unknown trigger rule {trigger!r}")
