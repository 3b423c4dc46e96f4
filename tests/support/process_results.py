"""A finished attempt's ProcessResult, for tests that only need one to carry (a Dask
announcement, a worker's message): exit 0, 10 ms, pid 42; fields given override these."""

from __future__ import annotations

from typing import Any

from psr_engine.executors.base import ProcessResult


def process_result(**fields: Any) -> ProcessResult:
    values: dict[str, Any] = {
        "exit_code": 0,
        "signal": None,
        "timed_out": False,
        "started_at": 1.0,
        "duration": 0.01,
        "cpu_user": 0.0,
        "cpu_sys": 0.0,
        "max_rss": 0,
        "pid": 42,
    }
    return ProcessResult(**(values | fields))
