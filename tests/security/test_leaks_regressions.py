"""One regression test per secrets hole of issue 13, each failing on base-5ed0cca.

The full scan (test_leaks.py) looks everywhere at once; these pin each door separately, so
that a failure names the promise it breaks.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import textwrap
from pathlib import Path

import pytest
from leaks import Ran, leaks_in, leaks_under, psr

from psr_engine.executors.output_lines import MAX_LINE
from psr_engine.run.outputs import parse_outputs
from psr_engine.secrets.masker import Masker

SECRET = "Tr1cky-S3cret/Value+42="
HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\n"


def _manifest(root: Path, body: str, name: str = "workflow.yaml") -> Path:
    path = root / name
    path.write_text(HEADER + textwrap.dedent(body).lstrip())
    return path


# -- High 2: masking is per run tree ---------------------------------------------------------


def test_a_parent_secret_passed_through_with_is_masked_in_the_child(tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        """
        metadata: {name: child}
        spec:
          params: {token: {type: string}}
          tasks:
            echo:
              env: {T: "${{ params.token }}"}
              run: |
                echo "child sees $T"
                printf %s "$T" | base32
                exit 1
        """,
        "child.yaml",
    )
    _manifest(
        tmp_path,
        """
        metadata: {name: parent}
        spec:
          secrets: {API: {provider: env, name: REG_TOKEN}}
          sinks:
            - {type: junit, path: junit.xml}
            - {type: summary, path: summary.md}
          tasks:
            sub: {workflow: child.yaml, with: {token: "${{ secrets.API }}"}}
        """,
    )
    applied = psr(tmp_path, "apply", env={"REG_TOKEN": SECRET})
    logs = psr(tmp_path, "logs", "last", "sub/echo")
    assert applied.code == 1, applied.stderr
    assert "child sees ***" in logs.stdout
    assert leaks_under(tmp_path, SECRET) == {}
    assert leaks_in(logs.console + applied.console, SECRET) == []


# -- High 3: least privilege -----------------------------------------------------------------


def test_no_task_inherits_a_secret_from_the_engine_environment(tmp_path: Path) -> None:
    """The env provider's variable and a variable named like the secret reach no task, child
    workflows included; a task granted the secret by a shell reference gets it by name."""
    (tmp_path / "probe.py").write_text(
        "import os, sys\n"
        "seen = sorted(k for k in os.environ if k in ('REG_TOKEN', 'API', 'OTHER'))\n"
        "open(sys.argv[1], 'w').write(repr(seen))\n"
    )
    _manifest(
        tmp_path,
        """
        metadata: {name: child}
        spec:
          tasks:
            probe: {run: python3 probe.py child.txt}
        """,
        "child.yaml",
    )
    _manifest(
        tmp_path,
        f"""
        metadata: {{name: parent}}
        spec:
          secrets:
            API: {{provider: env, name: REG_TOKEN}}
            OTHER: {{provider: env, name: OTHER}}
          tasks:
            granted: {{run: 'test "$API" = "{SECRET}" && echo yes > granted.txt'}}
            plain: {{run: python3 probe.py plain.txt}}
            sub: {{workflow: child.yaml}}
        """,
    )
    env = {"REG_TOKEN": SECRET, "API": "leaked-by-name", "OTHER": "other-value"}
    applied = psr(tmp_path, "apply", env=env)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert (tmp_path / "granted.txt").read_text() == "yes\n"
    assert (tmp_path / "plain.txt").read_text() == "[]"
    assert (tmp_path / "child.txt").read_text() == "[]"


def test_a_shell_reference_to_a_declared_secret_grants_it() -> None:
    import tempfile

    from psr_engine import api

    with tempfile.TemporaryDirectory() as folder:
        path = _manifest(
            Path(folder),
            """
            metadata: {name: refs}
            spec:
              secrets:
                DB_PASSWORD: {provider: env, name: PG}
                DB: {provider: env, name: PG2}
              tasks:
                dollar: {run: 'psql -p "$DB_PASSWORD"'}
                braces: {run: 'echo ${DB_PASSWORD:-none} ${#DB}'}
                longer: {run: 'echo $DB_PASSWORD_OLD'}
                python: {script: 'import os; print(os.environ["DB"])'}
                sh_script: {script: 'echo "$DB"', interpreter: sh}
            """,
        )
        plan = api.make_plan(str(path))
    granted = {t.id: t.secrets for t in plan.tasks}
    assert granted == {
        "dollar": ("DB_PASSWORD",),
        "braces": ("DB_PASSWORD", "DB"),
        "longer": (),
        "python": (),
        "sh_script": ("DB",),
    }


def test_validate_warns_about_a_secret_a_task_mentions_but_is_not_granted(
    tmp_path: Path,
) -> None:
    _manifest(
        tmp_path,
        """
        metadata: {name: warn}
        spec:
          secrets: {DB_PASSWORD: {provider: env, name: PG}}
          tasks:
            fine: {run: 'psql -p "$DB_PASSWORD"'}
            reader:
              script: |
                import os
                print(os.environ["DB_PASSWORD"])
        """,
    )
    checked = psr(tmp_path, "validate")
    assert checked.code == 0, checked.stderr
    warning, hint = checked.stderr.splitlines()[:2]
    assert warning.startswith("workflow.yaml:9:7: warning: task 'reader' mentions secret ")
    assert "DB_PASSWORD" in warning
    assert "secrets: [DB_PASSWORD]" in hint
    assert "fine" not in checked.stderr


# -- Medium 5: secrets in messages -----------------------------------------------------------


def test_a_bare_secret_file_is_one_value_never_printed_as_a_field_name(tmp_path: Path) -> None:
    bare = tmp_path / "db_password"  # Docker style: /run/secrets/db_password
    bare.write_text(SECRET + "\n")
    bare.chmod(0o600)
    shadow = tmp_path / "shadow"
    shadow.write_text(f"root:{SECRET}:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n")
    shadow.chmod(0o644)
    got = psr(tmp_path, "secrets", "get", "file", str(bare))
    listed = psr(tmp_path, "secrets", "list", "file", str(bare))
    keyed = psr(tmp_path, "secrets", "get", "file", str(bare), "--key", "password")
    insecure = ("-O", "allowInsecure=true")
    shadow_get = psr(tmp_path, "secrets", "get", "file", str(shadow), *insecure)
    shadow_key = psr(tmp_path, "secrets", "get", "file", str(shadow), "--key", "x", *insecure)
    revealed = psr(tmp_path, "secrets", "get", "file", str(bare), "--reveal")
    assert got.code == 0 and f"{len(SECRET)} characters" in got.stdout
    assert revealed.stdout == SECRET + "\n"
    assert keyed.code == 2 and "bare value" in keyed.stderr
    assert listed.code == 2
    for ran in (got, listed, keyed, shadow_get, shadow_key):
        assert SECRET not in ran.stdout + ran.stderr
        assert "root:" not in ran.stdout + ran.stderr


# -- Medium 7: the 1 MiB line cut ------------------------------------------------------------

# Each task prints one line of 3.3 MiB made of the secret over and over (with a separator, or
# none): wherever the executor cuts it (past MAX_LINE, at a read boundary), the cut falls in
# the middle of a copy unless the cut is chosen with the secrets in mind.
STRADDLE = f"""
import sys
separator = sys.argv[1] if len(sys.argv) > 1 else ""
unit = "{SECRET}" + separator
sys.stdout.write(unit * ({3 * MAX_LINE + MAX_LINE // 3} // len(unit)) + "\\n")
"""


def _straddling_run(tmp_path: Path, executor: str) -> tuple[Ran, dict[str, bytes]]:
    """``executor``: the manifest's spec.executor, as flow YAML."""
    (tmp_path / "straddle.py").write_text(STRADDLE)
    _manifest(
        tmp_path,
        f"""
        metadata: {{name: straddle}}
        spec:
          executor: {executor}
          secrets: {{API: {{provider: env, name: REG_TOKEN}}}}
          tasks:
            cut:
              matrix: {{separator: ["", ".", "-x-"]}}
              env: {{T: "${{{{ secrets.API }}}}"}}
              inputs: [straddle.py]  # a Dask worker shares no folder with the engine
              run: python3 straddle.py ${{{{ matrix.separator }}}}
        """,
    )
    applied = psr(tmp_path, "apply", env={"REG_TOKEN": SECRET})
    logs = {p.name: p.read_bytes() for p in (tmp_path / ".psr" / "runs").rglob("*.log")}
    return applied, logs


def test_a_secret_straddling_the_line_cut_is_masked(tmp_path: Path) -> None:
    applied, logs = _straddling_run(tmp_path, "{type: local}")
    assert applied.code == 0, applied.stderr
    _assert_masked_whole(logs)


def _assert_masked_whole(logs: dict[str, bytes]) -> None:
    expected = set()
    for separator in (b"", b".", b"-x-"):
        copies = (3 * MAX_LINE + MAX_LINE // 3) // len(SECRET.encode() + separator)
        expected.add((b"***" + separator) * copies + b"\n")
    for name, log in logs.items():
        assert SECRET.encode() not in log, name
    assert set(logs.values()) == expected


def test_the_dask_worker_side_filter_masks_across_the_cut_too(tmp_path: Path) -> None:
    """The worker runs the attempt with the local executor and the shipped masker (and, now,
    the shipped window): a real scheduler and worker process on 127.0.0.1."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(
        n_workers=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        executor = f'{{type: dask, address: "{cluster.scheduler_address}"}}'
        applied, logs = _straddling_run(tmp_path, executor)
    assert applied.code == 0, applied.stderr
    _assert_masked_whole(logs)


# -- Low -------------------------------------------------------------------------------------


def test_a_matrix_value_equal_to_a_secret_is_masked_in_task_ids(tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        """
        metadata: {name: ids}
        spec:
          params: {keys: {type: array, items: {type: string}}}
          secrets: {API: {provider: env, name: REG_TOKEN}}
          tasks:
            uses: {env: {T: "${{ secrets.API }}"}, run: 'test -n "$T"'}
            keyed:
              matrix: {key: "${{ params.keys }}"}
              run: echo fine
        """,
    )
    applied = psr(
        tmp_path,
        "apply",
        "--events-jsonl",
        "events.jsonl",
        "-p",
        f"keys={SECRET}",
        env={"REG_TOKEN": SECRET},
    )
    assert applied.code == 0, applied.stderr
    tasks = {json.loads(line).get("task") for line in (tmp_path / "events.jsonl").open()}
    assert "keyed[key=***]" in tasks
    with sqlite3.connect(tmp_path / ".psr" / "runs.db") as db:
        ids = {row[0] for row in db.execute("SELECT task_id FROM tasks")}
    assert ids == {"uses", "keyed[key=***]"}
    assert leaks_under(tmp_path, SECRET) == {}
    assert leaks_in(applied.console, SECRET) == []


def test_the_outputs_parse_error_quotes_no_part_of_the_line() -> None:
    with pytest.raises(ValueError) as info:
        parse_outputs(f"ok=1\n{SECRET.rstrip('=')}\n")
    message = str(info.value)
    assert message.startswith("line 2: expected key=value or key<<DELIMITER")
    assert SECRET[:4] not in message


def test_a_secret_given_with_p_is_not_stored_raw_in_the_plan_cache(tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        """
        metadata: {name: cached-plan}
        spec:
          params: {token: {type: string}}
          tasks:
            use: {run: 'test "${{ params.token }}" = "$EXPECTED"'}
        """,
    )
    env = {"EXPECTED": SECRET}
    first = psr(tmp_path, "apply", "-p", f"token={SECRET}", env=env)
    cached = sorted((tmp_path / ".psr" / "plans").iterdir())
    second = psr(tmp_path, "apply", "-p", f"token={SECRET}", env=env)
    assert first.code == second.code == 0, first.stderr + second.stderr
    assert len(cached) == 1 and cached == sorted((tmp_path / ".psr" / "plans").iterdir())
    assert leaks_in(cached[0].read_bytes(), SECRET) == []
    # The sealed plan opens only with the same values: another -p compiles afresh.
    other = psr(tmp_path, "apply", "-p", "token=other-value", env={"EXPECTED": "other-value"})
    assert other.code == 0 and len(list((tmp_path / ".psr" / "plans").iterdir())) == 2


def test_a_secret_holding_a_nul_byte_is_a_clear_exit_2(tmp_path: Path) -> None:
    value = tmp_path / "binary"
    value.write_bytes(b"abc\0defgh")
    value.chmod(0o600)
    _manifest(
        tmp_path,
        f"""
        metadata: {{name: nul}}
        spec:
          secrets: {{BLOB: {{provider: file, path: {value}, format: text}}}}
          tasks:
            use: {{env: {{B: "${{{{ secrets.BLOB }}}}"}}, run: 'test -n "$B"'}}
        """,
    )
    applied = psr(tmp_path, "apply")
    assert applied.code == 2, applied.stderr
    assert "BLOB" in applied.stderr and "NUL" in applied.stderr
    assert "Traceback" not in applied.stderr


# -- the masker's forms ----------------------------------------------------------------------


@pytest.mark.parametrize("shift", range(5))
def test_base32_of_a_secret_is_masked_at_every_alignment(shift: int) -> None:
    blob = base64.b32encode(os.urandom(shift) + SECRET.encode() + b"tail").decode()
    masked = Masker([SECRET]).mask_text(f"config {blob} end")
    first, last = -(-8 * shift // 5), 8 * (shift + len(SECRET)) // 5
    assert "***" in masked and blob[first:last] not in masked


@pytest.mark.parametrize("upper", [False, True])
def test_hex_of_a_secret_is_masked_in_either_case(upper: bool) -> None:
    dump = (b"\x01" + SECRET.encode() + b"\x02").hex()
    dump = dump.upper() if upper else dump
    assert Masker([SECRET]).mask_text(dump) == "01***02"
