"""What a sub-workflow task needs of its parent's run: its depth checked before its manifest is
loaded, its `with:` inputs rendered, and its events put under the parent task (`etl/extract`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from psr_engine import expressions
from psr_engine.errors import WorkflowTooDeep
from psr_engine.events.bus import EventBus
from psr_engine.events.hooks import AttemptEnvHook
from psr_engine.events.model import Event
from psr_engine.plan.model import PlannedTask


def check_depth(task: PlannedTask, lineage: tuple[str, ...], depth_limit: int) -> None:
    """Checked before the child is even loaded: a workflow that runs itself stops here, at a
    fixed depth, rather than recursing until memory or the stack ends."""
    if len(lineage) > depth_limit:
        raise WorkflowTooDeep(
            f"sub-workflows are nested more than {depth_limit} deep "
            f"({' -> '.join(lineage)} -> {os.path.basename(task.command)}): a workflow "
            "that runs itself, directly or through others? The limit is the root "
            "workflow's spec.limits.workflowDepth"
        )


class NestedSink:
    """Puts a sub-workflow's task events under its parent task: `etl/extract`."""

    name = "nested"

    def __init__(
        self, parent: EventBus, task_id: str, attempt_env: Sequence[AttemptEnvHook] = ()
    ) -> None:
        self._parent = parent
        self._prefix = task_id + "/"
        self._attempt_env = tuple(attempt_env)

    def attempt_env(self, *, task_id: str, attempt: int) -> Mapping[str, str]:
        """The parent's sinks (tracing) see the child's attempts under their nested ids."""
        merged: dict[str, str] = {}
        for hook in self._attempt_env:
            merged.update(hook.attempt_env(task_id=self._prefix + task_id, attempt=attempt))
        return merged

    async def start(self) -> None:
        return None

    def emit(self, event: Event) -> None:
        if event.task is not None:
            self._parent.emit(event.with_(task=self._prefix + event.task))

    async def aclose(self) -> None:
        return None


def render_inputs(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if expressions.is_whole_expression(value):  # `regions: ${{ params.regions }}`: a list
            return expressions.evaluate(value, context)
        return expressions.render(value, context)
    if isinstance(value, list):
        return [render_inputs(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render_inputs(v, context) for k, v in value.items()}
    return value
