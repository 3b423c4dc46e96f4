"""The sink that writes a run's provenance statement, once, when the run ends:
`<state dir>/runs/<run id>/provenance.intoto.json` (a DSSE envelope when a signing key is
given). The dependencies are hashed as the run starts, before any task can change them; the
declared outputs when it ends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from psr_engine.events.model import Event
from psr_engine.plan.model import Plan
from psr_engine.provenance.identity import current_identity
from psr_engine.provenance.materials import Material, declared_outputs, dependencies
from psr_engine.provenance.statement import (
    STATEMENT_FILE,
    GateRecord,
    RunRecord,
    build_statement,
    engine_settings,
)
from psr_engine.store.paths import run_dir
from psr_engine.store.private import open_private

# statement bytes -> the envelope's JSON mapping (signing.py), when signing.
Wrap = Callable[[bytes], dict[str, Any]]


def statement_path(state_dir: str, run_id: str) -> str:
    return os.path.join(run_dir(state_dir, run_id), STATEMENT_FILE)


class ProvenanceSink:
    name = "provenance"

    def __init__(
        self,
        plan: Plan,
        *,
        state_dir: str,
        resumed_from: str | None = None,
        history: bool = True,
        wrap: Wrap | None = None,
        saved_plan: Mapping[str, str] | None = None,
    ) -> None:
        self._plan = plan
        self._state_dir = state_dir
        self._resumed_from = resumed_from
        self._history = history
        self._wrap = wrap
        self._saved_plan = dict(saved_plan) if saved_plan else None
        self._dependencies: tuple[Material, ...] = ()
        self._run_id = ""
        self._started = 0.0
        self._params: dict[str, Any] = {}
        self._tasks: dict[str, str] = {}
        self._gates: list[GateRecord] = []
        self._finished: Event | None = None
        self.path: str | None = None  # where the statement was written

    async def start(self) -> None:
        import anyio

        # Before any task runs: the dependencies as the run found them.
        self._dependencies = await anyio.to_thread.run_sync(dependencies, self._plan)

    def emit(self, event: Event) -> None:
        if event.type in ("task.finished", "task.skipped") and event.task and event.status:
            self._tasks[event.task] = str(event.status)
        elif event.type == "run.started":
            self._run_id, self._started = event.run_id, event.ts
            self._params = dict((event.data or {}).get("params") or {})
        elif event.type == "gate.finished" and event.task:
            data = event.data or {}
            self._gates.append(
                GateRecord(
                    event.task,
                    str(event.status),
                    counts=dict(data.get("counts") or {}),
                    sarif=data.get("sarif"),
                )
            )
        elif event.type == "run.finished":
            self._finished = event

    async def aclose(self) -> None:
        if self._finished is None or not self._run_id:
            return
        import anyio

        await anyio.to_thread.run_sync(self._write, self._finished)

    def _write(self, finished: Event) -> None:
        succeeded = [t for t, status in self._tasks.items() if status == "succeeded"]
        record = RunRecord(
            run_id=self._run_id,
            status=str(finished.status),
            started_at=self._started,
            finished_at=finished.ts,
            params=self._params,
            tasks=self._tasks,
            gates=tuple(self._gates),
            resumed_from=self._resumed_from,
            saved_plan=self._saved_plan,
        )
        statement = build_statement(
            self._plan,
            record,
            dependencies=self._dependencies,
            outputs=declared_outputs(self._plan, succeeded),
            identity=current_identity(),
            settings=engine_settings(self._plan, history=self._history, state_dir=self._state_dir),
        )
        body = json.dumps(statement, indent=2, sort_keys=True).encode() + b"\n"
        if self._wrap is not None:
            body = json.dumps(self._wrap(body), indent=2, sort_keys=True).encode() + b"\n"
        path = statement_path(self._state_dir, self._run_id)
        tmp = f"{path}.tmp"
        with open(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as handle:
            handle.write(body)
        os.replace(tmp, path)
        self.path = path
