"""The injection matrix: hostile values through every placement, in real `psr-engine apply` runs.

Every payload goes through every placement that accepts it; each case must (a) create no canary
file anywhere under the work folder and (b) deliver the exact value, compared as bytes in a file
the task writes. Placements where no quoting is safe must be refused by `psr-engine validate`
(and `apply`) with exit 2 at the expression's line and column, before anything runs.

All placements of the accepted side run in one apply (a matrix over the payloads per placement),
so the whole matrix costs one engine start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

PAYLOADS: list[tuple[str, str]] = [
    ("cmdsub", "$(touch PWNED_cmdsub)"),
    ("backticks", "`touch PWNED_bt`"),
    ("semicolon", "; touch PWNED_semi"),
    ("newline", "x\ntouch PWNED_nl"),
    ("ifs", "${IFS}touch${IFS}PWNED_ifs"),
    ("single-quote-breakout", "a' ; touch PWNED_sq ; '"),
    ("double-quote-breakout", 'a" ; touch PWNED_dq ; "'),
    ("expression", "${{ 6 * 7 }}"),
    ("jinja", "{{ 6 * 7 }}"),
    ("bang", "a!b !! !$"),
    ("backslashes", "\\a\\\\b\\$HOME\\`"),
    ("backtick", "`"),
    ("unicode", "Zürich ☃ 日本 ẞ"),
    ("spaces", "  two  spaces  "),
    ("empty", ""),
    ("trailing-backslash", "end\\"),
    ("dollar", "$HOME ${HOME} $1 $$"),
    ("quotes", "'\"'\"'"),
    ("heredoc-breaker", "x\nEOF\ntouch PWNED_eof"),
]
VALUES = [value for _, value in PAYLOADS]
P = "${{ params.payloads[matrix.i] }}"
EACH = "matrix:\n  i: ${{ range(params.payloads | length) | list }}"


def _breaks_heredoc(value: str) -> bool:
    return "EOF" in value.split("\n")


# placement -> (task yaml, expected file content for a value: None = the task must fail)
PLACEMENTS: dict[str, tuple[str, object]] = {
    "bare": (f"run: printf '%s' {P} > out/bare.${{{{ matrix.i }}}}", lambda v: v),
    "double": (f"run: printf '%s' \"{P}\" > out/double.${{{{ matrix.i }}}}", lambda v: v),
    "double-text": (
        f"run: printf '%s' \"<{P}>\" > out/double-text.${{{{ matrix.i }}}}",
        lambda v: f"<{v}>",
    ),
    "single": (f"run: printf '%s' '{P}' > out/single.${{{{ matrix.i }}}}", lambda v: v),
    "single-text": (
        f"run: printf '%s' '<{P}>' > out/single-text.${{{{ matrix.i }}}}",
        lambda v: f"<{v}>",
    ),
    "mixed": (
        f"run: printf '%s' \"a'{P}'b\" > out/mixed.${{{{ matrix.i }}}}",
        lambda v: f"a'{v}'b",
    ),
    "mixed-single": (
        f"run: printf '%s' 'a\"{P}\"b' > out/mixed-single.${{{{ matrix.i }}}}",
        lambda v: f'a"{v}"b',
    ),
    "heredoc": (
        f"run: |\n  cat > out/heredoc.${{{{ matrix.i }}}} <<EOF\n  {P}\n  EOF",
        lambda v: None if _breaks_heredoc(v) else v + "\n",
    ),
    "heredoc-quoted": (
        f"run: |\n  cat > out/heredoc-quoted.${{{{ matrix.i }}}} <<'EOF'\n  {P}\n  EOF",
        lambda v: None if _breaks_heredoc(v) else v + "\n",
    ),
    "env": (
        f'env: {{V: "{P}"}}\nrun: printf \'%s\' "$V" > out/env.${{{{ matrix.i }}}}',
        lambda v: v,
    ),
    "args": (
        f'python: write.py\nargs: ["out/args.${{{{ matrix.i }}}}", "{P}"]',
        lambda v: v,
    ),
    "when": (
        "when: ${{ params.payloads[matrix.i] ~ '' == params.copies[matrix.i] }}\n"
        "run: printf ran > out/when.${{ matrix.i }}",
        lambda v: "ran",
    ),
}
OUTPUT = "${{ tasks.emit.outputs['v' ~ matrix.i] }}"
DOWNSTREAM: dict[str, tuple[str, object]] = {
    "output-bare": (f"run: printf '%s' {OUTPUT} > out/output-bare.${{{{ matrix.i }}}}", None),
    "output-double": (
        f"run: printf '%s' \"{OUTPUT}\" > out/output-double.${{{{ matrix.i }}}}",
        None,
    ),
    "output-heredoc": (
        f"run: |\n  cat > out/output-heredoc.${{{{ matrix.i }}}} <<EOF\n  {OUTPUT}\n  EOF",
        "heredoc",
    ),
}
CHILD = """\
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: child}
spec:
  params:
    v: {type: string}
    i: {type: integer}
  tasks:
    bare:
      run: printf '%s' ${{ params.v }} > out/sub-bare.${{ params.i }}
    double:
      run: printf '%s' "${{ params.v }}" > out/sub-double.${{ params.i }}
    single:
      run: printf '%s' '${{ params.v }}' > out/sub-single.${{ params.i }}
"""
WRITE = "import sys\nopen(sys.argv[1], 'w', encoding='utf-8', newline='').write(sys.argv[2])\n"
EMIT = (
    "import json, os\nfrom psr_engine import set_output\n"
    "for i, v in enumerate(json.loads(os.environ['PAYLOADS'])):\n    set_output(f'v{i}', v)\n"
)


def _task(name: str, body: str, *, matrix: str = EACH, needs: str = "") -> str:
    lines = [f"{name}:"]
    if needs:
        lines.append(f"  needs: [{needs}]")
    lines.append(textwrap.indent(matrix, "  "))
    lines.append(textwrap.indent(body, "  "))
    return "\n".join(lines)


def _manifest() -> str:
    tasks = [_task(name, body) for name, (body, _) in PLACEMENTS.items()]
    outputs = ", ".join(f"v{i}" for i in range(len(PAYLOADS)))
    emit_body = (
        'env: {PAYLOADS: "${{ params.payloads | tojson }}"}\n'
        f"outputs: [{outputs}]\nscript: |\n" + textwrap.indent(EMIT, "  ")
    )
    tasks.append(_task("emit", emit_body, matrix=""))
    tasks += [_task(name, body, needs="emit") for name, (body, _) in DOWNSTREAM.items()]
    tasks.append(
        _task(
            "matrix-values",
            "run: |\n"
            "  n=${{ params.payloads.index(matrix.v) }}\n"
            "  printf '%s' \"${{ matrix.v }}\" > out/matrix-double.$n\n"
            "  printf '%s' ${{ matrix.v }} > out/matrix-bare.$n",
            matrix="matrix:\n  v: ${{ params.payloads }}",
        )
    )
    tasks.append(
        _task(
            "sub",
            "workflow: child.yaml\n"
            'with: {v: "${{ params.payloads[matrix.i] }}", i: "${{ matrix.i }}"}',
        )
    )
    body = textwrap.indent("\n".join(tasks), "    ")
    return (
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: injection}\nspec:\n"
        "  concurrency: 8\n"
        "  params:\n"
        "    payloads: {type: array, items: {type: string}}\n"
        "    copies: {type: array, items: {type: string}}\n"
        "  tasks:\n" + body + "\n"
    )


def _psr(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "psr_engine", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _canaries(root: Path) -> list[str]:
    """Files a payload's `touch PWNED_…` made, anywhere under the work folder (log files named
    after matrix instances hold the word too, but do not start with it)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("PWNED*"))


def test_every_payload_arrives_exactly_through_every_accepted_placement(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "workflow.yaml").write_text(_manifest())
    (tmp_path / "child.yaml").write_text(CHILD)
    (tmp_path / "write.py").write_text(WRITE)
    (tmp_path / "params.json").write_text(json.dumps({"payloads": VALUES, "copies": VALUES}))

    done = _psr(
        tmp_path,
        "apply",
        "workflow.yaml",
        "--params-file",
        "params.json",
        "--events-jsonl",
        "events.jsonl",
        "-q",
    )

    assert _canaries(tmp_path) == [], done.stdout + done.stderr
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines() if x]
    finished = {e["task"]: e for e in events if e["type"] == "task.finished"}
    wrong: list[str] = []

    def expect(placement: str, index: int, want: str | None) -> None:
        name = PAYLOADS[index][0]
        path = tmp_path / "out" / f"{placement}.{index}"
        if want is None:
            task = next(t for t in finished if t.startswith(placement) and f"i={index}]" in t)
            if finished[task]["status"] != "failed" or path.exists():
                wrong.append(f"{placement} × {name}: should have failed the task")
            return
        if not path.exists():
            wrong.append(f"{placement} × {name}: no output file")
        elif path.read_bytes() != want.encode():
            wrong.append(f"{placement} × {name}: {path.read_bytes()!r} != {want.encode()!r}")

    for i, value in enumerate(VALUES):
        for placement, (_, want) in PLACEMENTS.items():
            expect(placement, i, want(value))  # type: ignore[operator]
        for placement, (_, kind) in DOWNSTREAM.items():
            heredoc = kind == "heredoc"
            expect(
                placement,
                i,
                None
                if heredoc and _breaks_heredoc(value)
                else (value + "\n" if heredoc else value),
            )
        for placement in ("matrix-double", "matrix-bare", "sub-bare", "sub-double", "sub-single"):
            expect(placement, i, value)
    assert not wrong, "\n".join(wrong) + "\n" + done.stdout[-3000:] + done.stderr[-3000:]


REFUSED = {
    "cmdsub": "echo $(echo ${{ params.v }})",
    "cmdsub-in-double": 'echo "$(echo "${{ params.v }}")"',
    "backticks": "echo `echo ${{ params.v }}`",
    "parameter": "echo ${x:-${{ params.v }}}",
    "arithmetic": "echo $(( ${{ params.v }} + 1 ))",
    "arithmetic-command": "(( n = ${{ params.v }} ))",
    "comment": "true # ${{ params.v }}",
    "eval": "eval echo ${{ params.v }}",
    "bash-c": 'bash -c "echo ${{ params.v }}"',
    "sh-c": "sh -c 'echo ${{ params.v }}'",
    "python-c": "python3 -c \"print('${{ params.v }}')\"",
    "conditional-arithmetic": "[[ 1 -eq ${{ params.v }} ]]",
    "after-name": 'echo "$HOME${{ params.v }}"',
    "after-backslash": "echo \\${{ params.v }}",
    "after-dollar": "echo $${{ params.v }}",
    "subscript": "a[${{ params.v }}]=1",
    "read": "read ${{ params.v }} < /dev/null",
}


def test_placements_no_quoting_makes_safe_are_refused_at_validate_with_their_position(
    tmp_path: Path,
) -> None:
    lines = [
        "apiVersion: psr-engine/v1",
        "kind: Workflow",
        "metadata: {name: refused}",
        "spec:",
        "  params:",
        "    v: {type: string, default: '$(touch PWNED_validate)'}",
        "  tasks:",
    ]
    expected: dict[str, tuple[int, int]] = {}
    for name, command in REFUSED.items():
        lines.append(f"    {name}:")
        lines.append("      run: |")
        lines.append("        true")
        lines.append(f"        {command}")
        expected[name] = (len(lines), 9 + command.index("${{"))
    lines += ["    pwsh:", "      shell: pwsh", "      run: Write-Host ${{ params.v }}"]
    expected["pwsh"] = (len(lines), 12 + len("Write-Host "))
    (tmp_path / "workflow.yaml").write_text("\n".join(lines) + "\n")

    for command in ("validate", "apply"):
        done = _psr(tmp_path, command, "workflow.yaml")
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        found = {
            (int(m.group(1)), int(m.group(2)))
            for m in re.finditer(
                r"workflow\.yaml:(\d+):(\d+): \$\{\{ params\.v \}\} cannot be "
                r"quoted safely here",
                done.stderr,
            )
        }
        missing = {k: v for k, v in expected.items() if v not in found}
        assert not missing, (missing, done.stderr)
        assert 'pass it through env: (env: {V: "${{ params.v }}"}) and write "$V"' in done.stderr
    assert _canaries(tmp_path) == []
    assert not (tmp_path / ".psr" / "runs").exists() or not any(
        (tmp_path / ".psr" / "runs").iterdir()
    )


def test_a_shell_that_is_not_posix_gets_no_value_spliced_into_its_code(tmp_path: Path) -> None:
    """shell: python3 ran `python3 -c` on the command with a shlex-quoted value in it: Python
    code from a param. Such shells take values through env: only (or `| raw`)."""
    (tmp_path / "workflow.yaml").write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: py}\nspec:\n"
        "  params:\n    v: {type: string}\n  tasks:\n    a:\n      shell: python3\n"
        "      run: print(${{ params.v }})\n"
    )
    payload = "__import__('os').system('touch PWNED_python')"
    for command in ("validate", "apply"):
        done = _psr(tmp_path, command, "workflow.yaml", "-p", f"v={payload}")
        assert done.returncode == 2, done.stdout + done.stderr
        assert "workflow.yaml:10:18: ${{ params.v }} cannot be quoted safely here" in done.stderr
    assert _canaries(tmp_path) == []
