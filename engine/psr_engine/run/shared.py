"""What every scheduler of one run shares: the main DAG's, onExit's and the sub-workflows'."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psr_engine.events.hooks import AttemptEnvHook
from psr_engine.events.model import Event
from psr_engine.plan.model import PlannedGate
from psr_engine.run.gating import GateOutcome
from psr_engine.run.hooks import TaskEndHook

if TYPE_CHECKING:
    from psr_engine.executors.base import Executor


@dataclass(slots=True)
class RunShared:
    """What every scheduler of one run shares (the main DAG, onExit, sub-workflows)."""

    run_id: str
    run_dir: str
    state_dir: str
    executor: Executor
    emit: Callable[[Event], None]
    context: dict[str, Any]
    base_env: Mapping[str, str]
    secrets: Mapping[str, str]
    output_filter: Callable[[bytes], bytes] | None
    # The longest byte string output_filter replaces (ProcessSpec.filter_window).
    filter_window: int = 0
    # Masks a task id before it names a file (a matrix value may equal a secret).
    mask: Callable[[str], str] | None = None
    # The run's random key for hashing, into file names, ids that hold a secret.
    name_key: bytes = b""
    run_subworkflow: Callable[..., Any] | None = None
    run_gate: Callable[[PlannedGate], Awaitable[GateOutcome]] | None = None
    # Sinks that add variables to an attempt's environment (tracing: TRACEPARENT of the
    # attempt's span, drawn when asked, before the attempt is spawned).
    attempt_env: Sequence[AttemptEnvHook] = ()
    # Called as each task ends (cost attribution: data["cost"] on its task.finished event).
    task_hooks: Sequence[TaskEndHook] = ()
    # The engine's stop(reason), for the hooks (a budget crossed).
    stop_run: Callable[[str], None] = field(default=lambda reason: None)
    workflow_env: Mapping[str, str] = field(default_factory=dict)  # spec.env as written
    log_events: bool = False  # each output line also as a task.log event
    stopping: bool = False
    stop_reason: str | None = None
