"""The runtime: WorkflowEngine runs a Plan. Names load lazily so that `set_output`
(run/outputs.py, used inside task processes) stays cheap to import."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "WorkflowEngine": "psr_engine.run.engine",
    "ExecutionOrder": "psr_engine.run.engine",
    "WorkflowResult": "psr_engine.run.results",
    "TaskResult": "psr_engine.run.results",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'psr_engine.run' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
