"""plan/graph.py's own graph algorithms answer as networkx does (networkx is the reference
here, in the tests only: importing it cost validate and plan ~100 ms)."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from psr_engine.plan import graph as dag

NAMES = [f"t{i}" for i in range(9)]


@st.composite
def needs_maps(draw: st.DrawFn) -> dict[str, list[str]]:
    count = draw(st.integers(1, len(NAMES)))
    tasks = NAMES[:count]
    return {
        task: draw(
            st.lists(
                st.sampled_from([t for t in tasks if t != task] or [task]), max_size=3, unique=True
            )
        )
        if count > 1
        else []
        for task in tasks
    }


def _reference(needs: dict[str, list[str]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(needs)
    graph.add_edges_from((need, task) for task, listed in needs.items() for need in listed)
    return graph


@settings(max_examples=300, deadline=None)
@given(needs_maps())
def test_cycles_order_and_ancestors_match_networkx(needs: dict[str, list[str]]):
    index = {task: i for i, task in enumerate(needs)}
    ours, reference = dag.build_dag(needs), _reference(needs)
    cycles = dag.find_cycles(ours, index)
    knots = [c for c in nx.strongly_connected_components(reference) if len(c) > 1]
    # One cycle per knot, inside it, starting at its first task in manifest order.
    assert sorted(min(k, key=index.__getitem__) for k in knots) == sorted(c[0] for c in cycles)
    assert all(any(set(c) <= k for k in knots) for c in cycles)
    assert len(cycles) == len(knots)
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        assert all(b in needs[a] for a, b in itertools.pairwise(cycle))  # a needs b
        shortest = min(
            len(nx.shortest_path(reference.reverse(copy=False), need, cycle[0]))
            for need in needs[cycle[0]]
            if nx.has_path(reference.reverse(copy=False), need, cycle[0])
        )
        assert len(cycle) - 1 == shortest
    if not cycles:
        expected = list(nx.lexicographical_topological_sort(reference, key=index.__getitem__))
        assert dag.topological_order(ours, index) == expected
        order = expected
    else:
        order = None
    ancestry = dag.Ancestry(ours, order)
    for task in needs:
        for other in needs:
            assert ancestry.is_upstream(other, of=task) == (other in nx.ancestors(reference, task))


def test_a_long_chain_does_not_hit_the_recursion_limit():
    needs = {f"t{i}": [f"t{i - 1}"] if i else [] for i in range(20_000)}
    needs["t0"] = ["t19999"]
    index = {task: i for i, task in enumerate(needs)}
    (cycle,) = dag.find_cycles(dag.build_dag(needs), index)
    assert cycle[0] == cycle[-1] == "t0" and len(cycle) == 20_001
