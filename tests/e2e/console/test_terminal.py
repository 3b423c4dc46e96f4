"""The console on a real pseudo-terminal: live task output, prefixed and coloured per task,
whole lines whatever runs in parallel, and a status line that ticks while nothing happens."""

from __future__ import annotations

import os
import re
import sys

from terminal import SGR, run_on_terminal


def _apply_on_terminal(ws, *args: str, env: dict[str, str] | None = None, columns: int = 160):
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    base.pop("GITLAB_CI", None)
    return run_on_terminal(
        [sys.executable, "-m", "psr_engine", "apply", *args],
        cwd=ws.root,
        env={**base, **(env or {})},
        columns=columns,
    )


def test_on_a_terminal_task_lines_stream_live_with_a_coloured_prefix_per_task(ws):
    ws.manifest(
        """
        first:
          run: |
            echo "first one"; sleep 0.3; echo "first two"
        second:
          run: |
            echo "second one"; sleep 0.3; echo "second two"
        """
    )
    seen = _apply_on_terminal(ws)
    assert seen.code == 0, seen.raw
    visible = seen.visible_lines()
    for line in ("[first] first one", "[first] first two", "[second] second one"):
        assert line in visible, visible
    # Each task its own colour, the prefix painted and the line itself left as printed.
    colours = dict(re.findall(r"\x1b\[(\d+)m\[(first|second)\]\x1b\[0m ", seen.raw)[::-1])
    assert len(set(colours)) == 2, seen.raw
    # Lines arrive while the run goes on, not all at its end: first's second line comes
    # about 0.3 s after its first.
    times = {}
    for when, data in seen.chunks:
        for text in ("first one", "first two"):
            if text.encode() in data:
                times.setdefault(text, when)
    assert times["first two"] - times["first one"] >= 0.2


def test_the_status_line_ticks_the_running_tasks_elapsed_time_while_nothing_happens(ws):
    ws.manifest(
        """
        slow: {run: "sleep 2.5"}
        """
    )
    seen = _apply_on_terminal(ws)
    assert seen.code == 0, seen.raw
    plain = SGR.sub("", seen.raw)
    shown = re.findall(r"0/1 done · [^·]+ · 1 running: slow ([\d.]+)(m?s)", plain)
    elapsed = {float(value) / (1000 if unit == "ms" else 1) for value, unit in shown}
    # The task prints nothing for 2.5 s: every change of the line is the timer's.
    assert len(elapsed) >= 8, shown
    assert max(elapsed) >= 1.5
    # The status line is gone at the end: the last visible lines are the summary.
    visible = [line for line in seen.visible_lines() if line.strip()]
    assert visible[-1].startswith("run ") and "succeeded" in visible[-1]
    assert not any("running:" in line for line in visible)


def test_many_parallel_tasks_printing_long_lines_never_split_or_mix_a_line(ws):
    tasks, count, width = 8, 150, 400
    body = "\n".join(
        f"""
        t{n}:
          script: |
            import sys
            for i in range({count}):
                sys.stdout.write("t{n}:%d:" % i + "{chr(97 + n)}" * {width} + "\\n")
                sys.stdout.flush()
        """
        for n in range(tasks)
    )
    ws.manifest(body, extra=f"concurrency: {tasks}")
    seen = _apply_on_terminal(ws, columns=100)
    assert seen.code == 0, seen.raw[-3000:]
    got: dict[str, list[int]] = {f"t{n}": [] for n in range(tasks)}
    for line in seen.visible_lines():
        if not line.startswith("[t"):
            continue
        found = re.fullmatch(r"\[(t\d)\] (t\d):(\d+):([a-z]+)", line)
        assert found is not None, f"a split or mixed line: {line[:200]!r}"
        task, own, index, text = found.groups()
        assert task == own and text == chr(97 + int(task[1:])) * width, line[:200]
        got[task].append(int(index))
    assert all(indexes == list(range(count)) for indexes in got.values()), {
        task: len(indexes) for task, indexes in got.items()
    }


def test_no_color_on_a_terminal_emits_no_colour_or_bold_codes(ws):
    ws.manifest(
        """
        ok: {run: "echo fine"}
        bad: {run: "echo broken; exit 2"}
        """
    )
    seen = _apply_on_terminal(ws, env={"NO_COLOR": "1"})
    assert seen.code == 1
    assert SGR.findall(seen.raw) == [], seen.raw
    visible = seen.visible_lines()
    assert "[ok] fine" in visible
    assert any(line.startswith("task ") and "status" in line for line in visible)  # the table
