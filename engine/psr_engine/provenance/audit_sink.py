"""The sink that writes the audit trail's run entries: the apply (or resume) and the secrets
it was granted as the run starts, each gate decision, a budget crossed, and a cancel.

Entries are written as each decision is made (never per task): one flock and one fsync per
decision, a handful per run, on one background thread (in order) so that waiting for the
lock or the disk never holds up the scheduler; the sink's close waits for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from psr_engine.events.model import Event
from psr_engine.plan.model import Plan
from psr_engine.provenance.audit import AuditLog, AuditRecord
from psr_engine.provenance.identity import Identity, current_identity
from psr_engine.settings import BudgetSettings


class AuditSink:
    name = "audit"

    def __init__(
        self,
        plan: Plan,
        *,
        state_dir: str,
        resumed_from: str | None = None,
        identity: Identity | None = None,
        saved_plan: Mapping[str, str] | None = None,
    ) -> None:
        """`saved_plan`: {path, sha256} of the reviewed plan applied, if one was."""
        self._plan = plan
        self._log = AuditLog(state_dir)
        self._resumed_from = resumed_from
        self._identity = (identity or current_identity()).to_dict()
        self._budget_recorded = False
        self._refused: str | None = None
        self._saved_plan = dict(saved_plan) if saved_plan else None
        self._writer: ThreadPoolExecutor | None = None
        self._pending: list[Future[Any]] = []

    async def start(self) -> None:
        return None

    def refused(self, reason: str) -> None:
        """The run is refused before it starts (a budget): nothing is fetched or run."""
        self._refused = reason

    def _append(self, records: list[AuditRecord]) -> None:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="psr-audit")
        self._pending.append(self._writer.submit(self._log.append, records))

    def _record(self, run_id: str, action: str, details: Mapping[str, Any]) -> AuditRecord:
        return AuditRecord(
            action=action,
            run_id=run_id,
            workflow=self._plan.workflow,
            manifest_digest=self._plan.manifest_digest,
            identity=self._identity,
            details=details,
        )

    def emit(self, event: Event) -> None:
        if event.type == "run.started":
            self._started(event)
        elif event.type == "gate.finished":
            data = event.data or {}
            details = {
                "gate": event.task,
                "decision": event.status,
                "counts": data.get("counts", {}),
            }
            if data.get("sarif"):
                details["sarif"] = data["sarif"]
            self._append([self._record(event.run_id, "gate", details)])
        elif event.type == "task.finished" and not self._budget_recorded:
            budget = ((event.data or {}).get("cost") or {}).get("budget")
            if isinstance(budget, dict) and budget.get("exceeded"):
                self._budget_recorded = True
                details = {
                    "decision": "stop" if budget.get("action") == "fail" else "warn",
                    "task": event.task,
                    "limit": budget.get("limit"),
                    "spent": budget.get("spent"),
                    "currency": budget.get("currency"),
                    "scope": budget.get("scope"),
                }
                self._append([self._record(event.run_id, "budget", details)])
        elif event.type == "run.finished" and event.status == "cancelled":
            details = {"reason": event.reason or "interrupted"}
            self._append([self._record(event.run_id, "cancel", details)])

    def _started(self, event: Event) -> None:
        details: dict[str, Any] = {
            "manifest": self._plan.manifest_path,
            "params": sorted(self._plan.params),
            "tasks": len(self._plan.tasks),
        }
        if self._saved_plan:
            details["savedPlan"] = self._saved_plan
        action = "apply"
        if self._resumed_from:
            action = "resume"
            details["resumedFrom"] = self._resumed_from
        if self._refused:
            details["refused"] = self._refused
            self._append([self._record(event.run_id, action, details)])
            return
        records = [self._record(event.run_id, action, details)]
        # The engine fetched these before the run started; the name and the provider only.
        records.extend(
            self._record(event.run_id, "secret", {"name": s.name, "provider": s.provider})
            for s in self._plan.secrets
        )
        self._append(records)

    async def aclose(self) -> None:
        if self._writer is None:
            return
        import anyio

        writer, self._writer = self._writer, None
        await anyio.to_thread.run_sync(writer.shutdown)
        for future in self._pending:
            future.result()  # an entry that could not be written: the bus reports it


def record_budget_decision(
    plan: Plan,
    *,
    state_dir: str,
    run_id: str,
    decision: str,
    budget: BudgetSettings,
    projected: float,
    spent_before: float,
    currency: str,
) -> None:
    """The budget check made before a run starts (allow, warn or block), as an entry."""
    details = {
        "decision": decision,
        "stage": "before run",
        "projected": round(projected, 8),
        "spentBefore": round(spent_before, 8),
        "currency": currency,
        **budget.to_dict(),
    }
    AuditLog(state_dir).append(
        [
            AuditRecord(
                action="budget",
                run_id=run_id,
                workflow=plan.workflow,
                manifest_digest=plan.manifest_digest,
                identity=current_identity().to_dict(),
                details=details,
            )
        ]
    )
