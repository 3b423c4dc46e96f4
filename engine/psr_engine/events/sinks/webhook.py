"""The webhook sink: events POSTed as JSON arrays in batches, with retries, from a background
thread, so a slow or dead endpoint never slows the run. Closing waits a bounded time to deliver
what is left, then gives up and says so.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from psr_engine.events.model import Event
from psr_engine.events.selection import EventSelection
from psr_engine.units import parse_duration

_STOP = object()


class WebhookSink:
    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        batchSize: int = 100,
        flushInterval: float | str = 1.0,
        retries: int = 3,
        timeout: float | str = 5.0,
        closeTimeout: float | str = 10.0,
        events: Iterable[str] | None = None,
        **_: Any,
    ) -> None:
        self.url = url
        self.selection = EventSelection.of(events)
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._batch_size = max(1, int(batchSize))
        # Durations as the manifest writes them (`timeout: 10s`) or seconds.
        self._interval = parse_duration(flushInterval)
        self._retries = int(retries)
        self._timeout = parse_duration(timeout)
        self._close_timeout = parse_duration(closeTimeout)
        self._queue: queue.Queue[Any] = queue.Queue()
        # Given by the facade when tracing is on: the run span's `traceparent` for each POST.
        self._trace_headers: Callable[[], Mapping[str, str]] | None = None
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.dropped = 0
        self._error: str | None = None

    def use_trace_headers(self, *, source: Callable[[], Mapping[str, str]]) -> None:
        """TraceHeadersUser (events/hooks.py): each POST carries the run's trace headers."""
        self._trace_headers = source

    async def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="psr-webhook", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> None:
        if self.selection.wants(event.type):
            self._queue.put(event.to_dict())

    async def aclose(self) -> None:
        import anyio

        if self._thread is None:
            return
        self._queue.put(_STOP)
        await anyio.to_thread.run_sync(self._thread.join, self._close_timeout)
        if self._thread.is_alive() or self.dropped:
            pending = self._queue.qsize()
            sys.stderr.write(
                f"warning: webhook {self.url}: {self.dropped + pending} events not delivered"
                + (f" ({self._error})" if self._error else "")
                + "\n"
            )

    # -- the delivery thread -------------------------------------------------------------

    def _loop(self) -> None:
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + self._interval
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                if batch:
                    self._post(batch)
                return
            if item is not None:
                batch.append(item)
            if batch and (len(batch) >= self._batch_size or time.monotonic() >= deadline):
                self._post(batch)
                batch = []
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + self._interval

    def _post(self, batch: list[dict[str, Any]]) -> None:
        body = json.dumps(batch, separators=(",", ":"), default=str).encode()
        for attempt in range(self._retries + 1):
            traced = self._trace_headers() if self._trace_headers else {}
            headers = {**self._headers, **traced}
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    if 200 <= response.status < 300:
                        self.delivered += len(batch)
                        return
                    self._error = f"HTTP {response.status}"
            except urllib.error.HTTPError as error:
                self._error = f"HTTP {error.code}"
                if 400 <= error.code < 500 and error.code not in (408, 429):
                    break  # the endpoint refuses this batch; retrying will not help
            except (OSError, ValueError) as error:
                self._error = str(getattr(error, "reason", error))
            time.sleep(min(0.25 * 2**attempt, 2.0))
        self.dropped += len(batch)
