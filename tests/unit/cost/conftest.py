"""Helpers for the cost tests: manifests compiled through the real stages, and an engine run
on the FakeExecutor with scripted durations (no process needed to price a task)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from recorder import Recorder

from psr_engine.executors.base import ProcessResult, ProcessSpec

GIB = 2**30


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def compile_manifest(tmp_path: Path) -> Callable[[str], Any]:
    """Write a manifest into tmp_path and compile it to a Plan."""

    def compile_(text: str, name: str = "workflow.yaml") -> Any:
        from psr_engine import api

        path = tmp_path / name
        path.write_text(text)
        return api.make_plan(str(path))

    return compile_


def _measured(
    seconds: float, *, cpu_s: float = 0.0, rss: int = 0, exit_code: int = 0
) -> Callable[[ProcessSpec], ProcessResult]:
    """A FakeExecutor script: the attempt 'took' `seconds` and used `cpu_s` CPU seconds."""

    def script(spec: ProcessSpec) -> ProcessResult:
        return ProcessResult(
            exit_code=exit_code,
            signal=None,
            timed_out=False,
            started_at=time.time(),
            duration=seconds,
            cpu_user=cpu_s,
            cpu_sys=0.0,
            max_rss=rss,
            pid=1,
        )

    return script


def _run_plan(
    plan: Any,
    scripts: Mapping[str, Any],
    *,
    state_dir: str,
    projected: Any = None,
    warnings: list[str] | None = None,
    extra_sinks: list[Any] | None = None,
) -> tuple[Any, Recorder]:
    """Run a plan on the FakeExecutor with the cost annotator wired as the facade wires it."""
    from psr_engine.cost import annotator
    from psr_engine.executors.fake import FakeExecutor
    from psr_engine.run.engine import WorkflowEngine

    recorder = Recorder()
    hook = annotator(
        plan,
        projected=projected,
        state_dir=state_dir,
        warn=(warnings.append if warnings is not None else None),
    )
    engine = WorkflowEngine(
        executor=FakeExecutor(scripts),
        sinks=[recorder, *(extra_sinks or [])],
        state_dir=state_dir,
        task_hooks=[hook] if hook is not None else [],
        concurrency=1,
    )
    result = engine.run_sync(plan)
    return result, recorder


@pytest.fixture
def measured() -> Callable[..., Callable[[ProcessSpec], ProcessResult]]:
    """measured(seconds, cpu_s=, rss=): a FakeExecutor script with those figures."""
    return _measured


@pytest.fixture
def run_plan() -> Callable[..., tuple[Any, Recorder]]:
    """run_plan(plan, scripts, state_dir=, projected=, warnings=): (WorkflowResult, Recorder)."""
    return _run_plan
