"""The console: live progress on a terminal, plain lines elsewhere (CI logs, pipes, NO_COLOR),
and a summary table at the end of the run.

Only the table and the live display use rich, imported when first needed; a plain-line run
pays nothing for it until the summary.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import IO, Any

from psr_engine.events.model import Event
from psr_engine.units import format_duration, format_memory

_SYMBOLS = {
    "succeeded": "✓",
    "failed": "✗",
    "timed_out": "⏱",
    "skipped": "-",
    "cancelled": "⊘",
    "running": "▶",
    "retrying": "↻",
}
_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "timed_out": "red",
    "skipped": "dim",
    "cancelled": "yellow",
    "retrying": "yellow",
    "running": "cyan",
}


@dataclass(slots=True)
class _Row:
    task: str
    status: str = "running"
    attempts: int = 0
    duration: float = 0.0
    cpu: float = 0.0
    rss: int = 0
    reason: str | None = None
    cost: float | None = None


class ConsoleSink:
    name = "console"

    def __init__(
        self,
        *,
        stream: IO[str] | None = None,
        live: bool | None = None,
        color: bool | None = None,
        quiet: bool = False,
        summary: bool = True,
        **_: Any,
    ) -> None:
        self._out = stream or sys.stdout
        tty = self._out.isatty()
        self._color = (tty and "NO_COLOR" not in os.environ) if color is None else color
        self._live_wanted = (tty and self._color) if live is None else live
        self._quiet = quiet
        self._summary = summary
        self._rows: dict[str, _Row] = {}
        self._started = time.monotonic()
        self._total = 0
        self._retries = 0
        self._run: Event | None = None
        self._live: Any = None
        self._console: Any = None
        self._currency = "USD"

    # -- the sink protocol -------------------------------------------------------------------

    async def start(self) -> None:
        return None

    def emit(self, event: Event) -> None:
        kind = event.type
        if kind == "run.started":
            self._run = event
            self._started = time.monotonic()
            self._total = int((event.data or {}).get("tasks", 0))
            self._line(f"run {event.run_id} of {event.workflow}: {self._total} tasks", "bold")
            if self._live_wanted and not self._quiet:
                self._start_live()
        elif kind == "task.started" and event.task:
            row = self._rows.setdefault(event.task, _Row(event.task))
            row.status, row.attempts = "running", event.attempt or 1
            if not self._quiet and self._live is None:
                attempt = f" (attempt {row.attempts})" if row.attempts > 1 else ""
                self._line(f"{_SYMBOLS['running']} {event.task}{attempt}", "cyan")
        elif kind == "task.retrying" and event.task:
            self._retries += 1
            delay = (event.data or {}).get("delayS", 0)
            self._line(
                f"{_SYMBOLS['retrying']} {event.task} attempt {event.attempt} "
                f"{event.reason or 'failed'}; retrying in {format_duration(delay)}",
                "yellow",
                always=False,
            )
        elif kind in ("task.finished", "task.skipped") and event.task:
            self._finished(event)
        elif kind == "gate.finished":
            self._line(
                f"gate {event.task or ''}: {event.status} {event.message or ''}".rstrip(),
                _STYLES.get(event.status or "", ""),
                always=True,
            )
        elif kind == "run.finished":
            self._stop_live()
            if self._summary:
                self._print_summary(event)
        self._refresh()

    async def aclose(self) -> None:
        self._stop_live()
        self._out.flush()

    # -- lines -------------------------------------------------------------------------------

    def _finished(self, event: Event) -> None:
        row = self._rows.setdefault(event.task or "", _Row(event.task or ""))
        row.status = event.status or "?"
        row.reason = event.reason
        row.attempts = event.attempt or row.attempts
        row.duration = event.duration_s or 0.0
        row.cpu = (event.cpu_user_s or 0.0) + (event.cpu_sys_s or 0.0)
        row.rss = event.max_rss_bytes or 0
        cost = (event.data or {}).get("cost")
        if isinstance(cost, dict):
            row.cost = cost.get("reserved")
            self._currency = str(cost.get("currency") or self._currency)
        failed = row.status in ("failed", "timed_out")
        if self._quiet and not failed:
            return
        text = f"{_SYMBOLS.get(row.status, '?')} {row.task} {row.status}"
        if row.reason:
            text += f" ({row.reason})"
        if event.type == "task.finished" and row.status != "cancelled":
            text += f" in {format_duration(row.duration)}"
            if row.attempts > 1:
                text += f" after {row.attempts} attempts"
        if failed and event.log_path:
            text += f"\n    log: {os.path.relpath(event.log_path)}"
        if event.message:
            text += f"\n    {event.message}"
        self._line(text, _STYLES.get(row.status, ""), always=True)

    def _line(self, text: str, style: str = "", *, always: bool = False) -> None:
        if self._quiet and not always:
            return
        if self._live is not None:
            self._live.console.print(text, style=style or None, markup=False, highlight=False)
        elif self._color and style:
            self._rich().print(text, style=style, markup=False, highlight=False)
        else:
            self._out.write(text + "\n")

    # -- live display ------------------------------------------------------------------------

    def _rich(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=self._out,
                no_color=not self._color,
                force_terminal=self._color or None,
                highlight=False,
            )
        return self._console

    def _start_live(self) -> None:
        from rich.live import Live

        self._live = Live(
            self._status_text(), console=self._rich(), refresh_per_second=8, transient=True
        )
        self._live.start()

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._status_text())

    def _status_text(self) -> Any:
        from rich.text import Text

        counts: dict[str, int] = {}
        for row in self._rows.values():
            counts[row.status] = counts.get(row.status, 0) + 1
        done = sum(v for k, v in counts.items() if k not in ("running", "retrying"))
        text = Text()
        text.append(f"{done}/{self._total} done", style="bold")
        text.append(f"  running {counts.get('running', 0)}", style="cyan")
        text.append(f"  failed {counts.get('failed', 0) + counts.get('timed_out', 0)}", style="red")
        text.append(f"  retries {self._retries}", style="yellow")
        text.append(f"  {format_duration(time.monotonic() - self._started)}")
        return text

    # -- summary -----------------------------------------------------------------------------

    def _print_summary(self, event: Event) -> None:
        if not self._quiet and self._rows:
            from rich.markup import escape
            from rich.table import Table

            table = Table(
                title=None, show_edge=False, pad_edge=False, box=None, header_style="bold"
            )
            has_cost = any(r.cost is not None for r in self._rows.values())
            for column in (
                "task",
                "status",
                "attempts",
                "duration",
                "cpu",
                "peak mem",
                *(("cost",) if has_cost else ()),
            ):
                table.add_column(
                    column, justify="left" if column in ("task", "status") else "right"
                )
            for row in self._rows.values():
                cells = [
                    escape(row.task),
                    escape(row.status + (f" ({row.reason})" if row.reason else "")),
                    str(row.attempts or "-"),
                    format_duration(row.duration) if row.attempts else "-",
                    f"{row.cpu:.2f}s" if row.attempts else "-",
                    format_memory(row.rss) if row.rss else "-",
                ]
                if has_cost:
                    cells.append(f"{row.cost:.6f}" if row.cost is not None else "-")
                table.add_row(*cells, style=_STYLES.get(row.status) if self._color else None)
            self._rich().print(table)
        counts = (event.data or {}).get("counts", {})
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        priced = [r.cost for r in self._rows.values() if r.cost is not None]
        if priced:
            parts += f"; cost {sum(priced):.6f} {self._currency}"
        # Through _line: plain text without colour, so a quiet run never loads rich.
        self._line(
            f"run {event.run_id} {event.status} in {format_duration(event.duration_s or 0)}"
            + (f" ({parts})" if parts else ""),
            _STYLES.get(event.status or "", "bold"),
            always=True,
        )
