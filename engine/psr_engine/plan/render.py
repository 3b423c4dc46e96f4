"""Text renderings of a Plan: a table for people, Mermaid and Graphviz DOT for diagrams.

The diagrams are drawn task by task: a matrix task is a subgraph (cluster) holding its
instances, and a need on it is one edge from the subgraph, not one per instance, so a
100x100 matrix stays a readable, small file. onExit tasks sit in their own subgraph, reached
by dashed edges from the tasks nothing else needs. rich is imported only by plan_table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO

from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.printable import printable
from psr_engine.units import Resources, format_duration, format_memory

# -- the task-level view both diagrams draw ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    instances: tuple[PlannedTask, ...]
    needs: tuple[str, ...]  # task names, in the order first needed

    @property
    def is_matrix(self) -> bool:
        return bool(self.instances[0].matrix)


def _groups(plan: Plan, tasks: tuple[PlannedTask, ...]) -> list[_Group]:
    owner = {t.id: t.task for t in (*plan.tasks, *plan.on_exit)}
    by_task: dict[str, list[PlannedTask]] = {}
    for task in tasks:
        by_task.setdefault(task.task, []).append(task)
    groups = []
    for name, instances in by_task.items():
        needs = tuple(dict.fromkeys(owner[i] for i in instances[0].needs))
        groups.append(_Group(name, tuple(instances), needs))
    return groups


def _sinks(groups: list[_Group]) -> list[str]:
    needed = {need for g in groups for need in g.needs}
    return [g.name for g in groups if g.name not in needed]


# -- the table --------------------------------------------------------------------------------


def plan_table(plan: Plan, *, width: int = 100, no_color: bool = False) -> str:
    """A readable table: gates first, then every task instance by level, then totals.

    ``no_color=True`` gives plain text (rich also honours the NO_COLOR environment variable).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"plan of {plan.workflow}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for header in ("level", "task", "kind", "needs", "resources", "timeout", "retries"):
        # Only needs lists fold when space runs out: ids and figures stay whole.
        table.add_column(header, overflow="fold", no_wrap=header != "needs")
    for gate in plan.gates:
        table.add_row(
            Text("gate"), Text(gate.name, style="bold yellow"), Text(f"{gate.type} gate"),
            Text(""), Text(""), Text(""), Text(f"failOn {gate.fail_on}"),
        )  # fmt: skip
    for task in (*plan.tasks, *plan.on_exit):
        table.add_row(
            Text("exit" if task.on_exit else str(task.level), style="dim"),
            Text(printable(task.id), style="bold yellow" if task.kind == "gate" else "bold"),
            Text(task.kind),
            Text(printable(_needs_text(plan, task))),
            Text(_resources_text(task.resources)),
            Text("-" if task.timeout is None else format_duration(task.timeout)),
            Text(_retries_text(task)),
        )
    buffer = StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=no_color,
        force_terminal=not no_color,
        color_system=None if no_color else "standard",
        highlight=False,
    )
    console.print(table)
    console.print()
    console.print(Text(_totals(plan)))
    # rich pads every line to the table's width; trailing blanks only get in the way.
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _needs_text(plan: Plan, task: PlannedTask) -> str:
    """Needs by task: a need on every instance of a matrix task reads ``transform[*] (4)``."""
    if not task.needs:
        return "-"
    needed = set(task.needs)
    parts = []
    seen: set[str] = set()
    for need in task.needs:
        name = need.split("[", 1)[0]  # instance ids are task[k=v,...]; task names have no [
        if name in seen:
            continue
        ids = plan.groups.get(name, (need,))
        if len(ids) > 1 and needed.issuperset(ids):
            parts.append(f"{name}[*] ({len(ids)})")
            seen.add(name)
        else:
            parts.append(need)
    return ", ".join(parts)


def _resources_text(resources: Resources) -> str:
    if not resources.cpu and not resources.memory:
        return "-"
    return f"cpu {resources.cpu:g}, mem {format_memory(resources.memory)}"


def _retries_text(task: PlannedTask) -> str:
    policy = task.retries
    return "-" if not policy.limit else f"{policy.limit} ({policy.backoff})"


def _totals(plan: Plan) -> str:
    names = {t.task for t in plan.tasks}
    cap = plan.capacity
    lines = [
        f"{len(names)} tasks, {len(plan.tasks)} instances, {len(plan.levels)} levels, "
        f"{len(plan.gates)} gates, {len(plan.on_exit)} onExit instances",
        f"concurrency {plan.concurrency}; "
        f"capacity cpu {cap.cpu:g}, mem {format_memory(cap.memory)}",
        f"critical path: {printable(' -> '.join(plan.critical_path)) or '-'}",
    ]
    return "\n".join(lines)


# -- Mermaid ----------------------------------------------------------------------------------


def plan_mermaid(plan: Plan) -> str:
    """A Mermaid ``flowchart TD``: sanitised node ids, quoted labels, a subgraph per matrix."""
    ids = _Ids()
    lines = ["flowchart TD"]
    main = _groups(plan, plan.tasks)
    exits = _groups(plan, plan.on_exit)
    lines += _mermaid_groups(main, ids, indent="  ")
    if exits:
        lines.append(f'  subgraph {ids.of("section", "onExit")}["onExit"]')
        lines += _mermaid_groups(exits, ids, indent="    ")
        lines.append("  end")
    for group in (*main, *exits):
        for need in group.needs:
            lines.append(f"  {_mermaid_end(need, main + exits, ids)} --> {ids.of_group(group)}")
    for sink in _sinks(main):
        for root in (g for g in exits if not g.needs):
            lines.append(f"  {_mermaid_end(sink, main, ids)} -.-> {ids.of_group(root)}")
    return "\n".join(lines) + "\n"


def _mermaid_groups(groups: list[_Group], ids: _Ids, *, indent: str) -> Iterator[str]:
    for group in groups:
        if group.is_matrix:
            yield f"{indent}subgraph {ids.of_group(group)}[{_mermaid_label(group.name)}]"
            for task in group.instances:
                yield f"{indent}  {_mermaid_node(task, ids)}"
            yield f"{indent}end"
        else:
            yield f"{indent}{_mermaid_node(group.instances[0], ids)}"


def _mermaid_node(task: PlannedTask, ids: _Ids) -> str:
    label = _mermaid_label(task.id)
    node = ids.of("task", task.id)
    return f"{node}{{{{{label}}}}}" if task.kind == "gate" else f"{node}[{label}]"


def _mermaid_end(name: str, groups: list[_Group], ids: _Ids) -> str:
    group = next(g for g in groups if g.name == name)
    return ids.of_group(group)


def _mermaid_label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


class _Ids:
    """Mermaid-safe ids (letters, digits, _), unique, never a keyword such as ``end``."""

    def __init__(self) -> None:
        self._given: dict[tuple[str, str], str] = {}
        self._used: set[str] = set()

    def of(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self._given:
            base = ("g_" if kind == "group" else "t_") + re.sub(r"[^A-Za-z0-9_]", "_", name)
            candidate, n = base, 1
            while candidate in self._used:
                n += 1
                candidate = f"{base}_{n}"
            self._used.add(candidate)
            self._given[key] = candidate
        return self._given[key]

    def of_group(self, group: _Group) -> str:
        if group.is_matrix:
            return self.of("group", group.name)
        return self.of("task", group.instances[0].id)


# -- Graphviz DOT -----------------------------------------------------------------------------


def plan_dot(plan: Plan) -> str:
    """A Graphviz digraph: quoted ids, a cluster per matrix task, compound edges."""
    main = _groups(plan, plan.tasks)
    exits = _groups(plan, plan.on_exit)
    lines = [
        f"digraph {_q(plan.workflow)} {{",
        "  graph [rankdir=TB, compound=true];",
        "  node [shape=box];",
    ]
    lines += _dot_groups(main, indent="  ")
    if exits:
        lines.append(f"  subgraph {_q('cluster:onExit')} {{")
        lines.append(f"    label={_q('onExit')}; style=dashed;")
        lines += _dot_groups(exits, indent="    ")
        lines.append("  }")
    everything = {g.name: g for g in (*main, *exits)}
    for group in (*main, *exits):
        for need in group.needs:
            lines.append("  " + _dot_edge(everything[need], group))
    for sink in _sinks(main):
        for root in (g for g in exits if not g.needs):
            lines.append("  " + _dot_edge(everything[sink], root, ("style", "dashed")))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_groups(groups: list[_Group], *, indent: str) -> Iterator[str]:
    for group in groups:
        if group.is_matrix:
            yield f"{indent}subgraph {_q('cluster_' + group.name)} {{"
            yield f"{indent}  label={_q(group.name)};"
            for task in group.instances:
                yield f"{indent}  {_dot_node(task)}"
            yield f"{indent}}}"
        else:
            yield f"{indent}{_dot_node(group.instances[0])}"


def _dot_node(task: PlannedTask) -> str:
    shape = " [shape=hexagon]" if task.kind == "gate" else ""
    return f"{_q(task.id)}{shape};"


def _dot_edge(tail: _Group, head: _Group, *extra: tuple[str, str]) -> str:
    # One edge between representatives; ltail/lhead clip it at the clusters' borders.
    attrs = list(extra)
    if tail.is_matrix:
        attrs.append(("ltail", "cluster_" + tail.name))
    if head.is_matrix:
        attrs.append(("lhead", "cluster_" + head.name))
    text = f"{_q(tail.instances[0].id)} -> {_q(head.instances[0].id)}"
    if attrs:
        text += " [" + ", ".join(f"{k}={_q(v)}" for k, v in attrs) + "]"
    return text + ";"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
