"""What `validate` checks on disk: the files a manifest names that must exist before a run.

Kept out of the builder on purpose: building a manifest stays pure (a manifest is parsed from
text in tests and editors), and `plan`/`apply` do not refuse a script an earlier task writes.
"""

from __future__ import annotations

import os

from psr_engine.errors import Diagnostic
from psr_engine.manifest.model import Manifest

_EXPRESSION = "${{"


def missing_files(manifest: Manifest) -> list[Diagnostic]:
    """A diagnostic per `python:` script or `workflow:` sub-manifest that does not exist."""
    from psr_engine.manifest.schema import dotted

    found = []
    for task in (*manifest.tasks, *manifest.on_exit):
        if task.kind not in ("python", "workflow") or _EXPRESSION in task.command:
            continue
        if os.path.isfile(task.command):
            continue
        section = "onExit" if task.is_on_exit else "tasks"
        path = ("spec", section, task.name, task.kind)
        where = manifest.source.position(path)
        shown = os.path.relpath(task.command, manifest.base_dir)
        what = "python script" if task.kind == "python" else "sub-workflow"
        found.append(
            Diagnostic(
                manifest.source.path,
                where.line,
                where.column,
                f"task {task.name!r}: {what} {shown!r} does not exist",
                dotted(path),
                f"{task.kind}: paths are relative to the manifest's folder ({manifest.base_dir})",
            )
        )
    return found
