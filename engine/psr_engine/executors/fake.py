"""FakeExecutor: runs nothing, answers with scripted exit codes, records every call.

For testing a manifest's logic (triggers, retries, conditions) in milliseconds::

    fake = FakeExecutor({"*extract*": 0, "*transform*region=us*": 1})
    ... run the plan with it ...
    assert [spec.argv for spec in fake.calls] == ...

A pattern is a glob (``fnmatch``, case-sensitive) matched against the command line: the argv
joined with spaces. The first matching pattern, in the mapping's order, wins; no match means
``default`` (0). A value is an exit code, or a callable given the ProcessSpec that returns an
exit code or a whole ProcessResult (to script timeouts, or to write ``$PSR_OUTPUT``); an
``async def`` callable is awaited, so an attempt can take (anyio) time, block until a test
lets it go, or be cancelled like a real process (httpx's MockTransport handlers, likewise).
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

import anyio.lowlevel

from psr_engine.executors.base import ProcessResult, ProcessSpec
from psr_engine.store.private import open_private

Outcome = int | ProcessResult
Script = int | Callable[[ProcessSpec], Outcome | Awaitable[Outcome]]


def validate_options(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The registry's check of `spec.executor: {type: fake, results: {GLOB: CODE}, default}`:
    from a manifest, every scripted result is an exit code."""
    problems = []
    results = options.get("results", {})
    if not isinstance(results, Mapping):
        problems.append(("results", "results must map command-line globs to exit codes"))
    else:
        for pattern, code in results.items():
            if not isinstance(code, int) or isinstance(code, bool):
                problems.append(("results", f"results[{pattern!r}] must be an exit code"))
    default = options.get("default", 0)
    if not isinstance(default, int) or isinstance(default, bool):
        problems.append(("default", "default must be an exit code"))
    return problems


class FakeExecutor:
    """An Executor that starts no process; see the module docstring."""

    name = "fake"

    def __init__(self, results: Mapping[str, Script] | None = None, *, default: int = 0) -> None:
        self.results: dict[str, Script] = dict(results or {})
        self.default = default
        self.calls: list[ProcessSpec] = []

    def command_lines(self) -> list[str]:
        """The command line of every call so far, in call order."""
        return [" ".join(spec.argv) for spec in self.calls]

    async def run(self, spec: ProcessSpec) -> ProcessResult:
        """Record the call, write a one-line log, and return the scripted result."""
        self.calls.append(spec)
        await anyio.lowlevel.checkpoint()  # behave like a real await: let others run, allow cancel
        command = " ".join(spec.argv)
        line = f"psr-engine fake executor: {command}".encode()
        if spec.output_filter is not None:  # the command line may hold a rendered secret
            line = spec.output_filter(line)
        fd = open_private(spec.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with open(fd, "wb") as log:
            log.write(line + b"\n")
        script = self._script_for(command)
        answer = script(spec) if callable(script) else script
        outcome = await answer if inspect.isawaitable(answer) else answer
        if isinstance(outcome, ProcessResult):
            return outcome
        return ProcessResult(
            exit_code=outcome,
            signal=None,
            timed_out=False,
            started_at=time.time(),
            duration=0.0,
            cpu_user=0.0,
            cpu_sys=0.0,
            max_rss=0,
            pid=0,
        )

    async def aclose(self) -> None:
        """Nothing to release."""

    def _script_for(self, command: str) -> Script:
        for pattern, outcome in self.results.items():
            if fnmatchcase(command, pattern):
                return outcome
        return self.default
