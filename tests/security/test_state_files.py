"""Raw outputs on disk (issue 13, item 6): the state folder is private and holds no raw output.

`.psr/` and every folder in it are 0700, every file 0600, whatever the umask; a folder an
older version left open is closed when the engine opens it; a cache entry never holds a
secret; `$PSR_OUTPUT` files are gone on every path, and a dead engine's are swept at the next
start.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from leaks import leaks_under, psr

SECRET = "Pr1vate-Out/Value+7="
HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\n"


def _manifest(root: Path, body: str) -> Path:
    path = root / "workflow.yaml"
    path.write_text(HEADER + textwrap.dedent(body).lstrip())
    return path


def _modes(state: Path) -> dict[str, int]:
    return {
        str(p.relative_to(state)): stat.S_IMODE(p.lstat().st_mode)
        for p in [state, *state.rglob("*")]
    }


def test_every_state_folder_is_0700_and_every_state_file_0600(tmp_path: Path) -> None:
    """Failed before: `.psr/` was 0755 and runs.db, logs, .out files 0644 (umask 022)."""
    _manifest(
        tmp_path,
        """
        metadata: {name: private}
        spec:
          sinks:
            - {type: jsonl, path: .psr/events.jsonl}
            - {type: summary, path: .psr/summary.md}
          tasks:
            make:
              cache: {inputs: [in.txt]}
              run: echo "rows=3" >> "$PSR_OUTPUT"; echo made
            use:
              needs: [make]
              run: echo "got ${{ tasks.make.outputs.rows }}"
        """,
    )
    (tmp_path / "in.txt").write_text("x")
    # umask 0: every mode below is the engine's choice, none is the umask's.
    ran = subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply"], cwd=tmp_path, umask=0, capture_output=True
    )
    assert ran.returncode == 0, ran.stderr
    modes = _modes(tmp_path / ".psr")
    assert any(name.endswith(".log") for name in modes), modes
    assert any(name.startswith("cache/") for name in modes), modes
    assert "runs.db" in modes and "events.jsonl" in modes and "summary.md" in modes
    loose = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (tmp_path / ".psr" / name).is_dir() else 0o600)
    }
    assert loose == {}
    assert not [n for n in modes if n.endswith(".out")]  # read, then removed


def test_a_world_readable_state_folder_is_closed_when_opened(tmp_path: Path) -> None:
    """Failed before: a 0755 `.psr/` and a 0644 runs.db stayed so after the next command."""
    _manifest(tmp_path, "metadata: {name: tighten}\nspec:\n  tasks:\n    a: {run: 'true'}\n")
    assert psr(tmp_path, "apply").code == 0
    state = tmp_path / ".psr"
    os.chmod(state, 0o755)
    os.chmod(state / "runs.db", 0o644)
    ran = psr(tmp_path, "runs")
    assert ran.code == 0, ran.stderr
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "runs.db").stat().st_mode) == 0o600


def test_a_cache_entry_never_holds_a_secret_and_the_task_runs_again(tmp_path: Path) -> None:
    """An output equal to a secret is not cached (replaying `***` would be wrong data); a
    plain output still is. Failed before: the cache entry held the secret in clear."""
    _manifest(
        tmp_path,
        """
        metadata: {name: cached}
        spec:
          secrets: {TOKEN: {provider: env, name: CACHE_TOKEN}}
          tasks:
            leaky:
              secrets: [TOKEN]
              cache: {inputs: [in.txt]}
              run: echo "token=$TOKEN" >> "$PSR_OUTPUT"; echo ran >> runs.txt
            plain:
              cache: {inputs: [in.txt]}
              run: echo "rows=3" >> "$PSR_OUTPUT"; echo ran >> plain.txt
        """,
    )
    (tmp_path / "in.txt").write_text("x")
    for _ in range(2):
        ran = psr(tmp_path, "apply", env={"CACHE_TOKEN": SECRET})
        assert ran.code == 0, ran.stderr
    assert leaks_under(tmp_path, SECRET) == {}
    assert (tmp_path / "runs.txt").read_text().count("ran") == 2  # not cached: ran again
    assert (tmp_path / "plain.txt").read_text().count("ran") == 1  # cached
    entries = [json.loads(p.read_text()) for p in (tmp_path / ".psr" / "cache").glob("*.json")]
    assert [e["outputs"] for e in entries] == [{"rows": "3"}]


def test_output_files_are_removed_on_timeout_and_cancel(tmp_path: Path) -> None:
    """Failed before: a timed-out task's file was removed but a cancelled one's stayed."""
    _manifest(
        tmp_path,
        """
        metadata: {name: paths}
        spec:
          tasks:
            slow:
              timeout: 1s
              run: echo "k=v" >> "$PSR_OUTPUT"; sleep 30
            quick_fail:
              run: echo "k=v" >> "$PSR_OUTPUT"; exit 3
            cancelled:
              run: echo "k=v" >> "$PSR_OUTPUT"; touch started; sleep 30
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # the timeout fires meanwhile
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) != 0
    assert list((tmp_path / ".psr").rglob("*.out")) == []


def test_a_dead_engines_output_files_are_swept_at_the_next_start(tmp_path: Path) -> None:
    """Failed before: after kill -9 the raw `.out` file stayed forever."""
    _manifest(
        tmp_path,
        """
        metadata: {name: swept}
        spec:
          tasks:
            hold:
              run: echo "k=raw-value" >> "$PSR_OUTPUT"; touch started; sleep 30
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert list((tmp_path / ".psr").rglob("*.out"))  # the crash left it
    ran = psr(tmp_path, "runs")
    assert ran.code == 0, ran.stderr
    assert "crashed" in ran.stdout
    assert list((tmp_path / ".psr").rglob("*.out")) == []


# -- Low: a read-only state folder, a full disk ---------------------------------------------


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MiB tmpfs: a file system that can be made read-only or filled for real. Needs
    root (CAP_SYS_ADMIN), as CI has; skipped where mounting is not allowed."""
    root = tmp_path / "mnt"
    root.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(root)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def test_a_read_only_state_folder_is_read_and_refused_for_a_run(small_mount: Path) -> None:
    """Failed before: `runs` said "no runs recorded" (exit 0, false), `status` and `logs`
    failed to open the history, and `apply` ended with exit 70 (an internal error)."""
    _manifest(small_mount, "metadata: {name: ro}\nspec:\n  tasks:\n    a: {run: 'echo hello'}\n")
    assert psr(small_mount, "apply").code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    runs = psr(small_mount, "runs")
    status = psr(small_mount, "status", "last")
    logs = psr(small_mount, "logs", "last", "a")
    applied = psr(small_mount, "apply")
    assert (runs.code, status.code, logs.code) == (0, 0, 0), runs.stderr + status.stderr
    assert "succeeded" in runs.stdout and "no runs" not in runs.stdout
    assert "succeeded" in status.stdout
    assert "hello" in logs.stdout
    assert applied.code == 2, applied.stderr
    assert "cannot be written" in applied.stderr and "Traceback" not in applied.stderr


def test_a_full_disk_stops_the_run_with_exit_2_and_a_history_that_matches(
    small_mount: Path,
) -> None:
    """The disk fills while a run goes on. Failed before: the run went on with its history
    turned off (exit 1, a warning), and the history said `running` with nothing ended even
    for tasks that had succeeded. Now: exit 2 saying why, what was recorded stands, the rest
    reads as crashed, and once there is room `--resume` completes the run."""
    _manifest(
        small_mount,
        """
        metadata: {name: full}
        spec:
          tasks:
            warm: {run: "echo warm"}
            fill:
              needs: [warm]
              run: "test -e room || head -c 10M /dev/zero > fill; true"
            after:
              needs: [fill]
              matrix: {i: [1, 2, 3]}
              run: "echo after"
        """,
    )
    applied = psr(small_mount, "apply")
    runs = psr(small_mount, "runs")
    status = psr(small_mount, "status", "last", "-o", "json")
    assert applied.code == 2, applied.stderr
    assert "run history could not be written" in applied.stderr
    assert "Traceback" not in applied.stderr
    assert runs.code == 0 and "crashed" in runs.stdout, runs.stdout + runs.stderr
    assert status.code == 0, status.stderr
    recorded = {k: t["status"] for k, t in json.loads(status.stdout)["tasks"].items()}
    announced = [line.split()[1] for line in applied.stdout.splitlines() if line[:2] == "✓ "]
    # What the console said succeeded is recorded so (commit, then announce); an ending the
    # full disk kept from the history was not announced and will run again.
    assert [t for t in announced if recorded.get(t) != "succeeded"] == []
    assert "running" not in recorded.values()
    (small_mount / "fill").unlink()
    (small_mount / "room").touch()
    resumed = psr(small_mount, "apply", "--resume", "last")
    assert resumed.code == 0, resumed.stdout + resumed.stderr
