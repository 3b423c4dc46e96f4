"""The plan's renderings: the rich table, Mermaid and Graphviz DOT."""

from __future__ import annotations

import re

import pytest
from plan_factory import manifest, plan_of, task

from psr_engine.manifest.model import GateSpec
from psr_engine.plan import plan_dot, plan_mermaid, plan_table
from psr_engine.units import Resources, RetryPolicy


@pytest.fixture
def plan():
    return plan_of(
        manifest(
            task("extract", timeout=90.0, retries=RetryPolicy(limit=2, backoff="exponential")),
            task("transform", needs=["extract"], matrix={"region": ["eu", "us"], "size": ["s"]},
                 resources=Resources(cpu=1, memory=2**30)),
            task("end", needs=["transform"]),
            task('odd"name'),
            on_exit=[task("notify"), task("cleanup", needs=["notify"])],
            gates=[GateSpec(name="code", type="code", fail_on="high")],
            name="daily-etl",
        )
    )  # fmt: skip


def test_table_lists_gates_first_then_every_instance_with_its_details(plan):
    text = plan_table(plan, no_color=True, width=120)
    assert "\x1b[" not in text
    lines = text.splitlines()
    rows = [line.split() for line in lines]
    first_row = next(i for i, r in enumerate(rows) if r and r[0] in ("gate", "0"))
    assert rows[first_row][:3] == ["gate", "code", "code"]
    extract = next(line for line in lines if " extract " in line)
    assert "1m30s" in extract and "2 (exponential)" in extract
    eu = next(line for line in lines if "transform[region=eu,size=s]" in line)
    assert eu.split()[0] == "1" and "cpu 1, mem 1Gi" in eu
    assert re.search(r"end\s+run\s+transform\[\*\] \(2\)", text)
    assert re.search(r"exit\s+cleanup\s+run\s+notify", text)
    assert "4 tasks, 5 instances, 3 levels, 1 gates, 2 onExit instances" in text
    assert "critical path: extract -> transform[region=eu,size=s] -> end" in text


def test_table_is_coloured_unless_told_not_to(plan):
    assert "\x1b[" in plan_table(plan, no_color=False)


def test_table_respects_its_width(plan):
    assert max(len(line) for line in plan_table(plan, no_color=True, width=70).splitlines()) <= 70


MERMAID_LINE = re.compile(
    r"""^(?:
        flowchart\ TD
      | \s+subgraph\ [A-Za-z0-9_]+\["[^"]*"\]
      | \s+end
      | \s+[A-Za-z0-9_]+(?:\["[^"]*"\]|\{\{"[^"]*"\}\})
      | \s+[A-Za-z0-9_]+\ (?:-->|-\.->)\ [A-Za-z0-9_]+
    )$""",
    re.VERBOSE,
)


def test_mermaid_is_a_flowchart_with_safe_ids_quoted_labels_and_matrix_subgraphs(plan):
    text = plan_mermaid(plan)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    for line in lines:
        assert MERMAID_LINE.match(line), line
    opened = sum(1 for line in lines if line.strip().startswith("subgraph "))
    assert opened == sum(1 for line in lines if line.strip() == "end") == 2
    assert 'subgraph g_transform["transform"]' in text
    assert '["transform[region=eu,size=s]"]' in text
    assert '["odd#quot;name"]' in text
    nodes = dict(re.findall(r"^\s+([A-Za-z0-9_]+)\[\"([^\"]*)\"\]$", text, re.M))
    by_label = {label: node for node, label in nodes.items()}
    assert f"{by_label['extract']} --> g_transform" in text
    assert f"g_transform --> {by_label['end']}" in text
    assert f"{by_label['notify']} --> {by_label['cleanup']}" in text
    assert f"{by_label['end']} -.-> {by_label['notify']}" in text
    assert len(set(nodes)) == len(nodes) == 7


def test_mermaid_ids_never_collide_after_sanitising():
    plan = plan_of(manifest(task("a", matrix={"x": ["b c", "b_c", "b-c"]})))
    ids = re.findall(r"^\s+(t_[A-Za-z0-9_]+)\[", plan_mermaid(plan), re.M)
    assert len(ids) == len(set(ids)) == 3


DOT_STATEMENT = re.compile(
    r"""^(?:
        digraph\ "(?:[^"\\]|\\.)*"\ \{
      | \s+graph\ \[rankdir=TB,\ compound=true\];
      | \s+node\ \[shape=box\];
      | \s+subgraph\ "(?:[^"\\]|\\.)*"\ \{
      | \s+label="(?:[^"\\]|\\.)*";(?:\ style=dashed;)?
      | \s+"(?:[^"\\]|\\.)*"(?:\ \[shape=hexagon\])?;
      | \s+"(?:[^"\\]|\\.)*"\ ->\ "(?:[^"\\]|\\.)*"
          (?:\ \[[a-z]+="(?:[^"\\]|\\.)*"(?:,\ [a-z]+="(?:[^"\\]|\\.)*")*\])?;
      | \s*\}
    )$""",
    re.VERBOSE,
)


def test_dot_is_a_digraph_with_quoted_ids_clusters_and_compound_edges(plan):
    text = plan_dot(plan)
    lines = text.splitlines()
    for line in lines:
        assert DOT_STATEMENT.match(line), line
    assert text.count("{") == text.count("}")
    assert lines[0] == 'digraph "daily-etl" {'
    assert '"odd\\"name";' in text
    assert 'subgraph "cluster_transform" {' in text
    assert '"extract" -> "transform[region=eu,size=s]" [lhead="cluster_transform"];' in text
    assert '"transform[region=eu,size=s]" -> "end" [ltail="cluster_transform"];' in text
    assert '"notify" -> "cleanup";' in text
    assert '"end" -> "notify" [style="dashed"];' in text


def test_dot_parses_with_pydot_when_it_is_installed(plan):
    pytest.importorskip("pydot")
    from networkx.drawing import nx_pydot

    graph = nx_pydot.from_pydot(nx_pydot.pydot.graph_from_dot_data(plan_dot(plan))[0])
    assert graph.has_edge('"extract"', '"transform[region=eu,size=s]"')


def test_renderings_of_a_big_matrix_stay_small():
    plan = plan_of(
        manifest(
            task("a", matrix={"x": list(range(30)), "y": list(range(30))}),
            task("b", needs=["a"], matrix={"z": list(range(30))}),
        )
    )
    edges = [line for line in plan_dot(plan).splitlines() if "->" in line]
    assert edges == ['  "a[x=0,y=0]" -> "b[z=0]" [ltail="cluster_a", lhead="cluster_b"];']
    assert plan_mermaid(plan).count("-->") == 1
