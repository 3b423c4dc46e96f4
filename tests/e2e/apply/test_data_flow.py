"""Params, outputs, matrices and shell-injection safety."""

from __future__ import annotations

import json


def test_outputs_flow_to_later_tasks_in_both_github_formats(ws):
    ws.manifest("""
        produce:
          run: |
            echo "rows=42" >> "$PSR_OUTPUT"
            { echo "notes<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$PSR_OUTPUT"
        py:
          script: |
            from psr_engine import set_output
            set_output("answer", 6 * 7)
        consume:
          needs: [produce, py]
          run: |
            # No double quotes around expressions in run: the engine quotes each value.
            echo ${{ tasks.produce.outputs.rows }} ${{ tasks.py.outputs.answer }} > got.txt
            echo ${{ tasks.produce.outputs.notes }} >> got.txt
    """)
    result = ws.cli("apply")
    assert result.code == 0, result.stdout + result.stderr
    assert (ws.root / "got.txt").read_text() == "42 42\nline one\nline two\n"
    assert result.finished()["produce"]["outputs"] == {"rows": "42", "notes": "line one\nline two"}


def test_hostile_params_stay_inert_in_run_commands(ws):
    ws.manifest(
        """
        echo: {run: "echo ${{ params.name }} > said.txt"}
        """,
        extra="params: {name: {type: string, default: x}}",
    )
    for hostile in [
        "; touch pwned",
        "$(touch pwned)",
        "`touch pwned`",
        "a' ; touch pwned; '",
        "x && touch pwned",
        "x\ntouch pwned",
    ]:
        result = ws.cli("apply", "-p", f"name={hostile}")
        assert result.code == 0, result.stderr
        assert not (ws.root / "pwned").exists(), hostile
        assert (ws.root / "said.txt").read_text() == hostile + "\n"


def test_raw_marks_trusted_shell_text(ws):
    ws.manifest(
        """
        echo: {run: "${{ params.cmd | raw }} > out.txt"}
        """,
        extra="params: {cmd: {type: string, default: 'echo a; echo b'}}",
    )
    assert ws.cli("apply").code == 0
    assert (ws.root / "out.txt").read_text() == "b\n"


def test_params_are_type_checked_before_anything_runs(ws):
    ws.manifest(
        """
        t: {run: "touch ran"}
        """,
        extra="params: {count: {type: integer, default: 1}}",
    )
    result = ws.cli("apply", "-p", "count=many")
    assert result.code == 2
    assert "count" in result.stderr and "Traceback" not in result.stderr
    assert not (ws.root / "ran").exists()
    assert ws.cli("apply", "-p", "nope=1").code == 2


def test_params_file_and_p_merge_with_p_winning(ws):
    ws.manifest(
        """
        t: {run: "echo ${{ params.a }}-${{ params.b }} > out.txt"}
        """,
        extra="params: {a: {type: string, default: x}, b: {type: integer, default: 0}}",
    )
    ws.write("p.yaml", "a: from-file\nb: 1\n")
    assert ws.cli("apply", "--params-file", "p.yaml", "-p", "b=2").code == 0
    assert (ws.root / "out.txt").read_text() == "from-file-2\n"


def test_matrix_include_exclude_names_instances_and_fans_in(ws):
    ws.manifest("""
        build:
          matrix:
            os: [linux, mac]
            py: ["3.11", "3.12"]
            exclude: [{os: mac, py: "3.11"}]
            include: [{os: linux, py: "3.12", extra: yes}, {os: bsd, py: "3.12"}]
          run: echo "${{ matrix.os }}-${{ matrix.py }}" >> built.txt
        collect:
          needs: [build]
          run: echo '${{ tasks.build.results | length }}' > count.txt
    """)
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    instances = {t for t in result.statuses() if t.startswith("build[")}
    assert instances == {
        "build[os=linux,py=3.11]",
        "build[os=linux,py=3.12,extra=yes]",
        "build[os=mac,py=3.12]",
        "build[os=bsd,py=3.12]",
    }
    assert sorted((ws.root / "built.txt").read_text().split()) == [
        "bsd-3.12",
        "linux-3.11",
        "linux-3.12",
        "mac-3.12",
    ]
    assert (ws.root / "count.txt").read_text().strip() == "4"


def test_python_and_script_tasks_use_the_engines_interpreter_and_args(ws):
    ws.write(
        "hello.py",
        """
        import sys
        open("args.json", "w").write(__import__("json").dumps(sys.argv[1:]))
    """,
    )
    ws.manifest(
        """
        py: {python: hello.py, args: ["--date", "${{ params.d }}", "two words"]}
        inline: {script: "import sys; open('exe.txt','w').write(sys.executable)"}
    """,
        extra="params: {d: {type: string, default: '2026-11-25'}}",
    )
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    assert json.loads((ws.root / "args.json").read_text()) == ["--date", "2026-11-25", "two words"]
    assert (ws.root / "exe.txt").read_text()


def test_a_sub_workflow_runs_with_its_params_and_its_events_nest(ws):
    ws.write(
        "child.yaml",
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: child}
        spec:
          params: {who: {type: string, default: nobody}}
          tasks:
            greet: {run: "echo hello ${{ params.who }} > greeting.txt"}
    """,
    )
    ws.manifest("""
        parent: {workflow: child.yaml, with: {who: world}}
        after: {needs: [parent], run: "touch after-ran"}
    """)
    result = ws.cli("apply")
    assert result.code == 0, result.stdout + result.stderr
    assert (ws.root / "greeting.txt").read_text() == "hello world\n"
    statuses = result.statuses()
    assert statuses["parent/greet"] == "succeeded"
    assert statuses["parent"] == statuses["after"] == "succeeded"


def test_cache_skips_a_task_whose_inputs_and_outputs_are_unchanged(ws):
    ws.write("in.txt", "v1\n")
    ws.manifest("""
        build:
          run: |
            echo built >> runs.txt
            tr a-z A-Z < in.txt > out.txt
            echo size=$(wc -c < in.txt) >> "$PSR_OUTPUT"
          cache: {inputs: [in.txt], outputs: [out.txt]}
        use:
          needs: [build]
          run: echo ${{ tasks.build.outputs.size }} >> used.txt
    """)

    def runs() -> int:
        return len((ws.root / "runs.txt").read_text().splitlines())

    first = ws.cli("apply")
    assert first.code == 0, first.stdout + first.stderr
    second = ws.cli("apply")
    assert second.code == 0 and runs() == 1
    event = second.finished()["build"]
    assert (event["status"], event["reason"]) == ("succeeded", "cached")
    assert (ws.root / "used.txt").read_text().split() == ["3", "3"]  # outputs kept
    (ws.root / "in.txt").write_text("v22\n")  # an input changed: run again
    assert ws.cli("apply").code == 0 and runs() == 2
    (ws.root / "out.txt").unlink()  # an output is gone: run again
    assert ws.cli("apply").code == 0 and runs() == 3
