"""Test helpers (imported as ``gitlab_local``): run our GitLab templates with gitlab-ci-local.

gitlab-ci-local (npm) is the GitLab runner people use on their laptops: it parses the
pipeline with GitLab's rules (includes, `extends:`, component inputs, variables, reports),
then runs each job; here in shell mode (`--force-shell-executor`: no container engine on this
machine), one job per invocation, in a sample project that includes our files.

psr-engine is installed the way a user's job installs it, through PSR_PACKAGE (the component's
`package` input): a wheel of the working copy, built once per session. The jobs' `python` is a venv that sees this venv's
packages (the dependencies) through a site dir of links, psr-engine's own install left out, so
the job's `pip install` puts the wheel in place without fetching anything (PIP_NO_DEPS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

from ci_runner import REPO

GITLAB_CI_LOCAL = shutil.which("gitlab-ci-local")
# Our own files, which a venv of links must not carry: the job installs the wheel instead.
_OWN = ("psr_engine", "_editable_impl_psr_engine", "__editable__", "_psr_engine")


def why_not_runnable() -> str | None:
    """One line saying why gitlab-ci-local cannot run here, or None when it can."""
    if GITLAB_CI_LOCAL is None:
        return "gitlab-ci-local is not installed (make test installs it: npm, as root)"
    if shutil.which("rsync") is None:
        return "rsync is not installed (gitlab-ci-local needs it: apt-get install rsync)"
    if shutil.which("git") is None:
        return "git is not installed (gitlab-ci-local reads the project's repository)"
    return None


def build_wheel(into: Path) -> Path:
    """A wheel of the working copy (hatchling from the test venv: no download)."""
    subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
            "--quiet", "--wheel-dir", str(into), str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    (wheel,) = into.glob("psr_engine-*.whl")
    return wheel


def job_python(into: Path) -> Path:
    """A venv whose site-packages reach this venv's packages, psr-engine's excepted; its bin."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(into)
    (site,) = into.glob("lib/python*/site-packages")
    farm = into / "deps"
    farm.mkdir()
    shared = Path(sysconfig.get_paths()["purelib"])
    for entry in shared.iterdir():
        if not entry.name.startswith(_OWN):
            (farm / entry.name).symlink_to(entry)
    # A site dir (its .pth files processed), after the venv's own site-packages.
    (site / "zz-psr-test-deps.pth").write_text(f"import site; site.addsitedir({str(farm)!r})\n")
    return into / "bin"


@dataclass(frozen=True)
class JobRun:
    name: str
    code: int
    log: str


class GitlabLocal:
    """One sample project; `run(job)` runs one job of its pipeline with gitlab-ci-local."""

    def __init__(self, project: Path, python_bin: Path, wheel: Path) -> None:
        self.project = project
        self.python_bin = python_bin
        self.wheel = wheel
        self._validated = False

    def run(self, job: str, *, timeout: float = 600) -> JobRun:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV", "GITHUB_", "CI_", "PSR_", "PIP_"))
        }
        env.update(
            # The job venv first; this venv's tools (semgrep...) after it, as an image has them.
            PATH=f"{self.python_bin}:{Path(sys.executable).parent}:{os.environ['PATH']}",
            PIP_NO_DEPS="1",  # the dependencies are in the job venv already
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            NO_COLOR="1",
        )
        proc = subprocess.run(
            [
                str(GITLAB_CI_LOCAL), job,
                "--force-shell-executor",  # jobs name an image; no container engine here
                "--no-color",
                # GitLab's own schema, as the server checks; once is enough (2 s each time).
                "--no-json-schema-validation" if self._validated else "--json-schema-validation",
                # gitlab-ci-local gives shell jobs its docker path (/builds/...); a shell
                # runner's CI_PROJECT_DIR is where the job runs: the project, here.
                "--variable", f"CI_PROJECT_DIR={self.project}",
                "--ignore-predefined-vars", "CI_PROJECT_DIR",
            ],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )  # fmt: skip
        self._validated = True
        return JobRun(job, proc.returncode, proc.stdout + proc.stderr)
