"""Helpers for tests that drive the real `psr-engine` command on real manifests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    cwd: Path

    @property
    def events(self) -> list[dict]:
        path = self.cwd / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def finished(self) -> dict[str, dict]:
        """task id -> its final event (task.finished or task.skipped)."""
        return {
            e["task"]: e
            for e in self.events
            if e["type"] in ("task.finished", "task.skipped") and "task" in e
        }

    def statuses(self) -> dict[str, str]:
        return {task: e["status"] for task, e in self.finished().items()}


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def manifest(self, tasks_yaml: str, *, name: str = "test-flow", extra: str = "") -> Path:
        body = textwrap.indent(textwrap.dedent(tasks_yaml).strip(), "    ")
        spec_extra = textwrap.indent(textwrap.dedent(extra).strip(), "  ") if extra else ""
        text = (
            "apiVersion: psr-engine/v1\nkind: Workflow\n"
            f"metadata:\n  name: {name}\nspec:\n"
            + (spec_extra + "\n" if spec_extra else "")
            + "  tasks:\n"
            + body
            + "\n"
        )
        path = self.root / "workflow.yaml"
        path.write_text(text)
        return path

    def cli(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        events: bool = True,
    ) -> CliResult:
        argv = [sys.executable, "-m", "psr_engine", *args]
        if events and args and args[0] in ("apply", "run"):
            argv[4:4] = ["--events-jsonl", str(self.root / "events.jsonl")]
        proc = subprocess.run(
            argv,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "NO_COLOR": "1", **(env or {})},
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr, self.root)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)
