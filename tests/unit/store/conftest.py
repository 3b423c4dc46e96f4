"""Fixtures for the run-history tests: a state folder, runs written through the store's own
write functions, and whole runs recorded by the history sink."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from psr_engine.store import RunRecord, RunStore, TaskDigest
from psr_engine.store import writes as w


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".psr"


@pytest.fixture
def store(state_dir: Path):
    with RunStore.open(str(state_dir)) as opened:
        yield opened


def _add_run(
    store: RunStore,
    run_id: str,
    *,
    workflow: str = "flow",
    status: str = "succeeded",
    started_at: float | None = None,
    tasks: Sequence[tuple[str, str]] = (("a", "succeeded"),),
    **fields: Any,
) -> RunRecord:
    """A run as the history sink would have left it, with tasks (id, status) in order."""
    started = time.time() if started_at is None else started_at
    fields.setdefault("host", "test-host")
    fields.setdefault("pid", os.getpid())
    record = RunRecord(id=run_id, workflow=workflow, status="running", started_at=started, **fields)

    def body(conn: Any) -> None:
        w.begin_run(conn, record, [TaskDigest(t, t, "d-" + t) for t, _ in tasks])
        for task_id, task_status in tasks:
            if task_status == "pending":
                continue
            w.task_started(
                conn,
                run_id,
                task_id,
                task_name=task_id,
                attempt=1,
                ts=started,
                log_path=None,
                matrix=None,
            )
            if task_status in ("running", "retrying"):
                continue
            w.attempt_ended(
                conn,
                run_id,
                task_id,
                attempt=1,
                status=task_status,
                reason=None,
                exit_code=0 if task_status == "succeeded" else 1,
                ts=started + 1,
                duration=1.0,
                log_path=None,
            )
            w.task_finished(
                conn,
                run_id,
                task_id,
                task_name=task_id,
                status=task_status,
                reason=None,
                attempts=1,
                exit_code=0 if task_status == "succeeded" else 1,
                ts=started + 1,
                duration=1.0,
                cpu_user=0.1,
                cpu_sys=0.0,
                max_rss=1024,
                outputs={"k": task_id},
                matrix=None,
                log_path=None,
                message=None,
            )
        if status != "running":
            w.finish_run(conn, run_id, status=status, reason=None, ended_at=started + 2)

    store.write(body)
    found = store.get(run_id)
    assert found is not None
    return found


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "workflow.yaml"
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write


@pytest.fixture
def add_run() -> Callable[..., RunRecord]:
    """`add_run(store, run_id, ...)`: see _add_run."""
    return _add_run
