"""YAML traps get a hint (issue 16, item 5): a `: ` inside a plain value, and wrong
indentation, each ONE message at its line and column saying what to do."""

from __future__ import annotations

HEAD = "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: y}\nspec:\n  tasks:\n"


def validate(ws, tasks: str):
    ws.write("workflow.yaml", HEAD + tasks)
    result = ws.cli("validate")
    assert result.code == 2 and "Traceback" not in result.stderr
    return result.stderr


def test_a_colon_space_inside_a_plain_value_says_quote_it_or_use_a_block_scalar(ws):
    err = validate(ws, '    call:\n      run: curl -H "X-Token: abc" http://x\n')
    assert err.startswith("workflow.yaml:7:28: `: ` inside the value of `run` (column 28)")
    assert "quote this value, or use a block scalar `run: |`" in err
    assert "invalid (1 problem)" in err


def test_fields_dedented_to_the_task_name_level_get_one_indentation_message(ws):
    err = validate(ws, "    call:\n    run: echo hi\n    needs: []\n    timeout: 5m\n")
    assert err.count("workflow.yaml:") == 2, err  # the problem and the summary line
    assert err.startswith("workflow.yaml:7:5: indentation: `run:`, `needs:`, `timeout:`")
    assert "as fields of task 'call' they go at column 7" in err
    assert "invalid (1 problem)" in err


def test_a_key_one_space_too_far_says_indentation_and_the_expected_column(ws):
    err = validate(ws, "    call:\n      run: echo hi\n       timeout: 5m\n")
    assert err.startswith("workflow.yaml:8:8: indentation: `timeout:` is at column 8")
    assert "expected column 7" in err
    assert "invalid (1 problem)" in err


def test_a_key_one_space_short_says_indentation_and_the_expected_column(ws):
    err = validate(ws, "    call:\n      run: echo hi\n     timeout: 5m\n")
    assert err.startswith("workflow.yaml:8:6: indentation: `timeout` is at column 6")
    assert "expected column 7" in err
    assert "invalid (1 problem)" in err


def test_other_problems_are_still_reported_beside_an_indentation_one(ws):
    err = validate(
        ws,
        "    first:\n      run: echo 1\n    call:\n    run: echo hi\n"
        "    other:\n      run: echo 2\n      retires: 3\n",
    )
    assert "workflow.yaml:9:5: indentation: `run:` (line 9)" in err
    assert "unknown field 'retires'" in err
    assert "invalid (2 problems)" in err
