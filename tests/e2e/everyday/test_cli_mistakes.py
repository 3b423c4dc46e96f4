"""Mistakes and everyday commands that ended in the wrong exit code or did the wrong thing
(issue 16, item 6): each is a message and exit 2, or the documented behaviour."""

from __future__ import annotations


def test_run_passes_the_arguments_after_double_dash_to_the_script(ws):
    ws.write("s.py", "import sys\nprint(sys.argv[1:])\n")
    result = ws.cli("run", "s.py", "--", "a", "b", "--timeout", "-x")
    assert result.code == 0, result.stderr
    assert ws.cli("logs", "last", "s").stdout == "['a', 'b', '--timeout', '-x']\n"
    # Options may still come after the script, before `--`.
    result = ws.cli("run", "s.py", "--timeout", "5s", "--", "c")
    assert result.code == 0, result.stderr
    assert ws.cli("logs", "last", "s").stdout == "['c']\n"


def test_schema_with_an_unknown_name_lists_the_names_and_exits_2(ws):
    result = ws.cli("schema", "--name", "nosuch")
    assert result.code == 2
    assert "no schema named 'nosuch'" in result.stderr and "workflow.v1.json" in result.stderr
    assert "internal error" not in result.stderr


def test_schema_never_prints_a_file_outside_the_schemas_folder(ws):
    result = ws.cli("schema", "--name", "../pyproject.toml")
    assert result.code == 2
    assert result.stdout == ""
    assert "no schema named '../pyproject.toml'" in result.stderr


def test_logs_of_an_attempt_that_never_happened_exits_2(ws):
    ws.manifest(
        """
        count:
          run: echo counted
        """
    )
    assert ws.cli("apply").code == 0
    result = ws.cli("logs", "last", "count", "--attempt", "5")
    assert result.code == 2
    assert "task count has no attempt 5 (it has attempts 1)" in result.stderr
    assert ws.cli("logs", "last", "count", "--attempt", "1").stdout == "counted\n"
