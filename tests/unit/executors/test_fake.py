"""FakeExecutor scripts exit codes by command-line glob; get_executor builds executors by name."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from psr_engine.errors import ExecutionError
from psr_engine.executors import ProcessResult, get_executor
from psr_engine.executors.fake import FakeExecutor
from psr_engine.executors.local import LocalExecutor

pytestmark = pytest.mark.anyio


async def test_first_matching_pattern_decides_the_exit_code(spec_for):
    fake = FakeExecutor({"*transform*region=us*": 1, "*transform*": 0, "*report*": 7})
    spec = spec_for("bash", "-c", "python transform.py --region=us")
    assert (await fake.run(spec)).exit_code == 1
    assert (await fake.run(spec_for("bash", "-c", "python transform.py"))).exit_code == 0
    assert (await fake.run(spec_for("./report.sh"))).exit_code == 7


async def test_no_match_gives_the_default(spec_for):
    assert (await FakeExecutor().run(spec_for("anything"))).exit_code == 0
    assert (await FakeExecutor({"x": 1}, default=9).run(spec_for("anything"))).exit_code == 9


async def test_calls_are_recorded_in_order_and_nothing_runs(spec_for, tmp_path):
    fake = FakeExecutor()
    await fake.run(spec_for("touch", str(tmp_path / "made-by-a-process")))
    await fake.run(spec_for("echo", "second"))
    assert fake.command_lines() == [f"touch {tmp_path / 'made-by-a-process'}", "echo second"]
    assert not (tmp_path / "made-by-a-process").exists()
    assert (tmp_path / "task.log").read_text() == "psr-engine fake executor: echo second\n"


async def test_a_callable_can_script_a_whole_result_or_write_outputs(spec_for, tmp_path):
    outputs = tmp_path / "outputs"

    def extract(spec):
        with open(spec.env["PSR_OUTPUT"], "a") as file:
            file.write("rows=42\n")
        return 0

    def slow(spec):
        return ProcessResult(143, 15, True, 0.0, 5.0, 0.0, 0.0, 0, 0)

    fake = FakeExecutor({"*extract*": extract, "*slow*": slow})
    ok = await fake.run(spec_for("extract", env={"PSR_OUTPUT": str(outputs)}))
    timed_out = await fake.run(spec_for("slow"))
    assert ok.exit_code == 0 and outputs.read_text() == "rows=42\n"
    assert (timed_out.timed_out, timed_out.exit_code) == (True, 143)


async def test_the_log_line_goes_through_the_output_filter(spec_for, tmp_path):
    spec = spec_for(
        "login", "--password=s3cret", output_filter=lambda b: b.replace(b"s3cret", b"***")
    )
    await FakeExecutor().run(spec)
    assert (tmp_path / "task.log").read_text() == "psr-engine fake executor: login --password=***\n"


def test_get_executor_builds_the_core_executors():
    local = get_executor("local")
    fake = get_executor("fake", results={"*": 3})
    assert isinstance(local, LocalExecutor) and local.name == "local"
    assert isinstance(fake, FakeExecutor) and fake.results == {"*": 3}


def test_get_executor_names_what_exists_for_an_unknown_name():
    with pytest.raises(
        ExecutionError, match=r"unknown executor 'kubernetes'.*dask, fake, local.*plug-ins"
    ):
        get_executor("kubernetes")


def test_executor_classes_are_reachable_from_the_package_lazily():
    import psr_engine.executors as executors

    assert executors.FakeExecutor is FakeExecutor
    assert executors.LocalExecutor is LocalExecutor
    with pytest.raises(AttributeError):
        executors.NoSuchExecutor  # noqa: B018


def test_spec_and_result_are_frozen(spec_for):
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec_for("true").timeout = 3  # type: ignore[misc]


def test_importing_the_package_loads_no_implementation():
    probe = (
        "import sys, psr_engine.executors\n"
        "print(sorted(m for m in ('anyio', 'subprocess', 'psr_engine.executors.local') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"
