"""Doors between one thing and another that an attacker tried to push open (issue 13, item 4,
item 11 and the `init` lows): instances that share a file, gates that leave their folder,
control characters that forge console lines, `init` writing outside its target.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from leaks import psr

HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\n"


def _manifest(root: Path, body: str, name: str = "workflow.yaml") -> Path:
    path = root / name
    path.write_text(HEADER + textwrap.dedent(body).lstrip())
    return path


# -- item 4: every instance has its own log and $PSR_OUTPUT ----------------------------------

COLLIDING = ["Zürich", "Zárich", "São Paulo", "São_Paulo", "a b", "a/b", "a_b"]


def test_instances_whose_names_sanitise_alike_keep_their_own_logs_and_outputs(
    tmp_path: Path,
) -> None:
    """Before: `Zürich` and `Zárich` (and the others) shared `echo_city=Z_rich_.1.log` and one
    `$PSR_OUTPUT` file; one instance got the other's output, two got none, and the logs
    overwrote each other."""
    cities = json.dumps(COLLIDING, ensure_ascii=False)
    _manifest(
        tmp_path,
        f"""
        metadata: {{name: collide}}
        spec:
          tasks:
            echo:
              matrix: {{city: {cities}}}
              env: {{CITY: "${{{{ matrix.city }}}}"}}
              run: |
                sleep 0.2
                echo "log of <$CITY>"
                echo "seen=$CITY" >> "$PSR_OUTPUT"
        """,
    )
    applied = psr(tmp_path, "apply")
    assert applied.code == 0, applied.stderr
    tasks = json.loads(psr(tmp_path, "status", "last", "-o", "json").stdout)["tasks"]
    seen = {t["matrix"]["city"]: t["outputs"].get("seen") for t in tasks.values()}
    assert seen == {city: city for city in COLLIDING}
    for city in COLLIDING:
        logs = psr(tmp_path, "logs", "last", f"echo[city={city}]")
        assert logs.stdout == f"log of <{city}>\n", (city, logs.stdout, logs.stderr)
    names = [p.name for p in (tmp_path / ".psr" / "runs").glob("*/*.log")]
    assert len(names) == len(set(names)) == len(COLLIDING)


def test_logs_of_runs_recorded_under_the_old_names_stay_readable(tmp_path: Path) -> None:
    """`logs` reads the path the history recorded, so a run recorded before the names changed
    (`echo_city=S_o_Paulo_.1.log`) still prints its log."""
    import sqlite3

    _manifest(
        tmp_path,
        """
        metadata: {name: old}
        spec:
          tasks:
            echo: {matrix: {city: [São Paulo]}, run: echo "from the old days"}
        """,
    )
    assert psr(tmp_path, "apply").code == 0
    (new,) = (tmp_path / ".psr" / "runs").glob("*/*.log")
    old = new.with_name("echo_city=S_o_Paulo_.1.log")  # the name before issue 13 item 4
    new.rename(old)
    with sqlite3.connect(tmp_path / ".psr" / "runs.db") as db:
        for table in ("tasks", "attempts"):
            db.execute(f"UPDATE {table} SET log_path = ?", (str(old),))
    logs = psr(tmp_path, "logs", "last", "echo[city=São Paulo]")
    assert logs.stdout == "from the old days\n", logs.stderr


def test_a_child_task_named_like_a_parent_task_keeps_its_own_log_and_outputs(
    tmp_path: Path,
) -> None:
    """Before: the child's `work` wrote the parent's `work.1.log` and `work.1.out`."""
    _manifest(
        tmp_path,
        """
        metadata: {name: child}
        spec:
          tasks:
            work:
              run: |
                sleep 0.3
                echo "child log"
                echo "who=child" >> "$PSR_OUTPUT"
        """,
        "child.yaml",
    )
    _manifest(
        tmp_path,
        """
        metadata: {name: parent}
        spec:
          tasks:
            work:
              run: |
                sleep 0.3
                echo "parent log"
                echo "who=parent" >> "$PSR_OUTPUT"
            sub: {workflow: child.yaml}
            after:
              needs: [work, sub]
              run: echo "got ${{ tasks.work.outputs.who }}"
        """,
    )
    applied = psr(tmp_path, "apply")
    assert applied.code == 0, applied.stderr
    tasks = json.loads(psr(tmp_path, "status", "last", "-o", "json").stdout)["tasks"]
    assert tasks["work"]["outputs"] == {"who": "parent"}
    assert psr(tmp_path, "logs", "last", "work").stdout == "parent log\n"
    assert psr(tmp_path, "logs", "last", "sub/work").stdout == "child log\n"


# -- item 11: gates never leave the scanned folder -------------------------------------------

OUTSIDE_PASSWORD = "Sup3rS3cretOutside"


def _project_with_links_out(tmp_path: Path) -> Path:
    """A project whose files link to a folder beside it holding code, a key and a shadow file."""
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.py").write_text(
        f'import subprocess\npassword = "{OUTSIDE_PASSWORD}"\n'
        'subprocess.call("ls " + password, shell=True)\n'
        'AWS_KEY = "AKIAQWERTYUIOPASDFGHJ"\n'
    )
    (outside / "shadow").write_text(f"root:$6${OUTSIDE_PASSWORD}:19000:0:99999:7:::\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "ok.py").write_text("x = 1\n")
    os.symlink("../outside/creds.py", project / "link.py")
    os.symlink("../outside", project / "dirlink")
    os.symlink("../outside/shadow", project / "requirements-prod.txt")
    (project / "requirements.txt").write_text("idna==3.7\n")
    (tmp_path / "osv").mkdir()
    return project


@pytest.mark.parametrize(
    "kind, extra",
    [
        ("code", ["--tool", "bandit"]),
        ("secrets", []),
        ("deps", ["--osv-db", "../osv"]),
    ],
)
def test_gates_do_not_follow_links_out_of_the_scanned_folder(
    tmp_path: Path, kind: str, extra: list[str]
) -> None:
    """Before: bandit followed `link.py` and printed the password found outside; the deps scan
    read `requirements-prod.txt -> ../outside/shadow` and `-r ../outside/shadow` and printed
    its lines as invalid requirements. The links are now named as skipped."""
    project = _project_with_links_out(tmp_path)
    ran = psr(project, "scan", kind, *extra)
    console = ran.stdout + ran.stderr
    assert OUTSIDE_PASSWORD not in console, console
    assert "outside/creds.py" not in console and "AKIA" not in console
    if kind == "deps":
        assert ran.code == 0, console
        assert "symbolic link not followed by the dependency scan" in console
        assert "requirements-prod.txt" in console
    else:
        assert ran.code == 0, console
        assert f"symbolic links not followed by the {kind.rstrip('s')}" in console
        assert "dirlink" in console and "link.py" in console


def test_a_requirements_include_cannot_leave_the_scanned_folder(tmp_path: Path) -> None:
    """Before: `-r ../outside/shadow` was read and its lines printed as invalid requirements."""
    project = _project_with_links_out(tmp_path)
    (project / "requirements.txt").write_text("idna==3.7\n-r ../outside/shadow\n")
    ran = psr(project, "scan", "deps", "--osv-db", "../osv")
    console = ran.stdout + ran.stderr
    assert ran.code == 2, console
    assert OUTSIDE_PASSWORD not in console
    assert "requirements.txt:2:" in console and "leaves the scanned folder" in console


# -- item 11: control characters never reach a console line raw ------------------------------

FORGED = "evil\n\x1b[2J\x1b]0;pwned\x07✓ deploy succeeded\u202e"


def _no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, text
    assert not any(line.lstrip().startswith("✓ deploy") for line in text.splitlines()), text


def test_params_and_ids_with_control_characters_are_escaped_on_every_console(
    tmp_path: Path,
) -> None:
    """Before: the param's newline split the task's line and its ESC sequences cleared the
    screen and set the terminal's title, in apply, status, plan, logs and validate."""
    _manifest(
        tmp_path,
        """
        metadata: {name: forged}
        spec:
          params: {x: {type: string, default: a}}
          tasks:
            t:
              matrix: {v: "${{ [params.x] }}"}
              run: "false"
        """,
    )
    given = f"x={FORGED}"
    applied = psr(tmp_path, "apply", "-p", given)
    assert applied.code == 1, applied.stderr
    assert "t[v=evil\\n\\x1b[2J\\x1b]0;pwned\\x07✓ deploy succeeded\\u202e]" in applied.stdout
    for ran in (
        applied,
        psr(tmp_path, "status", "last"),
        psr(tmp_path, "plan", "-p", given),
        psr(tmp_path, "apply", "--dry-run", "-p", given),
        psr(tmp_path, "logs", "last"),
    ):
        _no_raw_controls(ran.stdout + ran.stderr)
    (tmp_path / "bad.yaml").write_text(
        HEADER
        + "metadata: {name: bad}\nspec: {tasks: {t: {run: 'true', when: '${{ params.nope }}'}}}\n"
    )
    _no_raw_controls(psr(tmp_path, "validate", "bad.yaml", "-p", given).stderr)


def test_file_names_with_control_characters_cannot_forge_rows_of_a_scan_table(
    tmp_path: Path,
) -> None:
    """Before: a file named `x\\nhigh  bandit ...` added a row to `scan`'s table."""
    name = "cfg\ncritical  psr-secrets  forged-rule  fake.env:1  \x1b[31mFORGED\x1b[0m.env"
    (tmp_path / name).write_text("token = ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n")
    ran = psr(tmp_path, "scan", "secrets")
    assert ran.code != 0, ran.stdout + ran.stderr  # the token is found
    _no_raw_controls(ran.stdout + ran.stderr)
    assert not any(
        line.startswith("critical  psr-secrets  forged-rule") for line in ran.stdout.splitlines()
    )
    assert "\\x1b[0m.env:1" in ran.stdout


# -- init: never through a link, never a traceback -------------------------------------------


def test_init_does_not_write_through_links_out_of_the_target_folder(tmp_path: Path) -> None:
    """Before: `init` followed `workflow.yaml -> ../outside/bashrc` (created it, or with --force
    overwrote it) and wrote a template's scripts into a folder `scripts -> ../outside`."""
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    plain = tmp_path / "plain"
    plain.mkdir()
    os.symlink("../outside/bashrc", plain / "workflow.yaml")  # points at nothing yet
    for extra in ([], ["--force"]):
        ran = psr(tmp_path, "init", "plain", *extra)
        assert ran.code == 2, ran.stderr
        assert not (outside / "bashrc").exists()
    assert "symbolic link" in ran.stderr and "Traceback" not in ran.stderr
    templated = tmp_path / "templated"
    templated.mkdir()
    os.symlink("../outside", templated / "scripts")
    ran = psr(tmp_path, "init", "-t", "etl-pipeline", "templated", "--force")
    assert ran.code == 2, ran.stderr
    assert "'scripts' is a symbolic link" in ran.stderr
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in templated.iterdir()) == ["scripts"]  # nothing half-written


@pytest.mark.parametrize("template", [[], ["-t", "etl-pipeline"]], ids=["minimal", "template"])
def test_init_into_a_folder_that_cannot_be_written_exits_2(
    tmp_path: Path, template: list[str]
) -> None:
    """Before: `init /proc/x` ended in FileNotFoundError, exit 70."""
    ran = psr(tmp_path, "init", *template, "/proc/x")
    assert ran.code == 2, ran.stderr
    assert "/proc/x: cannot write there: No such file or directory" in ran.stderr
    assert "internal error" not in ran.stderr


# -- reports with odd instance ids -----------------------------------------------------------

ODD = [
    "q\"uote's",
    "sl/ash",
    "new\nline",
    "new line",
    "Zürich <&>",
    "pipe|cell",
    "]]>",
    "\x1b[31mred",
    "x" * 3000,
    "ctl\x01\x02",
    "back`tick",
]


def test_reports_hold_every_odd_instance_id(tmp_path: Path) -> None:
    """Before: an ESC in an id made junit.xml unparsable (not XML), a newline split the
    summary's row and the attribute made `new\\nline` and `new line` one name."""
    import xml.etree.ElementTree as ET

    _manifest(
        tmp_path,
        """
        metadata: {name: odd}
        spec:
          params: {vals: {type: array, default: ["a"]}}
          tasks:
            t:
              matrix: {v: "${{ params.vals }}"}
              env: {V: "${{ matrix.v }}"}
              run: echo "line for $V"; exit 1
        """,
    )
    ran = psr(
        tmp_path,
        "apply", "-q", "-p", f"vals={json.dumps(ODD)}",
        "--junit", "junit.xml", "--summary-md", "summary.md",
    )  # fmt: skip
    assert ran.code == 1, ran.stderr
    cases = ET.parse(tmp_path / "junit.xml").getroot().findall(".//testcase")
    names = {case.get("name") for case in cases}
    assert len(names) == len(ODD)
    assert "t[v=new\\nline]" in names and "t[v=\\x1b[31mred]" in names
    summary = (tmp_path / "summary.md").read_text()
    rows = [line for line in summary.splitlines() if line.startswith("| `")]
    assert len(rows) == len(ODD)
    assert all(line.count(" | ") == 4 for line in rows), rows
    assert "\x1b" not in summary.split("### Failures")[0]
    assert "| ``t[v=back`tick]`` |" in summary
