"""The task-level DAG: needs checks, cycles, order, levels, critical path, ancestry.

Nodes are task names (a matrix task is one node: a need on it means all its instances), edges
point from a need to the task that needs it. networkx is imported inside the functions: it is
heavy, and nothing here may cost start-up time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class NeedProblem:
    """One bad entry in a task's ``needs``; ``cycle`` is set for cycles (a needs b needs ...)."""

    task: str
    message: str
    hint: str = ""
    cycle: tuple[str, ...] = ()


def check_needs(
    needs: Mapping[str, Sequence[str]],
    *,
    elsewhere: Mapping[str, str] | None = None,
) -> tuple[dict[str, tuple[str, ...]], list[NeedProblem]]:
    """Split every task's needs into valid ones and problems.

    ``needs`` maps each task of one DAG (in manifest order) to what it lists; ``elsewhere``
    maps names of tasks in the other DAG (main vs onExit) to why they cannot be needed.
    """
    elsewhere = elsewhere or {}
    known = list(needs)
    valid: dict[str, tuple[str, ...]] = {}
    problems: list[NeedProblem] = []
    for task, listed in needs.items():
        kept: dict[str, None] = {}  # ordered and deduplicated: a fan-in may list 10,000 needs
        for need in listed:
            if need == task:
                problems.append(
                    NeedProblem(task, f"task '{task}' needs itself", "remove it from its needs")
                )
            elif need in needs:
                kept[need] = None
            elif need in elsewhere:
                message = f"task '{task}' needs '{need}': {elsewhere[need]}"
                problems.append(NeedProblem(task, message))
            else:
                close = difflib.get_close_matches(need, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "list tasks of this workflow"
                message = f"task '{task}' needs unknown task '{need}'"
                problems.append(NeedProblem(task, message, hint))
        valid[task] = tuple(kept)
    return valid, problems


def build_dag(needs: Mapping[str, Sequence[str]]) -> nx.DiGraph:
    """The graph of ``needs`` (already checked): nodes in manifest order, edges need -> task."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(needs)
    graph.add_edges_from((need, task) for task, listed in needs.items() for need in listed)
    return graph


def find_cycles(graph: nx.DiGraph, index: Mapping[str, int]) -> list[tuple[str, ...]]:
    """One cycle per knot of tasks, as ``(a, b, c, a)`` where each task needs the next.

    Each starts at its knot's first task in manifest order and is a shortest cycle through it,
    so the message is the same every time and as short as it can be.
    """
    import networkx as nx

    cycles: list[tuple[str, ...]] = []
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue  # self-needs are reported, and dropped, before the graph is built
        knot = graph.subgraph(component)
        by_needs = knot.reverse(copy=False)  # edges task -> need
        start = min(component, key=index.__getitem__)
        best: list[str] | None = None
        for need in sorted(by_needs.successors(start), key=index.__getitem__):
            # start needs `need`; the way back from `need` to `start` follows needs too.
            back = nx.shortest_path(by_needs, need, start)
            if best is None or len(back) < len(best):
                best = back
        assert best is not None  # a strongly connected knot: start needs someone in it
        cycles.append((start, *best))
    cycles.sort(key=lambda cycle: index[cycle[0]])
    return cycles


def topological_order(graph: nx.DiGraph, index: Mapping[str, int]) -> list[str]:
    """Needs first; among tasks free to go at the same time, manifest order."""
    import networkx as nx

    return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))


def levels(graph: nx.DiGraph, order: Iterable[str]) -> dict[str, int]:
    """Each task's longest distance (in edges) from a task that needs nothing."""
    level: dict[str, int] = {}
    for task in order:
        level[task] = max((level[p] + 1 for p in graph.predecessors(task)), default=0)
    return level


def critical_path(
    graph: nx.DiGraph, order: Sequence[str], weight: Mapping[str, float], index: Mapping[str, int]
) -> list[str]:
    """The chain of needs with the largest total weight; ties go to the earlier task."""
    total: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for task in order:
        best = min(graph.predecessors(task), key=lambda p: (-total[p], index[p]), default=None)
        via[task] = best
        total[task] = weight[task] + (total[best] if best is not None else 0.0)
    if not order:
        return []
    end: str | None = min(order, key=lambda t: (-total[t], index[t]))
    chain: list[str] = []
    while end is not None:
        chain.append(end)
        end = via[end]
    return chain[::-1]


class Ancestry:
    """Answers "is X upstream of T?" (transitively, via needs) without quadratic work.

    Ancestor sets are bitsets (Python ints, one bit per task) built once, in topological
    order, on the first question: O(edges x tasks / 64) machine words. A graph with cycles
    has no such order; there each asked task's ancestors are searched once and cached.
    """

    def __init__(self, graph: nx.DiGraph, order: Sequence[str] | None) -> None:
        self._graph = graph
        self._order = order
        self._bits: dict[str, int] | None = None
        self._position: dict[str, int] = {}
        self._searched: dict[str, set[str]] = {}

    def is_upstream(self, candidate: str, *, of: str) -> bool:
        if candidate not in self._graph or of not in self._graph:
            return False
        if candidate in self._graph.pred[of]:
            return True  # the usual case: a direct need
        if self._order is None:
            return candidate in self._ancestors_searched(of)
        bits = self._ancestor_bits()
        return bool(bits[of] >> self._position[candidate] & 1)

    def _ancestor_bits(self) -> dict[str, int]:
        if self._bits is None:
            assert self._order is not None
            self._position = {task: i for i, task in enumerate(self._order)}
            bits: dict[str, int] = {}
            for task in self._order:
                mask = 0
                for need in self._graph.predecessors(task):
                    mask |= bits[need] | (1 << self._position[need])
                bits[task] = mask
            self._bits = bits
        return self._bits

    def _ancestors_searched(self, task: str) -> set[str]:
        import networkx as nx

        if task not in self._searched:
            self._searched[task] = nx.ancestors(self._graph, task)
        return self._searched[task]
