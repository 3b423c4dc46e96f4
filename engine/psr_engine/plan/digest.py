"""A planned task's digest: the fingerprint of what it does (command, args, env, kind, matrix,
needs...), recorded when a run starts so that resume reuses a result only while the task's
definition is unchanged (run/resume.py).

A digest depends only on the task, so it is made once per task object and kept on it
(`PlannedTask.digest`), and the plan cache stores the digests beside the plan: a warm `apply`
of 1,000 tasks otherwise spent ~30 ms hashing them before its first task started, for the
history sink. The kept value cannot go stale: the field is not an __init__ argument, so
`dataclasses.replace` (the only way to change a frozen task) makes a task without one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from psr_engine.plan.model import Plan, PlannedTask

# Where a task sits in the file and its topological level change when unrelated lines move;
# neither changes what it computes. The digest does not digest itself.
_NOT_DIGESTED = frozenset({"line", "level", "digest"})
_DIGESTED = tuple(f.name for f in fields(PlannedTask) if f.name not in _NOT_DIGESTED)
_DIGEST_FORM = re.compile(r"[0-9a-f]{32}")


def task_digest(task: PlannedTask) -> str:
    """The task's digest, made on first use and kept on the task.

    Encoded field by field rather than with dataclasses.asdict, which deep-copies every task
    (~0.1 ms a task). One encoder for all: json.dumps with options builds a new one per call,
    half of what a digest cost (the text, and so the digest, is the same)."""
    known = task.digest
    if known:
        return known
    values = {f: getattr(task, f) for f in _DIGESTED}
    digest = hashlib.sha256(_ENCODER.encode(values).encode()).hexdigest()[:32]
    # A frozen record's memo of a pure function of its other fields (see the docstring).
    object.__setattr__(task, "digest", digest)
    return digest


def plan_digests(plan: Plan) -> list[str]:
    """The digests of the plan's tasks, then of its on_exit tasks, in order."""
    return [task_digest(t) for t in (*plan.tasks, *plan.on_exit)]


def keep_digests(plan: Plan, digests: object) -> bool:
    """Put back digests `plan_digests` made of this very plan (the plan cache stores them with
    it). Anything that does not fit the plan (another count, not a digest) is ignored: the
    digests are then made again when needed. True when they were kept."""
    tasks = (*plan.tasks, *plan.on_exit)
    if (
        not isinstance(digests, list | tuple)
        or len(digests) != len(tasks)
        or not all(isinstance(d, str) and _DIGEST_FORM.fullmatch(d) for d in digests)
    ):
        return False
    for task, digest in zip(tasks, digests, strict=True):
        object.__setattr__(task, "digest", digest)
    return True


def _plain(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None:
        return to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_plain)
