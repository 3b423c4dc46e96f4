"""Progress that moves while nothing happens: what is running and for how long, redrawn on a
timer (a terminal's status line) or said when the log has been silent for a while (the
heartbeat of CI logs).

The timer is a daemon thread rather than a task of the run's event loop: it ticks even while
the loop is busy, and the sink protocol gives sinks no task group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from psr_engine.units import format_duration

HEARTBEAT_S = 30.0  # off a terminal: a line after this long without one
STATUS_HZ = 10  # on a terminal: redraws per second at most (lines are written with them)


class Ticker:
    """Calls `tick` every `period` seconds on a daemon thread, until `stop`."""

    def __init__(self, tick: Callable[[], None], period: float) -> None:
        self._tick = tick
        self._period = period
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="psr-console", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stopped.wait(self._period):
            try:
                self._tick()
            except (OSError, ValueError):  # the reader went away (`| head`), or it closed
                return


def running_list(running: Mapping[str, float], now: float, *, limit: int | None = None) -> str:
    """`load 2m10s, transform[region=eu] 3.2s`: longest running first."""
    ordered = sorted(running.items(), key=lambda item: item[1])
    shown = ordered if limit is None else ordered[:limit]
    text = ", ".join(f"{name} {format_duration(now - since)}" for name, since in shown)
    if len(shown) < len(ordered):
        text += f", +{len(ordered) - len(shown)} more"
    return text


def heartbeat_line(running: Mapping[str, float], now: float) -> str:
    """`… 3 running: load 2m10s, …`"""
    return f"… {len(running)} running: {running_list(running, now, limit=8)}"


def status_line(
    *,
    done: int,
    total: int,
    failed: int,
    retries: int = 0,
    running: Mapping[str, float],
    now: float,
    elapsed: float,
) -> str:
    """The terminal's one-line status (cut to the width by the caller)."""
    text = f"{done}/{total} done"
    if failed:
        text += f" · {failed} failed"
    if retries:
        text += f" · {retries} retried"
    text += f" · {format_duration(elapsed)}"
    if running:
        text += f" · {len(running)} running: {running_list(running, now)}"
    return text


def fit(text: str, width: int) -> str:
    """Cut to `width` columns with an ellipsis (a wrapped status line cannot be redrawn).
    Wide characters (CJK in a task name) take two columns."""
    if len(text) <= width and (text.isascii() or _columns(text) <= width):
        return text
    out, used = [], 0
    for char in text:
        used += _columns(char)
        if used > width - 1:
            break
        out.append(char)
    return "".join(out) + "…"


def _columns(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
