"""The Markdown summary sink: a report of the run fit for $GITHUB_STEP_SUMMARY.

A status line, a table of tasks (status emoji, attempts, duration, reason), and each
failure's log tail in a <details> block. Appended to `path` (GitHub appends every step's
summary to one page), or to $GITHUB_STEP_SUMMARY when no path is given; nothing otherwise.
"""

from __future__ import annotations

import os
from typing import Any

import anyio

from psr_engine.events.sinks.report import RunReport, TaskOutcome
from psr_engine.printable import printable
from psr_engine.store.logs import tail_lines
from psr_engine.store.private import open_report

TAIL_LINES = 50
EMOJI = {
    "succeeded": "✅",
    "failed": "❌",
    "timed_out": "⏱️",
    "skipped": "⏭️",
    "cancelled": "🚫",
    "crashed": "💥",
    "blocked": "⛔",
}
_FAILED = frozenset({"failed", "timed_out", "crashed"})


class SummarySink(RunReport):
    """Appends a Markdown summary of the run to `path` (default: $GITHUB_STEP_SUMMARY)."""

    name = "summary"

    def __init__(
        self,
        path: str | None = None,
        *,
        tail_lines: int = TAIL_LINES,
        provenance: str | None = None,
        **_: Any,
    ) -> None:
        """`provenance`: the file name of the run's provenance statement in its run folder,
        when one is written: the summary names it."""
        self.path = path or os.environ.get("GITHUB_STEP_SUMMARY") or None
        self.tail = tail_lines
        self.provenance = provenance
        super().__init__()

    async def aclose(self) -> None:
        if self.path is None or self._run is None:
            return
        await anyio.to_thread.run_sync(self.write)

    def write(self) -> None:
        assert self.path is not None
        fd = open_report(self.path)
        with open(fd, "a", encoding="utf-8") as handle:
            handle.write(self.render())

    def render(self) -> str:
        assert self._run is not None
        start, end = self._run, self._end
        status = (end.status if end is not None else None) or "unfinished"
        elapsed = (end.ts - start.ts) if end is not None else None
        counts: dict[str, int] = {}
        for row in self._outcomes.values():
            counts[row.status] = counts.get(row.status, 0) + 1
        tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no tasks"
        out = [
            f"## {EMOJI.get(status, '❔')} {start.workflow}: {status}",
            "",
            f"Run `{start.run_id}` · {len(self._outcomes)} tasks ({tally})"
            + (f" · {_duration(elapsed)}" if elapsed is not None else ""),
            "",
        ]
        if end is not None and end.reason:
            out += [f"Reason: {_cell(end.reason)}", ""]
        run_dir = (start.data or {}).get("runDir")
        if self.provenance and run_dir:
            out += [f"Provenance: `{_cell(os.path.join(str(run_dir), self.provenance))}`", ""]
        if self._outcomes:
            out += ["| Task | Status | Attempts | Duration | Reason |", "|---|---|---:|---:|---|"]
            for row in self._outcomes.values():
                out.append(
                    f"| {_code_cell(row.task)} | {EMOJI.get(row.status, '❔')} {row.status} "
                    f"| {row.attempts or '-'} | {_duration(row.duration) if row.attempts else '-'} "
                    f"| {_cell(row.reason or '')} |"
                )
            out.append("")
        failed = [r for r in self._outcomes.values() if r.status in _FAILED]
        if failed:
            out += ["### Failures", ""]
            for row in failed:
                out += self._failure(row)
        return "\n".join(out) + "\n"

    def _failure(self, row: TaskOutcome) -> list[str]:
        body = ([row.message] if row.message else []) + tail_lines(row.log_path, self.tail)
        text = "\n".join(body) or "(no output)"
        fence = "`" * max(3, _longest_backtick_run(text) + 1)
        summary = f"{EMOJI.get(row.status, '❔')} <code>{_html(row.task)}</code> {row.status}"
        if row.reason:
            summary += f": {_html(row.reason)}"
        return [
            "<details>",
            f"<summary>{summary}</summary>",
            "",
            f"{fence}text",
            text,
            fence,
            "",
            "</details>",
            "",
        ]


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _cell(text: str) -> str:
    """Table cells: one line (control characters escaped, so `a\nb` and `a b` differ), pipes
    escaped."""
    return printable(text).replace("|", "\\|")


def _code_cell(text: str) -> str:
    """A cell in a code span long enough that backticks in the text cannot close it."""
    content = _cell(text)
    ticks = "`" * (_longest_backtick_run(content) + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{ticks}{pad}{content}{pad}{ticks}"


def _html(text: str) -> str:
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest
