"""/proc/<pid>/environ and /proc/<pid>/mem: what one process of the run's user can read of
another, and what the engine does about it (docs/features/secrets.md, "Tasks and /proc").

* The engine makes itself non-dumpable before it resolves a secret: a task can no longer
  read the engine's environment (where an env secret sits) or its memory (every secret).
* Tasks cannot be protected from each other that way (execve resets the flag); the
  documented recipe runs each task in its own PID namespace, where the others are not seen.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

import pytest

SECRET = "proc-S3cret-value-9931"
ENGINE = str(Path(__file__).resolve().parents[2] / "engine")


def test_the_engine_is_not_dumpable_once_a_run_declares_secrets(tmp_path: Path) -> None:
    """In process, so that it holds as root too (where /proc ownership shows nothing)."""
    (tmp_path / "workflow.yaml").write_text(
        textwrap.dedent(
            """
            apiVersion: psr-engine/v1
            kind: Workflow
            metadata: {name: dumpable}
            spec:
              secrets: {API: {provider: env, name: PROC_TOKEN}}
              tasks:
                one: {run: 'test -n "$API"'}
            """
        )
    )
    script = textwrap.dedent(
        """
        import ctypes, sys
        from psr_engine import api
        libc = ctypes.CDLL(None)
        before = libc.prctl(3, 0, 0, 0, 0)
        result = api.run(api.make_plan("workflow.yaml"), sinks=[])
        print(before, libc.prctl(3, 0, 0, 0, 0), result.status)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PROC_TOKEN": SECRET},
        timeout=120,
    )
    assert done.stdout.split() == ["1", "0", "succeeded"], done.stderr


def _python_for_nobody() -> str | None:
    """An interpreter of this version that user nobody may run with this tree's packages."""
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.path.exists(candidate):
            continue
        version = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if version == wanted:
            return candidate
    return None


def _world_readable(path: str) -> bool:
    probe = Path(path)
    for part in (probe, *probe.parents):
        mode = part.stat().st_mode
        if not (mode & stat.S_IXOTH and mode & stat.S_IROTH):
            return False
    return True


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_task_cannot_read_the_engine_environment_through_proc() -> None:
    """As an ordinary user (nobody): before, `cat /proc/$PPID/environ` printed the env
    provider's variable, which least privilege had just kept out of the task's own env."""
    python = _python_for_nobody()
    packages = sysconfig.get_paths()["purelib"]
    if shutil.which("setpriv") is None or python is None:
        pytest.skip("needs setpriv and a system python of this version for user nobody")
    if not (_world_readable(packages) and _world_readable(ENGINE)):
        pytest.skip("the packages or the tree are not readable by user nobody")
    folder = tempfile.mkdtemp(prefix="psr-proc-")
    try:
        os.chmod(folder, 0o777)
        Path(folder, "workflow.yaml").write_text(
            textwrap.dedent(
                """
                apiVersion: psr-engine/v1
                kind: Workflow
                metadata: {name: peek}
                spec:
                  secrets: {API: {provider: env, name: PROC_TOKEN}}
                  tasks:
                    peek:
                      run: |
                        if grep -c PROC_TOKEN /proc/$PPID/environ; then echo read-it
                        else echo denied; fi > seen.txt
                """
            )
        )
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        done = subprocess.run(
            [*as_nobody, python, "-m", "psr_engine", "apply", "-q"],
            cwd=folder,
            capture_output=True,
            text=True,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": folder,
                "PYTHONPATH": f"{ENGINE}:{packages}",
                "PROC_TOKEN": SECRET,
            },
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert Path(folder, "seen.txt").read_text() == "denied\n"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="unshare cannot make PID namespaces here")
def test_tasks_in_their_own_pid_namespace_cannot_see_each_other(tmp_path: Path) -> None:
    """The recipe docs/features/secrets.md gives (spec.defaults.shell through unshare): the
    snooping task finds no process holding the secret, where without it it finds two."""
    body = textwrap.dedent(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: isolated}
        spec:
          secrets: {API: {provider: env, name: PROC_TOKEN}}
          DEFAULTS
          tasks:
            holder: {run: 'echo "${API:0:4}" > /dev/null; sleep 3'}
            snoop:
              run: |
                sleep 1
                (grep -l proc-S3cret /proc/[0-9]*/environ 2>/dev/null || true) | wc -l > found.txt
        """
    )
    recipe = "defaults: {shell: unshare --pid --fork --mount-proc --kill-child bash -eo pipefail}"
    env = {**os.environ, "PROC_TOKEN": SECRET, "NO_COLOR": "1"}
    found = {}
    for name, defaults in (("plain", ""), ("isolated", recipe)):
        (tmp_path / "workflow.yaml").write_text(body.replace("DEFAULTS", defaults))
        done = subprocess.run(
            [sys.executable, "-m", "psr_engine", "apply", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        found[name] = int((tmp_path / "found.txt").read_text())
    assert found["plain"] >= 1 and found["isolated"] == 0
