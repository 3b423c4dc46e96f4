"""LocalExecutor's pipe path: output filtered line by line before it reaches the log."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.anyio

SECRET = b"hunter2-very-secret-token"


def mask(line: bytes) -> bytes:
    return line.replace(SECRET, b"***")


async def test_a_secret_printed_by_the_child_never_reaches_the_log(run_bash, tmp_path):
    await run_bash(
        f"echo token is {SECRET.decode()}; echo {SECRET.decode()} >&2", output_filter=mask
    )
    log = (tmp_path / "task.log").read_bytes()
    assert log == b"token is ***\n***\n"


async def test_a_secret_split_across_writes_is_still_masked(executor, spec_for, tmp_path):
    # The child writes half the secret, flushes, sleeps, then writes the rest: the two halves
    # arrive in separate reads, and the filter must still see them on one line.
    half = len(SECRET) // 2
    source = (
        "import sys, time\n"
        f"sys.stdout.buffer.write(b'before {SECRET[:half].decode()}'); sys.stdout.flush()\n"
        "time.sleep(0.3)\n"
        f"sys.stdout.buffer.write(b'{SECRET[half:].decode()} after\\n'); sys.stdout.flush()\n"
    )
    chunks: list[bytes] = []

    def recording_mask(line: bytes) -> bytes:
        chunks.append(line)
        return mask(line)

    result = await executor.run(
        spec_for(sys.executable, "-c", source, output_filter=recording_mask)
    )
    log = (tmp_path / "task.log").read_bytes()
    assert result.exit_code == 0
    assert log == b"before *** after\n"
    assert SECRET[:half] not in log and SECRET[half:] not in log
    assert chunks == [b"before " + SECRET + b" after"]


async def test_on_line_gets_each_filtered_line_and_the_last_partial_one(run_bash, tmp_path):
    lines: list[str] = []
    script = f"printf 'one\\r\\ntwo {SECRET.decode()}\\n\\nlast without newline'"
    await run_bash(script, output_filter=mask, on_line=lines.append)
    assert lines == ["one", "two ***", "", "last without newline"]
    assert (tmp_path / "task.log").read_bytes() == b"one\r\ntwo ***\n\nlast without newline"


async def test_on_line_alone_forces_the_pipe_and_keeps_output_intact(run_bash, tmp_path):
    lines: list[str] = []
    await run_bash("echo out; echo err >&2; echo out again", on_line=lines.append)
    assert lines == ["out", "err", "out again"]
    assert (tmp_path / "task.log").read_text() == "out\nerr\nout again\n"


async def test_output_larger_than_the_pipe_buffer_arrives_whole(run_bash, tmp_path):
    # 4 MiB: many times the pipe's 64 KiB, so the child blocks on writes until we read.
    result = await run_bash("head -c 4194304 /dev/zero | tr '\\0' 'x'; echo", output_filter=mask)
    assert result.exit_code == 0
    log = (tmp_path / "task.log").read_bytes()
    assert log == b"x" * 4194304 + b"\n"


async def test_undecodable_bytes_reach_the_log_unchanged(run_bash, tmp_path):
    lines: list[str] = []
    await run_bash("printf 'caf\\xe9\\n'", on_line=lines.append)
    assert (tmp_path / "task.log").read_bytes() == b"caf\xe9\n"
    assert lines == ["caf\ufffd"]


async def test_start_failure_message_goes_through_the_filter(executor, spec_for, tmp_path):
    lines: list[str] = []
    spec = spec_for("psr-no-such-" + SECRET.decode(), output_filter=mask, on_line=lines.append)
    result = await executor.run(spec)
    assert result.exit_code == 127
    assert SECRET not in (tmp_path / "task.log").read_bytes()
    assert lines == ["psr-engine: command not found: psr-no-such-***"]
