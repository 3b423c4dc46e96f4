"""The CLI's start-up tuning (cli/startup.py, cli/dataclass_code.py): the functions @dataclass
generates are compiled once and kept, classes made from kept code behave exactly as freshly
compiled ones, a table that is not the user's own or is broken is not used, and the garbage
collector waits during start-up and is back to its pace, with start-up's objects frozen, once
it ends. Each case runs in its own interpreter: these change process-wide state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ENGINE = str(Path(__file__).resolve().parents[3] / "engine")


def _exit_of(code: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """`code` run by a fresh interpreter that uses `cache` as the user's cache folder."""
    env = dict(os.environ, PYTHONPATH=ENGINE, XDG_CACHE_HOME=str(cache))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _python(code: str, cache: Path) -> dict:
    """What `code` printed last, as JSON; it must exit 0."""
    done = _exit_of(code, cache)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# Installs the kept table, creates the records of the plan stage, reports what was compiled.
_MAKE_RECORDS = """
    import dataclasses, json
    from psr_engine.cli import dataclass_code
    dataclass_code.install("test")
    import psr_engine.plan.model
    table = dataclasses.exec.__self__
    print(json.dumps({"compiled": table.added, "used": len(table.used)}))
"""


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _tables(cache: Path) -> list[Path]:
    return sorted((cache / "psr-engine" / "dataclasses").glob("*.marshal"))


def test_a_second_start_compiles_no_dataclass_function(cache):
    first = _python(_MAKE_RECORDS, cache)
    assert first["compiled"] and first["used"] > 10
    [table] = _tables(cache)
    assert table.stat().st_mode & 0o077 == 0  # code we run: the user's own, like the state folder
    second = _python(_MAKE_RECORDS, cache)
    assert second == {"compiled": False, "used": first["used"]}


def test_records_made_from_kept_code_behave_as_freshly_compiled_ones(cache):
    record = """
        import dataclasses, json
        from psr_engine.cli import dataclass_code
        dataclass_code.install("test")

        @dataclasses.dataclass(frozen=True, slots=True)
        class Point:
            x: int
            y: int = 2
            tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)

        p = Point(1)
        try:
            p.x = 5
            frozen = False
        except dataclasses.FrozenInstanceError:
            frozen = True
        print(json.dumps({
            "repr": repr(p), "eq": p == Point(1, 2, ()), "ne": p != Point(1, 3),
            "hash": hash(p) == hash(Point(1)), "frozen": frozen,
            "replace": repr(dataclasses.replace(p, y=9)),
            "compiled": dataclasses.exec.__self__.added,
        }))
    """
    fresh = _python(record, cache)
    kept = _python(record, cache)
    assert fresh.pop("compiled") and not kept.pop("compiled")
    assert (
        kept
        == fresh
        == {
            "repr": "Point(x=1, y=2, tags=())",
            "eq": True,
            "ne": True,
            "hash": True,
            "frozen": True,
            "replace": "Point(x=1, y=9, tags=())",
        }
    )


def test_a_table_others_may_write_to_is_not_used(cache):
    _python(_MAKE_RECORDS, cache)
    [table] = _tables(cache)
    table.chmod(0o666)
    assert _python(_MAKE_RECORDS, cache)["compiled"]


def test_a_broken_table_is_compiled_again_and_replaced(cache):
    _python(_MAKE_RECORDS, cache)
    [table] = _tables(cache)
    table.write_bytes(b"not marshal data")
    assert _python(_MAKE_RECORDS, cache)["compiled"]
    assert not _python(_MAKE_RECORDS, cache)["compiled"]


def test_the_collector_waits_during_start_up_and_freezes_what_it_made(cache):
    seen = _python(
        """
        import gc, json
        from psr_engine.cli import startup
        default = gc.get_threshold()
        startup.begin("test")
        during = gc.get_threshold()
        startup.end()
        print(json.dumps({"default": default, "during": during, "after": gc.get_threshold(),
                          "frozen": gc.get_freeze_count()}))
        """,
        cache,
    )
    assert seen["during"][0] > seen["default"][0] * 10
    assert seen["after"] == seen["default"]
    assert seen["frozen"] > 1000  # the modules, functions and classes start-up made


def test_a_program_calling_main_keeps_its_interpreter_as_it_was(cache, tmp_path):
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: w}\n"
        "spec:\n  tasks:\n    a: {run: 'true'}\n"
    )
    seen = _python(
        f"""
        import dataclasses, gc, json
        from psr_engine.cli import main
        default = gc.get_threshold()
        code = main(["apply", "-q", {str(manifest)!r}])
        print(json.dumps({{"code": code, "patched": "exec" in vars(dataclasses),
                          "same": gc.get_threshold() == default,
                          "frozen": gc.get_freeze_count()}}))
        """,
        cache,
    )
    assert seen == {"code": 0, "patched": False, "same": True, "frozen": 0}
    assert _tables(cache) == []


def test_leaving_runs_every_exit_handler_flushes_and_keeps_the_exit_code(cache, tmp_path):
    mark = tmp_path / "handler-ran"
    done = _exit_of(
        f"""
        import atexit, sys
        from psr_engine.cli import startup
        startup.begin("test")
        atexit.register(lambda: open({str(mark)!r}, "w").write("yes"))
        sys.stdout.write("buffered, not yet flushed")
        sys.exit(startup.leave(3))
        """,
        cache,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "buffered, not yet flushed"
    assert mark.read_text() == "yes"


def test_leaving_waits_as_python_does_for_a_thread_that_is_not_a_daemon(cache, tmp_path):
    mark = tmp_path / "thread-finished"
    done = _exit_of(
        f"""
        import sys, threading, time
        from psr_engine.cli import startup
        startup.begin("test")
        def work():
            time.sleep(0.3)
            open({str(mark)!r}, "w").write("done")
        threading.Thread(target=work).start()
        sys.exit(startup.leave(4))
        """,
        cache,
    )
    assert done.returncode == 4, done.stderr
    assert mark.read_text() == "done"


@pytest.mark.parametrize("closed", ["1>&-", "0<&- 1>&-", "2>&-", "0<&- 1>&- 2>&-"])
def test_an_apply_with_standard_streams_closed_runs_and_records_without_an_error(
    cache, tmp_path, closed
):
    # Python starts with sys.stdout (or stdin, stderr) None when the descriptor is closed,
    # and the descriptor free for the next file opened. The run must still happen, exit 0
    # and be recorded, with no internal error; what it would print goes nowhere.
    (tmp_path / "workflow.yaml").write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: closed}\n"
        "spec:\n  tasks:\n    a: {run: echo hello}\n"
    )

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PYTHONPATH=ENGINE, XDG_CACHE_HOME=str(cache))
        return subprocess.run(
            ["bash", "-c", f"exec {sys.executable} -m psr_engine {command}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = shell(f"apply workflow.yaml {closed}")
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    history = shell("runs -o json")
    assert '"succeeded"' in history.stdout, history.stdout + history.stderr
