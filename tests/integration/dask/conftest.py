"""A real Dask cluster on 127.0.0.1 for the dask executor: `dask scheduler` and two `dask
worker` processes started by tests/support/dask_cluster.py, once per test module. Worker w1
declares one GPU (--resources gpu=1), w0 none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dask_cluster import FAKE_AWS, DaskCluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    with DaskCluster.start(
        tmp_path_factory.mktemp("dask-cluster"), workers=2, env=FAKE_AWS, resources={1: "gpu=1"}
    ) as cluster:
        yield cluster


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
