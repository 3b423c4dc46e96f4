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

With this placement, W1 took 0.77x the wall time of always spawning from threads on a quiet
machine, 0.97x beside one CPU-bound process and 0.999x beside three (9 alternating pairs each).

So the local executor times its spawns on the loop and keeps their running mean, the loop's
expected wait per spawn. While the mean is under ``SLOW_S``, spawns stay on the loop; above it
they go to threads, and every ``PROBE_EVERY``-th spawn is still made on the loop, to see when the
machine is quiet again (one that is quick brings the next ones back). A busy disk slows a spawn
too (the attempt's log file is created in it), and sends spawns to threads the same way.
"""

from __future__ import annotations

# The loop's mean wait per spawn above which threads are cheaper: where the two ways were level.
SLOW_S = 0.001
# While spawns go to threads, one in this many is made on the loop to measure it again. Under
# load a probe holds the loop for a few milliseconds: spread over 64 spawns, about 2% of their
# time then.
PROBE_EVERY = 64
# Each spawn's weight in the running mean: the last eight or so count.
_WEIGHT = 1 / 8


class SpawnPlacement:
    """The decision for one executor. Used from the event loop only."""

    __slots__ = ("_since_probe", "mean")

    def __init__(self) -> None:
        self.mean = 0.0  # seconds: the running mean of spawns timed on the loop
        self._since_probe = 0  # spawns sent to threads since the last probe

    def on_loop(self) -> bool:
        """Should the next spawn be made on the loop? (Counts towards the next probe.)"""
        if self.mean < SLOW_S:
            return True
        self._since_probe += 1
        if self._since_probe >= PROBE_EVERY:
            self._since_probe = 0
            return True
        return False

    def observe(self, seconds: float) -> None:
        """A spawn on the loop took this long (opening its log, vfork, exec)."""
        if self.mean >= SLOW_S and seconds < SLOW_S:
            # A probe found the machine quick again: start over from it, rather than wait
            # for the mean to come down a probe at a time.
            self.mean = seconds
            self._since_probe = 0
        else:
            self.mean += (seconds - self.mean) * _WEIGHT
