"""Spawns stay on the event loop while they are quick there, go to threads while they are slow
(a busy machine), and come back once a probe finds them quick again (spawn_placement.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from psr_engine.executors import local as local_module
from psr_engine.executors.local import LocalExecutor
from psr_engine.executors.spawn_placement import PROBE_EVERY, SLOW_S, SpawnPlacement

QUICK, SLOW = SLOW_S / 4, SLOW_S * 5


def test_spawns_start_on_the_loop_and_stay_while_quick():
    placement = SpawnPlacement()
    for _ in range(3 * PROBE_EVERY):
        assert placement.on_loop()
        placement.observe(QUICK)


def test_a_run_of_slow_spawns_sends_the_next_ones_to_threads():
    placement = SpawnPlacement()
    placement.observe(QUICK)
    spawns_until_threads = 0
    while placement.on_loop():
        placement.observe(SLOW)
        spawns_until_threads += 1
    # The mean follows the last eight or so: one slow spawn among quick ones is not enough.
    assert 1 < spawns_until_threads <= 8


def test_one_slow_spawn_among_quick_ones_keeps_them_on_the_loop():
    placement = SpawnPlacement()
    for _ in range(20):
        placement.observe(QUICK)
    placement.observe(SLOW)
    assert placement.on_loop()


def test_while_slow_one_spawn_in_probe_every_is_made_on_the_loop():
    placement = SpawnPlacement()
    placement.mean = SLOW
    decisions = [placement.on_loop() for _ in range(3 * PROBE_EVERY)]
    probes = [i for i, on_loop in enumerate(decisions) if on_loop]
    assert probes == [PROBE_EVERY - 1, 2 * PROBE_EVERY - 1, 3 * PROBE_EVERY - 1]


def test_a_quick_probe_brings_the_spawns_back_to_the_loop():
    placement = SpawnPlacement()
    placement.mean = SLOW
    while not placement.on_loop():
        pass
    placement.observe(QUICK)
    assert placement.mean == QUICK
    assert all(placement.on_loop() for _ in range(PROBE_EVERY))


def test_a_slow_probe_keeps_them_in_threads():
    placement = SpawnPlacement()
    placement.mean = SLOW
    while not placement.on_loop():
        pass
    placement.observe(SLOW * 2)
    assert not placement.on_loop()


# --- the local executor's use of it: where the spawns were made -------------------------------


@pytest.fixture
def spawned_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of the thread each spawn of the local executor was made in."""
    names: list[str] = []
    real: Callable[..., Any] = local_module._open_and_spawn

    def recording(*args: Any, **kwargs: Any) -> Any:
        names.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(local_module, "_open_and_spawn", recording)
    yield names


def _run_beside_a_sleeper(
    executor: LocalExecutor,
    spec_for: Callable[..., Any],
    folder: Path,
    n: int,
    *,
    then: Callable[[], None] = lambda: None,
) -> None:
    """A `sleep` first (alone, so spawned on the loop whatever the placement says), then
    `then()`, then n attempts of `true` at once beside it: each of those is spawned where the
    placement says."""

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(executor.run, spec_for("sleep", "0.3", log_path=str(folder / "s.log")))
            await anyio.sleep(0.05)
            then()
            for i in range(n):
                tg.start_soon(executor.run, spec_for("true", log_path=str(folder / f"{i}.log")))
        await executor.aclose()

    anyio.run(main, backend="asyncio")


def test_quick_spawns_are_made_on_the_event_loop(spawned_in, spec_for, tmp_path):
    executor = LocalExecutor()
    _run_beside_a_sleeper(executor, spec_for, tmp_path, 4)
    assert spawned_in == [threading.main_thread().name] * 5


def test_slow_spawns_are_made_from_threads(spawned_in, spec_for, tmp_path):
    executor = LocalExecutor()
    placement = executor._placement
    assert placement is not None

    def machine_got_busy() -> None:  # as after a run of slow spawns on the loop
        placement.mean = SLOW

    _run_beside_a_sleeper(executor, spec_for, tmp_path, 4, then=machine_got_busy)
    assert spawned_in == [threading.main_thread().name] + ["psr-spawn"] * 4


def test_without_adaptive_placement_spawns_that_overlap_go_to_threads(
    spawned_in, spec_for, tmp_path
):
    executor = LocalExecutor(adaptive=False)
    _run_beside_a_sleeper(executor, spec_for, tmp_path, 4)
    assert spawned_in == [threading.main_thread().name] + ["psr-spawn"] * 4
