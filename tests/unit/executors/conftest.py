"""Fixtures for the executor tests: every test runs real processes on the asyncio backend."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from psr_engine.executors import ProcessResult, ProcessSpec
from psr_engine.executors.local import LocalExecutor


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["auto", "thread", "alone", "inline"])
def executor(request: pytest.FixtureRequest) -> Iterator[LocalExecutor]:
    """Every way of spawning: the default (by Popen on the event loop while spawns there are
    quick, spawn_placement.py), from worker threads, a lone attempt on the loop and others
    from threads, and by posix_spawn on the event loop."""
    local = LocalExecutor(
        spawn_in_thread=request.param != "inline",
        alone_on_loop=request.param in ("auto", "alone"),
        adaptive=request.param == "auto",
    )
    yield local
    anyio.run(local.aclose)  # dismisses its keeper process


@pytest.fixture
def spec_for(tmp_path: Path) -> Callable[..., ProcessSpec]:
    """A ProcessSpec running in tmp_path with this process's environment, logging to tmp_path."""

    def make(*argv: str, **fields: Any) -> ProcessSpec:
        fields.setdefault("env", dict(os.environ))
        fields.setdefault("cwd", str(tmp_path))
        fields.setdefault("log_path", str(tmp_path / "task.log"))
        return ProcessSpec(argv=argv, **fields)

    return make


@pytest.fixture
def run_bash(
    executor: LocalExecutor, spec_for: Callable[..., ProcessSpec]
) -> Callable[..., Awaitable[ProcessResult]]:
    """Run a bash script with the local executor; keyword arguments go to the ProcessSpec."""

    async def run(script: str, **fields: Any) -> ProcessResult:
        return await executor.run(spec_for("bash", "-c", script, **fields))

    return run


class Procs:
    """Helpers to observe processes from the outside (no timed asserts: polls have deadlines)."""

    @staticmethod
    def wait_gone(pid: int, *, within: float = 10.0) -> bool:
        """True once pid no longer runs (gone, or a zombie left to init); polls up to `within`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not Procs.is_running(pid):
                return True
            time.sleep(0.02)
        return False

    @staticmethod
    def is_running(pid: int) -> bool:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")

    @staticmethod
    async def wait_for_file(path: Path, *, within: float = 10.0) -> str:
        """The content of `path` once it has a complete line; polls up to `within`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if path.exists() and (text := path.read_text()).endswith("\n"):
                return text
            await anyio.sleep(0.01)
        raise AssertionError(f"{path} was not written within {within}s")

    @staticmethod
    def is_reaped(pid: int) -> bool:
        """True when pid is not an unreaped child of this process (no zombie left behind)."""
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        return False


@pytest.fixture
def procs() -> type[Procs]:
    return Procs
