"""A real Dask cluster for tests: one `dask scheduler` and worker processes started with the
`dask` command line, as an operator starts them, each worker in its own working folder with
its own `--local-directory`, sharing no folder with the engine (nor with each other).

    with DaskCluster.start(tmp_path, workers=2) as cluster:
        cluster.address             # tcp://127.0.0.1:PORT
        cluster.worker_pids()       # pid of each worker process (the parent of its tasks)
        cluster.kill_worker(pid)    # kill -9; the nanny starts a new one

Workers run under their nanny (Dask's default): after a kill -9 the cluster heals.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_START_TIMEOUT = 60.0

# Credentials for a staging store that is a moto server: pass as `env` to start(), and to the
# engine, so that nothing real is ever contacted.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}


@dataclass
class DaskCluster:
    address: str
    root: Path  # everything the cluster writes lives under it
    worker_dirs: tuple[Path, ...]  # each worker's working folder
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        root: Path,
        *,
        workers: int = 2,
        resources: Mapping[int, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[DaskCluster]:
        """A scheduler on a free port of 127.0.0.1 and `workers` one-thread workers.
        `resources`: worker index -> `--resources` text (e.g. "gpu=1")."""
        root.mkdir(parents=True, exist_ok=True)
        scheduler_file = root / "scheduler.json"
        base_env = {**os.environ, **(env or {})}
        base_env.pop("DASK_SCHEDULER_ADDRESS", None)
        processes: list[subprocess.Popen[bytes]] = []
        cluster: DaskCluster | None = None
        try:
            processes.append(
                _dask(
                    [
                        "scheduler",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        "0",
                        "--dashboard-address",
                        ":0",
                        "--scheduler-file",
                        str(scheduler_file),
                    ],
                    cwd=root,
                    log=root / "scheduler.log",
                    env=base_env,
                )
            )
            address = _wait_for_address(scheduler_file, processes[0])
            dirs = []
            for index in range(workers):
                folder = root / f"worker-{index}"
                (folder / "local").mkdir(parents=True, exist_ok=True)
                args = [
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--name",
                    f"w{index}",
                    "--local-directory",
                    str(folder / "local"),
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ]
                if resources and index in resources:
                    args += ["--resources", resources[index]]
                processes.append(_dask(args, cwd=folder, log=folder / "worker.log", env=base_env))
                dirs.append(folder)
            cluster = cls(address, root, tuple(dirs), processes)
            cluster.wait_for_workers(workers)
            yield cluster
        finally:
            for process in reversed(processes):
                _stop(process)

    def wait_for_workers(self, count: int, *, timeout: float = _START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} dask workers did not join {self.address}")
            time.sleep(0.1)

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> pid of the worker process (tasks' parent), asked of the scheduler."""
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            return {str(k): int(v) for k, v in client.run(os.getpid).items()}

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)


def _dask(
    args: list[str], *, cwd: Path, log: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            start_new_session=True,  # the whole tree (nanny, worker, tasks) is signalled at once
        )


def _wait_for_address(path: Path, scheduler: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {scheduler.returncode}")
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
            return str(json.loads(path.read_text())["address"])
        time.sleep(0.05)
    raise TimeoutError("the dask scheduler did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
