"""`make demo` installs only the base package (issue 16, item 8: it installed every extra,
6 minutes on a busy machine); `make test` still installs everything, also after a demo.

`make -n` prints the commands a target would run without running them: the install commands
are checked here, on a copy of the Makefile beside a stand-in venv; the real timing is taken
on a fresh clone (the issue's note)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_dry(folder: Path, target: str) -> str:
    proc = subprocess.run(
        ["make", "-n", target], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def stamp(folder: Path, prefix: str) -> Path:
    """The stamp file a finished install leaves (named after pyproject.toml's checksum)."""
    checksum = subprocess.run(
        "cat pyproject.toml | cksum | cut -d' ' -f1",
        shell=True,
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return folder / ".venv" / f"{prefix}{checksum}"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    earlier = time.time() - 60
    os.utime(python, (earlier, earlier))  # the venv exists (older than any stamp made later)
    return tmp_path


def test_make_demo_installs_the_base_package_without_extras(checkout):
    commands = make_dry(checkout, "demo")
    installs = [line for line in commands.splitlines() if "pip install" in line]
    assert installs, commands
    assert all("-e ." in line for line in installs)
    assert "[all" not in commands and "--upgrade pip" not in commands
    assert "psr-engine apply manifests/examples/daily-etl.yaml" in commands


def test_make_test_after_a_demo_installs_every_extra(checkout):
    base = stamp(checkout, ".base-installed-")
    base.touch()
    assert "pip install" not in make_dry(checkout, "demo")  # the demo's install is done
    commands = make_dry(checkout, "test")
    assert "-e '.[all,test" in commands


def test_make_demo_after_make_test_installs_nothing_more(checkout):
    stamp(checkout, ".installed-").touch()
    commands = make_dry(checkout, "demo")
    # The base stamp is made from the full install, which holds the base package.
    assert "[all" not in commands
    assert "using the full install" in commands
