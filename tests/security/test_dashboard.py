"""The dashboard's doors: who may read (loopback, or a token), what a URL can reach (only the
logs the history records, inside its folder), what a page can be made to do (actions only
when allowed, POST only, with CSRF), what a response may carry (no secret value; CSP,
nosniff, frame-ancestors 'none')."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from ui_history import apply, env_for_cli, write_project

from psr_engine.store import RunStore
from psr_engine.ui.app import create_app
from psr_engine.ui.catalog import Catalog, discover
from psr_engine.ui.security import Guard

TOKEN = "s3cr3t-dashboard-token-0123456789"
SECRET = "hunter2-TOP-SECRET-value"

FLOW = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: guarded}
spec:
  secrets:
    API_TOKEN: {provider: env, name: DASH_SECRET}
  tasks:
    leak:
      secrets: [API_TOKEN]
      run: |
        echo "token is $API_TOKEN"
        echo "copy=$API_TOKEN" >> $PSR_OUTPUT
        exit 1
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("guarded") / "proj"
    apply(write_project(folder, FLOW), DASH_SECRET=SECRET)
    return folder


def _client(
    project: Path, *, token: str | None, loopback: bool = True, actions: bool = False
) -> TestClient:
    catalog = Catalog(discover([str(project)]))
    app = create_app(catalog, Guard(token=token, loopback=loopback), allow_actions=actions)
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def _run_id(client: TestClient, **headers: str) -> str:
    return client.get("/api/runs", headers=headers).json()["runs"][0]["runId"]


def test_a_public_address_without_a_token_refuses_to_start(project: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "psr_engine",
            "ui",
            str(project),
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        env=env_for_cli(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--token-file" in done.stderr and "Traceback" not in done.stderr


def test_with_a_token_requests_without_it_get_401_and_with_it_200(project: Path) -> None:
    client = _client(project, token=TOKEN, loopback=False)
    assert client.get("/api/runs").status_code == 401
    assert client.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    page = client.get("/")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_login_form_sets_an_httponly_strict_cookie_that_is_not_the_token(project: Path) -> None:
    client = _client(project, token=TOKEN, loopback=False)
    assert client.post("/login", data={"token": "wrong", "next": "/"}).status_code == 401
    response = client.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert TOKEN not in cookie
    assert client.get("/").status_code == 200  # the cookie now opens the pages


def test_log_paths_come_from_the_history_never_from_the_url(project: Path) -> None:
    client = _client(project, token=None)
    run_id = _run_id(client)
    for task in (
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "leak/../../../etc/passwd",
    ):
        response = client.get(f"/api/runs/{run_id}/tasks/{task}/logs")
        assert response.status_code in (400, 404), task
        assert "root:" not in response.text


def test_a_history_pointing_a_log_outside_its_folder_is_refused(tmp_path: Path) -> None:
    apply(write_project(tmp_path, FLOW), DASH_SECRET=SECRET)
    with RunStore.open(str(tmp_path / ".psr")) as store:
        run_id = store.runs()[0].id
        store.write(lambda conn: conn.execute("UPDATE attempts SET log_path = '/etc/passwd'"))
    client = _client(tmp_path, token=None)
    response = client.get(f"/api/runs/{run_id}/tasks/leak/logs")
    assert response.status_code == 403
    assert "root:" not in response.text


def test_no_response_carries_a_secret_value(project: Path) -> None:
    client = _client(project, token=None)
    run_id = _run_id(client)
    forms = [SECRET, base64.b64encode(SECRET.encode()).decode().rstrip("=")]
    bodies = [
        client.get("/").text,
        client.get(f"/runs/{run_id}").text,
        client.get("/workflows/guarded").text,
        client.get("/api/runs").text,
        client.get(f"/api/runs/{run_id}").text,
        client.get(f"/api/runs/{run_id}/events").text,
        client.get(f"/api/runs/{run_id}/tasks/leak/logs").text,
    ]
    assert "token is ***" in bodies[-1]  # the log is there, masked
    for body in bodies:
        for form in forms:
            assert form not in body


def test_every_response_carries_the_security_headers(project: Path) -> None:
    client = _client(project, token=None)
    for path in ("/", "/api/runs", "/static/app.css", "/nope", "/api/openapi.json"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_pages_hold_no_inline_script(project: Path) -> None:
    client = _client(project, token=None)
    run_id = _run_id(client)
    for path in ("/", f"/runs/{run_id}", "/workflows/guarded", "/login"):
        html = client.get(path).text
        assert "<script>" not in html and " on" + "click=" not in html
        assert all('src="/static/' in tag for tag in html.split("<script")[1:])


def test_actions_are_off_unless_allowed_and_need_post_and_csrf(project: Path) -> None:
    off = _client(project, token=None)
    run_id = _run_id(off)
    assert off.post(f"/api/runs/{run_id}/resume").status_code == 403
    assert off.get(f"/api/runs/{run_id}/resume").status_code in (404, 405)

    on = _client(project, token=None, actions=True)
    assert on.post(f"/api/runs/{run_id}/cancel").status_code == 403  # no CSRF token
    bad = on.post(f"/api/runs/{run_id}/cancel", headers={"X-CSRF-Token": "guess"})
    assert bad.status_code == 403
    csrf = on.get("/").text.split('name="psr-csrf" content="')[1].split('"')[0]
    refused = on.post(f"/api/runs/{run_id}/cancel", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 409  # the run ended: nothing to cancel


def test_a_foreign_host_name_is_refused_on_loopback_without_a_token(project: Path) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the API."""
    client = _client(project, token=None)
    assert client.get("/api/runs", headers={"Host": "evil.example:8765"}).status_code == 421
    assert client.get("/api/runs", headers={"Host": "localhost:8765"}).status_code == 200
