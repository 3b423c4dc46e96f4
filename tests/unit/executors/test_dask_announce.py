"""Which results a Dask worker announces on the engine's topic (and the engine then takes
without a gather), without a cluster: the worker's half with a stand-in worker, the engine's
half by handing its notice handler what the worker sent."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from process_results import process_result

from psr_engine.executors.dask import DaskExecutor, _Live
from psr_engine.executors.dask_worker import ANNOUNCE_BYTES, Returned, _announced

RESULT = process_result(max_rss=1 << 20)


class _Worker:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def log_event(self, topic: str, message: Any) -> None:
        self.events.append((topic, message))


def test_a_result_of_status_and_log_is_announced_and_still_returned():
    worker = _Worker()
    returned = Returned(RESULT, log=b"hello\n")

    assert _announced(worker, "topic", "key-1", returned) is returned

    [(topic, message)] = worker.events
    assert (topic, message["key"]) == ("topic", "key-1")
    assert pickle.loads(message["returned"]) == returned


@pytest.mark.parametrize(
    "returned",
    [
        Returned(RESULT, outputs=b"secret=1\n"),  # raw $PSR_OUTPUT: only through a gather
        Returned(RESULT, artifacts=(("out.txt", b"x"),)),
        Returned(RESULT, log=b"x" * (ANNOUNCE_BYTES + 1)),
        Returned(None),  # cancelled: the engine waits for the "done" notice instead
    ],
    ids=["outputs", "artifacts", "too-large", "cancelled"],
)
def test_other_results_are_not_announced(returned):
    worker = _Worker()
    assert _announced(worker, "topic", "key-1", returned) is returned
    assert worker.events == []


def test_the_engine_keeps_an_announced_result_for_its_attempt_only():
    executor = DaskExecutor("tcp://127.0.0.1:1")
    live = executor._live["key-1"] = _Live(None, None)
    returned = Returned(RESULT, log=b"hello\n")
    data = pickle.dumps(returned)

    executor._on_notice((0.0, {"key": "key-1", "returned": data}))
    executor._on_notice((0.0, {"key": "gone", "returned": data}))  # nobody waits: ignored
    executor._on_notice((0.0, {"key": "key-1", "returned": b"not a pickle"}))

    assert live.returned == returned
