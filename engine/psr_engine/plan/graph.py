"""The task-level DAG: needs checks, cycles, order, levels, critical path, ancestry.

Nodes are task names (a matrix task is one node: a need on it means all its instances), edges
point from a need to the task that needs it. The few graph algorithms a plan needs (strongly
connected components, a shortest path, a topological order with ties in manifest order) are
written out here on plain dicts: importing networkx cost `validate` and `plan` ~100 ms, more
than all the rest of their work on a small manifest.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass


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
                import difflib  # only for a need that names no task

                close = difflib.get_close_matches(need, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "list tasks of this workflow"
                message = f"task '{task}' needs unknown task '{need}'"
                problems.append(NeedProblem(task, message, hint))
        valid[task] = tuple(kept)
    return valid, problems


class Dag:
    """Tasks in manifest order and their needs: ``pred[t]`` what t needs (in the order it
    lists them), ``succ[n]`` the tasks that need n."""

    __slots__ = ("pred", "succ")

    def __init__(self, needs: Mapping[str, Sequence[str]]) -> None:
        self.pred: dict[str, tuple[str, ...]] = {
            task: tuple(listed) for task, listed in needs.items()
        }
        self.succ: dict[str, list[str]] = {task: [] for task in needs}
        for task, listed in self.pred.items():
            for need in listed:
                self.succ[need].append(task)

    def __contains__(self, task: object) -> bool:
        return task in self.pred

    def predecessors(self, task: str) -> Iterator[str]:
        return iter(self.pred[task])


def build_dag(needs: Mapping[str, Sequence[str]]) -> Dag:
    """The graph of ``needs`` (already checked): nodes in manifest order, edges need -> task."""
    return Dag(needs)


def find_cycles(graph: Dag, index: Mapping[str, int]) -> list[tuple[str, ...]]:
    """One cycle per knot of tasks, as ``(a, b, c, a)`` where each task needs the next.

    Each starts at its knot's first task in manifest order and is a shortest cycle through it,
    so the message is the same every time and as short as it can be.
    """
    cycles: list[tuple[str, ...]] = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue  # self-needs are reported, and dropped, before the graph is built
        start = min(component, key=index.__getitem__)
        best: list[str] | None = None
        for need in sorted(set(graph.pred[start]) & component, key=index.__getitem__):
            # start needs `need`; the way back from `need` to `start` follows needs too.
            back = _shortest_needs_path(graph, need, start, component, index)
            if best is None or len(back) < len(best):
                best = back
        assert best is not None  # a strongly connected knot: start needs someone in it
        cycles.append((start, *best))
    cycles.sort(key=lambda cycle: index[cycle[0]])
    return cycles


def _strongly_connected(graph: Dag) -> list[set[str]]:
    """Tarjan's algorithm, iterative (a chain of 10,000 needs must not hit the recursion
    limit), over the edges task -> need."""
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph.pred:
        if root in number:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            task, at = work.pop()
            if at == 0:
                number[task] = low[task] = len(number)
                stack.append(task)
                on_stack.add(task)
            needs = graph.pred[task]
            if at < len(needs):
                work.append((task, at + 1))
                need = needs[at]
                if need not in number:
                    work.append((need, 0))
                elif need in on_stack:
                    low[task] = min(low[task], number[need])
                continue
            if low[task] == number[task]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == task:
                        break
                found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[task])
    return found


def _shortest_needs_path(
    graph: Dag, source: str, target: str, within: set[str], index: Mapping[str, int]
) -> list[str]:
    """A shortest path source -> ... -> target following needs inside `within` (breadth
    first, needs visited in manifest order, so the answer is the same every time)."""
    came_from: dict[str, str | None] = {source: None}
    queue = deque([source])
    while queue:
        task = queue.popleft()
        if task == target:
            path = [task]
            while (previous := came_from[path[-1]]) is not None:
                path.append(previous)
            return path[::-1]
        for need in sorted(graph.pred[task], key=index.__getitem__):
            if need in within and need not in came_from:
                came_from[need] = task
                queue.append(need)
    raise ValueError(f"no way from {source} to {target}")  # within is strongly connected


def topological_order(graph: Dag, index: Mapping[str, int]) -> list[str]:
    """Needs first; among tasks free to go at the same time, manifest order."""
    waiting = {task: len(needs) for task, needs in graph.pred.items()}
    ready = [(index[task], task) for task, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, task = heapq.heappop(ready)
        order.append(task)
        for dependent in graph.succ[task]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, (index[dependent], dependent))
    return order


def levels(graph: Dag, order: Iterable[str]) -> dict[str, int]:
    """Each task's longest distance (in edges) from a task that needs nothing."""
    level: dict[str, int] = {}
    for task in order:
        level[task] = max((level[p] + 1 for p in graph.predecessors(task)), default=0)
    return level


def critical_path(
    graph: Dag, order: Sequence[str], weight: Mapping[str, float], index: Mapping[str, int]
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

    def __init__(self, graph: Dag, order: Sequence[str] | None) -> None:
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
        if task not in self._searched:
            seen: set[str] = set()
            todo = list(self._graph.pred[task])
            while todo:
                need = todo.pop()
                if need not in seen:
                    seen.add(need)
                    todo.extend(self._graph.pred[need])
            seen.discard(task)  # nx.ancestors never holds the task itself, even in a cycle
            self._searched[task] = seen
        return self._searched[task]
