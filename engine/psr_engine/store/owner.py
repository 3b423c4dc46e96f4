"""Who owns a run: host, user, pid and the pid's start time, and whether that owner still lives.

A pid alone is not an identity: after a crash the kernel may hand the same number to another
process. The start time from /proc/<pid>/stat (clock ticks since boot) pins the process; a
zombie (state Z) is dead too, though its /proc entry remains until its parent reaps it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Owner:
    host: str
    user: str
    pid: int
    started: int | None  # /proc start time in clock ticks; None where /proc is missing


def current_owner() -> Owner:
    pid = os.getpid()
    return Owner(
        host=socket.gethostname(), user=current_user(), pid=pid, started=process_start(pid)
    )


def current_user() -> str:
    """getpass.getuser's answer, without its import of termios (start-up, issue 15)."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if user := os.environ.get(name):
            return user
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces and ")".
    return text[text.rfind(")") + 2 :].split()


def process_start(pid: int) -> int | None:
    """The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    fields = _stat_fields(pid)
    if not fields or len(fields) < 20:
        return None
    return int(fields[19])


def owner_alive(pid: int | None, started: int | None) -> bool:
    """Is the process that owned a run still the same, living process?"""
    if not pid:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        if os.path.isdir("/proc/self"):
            return False  # /proc works and the pid is gone
        return _kill_probe(pid)
    if fields[0] in ("Z", "X"):
        return False
    return started is None or int(fields[19]) == started


def _kill_probe(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ci_job_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The CI job this process runs in: GitHub Actions' run page, or GitLab's $CI_JOB_URL."""
    env = os.environ if environ is None else environ
    server, repo, run = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    if server and repo and run:
        return f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
    return env.get("CI_JOB_URL") or None
