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
from psr_engine.executors.spawn_placement import (
    PROBE_FIRST,
    PROBE_MOST,
    SLOW_S,
    WINDOW,
    SpawnPlacement,
)

QUICK, SLOW = SLOW_S / 4, SLOW_S * 5


def busy(placement: SpawnPlacement) -> SpawnPlacement:
    """As after a window of slow spawns on the loop (a busy machine)."""
    for _ in range(WINDOW):
        placement.observe(SLOW)
    return placement


def probes_among(placement: SpawnPlacement, spawns: int, probe_takes: float) -> list[int]:
    """Which of the next `spawns` go on the loop, each probe taking `probe_takes` seconds."""
    probes = []
    for i in range(spawns):
        if placement.on_loop():
            probes.append(i)
            placement.observe(probe_takes)
    return probes


def test_spawns_start_on_the_loop_and_stay_while_quick():
    placement = SpawnPlacement()
    for _ in range(3 * PROBE_MOST):
        assert placement.on_loop()
        placement.observe(QUICK)


def test_a_window_of_mostly_slow_spawns_sends_the_next_ones_to_threads():
    placement = SpawnPlacement()
    for took in [QUICK] * (WINDOW // 2) + [SLOW] * (WINDOW - WINDOW // 2):
        assert placement.on_loop()
        placement.observe(took)
    assert not placement.on_loop()


def test_slow_spawns_at_the_start_do_not_decide_before_the_window_is_full():
    """Failed with a running mean: the keeper and the history writer starting beside the first
    spawns made two or three of them take 3-8 ms, and a quiet run went to threads."""
    placement = SpawnPlacement()
    for took in [SLOW, SLOW, SLOW] + [QUICK] * (3 * WINDOW):
        assert placement.on_loop()
        placement.observe(took)


def test_slow_spawns_among_quick_ones_keep_them_on_the_loop_while_fewer_than_half():
    placement = SpawnPlacement()
    for _ in range(3):
        for took in [QUICK] * (WINDOW - WINDOW // 2) + [SLOW] * (WINDOW // 2):
            assert placement.on_loop()
            placement.observe(took)


def test_while_slow_probes_come_further_apart_each_time_one_finds_it_slow():
    placement = busy(SpawnPlacement())
    probes = probes_among(placement, 20 * PROBE_MOST, SLOW)
    gaps = [b - a for a, b in zip([-1, *probes], probes, strict=False)]
    expected = [PROBE_FIRST]
    while expected[-1] < PROBE_MOST:
        expected.append(min(expected[-1] * 2, PROBE_MOST))
    assert gaps[: len(expected)] == expected
    assert set(gaps[len(expected) :]) == {PROBE_MOST}


def test_a_quick_probe_starts_a_new_window_on_the_loop():
    placement = busy(SpawnPlacement())
    assert probes_among(placement, PROBE_FIRST, QUICK) == [PROBE_FIRST - 1]
    assert all(placement.on_loop() for _ in range(PROBE_MOST))


def test_a_quick_probe_on_a_still_busy_machine_gives_the_loop_one_window_only():
    placement = busy(SpawnPlacement())
    assert probes_among(placement, PROBE_FIRST, QUICK) == [PROBE_FIRST - 1]
    on_loop = probes_among(placement, WINDOW - 1 + PROBE_FIRST, SLOW)
    # The probe and these fill the new window; its median is slow: back to threads, and the
    # next probe comes after PROBE_FIRST again (the quick one reset the spacing).
    assert on_loop == [*range(WINDOW - 1), WINDOW - 2 + PROBE_FIRST]


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

    def machine_got_busy() -> None:
        busy(placement)

    _run_beside_a_sleeper(executor, spec_for, tmp_path, 4, then=machine_got_busy)
    assert spawned_in == [threading.main_thread().name] + ["psr-spawn"] * 4


def test_without_adaptive_placement_spawns_that_overlap_go_to_threads(
    spawned_in, spec_for, tmp_path
):
    executor = LocalExecutor(adaptive=False)
    _run_beside_a_sleeper(executor, spec_for, tmp_path, 4)
    assert spawned_in == [threading.main_thread().name] + ["psr-spawn"] * 4
