"""What the dashboard can do to runs (with --allow-actions): cancel, resume, rerun.

- cancel: SIGINT to the engine that owns the run, as Ctrl-C in its terminal: it stops
  dispatching, cancels its tasks (their process groups get SIGTERM, then SIGKILL after their
  grace), runs onExit, records the run `cancelled` and exits 130. Only on the engine's own
  host, and only while the recorded pid is still that engine (its start time matches).
- resume / rerun: a detached `psr-engine apply MANIFEST --resume RUN [--from TASK]`, the
  engine's own resume, in the run's state folder; its run then shows up live like any other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from psr_engine.errors import ActionRefused
from psr_engine.store.model import RunRecord
from psr_engine.store.owner import owner_alive
from psr_engine.ui.catalog import Source

MASK = "***"  # what the engine writes in place of a secret value (secrets/masker.py)


@dataclass(frozen=True, slots=True)
class Started:
    pid: int
    command: tuple[str, ...]
    output: str  # the file its stdout and stderr go to


def cancel(run: RunRecord) -> int:
    """SIGINT the run's engine; returns its pid."""
    if run.status != "running":
        raise ActionRefused(f"run {run.id} is {run.status}, not running: nothing to cancel")
    if run.host and run.host != socket.gethostname():
        raise ActionRefused(
            f"run {run.id} runs on {run.host}, not here ({socket.gethostname()}): cancel it there"
        )
    if not run.pid or not owner_alive(run.pid, run.pid_started):
        raise ActionRefused(f"the engine of run {run.id} is gone (it will show as crashed)")
    os.kill(run.pid, signal.SIGINT)
    return run.pid


def apply_again(source: Source, run: RunRecord, *, from_task: str | None = None) -> Started:
    """Start `psr-engine apply --resume RUN [--from TASK]` detached, with the run's params."""
    if run.status == "running":
        raise ActionRefused(f"run {run.id} is still running: cancel it or wait for it")
    manifest = run.manifest_path
    if not manifest or not os.path.isfile(manifest):
        raise ActionRefused(f"the manifest of run {run.id} ({manifest or 'unknown'}) is gone")
    if _masked(run.params):
        raise ActionRefused(
            f"run {run.id} had a secret among its params (recorded masked): resume it from a "
            "terminal, where the value can be given again"
        )
    folder = os.path.join(tempfile.gettempdir(), "psr-ui")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", prefix="params-", dir=folder, delete=False
    ) as handle:
        json.dump(run.params, handle)
        params_file = handle.name
    command = [
        sys.executable,
        "-m",
        "psr_engine",
        "apply",
        manifest,
        "--params-file",
        params_file,
        "--resume",
        run.id,
        "--quiet",
    ]
    if from_task:
        command += ["--from", from_task]
    output = params_file[: -len(".json")] + ".log"
    env = dict(os.environ, PSR_STATE_DIR=source.state_dir)
    with open(output, "wb") as log:
        child = subprocess.Popen(
            command,
            cwd=os.path.dirname(manifest),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a Ctrl-C here does not stop it
        )
    _reap_later(child)
    return Started(pid=child.pid, command=tuple(command), output=output)


def _masked(value: object) -> bool:
    if isinstance(value, str):
        return MASK in value
    if isinstance(value, dict):
        return any(_masked(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_masked(v) for v in value)
    return False


def _reap_later(child: subprocess.Popen[bytes]) -> None:
    """Wait for the child in a thread, so it leaves no zombie behind."""
    import threading

    threading.Thread(target=child.wait, name=f"psr-ui-reap-{child.pid}", daemon=True).start()
