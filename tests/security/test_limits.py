"""Sizes and depths an attacker drove past what the engine could take (issue 13, item 10):
each is refused with a clear message (exit 2), never a crash, a MemoryError or a hang.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from leaks import psr

HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\n"


def _manifest(root: Path, body: str, name: str = "workflow.yaml") -> Path:
    path = root / name
    path.write_text(HEADER + textwrap.dedent(body).lstrip())
    return path


# -- nesting while parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("a: " + "[" * 30_000 + "\n", id="30KB-of-open-brackets"),
        pytest.param("a: " + "[" * 500 + "]" * 500 + "\n", id="closed-brackets"),
        pytest.param("a: " + "{b: " * 300 + "}" * 300 + "\n", id="flow-mappings"),
        pytest.param(
            "a:\n" + "".join("  " * (i + 1) + "b:\n" for i in range(300)), id="block-mappings"
        ),
    ],
)
def test_a_document_nested_hundreds_deep_is_refused_while_parsing(
    tmp_path: Path, document: str
) -> None:
    """Before: 30 KB of `[` killed the engine with SIGSEGV (exit 139) in ruamel's C composer."""
    (tmp_path / "workflow.yaml").write_text(document)
    ran = psr(tmp_path, "validate")
    assert ran.code == 2, ran.stderr
    assert "nested more than 100 levels deep" in ran.stderr
    assert "workflow.yaml:" in ran.stderr and "Traceback" not in ran.stderr


# -- matrix sizes ----------------------------------------------------------------------------

PARAM_MATRIX = """
metadata: {name: big}
spec:
  params: {n: {type: integer, default: 2}}
  tasks:
    t:
      matrix:
        a: "${{ range(params.n) | list }}"
        b: "${{ range(params.n) | list }}"
        c: "${{ range(params.n) | list }}"
      run: echo ${{ matrix.a }}
"""


def test_a_param_driven_matrix_is_refused_beyond_the_per_task_limit(tmp_path: Path) -> None:
    """Before: `-p n=2000` expanded 8e9 combinations: MemoryError, exit 70."""
    _manifest(tmp_path, PARAM_MATRIX)
    ran = psr(tmp_path, "validate", "-p", "n=2000")
    assert ran.code == 2, ran.stderr
    assert "8,000,000,000 combinations" in ran.stderr
    assert "spec.limits.matrixInstances (10,000)" in ran.stderr
    assert psr(tmp_path, "validate", "-p", "n=3").code == 0


def test_the_plan_and_matrix_limits_are_configurable(tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        """
        metadata: {name: limited}
        spec:
          limits: {matrixInstances: 4, instances: 6}
          tasks:
            one: {matrix: {x: [1, 2, 3, 4]}, run: "true"}
            three: {matrix: {x: [1, 2, 3, 4, 5]}, run: "true"}
            two: {matrix: {x: [1, 2, 3]}, run: "true"}
        """,
    )
    ran = psr(tmp_path, "validate")
    assert ran.code == 2, ran.stderr
    assert "task 'three' has 5 combinations" in ran.stderr
    assert "more than 6 task instances (spec.limits.instances)" in ran.stderr
    assert "workflow.yaml:5:" in ran.stderr  # at spec.limits.instances


def test_expressions_cannot_build_huge_values(tmp_path: Path) -> None:
    """Before: `[0] * params.n` took all memory (MemoryError, or the OOM killer)."""
    _manifest(
        tmp_path,
        """
        metadata: {name: huge}
        spec:
          params: {n: {type: integer, default: 2}}
          tasks:
            t: {matrix: {a: "${{ [0] * params.n }}"}, run: "true"}
        """,
    )
    ran = psr(tmp_path, "validate", "-p", "n=1000000000")
    assert ran.code == 2, ran.stderr
    assert "`*` would build 1,000,000,000 items" in ran.stderr
