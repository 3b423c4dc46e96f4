"""Helpers for the run-history end-to-end tests: they drive the real `psr-engine` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Project:
    """A folder with a workflow.yaml, and the CLI run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, "NO_COLOR": "1"}
        self.env.pop("PSR_STATE_DIR", None)
        self.env.pop("GITHUB_STEP_SUMMARY", None)

    @property
    def state(self) -> Path:
        return self.root / ".psr"

    def manifest(self, name: str, tasks: str) -> Path:
        body = textwrap.indent(textwrap.dedent(tasks).strip(), "    ")
        path = self.root / "workflow.yaml"
        path.write_text(
            f"apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {{name: {name}}}\n"
            f"spec:\n  tasks:\n{body}\n"
        )
        return path

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "psr_engine", *args]

    def psr(self, *args: str, timeout: float = 120) -> Result:
        proc = subprocess.run(
            self.argv(*args),
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, **options: Any) -> subprocess.Popen[str]:
        options.setdefault("stdout", subprocess.DEVNULL)
        options.setdefault("stderr", subprocess.DEVNULL)
        return subprocess.Popen(self.argv(*args), cwd=self.root, env=self.env, text=True, **options)

    def counts(self) -> dict[str, int]:
        folder = self.root / "counts"
        if not folder.is_dir():
            return {}
        return {p.name: len(p.read_text().splitlines()) for p in sorted(folder.iterdir())}

    @staticmethod
    def wait_for(condition: Callable[[], Any], *, timeout: float = 60, what: str = "it") -> Any:
        """Poll until `condition()` is truthy; fail (not hang) after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        pytest.fail(f"gave up waiting for {what}")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "counts").mkdir()
    return Project(root)
