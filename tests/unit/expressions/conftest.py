"""Shared values for the expression tests: a context shaped like the runner's."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def context() -> dict[str, Any]:
    return {
        "params": {
            "date": "2026-11-25",
            "regions": ["eu", "us"],
            "dry": False,
            "count": 3,
            "ratio": 0.5,
            "nothing": None,
            "limits": {"cpu": 2, "name": "x"},
            "items": "an items param",
        },
        "env": {"LOG_LEVEL": "info"},
        "matrix": {"region": "eu", "size": "large"},
        "tasks": {
            "extract": {
                "status": "succeeded",
                "outputs": {"rows": "42", "empty": ""},
                "exitCode": 0,
                "attempts": 1,
                "duration": 1.5,
            },
            "transform": {"status": "failed", "outputs": {}, "results": [{"outputs": {}}]},
        },
        "run": {"id": "r-1", "status": "running", "startedAt": "2026-11-25T00:00:00Z"},
        "workflow": {"name": "daily-etl", "labels": {"team": "data"}},
        "secrets": {"DB_PASSWORD": "hunter2"},
    }
