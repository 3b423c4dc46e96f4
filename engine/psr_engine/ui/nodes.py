"""The run page's DAG nodes, as HTML.

Written here rather than by a Jinja macro: a run of thousands has thousands of nodes, and the
follow page renders them all again each time a run starts, while the engine is busiest (the
macro cost about 30 µs a node, this a few). Every value is escaped. The hooks, stable for
tests and users' scripts: `data-task` (the instance name) and `data-status`; `data-needs`
(JSON, only when the task needs any) is what the page draws the edges from.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable
from html import escape

from markupsafe import Markup

from psr_engine.store.model import TaskRecord
from psr_engine.ui.views import elapsed
from psr_engine.units import format_duration


def node(task: TaskRecord, critical: Container[str], now: float) -> str:
    name = escape(task.id)
    status = escape(task.status)
    css = "node critical" if task.id in critical else "node"
    needs = f' data-needs="{escape(json.dumps(list(task.needs)))}"' if task.needs else ""
    reused = ' data-reused="true"' if task.reason == "reused" else ""
    why = f" ({escape(task.reason)})" if task.reason else ""
    took = escape(format_duration(elapsed(task, now))) if task.attempts else ""
    return (
        f'<button type="button" class="{css}" data-task="{name}" data-status="{status}"'
        f'{needs}{reused} title="{name}: {status}{why}">'
        f'<span class="name">{name}</span><span class="meta"><span class="state">{status}'
        f'</span> <span class="dur">{took}</span></span></button>\n'
    )


def nodes(tasks: Iterable[TaskRecord], critical: Container[str], now: float) -> Markup:
    """The nodes of `tasks`, in order (a chunk of a column, a matrix group's instances)."""
    return Markup("".join(node(task, critical, now) for task in tasks))
