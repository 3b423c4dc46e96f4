"""Where the local executor spawns: on the event loop while that is quick, else from threads.

A spawn on the loop (``subprocess.Popen``, a vfork) holds the loop until the child has exec'd.
On a quiet machine that is about 0.4 ms at the median, and it saves what a spawning thread
costs per task: the hand-off to the thread, the one back, and the GIL passed between them.
Always on the loop, W1 (1,000 `true`, concurrency 2) took 0.81x the wall time of spawning from
threads, and 0.86x the CPU (15 alternating pairs, load 1.7). On a busy machine the child waits
for a CPU before it can exec, and the loop waits with it: with three CPU-bound processes beside
it on this 2-core machine, spawns on the loop took 4-7 ms at the median and W1 took 1.8x as
long as from threads, where the loop goes on while a thread waits. With one such process the
two were level (1.02x), at a median spawn of 1.2-1.3 ms.

So the local executor times its spawns on the loop and keeps the last ``WINDOW`` of them. While
their median is under ``SLOW_S`` (or fewer than ``WINDOW`` have been timed), spawns stay on the
loop; above it they go to threads. A median, not a mean: at an engine's start two or three
spawns take 3-8 ms while its keeper process and history writer start, and a mean of the first
few then sent quiet runs to threads until a probe brought them back. While spawns go to threads,
one is still made on the loop now and then (a probe: after ``PROBE_FIRST`` spawns, then twice as
many each time one finds the loop still slow, up to ``PROBE_MOST``). A probe that is quick
starts a new window on the loop (a lone attempt, spawned on the loop whatever the placement,
counts as a probe too). A probe is timed while threads are spawning beside it, whose
Python can hold the GIL the probe's Popen waits for, so it may read slower than the loop would
alone: the window starts over from a quick one rather than keep the slow figures from before. A
busy disk slows a spawn too (the attempt's log file is created in it), and sends spawns to
threads the same way.
"""

from __future__ import annotations

from collections import deque

# The loop's median wait per spawn above which threads are cheaper: a little below where the
# two ways were level (1.2-1.3 ms).
SLOW_S = 0.001
WINDOW = 7  # spawns timed on the loop that the median is taken over
# While spawns go to threads, a probe on the loop after this many, doubling while probes find
# it slow. Under load a probe holds the loop for a few milliseconds: at PROBE_MOST, about 1% of
# the time of the spawns between two probes.
PROBE_FIRST = 8
PROBE_MOST = 256


class SpawnPlacement:
    """The decision for one executor. Used from the event loop only."""

    __slots__ = ("_probe_every", "_quick", "_since_probe", "_timed")

    def __init__(self) -> None:
        self._timed: deque[float] = deque(maxlen=WINDOW)  # seconds, the latest spawns on the loop
        self._quick = True  # the window's median is under SLOW_S, or the window is not full
        self._since_probe = 0  # spawns sent to threads since the last probe
        self._probe_every = PROBE_FIRST

    def on_loop(self) -> bool:
        """Should the next spawn be made on the loop? (Counts towards the next probe.)"""
        if self._quick:
            return True
        self._since_probe += 1
        if self._since_probe >= self._probe_every:
            self._since_probe = 0
            return True
        return False

    def observe(self, seconds: float) -> None:
        """A spawn on the loop took this long (opening its log, vfork, exec)."""
        timed = self._timed
        if not self._quick:  # a probe
            if seconds < SLOW_S:
                timed.clear()  # a new window, on the loop
                self._probe_every = PROBE_FIRST
            else:
                self._probe_every = min(self._probe_every * 2, PROBE_MOST)
        timed.append(seconds)
        self._quick = len(timed) < WINDOW or sorted(timed)[WINDOW // 2] < SLOW_S
