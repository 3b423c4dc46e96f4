"""validate's refusal of values placed where no quoting is safe, at the expression itself."""

from __future__ import annotations

import pytest

from psr_engine.errors import PlanError
from psr_engine.manifest import WorkflowParser
from psr_engine.plan import compile_plan
from psr_engine.units import Resources

HEAD = """\
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: placements}
spec:
  params:
    v: {type: string, default: x}
  tasks:
"""


def diagnostics(tasks: str) -> list:
    manifest = WorkflowParser().parse_yaml(HEAD + tasks, path="wf.yaml")
    with pytest.raises(PlanError) as raised:
        compile_plan(manifest, {"v": "x"}, capacity=Resources(4, 2**32), concurrency=4)
    return raised.value.diagnostics


def test_a_refused_expression_in_a_block_is_reported_at_its_own_line_and_column() -> None:
    [d] = diagnostics(
        '    a:\n      run: |\n        echo start\n        echo $(date) "$(echo ${{ params.v }})"\n'
    )
    assert (d.file, d.line, d.column) == ("wf.yaml", 11, 30)
    assert d.path == "spec.tasks.a.run"
    assert "inside `$(…)`" in d.message
    assert (
        d.hint == 'pass it through env: (env: {V: "${{ params.v }}"}) and write "$V" in the command'
    )


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("      run: eval echo ${{ params.v }}", 22),
        ('      run: "eval echo ${{ params.v }}"', 23),
        ("      run: 'eval echo ${{ params.v }}'", 23),
    ],
)
def test_a_one_line_command_points_at_the_expressions_column(line: str, column: int) -> None:
    [d] = diagnostics("    a:\n" + line + "\n")
    assert (d.line, d.column) == (9, column)
    assert "`eval`" in d.message


def test_a_folded_command_points_at_its_start() -> None:
    [d] = diagnostics("    a:\n      run: >\n        eval\n        echo ${{ params.v }}\n")
    assert (d.line, d.column) == (10, 9)


def test_quoted_and_raw_placements_pass() -> None:
    manifest = WorkflowParser().parse_yaml(
        HEAD
        + "    a:\n"
        + "      run: |\n"
        + "        echo ${{ params.v }} \"${{ params.v }}\" '${{ params.v }}'\n"
        + "        cat <<EOF\n"
        + "        ${{ params.v }}\n"
        + "        EOF\n"
        + "        echo $(echo ${{ params.v | raw }})\n",
        path="wf.yaml",
    )
    compile_plan(manifest, {"v": "x"}, capacity=Resources(4, 2**32), concurrency=4)


def test_a_shell_that_is_not_posix_refuses_quoted_values() -> None:
    [d] = diagnostics("    a:\n      shell: pwsh\n      run: Write-Host ${{ params.v }}\n")
    assert "not a POSIX shell" in d.message
    assert "shell: pwsh" in d.hint
