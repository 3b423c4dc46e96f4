"""`psr-engine validate` catches what can be known before a run (issue 16, item 3): a
`python:` script that is not there, a `script:` holding a file name, an output a task does not
declare, a comparison of values whose types differ, and required params, each at its
FILE:LINE:COLUMN; and it counts tasks and instances apart."""

from __future__ import annotations

import json


def test_a_python_script_that_does_not_exist_is_reported_at_its_line(ws):
    ws.manifest(
        """
        load:
          python: scripts/load.py
        """
    )
    result = ws.cli("validate")
    assert result.code == 2
    assert "workflow.yaml:8:7: task 'load': python script 'scripts/load.py' does not exist" in (
        result.stderr
    )
    (ws.root / "scripts").mkdir()
    (ws.root / "scripts/load.py").write_text("print('ok')\n")
    assert ws.cli("validate").code == 0


def test_a_script_field_holding_a_file_name_says_to_use_python(ws):
    ws.manifest(
        """
        load:
          script: load.py
        """
    )
    result = ws.cli("validate")
    assert result.code == 2
    assert "workflow.yaml:8:7:" in result.stderr
    assert "python: load.py" in result.stderr


def test_a_reference_to_an_output_the_task_does_not_declare(ws):
    ws.manifest(
        """
        extract:
          run: echo rows=3 >> "$PSR_OUTPUT"
          outputs: [rows]
        load:
          needs: [extract]
          run: echo ${{ tasks.extract.outputs.row }}
        free:
          run: echo count=1 >> "$PSR_OUTPUT"
        report:
          needs: [free]
          run: echo ${{ tasks.free.outputs.anything }}
        """
    )
    result = ws.cli("validate")
    assert result.code == 2, result.stdout
    assert "workflow.yaml:12:7:" in result.stderr
    assert "task 'extract' declares no output 'row' (did you mean 'rows'?)" in result.stderr
    # A task without `outputs:` may write any: nothing is said of `free`.
    assert "free" not in result.stderr
    assert "invalid (1 problem)" in result.stderr


def test_a_when_comparing_a_number_param_with_text(ws):
    ws.manifest(
        """
        extract:
          run: echo rows=3 >> "$PSR_OUTPUT"
          outputs: [rows]
        load:
          needs: [extract]
          when: params.limit == "3"
          run: echo load
        check:
          needs: [extract]
          when: tasks.extract.outputs.rows > 0
          run: echo check
        fine:
          needs: [extract]
          when: tasks.extract.outputs.rows | int > 0 and params.limit >= 2 and params.mode != 'x'
          run: echo fine
        """,
        extra="""
        params:
          limit: {type: integer, default: 3}
          mode: {type: string, default: fast}
        """,
    )
    result = ws.cli("validate")
    assert result.code == 2, result.stdout
    lines = result.stderr.splitlines()
    limit = next(line for line in lines if "params.limit" in line)
    assert limit.startswith("workflow.yaml:15:7:")
    assert "`params.limit` (a number) with `'3'` (text): they are never equal" in limit
    rows = next(line for line in lines if "outputs.rows > 0" in line)
    assert rows.startswith("workflow.yaml:19:7:") and "always text" in rows
    assert "invalid (2 problems)" in result.stderr  # `fine` converts: nothing said


def test_required_params_are_listed_with_how_to_give_them(ws):
    ws.manifest(
        """
        load:
          run: echo ${{ params.date }} ${{ params.limit }}
        """,
        extra="""
        params:
          date: {type: string}
          limit: {type: integer}
          mode: {type: string, default: fast}
        """,
    )
    result = ws.cli("validate")
    assert result.code == 0, result.stderr
    assert "workflow.yaml: valid (1 task)" in result.stdout
    assert "workflow.yaml:7:5: param 'date' (string) has no default" in result.stdout
    assert "-p date=VALUE" in result.stdout and "--params-file" in result.stdout
    assert "-p limit=3" in result.stdout
    assert "mode" not in result.stdout
    given = ws.cli("validate", "-p", "date=2026-01-01", "-o", "json")
    data = json.loads(given.stdout)["files"][0]
    assert [r["path"] for r in data["requiredParams"]] == ["spec.params.limit"]


def test_valid_counts_tasks_and_instances_apart(ws):
    ws.manifest(
        """
        extract:
          run: echo x
        transform:
          needs: [extract]
          matrix: {region: [eu, us, ap]}
          run: echo ${{ matrix.region }}
        """
    )
    result = ws.cli("validate")
    assert "workflow.yaml: valid (2 tasks, 4 instances)" in result.stdout
    data = json.loads(ws.cli("validate", "-o", "json").stdout)["files"][0]
    assert (data["tasks"], data["instances"]) == (2, 4)


def test_a_params_file_gives_required_params_and_its_values_are_checked(ws):
    ws.manifest(
        """
        load:
          run: echo ${{ params.date }} ${{ params.limit }}
        """,
        extra="""
        params:
          date: {type: string}
          limit: {type: integer}
        """,
    )
    ws.write("params.yaml", "date: 2026-01-01\n")
    result = ws.cli("validate", "--params-file", "params.yaml")
    assert result.code == 0, result.stderr
    assert "'date'" not in result.stdout and "param 'limit' (integer)" in result.stdout
    ws.write("bad.yaml", "limit: many\n")
    bad = ws.cli("validate", "--params-file", "bad.yaml")
    assert bad.code == 2 and "bad.yaml:1:" in bad.stderr and "expected an integer" in bad.stderr
