"""What the dashboard tests share: run histories made by real runs, and a real
`psr-engine ui` process on a free port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENGINE = str(REPO / "engine")

FLOW = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: demo, labels: {team: data}}
spec:
  tasks:
    extract:
      run: echo extracting; echo "rows=3" >> $PSR_OUTPUT
    transform:
      needs: [extract]
      matrix: {region: [eu, us]}
      run: echo transform ${{ matrix.region }}
    load:
      needs: [transform]
      run: echo loaded
  onExit:
    notify:
      run: echo bye
"""


def env_for_cli(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=ENGINE, NO_COLOR="1", **extra)
    env.pop("PSR_STATE_DIR", None)
    env.pop("PSR_UI_TOKEN", None)
    return env


def write_project(folder: Path, text: str = FLOW) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "workflow.yaml"
    manifest.write_text(textwrap.dedent(text).lstrip())
    return manifest


def apply(
    manifest: Path, *args: str, check: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    """`psr-engine apply` as a user runs it (a real engine process, its own history)."""
    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply", str(manifest), "-q", *args],
        cwd=manifest.parent,
        env=env_for_cli(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and done.returncode not in (0, 1):
        raise AssertionError(f"apply exited {done.returncode}: {done.stderr}")
    return done


def start_apply(manifest: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", str(manifest), "-q", *args],
        cwd=manifest.parent,
        env=env_for_cli(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def ui_server(
    paths: Sequence[str], *args: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`psr-engine ui PATHS --port 0 ARGS` until the block ends (SIGINT, as Ctrl-C)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "ui", *paths, "--port", "0", *args],
        env=env if env is not None else env_for_cli(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if "http://" in line or not line:
                break
        match = re.search(r"(http://\S+/)", line)
        if not match:
            process.kill()
            raise AssertionError(
                f"ui did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
            )
        yield Server(url=match.group(1).rstrip("/"), process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")
