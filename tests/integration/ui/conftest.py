"""A project with a recorded run (made by a real `psr-engine apply`) and a dashboard app over
it, driven in process by Starlette's TestClient."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from ui_history import apply, write_project

from psr_engine.ui.app import create_app
from psr_engine.ui.catalog import Catalog, discover
from psr_engine.ui.security import Guard


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ui") / "proj"
    manifest = write_project(folder)
    apply(manifest)
    apply(manifest)
    return folder


def make_client(
    paths: list[str],
    *,
    token: str | None = None,
    actions: bool = False,
    trace_url: str | None = None,
) -> TestClient:
    catalog = Catalog(discover(paths))
    catalog.upgrade()
    app = create_app(
        catalog, Guard(token=token, loopback=True), allow_actions=actions, trace_url=trace_url
    )
    # The dashboard answers loopback Host names only (DNS rebinding): the base URL says one.
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def client(project: Path) -> TestClient:
    return make_client([str(project)])
