"""The one-task Plan of `psr-engine run SCRIPT.py`: no manifest, the script in this folder."""

from __future__ import annotations

import os
import re

from psr_engine.errors import ManifestError
from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.units import Resources, RetryPolicy, parse_duration


def script_plan(
    script: str, args: list[str], *, timeout: str | None = None, retries: int = 0
) -> Plan:
    """A plan running `script` with `args` in the current folder, with a timeout and
    exponential retries. Raises ManifestError (exit 2) for a missing script or a bad option."""
    if not os.path.isfile(script):
        raise ManifestError(f"{script}: no such file")
    try:
        seconds = parse_duration(timeout) if timeout else None
    except ValueError as error:
        raise ManifestError(f"--timeout: {error}") from None
    if retries < 0:
        raise ManifestError("--retries must be 0 or more")
    name = (
        re.sub(r"[^a-zA-Z0-9_-]+", "-", os.path.splitext(os.path.basename(script))[0]) or "script"
    )
    task = PlannedTask(
        id=name,
        task=name,
        kind="python",
        command=os.path.abspath(script),
        args=tuple(args),
        workdir=os.getcwd(),
        timeout=seconds,
        retries=RetryPolicy(limit=retries, backoff="exponential", delay=1.0, max_delay=30.0),
    )
    return Plan(
        workflow=name.lower(),
        manifest_path=os.path.join(os.getcwd(), "workflow.yaml"),
        manifest_digest="",
        params={},
        tasks=(task,),
        levels=((name,),),
        groups={name: (name,)},
        concurrency=1,
        capacity=Resources(cpu=1e9, memory=2**62),
    )
