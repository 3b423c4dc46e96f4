"""`apply --only`: a Plan narrowed to the named tasks and everything they need, like make."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import replace

from psr_engine.errors import ManifestError
from psr_engine.plan.model import Plan


def select(plan: Plan, names: Iterable[str]) -> Plan:
    """The named tasks (task names or instance ids) and everything they need. Raises
    ManifestError (exit 2) for a name the plan does not have, with the closest one."""
    by_id = {t.id: t for t in plan.tasks}
    wanted: set[str] = set()
    for name in names:
        ids = plan.groups.get(name) or ((name,) if name in by_id else None)
        if not ids:
            close = difflib.get_close_matches(name, [*plan.groups, *by_id], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ManifestError(f"--only {name}: no such task in {plan.workflow}{hint}")
        wanted.update(ids)
    stack = list(wanted)
    while stack:
        for need in by_id[stack.pop()].needs:
            if need not in wanted:
                wanted.add(need)
                stack.append(need)
    tasks = tuple(t for t in plan.tasks if t.id in wanted)
    groups = {g: tuple(i for i in ids if i in wanted) for g, ids in plan.groups.items()}
    levels = tuple(
        lv for lv in (tuple(i for i in level if i in wanted) for level in plan.levels) if lv
    )
    return replace(
        plan, tasks=tasks, levels=levels, groups={g: ids for g, ids in groups.items() if ids}
    )
