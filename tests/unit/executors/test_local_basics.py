"""LocalExecutor: exit codes, signals, environment, working directory, logs, start failures."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from psr_engine.executors.local import EXIT_NOT_STARTED

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["spawn", "popen"])
def workdir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The task's cwd: the engine's own (posix_spawn path) or another folder (Popen path)."""
    if request.param == "spawn":
        monkeypatch.chdir(tmp_path)
        return str(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    return str(other)


@pytest.mark.parametrize("code", [0, 1, 3, 255])
async def test_exit_code_is_the_processs(run_bash, workdir, code):
    result = await run_bash(f"exit {code}", cwd=workdir)
    assert (result.exit_code, result.signal, result.timed_out) == (code, None, False)
    assert result.pid > 0


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGUSR1, signal.SIGTERM])
async def test_death_by_signal_is_128_plus_n(run_bash, workdir, sig):
    result = await run_bash(f"kill -{sig.name.removeprefix('SIG')} $$", cwd=workdir)
    assert (result.exit_code, result.signal, result.timed_out) == (128 + sig, sig, False)


async def test_child_gets_exactly_the_given_environment(run_bash, workdir, tmp_path):
    env = {"PATH": os.environ["PATH"], "PSR_PROBE": "a value with spaces"}
    result = await run_bash("env", env=env, cwd=workdir)
    lines = set((tmp_path / "task.log").read_text().splitlines())
    assert result.exit_code == 0
    assert "PSR_PROBE=a value with spaces" in lines
    assert not any(line.startswith("HOME=") for line in lines)


async def test_child_runs_in_the_given_directory(run_bash, workdir, tmp_path):
    await run_bash("pwd -P", cwd=workdir)
    assert (tmp_path / "task.log").read_text() == os.path.realpath(workdir) + "\n"


async def test_relative_cwd_is_taken_from_the_engines(
    run_bash, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    await run_bash("pwd -P", cwd="sub")
    assert (tmp_path / "task.log").read_text() == os.path.realpath(tmp_path / "sub") + "\n"


async def test_stdout_and_stderr_interleave_in_one_log(run_bash, workdir, tmp_path):
    await run_bash("echo one; echo two >&2; echo three; echo four >&2", cwd=workdir)
    assert (tmp_path / "task.log").read_text() == "one\ntwo\nthree\nfour\n"


async def test_log_is_truncated_per_attempt(run_bash, tmp_path):
    await run_bash("echo first attempt, longer")
    await run_bash("echo second")
    assert (tmp_path / "task.log").read_text() == "second\n"


async def test_log_folder_is_created_when_missing(run_bash, tmp_path):
    log = tmp_path / "logs" / "run-1" / "task.1.log"
    await run_bash("echo hi", log_path=str(log))
    assert log.read_text() == "hi\n"


async def test_stdin_is_empty(run_bash, workdir, tmp_path):
    result = await run_bash("cat; echo done", cwd=workdir)
    assert result.exit_code == 0
    assert (tmp_path / "task.log").read_text() == "done\n"


async def test_child_leads_its_own_session_and_group(executor, spec_for, workdir, tmp_path):
    probe = "import os; print(os.getsid(0) == os.getpid() == os.getpgid(0))"
    result = await executor.run(spec_for(_python(), "-c", probe, cwd=workdir))
    assert result.exit_code == 0
    assert (tmp_path / "task.log").read_text() == "True\n"


async def test_sigpipe_is_back_to_default_in_the_child(run_bash, workdir, tmp_path):
    # Python ignores SIGPIPE; a child must not inherit that, or `yes | head` never ends.
    await run_bash("yes | head -n1; echo ${PIPESTATUS[0]}", cwd=workdir)
    assert (tmp_path / "task.log").read_text() == f"y\n{128 + signal.SIGPIPE}\n"


async def test_no_zombie_is_left_after_a_normal_exit(run_bash, procs):
    result = await run_bash("exit 0")
    assert procs.is_reaped(result.pid)


async def test_unknown_command_is_127_with_a_log_line(executor, spec_for, workdir, tmp_path):
    result = await executor.run(spec_for("psr-no-such-command", "--flag", cwd=workdir))
    assert (result.exit_code, result.pid, result.signal) == (EXIT_NOT_STARTED, 0, None)
    log = (tmp_path / "task.log").read_text()
    assert log == "psr-engine: command not found: psr-no-such-command\n"


async def test_command_is_looked_up_on_the_childs_path(executor, spec_for, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "psr-probe-tool"
    tool.write_text("#!/bin/sh\necho found me\n")
    tool.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = await executor.run(spec_for("psr-probe-tool", env=env))
    assert result.exit_code == 0
    assert (tmp_path / "task.log").read_text() == "found me\n"


async def test_a_removed_command_is_not_found_even_after_a_cached_lookup(
    executor, spec_for, tmp_path
):
    tool = tmp_path / "psr-vanishing-tool"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    env = {"PATH": str(tmp_path)}
    assert (await executor.run(spec_for("psr-vanishing-tool", env=env))).exit_code == 0
    tool.unlink()
    result = await executor.run(spec_for("psr-vanishing-tool", env=env))
    assert result.exit_code == EXIT_NOT_STARTED
    assert "command not found: psr-vanishing-tool" in (tmp_path / "task.log").read_text()


async def test_path_with_a_slash_is_relative_to_the_childs_cwd(executor, spec_for, tmp_path):
    (tmp_path / "sub").mkdir()
    script = tmp_path / "sub" / "hello.sh"
    script.write_text("#!/bin/sh\necho hello from sub\n")
    script.chmod(0o755)
    result = await executor.run(spec_for("./hello.sh", cwd=str(tmp_path / "sub")))
    assert result.exit_code == 0
    assert (tmp_path / "task.log").read_text() == "hello from sub\n"


async def test_file_that_is_not_executable_is_127(executor, spec_for, workdir, tmp_path):
    script = Path(workdir) / "data.txt"
    script.write_text("not a program\n")
    result = await executor.run(spec_for(str(script), cwd=workdir))
    assert result.exit_code == EXIT_NOT_STARTED
    assert (
        tmp_path / "task.log"
    ).read_text() == f"psr-engine: permission denied (not executable): {script}\n"


async def test_missing_working_directory_is_127_with_a_log_line(run_bash, tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    result = await run_bash("echo never", cwd=str(missing))
    assert (result.exit_code, result.pid) == (EXIT_NOT_STARTED, 0)
    assert (
        tmp_path / "task.log"
    ).read_text() == f"psr-engine: working directory not found: {missing}\n"


def _python() -> str:
    import sys

    return sys.executable
