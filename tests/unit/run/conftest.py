"""Fixtures of the runtime tests; makes core_factory (this folder's helpers) importable under
--import-mode=importlib."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from core_factory import Recorder, plan_with

from psr_engine.plan.model import Plan


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def plan_of(tmp_path: Path) -> Callable[..., Plan]:
    def make(*tasks: Any, **fields: Any) -> Plan:
        return plan_with(str(tmp_path / "workflow.yaml"), *tasks, **fields)

    return make


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
