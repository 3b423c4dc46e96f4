"""A real Dask cluster on 127.0.0.1 for the dask executor: a scheduler and two worker
processes (one thread each), started once per session and closed after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Cluster:
    address: str
    worker_pids: frozenset[int]


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Cluster]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = frozenset(client.run(os.getpid).values())
        yield Cluster(cluster.scheduler_address, pids)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
