"""Fewer Dask messages per attempt, without a cluster: the engine releases the futures of
attempts ending close together at once, and a worker's announcement of a result goes with the
task's end (the worker plugin, with a stand-in worker)."""

from __future__ import annotations

import pickle
from typing import Any

import anyio
import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from process_results import process_result

from psr_engine.executors import dask, dask_worker
from psr_engine.executors.dask_announcer import ResultAnnouncer


class _Future:
    def __init__(self) -> None:
        self.released = False

    def release(self) -> None:
        self.released = True


@pytest.mark.anyio
async def test_futures_of_attempts_ending_together_are_released_together(monkeypatch):
    monkeypatch.setattr(dask, "RELEASE_AFTER", 0.05)
    executor = dask.DaskExecutor("tcp://127.0.0.1:1")
    first, second = _Future(), _Future()

    executor._let_go(first)
    await anyio.sleep(0.01)
    executor._let_go(second)
    assert not first.released and not second.released  # held: the result stays on its worker

    await anyio.sleep(0.1)
    assert first.released and second.released


class _Worker:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def log_event(self, topic: str, message: Any) -> None:
        self.events.append((topic, message))


@pytest.fixture
def announcer(monkeypatch: pytest.MonkeyPatch) -> tuple[ResultAnnouncer, _Worker]:
    monkeypatch.setattr(dask_worker, "announcer", None)
    plugin, worker = ResultAnnouncer(), _Worker()
    plugin.setup(worker)
    return plugin, worker


def test_an_announcement_is_sent_when_its_task_turns_to_memory(announcer):
    plugin, worker = announcer
    dask_worker._announced(worker, "topic", "k", dask_worker.Returned(_RESULT))
    assert worker.events == []  # held by the plugin, not sent from the task's thread

    plugin.transition("other", "ready", "executing")
    assert worker.events == []
    plugin.transition("k", "executing", "memory")
    [(topic, sent)] = worker.events
    assert (topic, sent["key"]) == ("topic", "k")
    assert pickle.loads(sent["returned"]) == dask_worker.Returned(_RESULT)


def test_an_announcement_of_a_task_that_did_not_reach_memory_is_dropped(announcer):
    plugin, worker = announcer
    dask_worker._announced(worker, "topic", "k", dask_worker.Returned(_RESULT))

    plugin.transition("k", "cancelled", "released")
    plugin.transition("k", "released", "memory")  # whatever comes later: nothing held now
    assert worker.events == []


def test_without_the_plugin_the_task_announces_its_result_itself(monkeypatch):
    monkeypatch.setattr(dask_worker, "announcer", None)
    worker = _Worker()
    dask_worker._announced(worker, "topic", "k", dask_worker.Returned(_RESULT))
    [(topic, sent)] = worker.events
    assert (topic, sent["key"]) == ("topic", "k")


def test_a_plugin_torn_down_no_longer_holds_announcements(announcer):
    plugin, worker = announcer
    plugin.teardown(worker)
    assert dask_worker.announcer is None


_RESULT = process_result()
