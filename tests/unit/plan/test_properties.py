"""Properties over random manifests: order and levels respect every need, planted cycles are
found as real cycles, and every plan survives the JSON round trip."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_factory import manifest, plan_of, task

from psr_engine.errors import CycleError
from psr_engine.plan import Plan
from psr_engine.units import Resources, RetryPolicy

NAMES = [f"t{i}" for i in range(30)]


@st.composite
def dags(draw, min_size=1, max_size=25):
    """Random DAGs: a task may only need tasks drawn before it, then the order is shuffled."""
    n = draw(st.integers(min_size, max_size))
    names = NAMES[:n]
    needs = {
        name: draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=4)) if i else []
        for i, name in enumerate(names)
    }
    order = draw(st.permutations(names))
    return {name: needs[name] for name in order}


@settings(max_examples=60, deadline=None)
@given(dags())
def test_every_need_comes_before_and_one_level_below_the_task(graph):
    plan = plan_of(manifest(*(task(n, needs=needs) for n, needs in graph.items())))
    position = {t.id: i for i, t in enumerate(plan.tasks)}
    level = {t.id: t.level for t in plan.tasks}
    assert sorted(position) == sorted(graph)
    for name, needs in graph.items():
        for need in needs:
            assert position[need] < position[name]
            assert level[need] < level[name]
        assert level[name] == (max((level[n] for n in needs), default=-1) + 1)
    assert [i for level in plan.levels for i in level] == sorted(
        position, key=lambda i: (level[i], position[i])
    )
    chain = plan.critical_path
    for earlier, later in itertools.pairwise(chain):
        assert earlier in graph[later]


@settings(max_examples=60, deadline=None)
@given(dags(min_size=2), st.data())
def test_a_planted_cycle_is_reported_as_a_real_cycle(graph, data):
    # Plant a cycle of 2 to 5 distinct tasks: each needs the next, the last the first.
    size = data.draw(st.integers(2, min(5, len(graph))))
    ring = data.draw(st.permutations(list(graph)))[:size]
    graph = dict(graph)
    for here, there in zip(ring, [*ring[1:], ring[0]], strict=True):
        graph[here] = [*graph[here], there]
    with pytest.raises(CycleError) as caught:
        plan_of(manifest(*(task(n, needs=needs) for n, needs in graph.items())))
    cycle = caught.value.cycle
    assert cycle[0] == cycle[-1] and len(cycle) >= 3
    assert len(set(cycle[:-1])) == len(cycle) - 1
    for task_name, need in itertools.pairwise(cycle):
        assert need in graph[task_name], f"{task_name} does not need {need}"


scalars = st.one_of(
    st.text(max_size=5), st.integers(-5, 5), st.booleans(), st.none(), st.floats(0, 9, width=32)
)

plain_text = st.text(max_size=10).filter(lambda s: "${{" not in s)


@st.composite
def manifests(draw):
    graph = draw(dags(max_size=8))
    tasks = []
    for name, needs in graph.items():
        matrix = None
        if draw(st.booleans()):
            values = draw(st.lists(scalars, min_size=1, max_size=3, unique_by=repr))
            matrix = {"k": values} if len({str(v) for v in values}) == len(values) else None
        tasks.append(
            task(
                name,
                needs=needs,
                matrix=matrix,
                run=draw(plain_text),
                timeout=draw(st.none() | st.floats(1, 1000)),
                retries=RetryPolicy(limit=draw(st.integers(0, 3)), on=(1, 2)),
                resources=Resources(cpu=draw(st.floats(0, 4)), memory=draw(st.integers(0, 99))),
                labels=draw(st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2)),
                env=draw(st.dictionaries(st.sampled_from("ABC"), plain_text, max_size=2)),
            )
        )
    return manifest(*tasks, env={"W": "1"}, on_exit=[task("zz_exit")])


@settings(max_examples=60, deadline=None)
@given(manifests())
def test_any_plan_round_trips_through_json(m):
    plan = plan_of(m)
    assert Plan.from_json(plan.to_json()) == plan
    # The plan cache's compact form (defaults left out) decodes to the same plan.
    assert Plan.from_json(plan.to_json(compact=True)) == plan
