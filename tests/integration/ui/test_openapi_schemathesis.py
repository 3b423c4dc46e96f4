"""schemathesis against a live `psr-engine ui` (a real uvicorn on a free port) and its own
OpenAPI document: no request it can make gets a 5xx, no response breaks the document (its
status codes, content types and bodies). The event streams are left out: `/api/events` never
ends by design (a browser holds it open)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui_history import Server, apply, ui_server, write_project

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("fuzz") / "proj"
    manifest = write_project(folder)
    apply(manifest)
    with ui_server([str(folder)], "--allow-actions") as server:
        yield server


def test_the_api_keeps_to_its_openapi_document(live: Server) -> None:
    # Each operation's cases are drawn by hypothesis here rather than through schemathesis's
    # pytest plug-in, which reaches into pytest internals this pytest no longer has.
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("events"):
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(
                base_url=live.url,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        check()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) == 7, tested


def test_the_document_is_openapi_3_1_with_every_path(live: Server) -> None:
    import httpx

    doc = httpx.get(f"{live.url}/api/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert {
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/tasks/{task}/logs",
        "/api/runs/{run_id}/events",
        "/api/workflows",
        "/api/runs/{run_id}/cancel",
        "/api/runs/{run_id}/resume",
        "/api/runs/{run_id}/rerun",
    } <= set(doc["paths"])
