"""The console: what tasks print (by output mode), a line per task as it ends, progress that
moves (a status line on a terminal, a heartbeat line in CI logs), and a summary table.

Only the summary table uses rich, imported when it is printed; everything before it is plain
text and ANSI codes. Writes go through one lock: on a terminal, the timer thread writes the
lines gathered since its last tick, then redraws the status line under them.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from psr_engine.events.model import Event
from psr_engine.events.sinks import progress
from psr_engine.events.sinks.task_output import (
    Colours,
    Groups,
    OutputMode,
    ci_kind,
    default_mode,
    read_lines,
    shows_attempt,
    tail,
    wants_lines,
)
from psr_engine.printable import printable, printable_lines
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
    "blocked": "red",
    "error": "red",
    "passed": "green",
}
_SGR = {"green": "32", "red": "31", "dim": "2", "yellow": "33", "cyan": "36", "bold": "1"}
_FAILED = ("failed", "timed_out")
_CLEAR = "\r\x1b[K"


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
    """`output`: which task output is shown (task_output.OUTPUT_MODES; default live on a
    terminal, grouped elsewhere). `live`: the ticking status line (default: on a terminal).
    `quiet`: failures and the final line only, and no task output unless `output` says."""

    name = "console"

    def __init__(
        self,
        *,
        stream: IO[str] | None = None,
        live: bool | None = None,
        color: bool | None = None,
        quiet: bool = False,
        summary: bool = True,
        output: OutputMode | None = None,
        environ: Mapping[str, str] | None = None,
        heartbeat: float | None = None,
        **_: Any,
    ) -> None:
        self._out = stream or sys.stdout
        env = os.environ if environ is None else environ
        self._tty = self._out.isatty()
        terminal = self._tty and env.get("TERM") != "dumb"
        self._color = (terminal and "NO_COLOR" not in env) if color is None else color
        self._status_wanted = terminal if live is None else live
        self._quiet = quiet
        self._summary = summary
        self._mode: OutputMode = output or ("none" if quiet else default_mode(terminal=terminal))
        self._columns = env.get("COLUMNS")
        self._heartbeat = heartbeat if heartbeat is not None else _seconds(env)
        self._colours = Colours(self._color)
        self._groups = Groups(ci_kind(env), self._colours)
        self._rows: dict[str, _Row] = {}
        self._running: dict[str, float] = {}  # what runs now (tasks, gates) -> since
        self._attempt_logs: dict[str, str] = {}  # task -> its current attempt's log
        self._shown: set[tuple[str, int]] = set()  # attempts whose output was printed
        self._gates: dict[str, str] = {}  # gate name -> its label among the running
        self._started = time.monotonic()
        self._total = 0
        self._retries = 0
        self._currency = "USD"
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._status_on = False  # the status line is drawn (the timer writes everything)
        self._drawn = ""
        self._dirty = False
        self._last_write = time.monotonic()
        self._ticker: progress.Ticker | None = None
        self._console: Any = None

    @property
    def wants_logs(self) -> bool:
        """task.log lines for the run (selection.LogWanting): only live mode prints them as
        they come; the other modes read the attempt's log when it ends."""
        return wants_lines(self._mode)

    # -- the sink protocol -------------------------------------------------------------------

    async def start(self) -> None:
        return None

    def emit(self, event: Event) -> None:
        event = _printable(event)
        kind = event.type
        if kind == "task.log":
            if self._mode == "live" and event.task is not None:
                self._write(f"{self._colours.prefix(event.task)}{event.message or ''}\n")
        elif kind == "run.started":
            self._started = time.monotonic()
            self._total = int((event.data or {}).get("tasks", 0))
            self._line(f"run {event.run_id} of {event.workflow}: {self._total} tasks", "bold")
            self._start_ticker()
        elif kind == "task.started" and event.task:
            self._task_started(event)
        elif kind == "task.retrying" and event.task:
            self._retrying(event)
        elif kind in ("task.finished", "task.skipped") and event.task:
            self._finished(event)
        elif kind == "gate.started":
            self._gate_started(event)
        elif kind == "gate.finished":
            with self._lock:
                self._running.pop(self._gates.pop(event.task or "", ""), None)
            self._line(
                f"gate {event.task or ''}: {event.status} {event.message or ''}".rstrip(),
                _STYLES.get(event.status or "", ""),
                always=True,
            )
        elif kind == "run.finished":
            self._stop_ticker()
            if self._summary:
                self._print_summary(event)
            self._flush()

    async def aclose(self) -> None:
        self._stop_ticker()
        self._flush()

    # -- tasks -------------------------------------------------------------------------------

    def _task_started(self, event: Event) -> None:
        task = event.task or ""
        attempt = event.attempt or 1
        with self._lock:
            row = self._rows.setdefault(task, _Row(task))
            row.status, row.attempts = "running", attempt
            self._running[_attempt_label(task, attempt)] = time.monotonic()
        if event.log_path:
            self._attempt_logs[task] = event.log_path
        if not self._quiet and not self._status_on:
            attempt_note = f" (attempt {attempt})" if attempt > 1 else ""
            self._line(f"{_SYMBOLS['running']} {task}{attempt_note}", "cyan")

    def _retrying(self, event: Event) -> None:
        task = event.task or ""
        attempt = event.attempt or 1
        self._retries += 1
        with self._lock:
            self._running.pop(_attempt_label(task, attempt), None)
        self._attempt_output(task, attempt, event.log_path, failed=True)
        delay = (event.data or {}).get("delayS", 0)
        self._line(
            f"{_SYMBOLS['retrying']} {task} attempt {attempt} "
            f"{event.reason or 'failed'}; retrying in {format_duration(delay)}"
            + self._tail(event.log_path),
            "yellow",
        )

    def _finished(self, event: Event) -> None:
        task = event.task or ""
        with self._lock:
            row = self._rows.setdefault(task, _Row(task))
            self._running.pop(_attempt_label(task, row.attempts or 1), None)
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
        failed = row.status in _FAILED
        if event.type == "task.finished" and row.attempts:
            log = self._attempt_logs.pop(task, None) or event.log_path
            self._attempt_output(task, row.attempts, log, failed=failed)
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
        if failed:
            text += self._tail(event.log_path)
        self._line(text, _STYLES.get(row.status, ""), always=True)

    def _attempt_output(self, task: str, attempt: int, log: str | None, *, failed: bool) -> None:
        """An ended attempt's output as one block, when the mode shows it (once)."""
        if log is None or (task, attempt) in self._shown:
            return
        self._shown.add((task, attempt))
        if shows_attempt(self._mode, failed=failed):
            self._write_many(self._groups.block(task, attempt, read_lines(log)))

    def _tail(self, log: str | None) -> str:
        """The last lines of a failed attempt's log, for under its failure line."""
        if log is None or self._mode == "none":
            return ""
        return "".join(f"\n    │ {line}" for line in tail(log))

    def _gate_started(self, event: Event) -> None:
        label = self._gates[event.task or ""] = _gate_label(event)
        with self._lock:
            self._running[label] = time.monotonic()
        if not self._status_on:
            self._line(f"{_SYMBOLS['running']} {label} scanning", "cyan")

    # -- writing -----------------------------------------------------------------------------

    def _line(self, text: str, style: str = "", *, always: bool = False) -> None:
        if self._quiet and not always:
            return
        self._write(self._paint(text, style) + "\n")

    def _paint(self, text: str, style: str) -> str:
        code = _SGR.get(style) if self._color else None
        return f"\x1b[{code}m{text}\x1b[0m" if code else text

    def _write(self, text: str) -> None:
        with self._lock:
            if self._status_on:
                self._pending.append(text)
            else:
                self._out.write(text)
                self._dirty = True
            self._last_write = time.monotonic()

    def _write_many(self, pieces: Iterable[str]) -> None:
        with self._lock:
            for piece in pieces:
                if self._status_on:
                    self._pending.append(piece)
                else:
                    self._out.write(piece)
                    self._dirty = True
            self._last_write = time.monotonic()

    def _flush(self) -> None:
        with self._lock:
            self._out.flush()
            self._dirty = False

    # -- progress ----------------------------------------------------------------------------

    def _start_ticker(self) -> None:
        if self._ticker is not None:
            return
        if self._status_wanted:
            with self._lock:
                self._status_on = True
            period = 1 / progress.STATUS_HZ
        else:
            period = min(0.25, self._heartbeat / 2)
        self._ticker = progress.Ticker(self._tick, period)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        if self._ticker is None:
            return
        self._ticker.stop()
        self._ticker = None
        with self._lock:
            if self._status_on:
                self._out.write(_CLEAR + "".join(self._pending))
                self._pending.clear()
                self._status_on = False
                self._drawn = ""
            self._out.flush()
            self._dirty = False

    def _tick(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._status_on:
                status = self._paint(self._status_text(now), "dim")
                if self._pending or status != self._drawn:
                    self._out.write(_CLEAR + "".join(self._pending) + status)
                    self._out.flush()
                    self._pending.clear()
                    self._drawn = status
                return
            if not self._quiet and self._running and now - self._last_write >= self._heartbeat:
                self._out.write(progress.heartbeat_line(self._running, now) + "\n")
                self._last_write = now
                self._dirty = True
            if self._dirty:
                self._out.flush()
                self._dirty = False

    def _status_text(self, now: float) -> str:
        done = failed = 0
        for row in self._rows.values():
            if row.status not in ("running", "retrying"):
                done += 1
                failed += row.status in _FAILED
        text = progress.status_line(
            done=done,
            total=self._total,
            failed=failed,
            retries=self._retries,
            running=self._running,
            now=now,
            elapsed=now - self._started,
        )
        return progress.fit(text, self._width() - 1)

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self._out.fileno()).columns
        except (OSError, ValueError, AttributeError):  # not a file: a test's StringIO
            return shutil.get_terminal_size().columns

    # -- summary -----------------------------------------------------------------------------

    def _rich(self) -> Any:
        if self._console is None:
            from rich.console import Console

            # Off a terminal (CI), rich would cut lines at 80 columns: CI runners set no
            # COLUMNS, and their logs have no width. No colour means no style at all, bold
            # included (NO_COLOR).
            wide = not self._tty and not self._columns
            self._console = Console(
                file=self._out,
                color_system="auto" if self._color else None,
                force_terminal=self._color or None,
                width=100_000 if wide else None,
                highlight=False,
            )
        return self._console

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


def _printable(event: Event) -> Event:
    """The event with what a user chose (ids from matrix values and params, reasons, the
    engine's messages quoting values) escaped: a newline or an ESC sequence in a param must
    not forge a console line or redraw the screen. A task's own output (task.log) is the
    task's to colour and stays as it is."""
    task = printable(event.task) if event.task else event.task
    reason = printable(event.reason) if event.reason else event.reason
    message = event.message
    if message and event.type != "task.log":
        message = printable_lines(message)
    if task is event.task and reason is event.reason and message is event.message:
        return event
    return event.with_(task=task, reason=reason, message=message)


def _attempt_label(task: str, attempt: int) -> str:
    return task if attempt <= 1 else f"{task} (attempt {attempt})"


def _gate_label(event: Event) -> str:
    """`gate code (bandit, semgrep)`: the scanners it names, else its type."""
    data = event.data or {}
    tools = data.get("tools")
    scanner = ", ".join(map(str, tools)) if tools else data.get("type")
    return f"gate {event.task}" + (f" ({scanner})" if scanner else "")


def _seconds(env: Mapping[str, str]) -> float:
    """PSR_HEARTBEAT_S: the heartbeat's period (tests shorten it)."""
    try:
        value = float(env.get("PSR_HEARTBEAT_S", progress.HEARTBEAT_S))
    except ValueError:
        return progress.HEARTBEAT_S
    return value if value > 0 else progress.HEARTBEAT_S
