"""No secret value, nor its base64 or URL-encoded form, in any byte the engine writes."""

from __future__ import annotations

import base64
import urllib.parse

SECRET = "s3cr3t-Value/with+chars=="


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        urllib.parse.quote(value, safe="").encode(),
        urllib.parse.quote_plus(value).encode(),
    ]


def test_secrets_are_masked_in_logs_events_console_and_state(ws):
    ws.manifest(
        """
        leak:
          env: {TOKEN: "${{ secrets.API_TOKEN }}"}
          run: |
            echo "plain $TOKEN"
            printf '%s' "$TOKEN" | base64 -w0; echo
            python3 -c 'import os,urllib.parse as u; print(u.quote(os.environ["TOKEN"], safe=""))'
            python3 -c 'import os,urllib.parse as u; print(u.quote_plus(os.environ["TOKEN"]))'
            echo "token=$TOKEN" >> "$PSR_OUTPUT"
            echo "$TOKEN" >&2
        other:
          # Neither the secret (no reference: a Python read is not a shell $API_TOKEN) nor
          # the variable the env provider reads it from.
          run: |
            python3 -c 'import os; print(os.environ.get("API_TOKEN", "unset"))' > other.txt
            echo "${DEMO_TOKEN:-unset}" >> other.txt
        """,
        extra="""
        secrets:
          API_TOKEN: {provider: env, name: DEMO_TOKEN}
        sinks:
          - {type: jsonl, path: .psr/sink-events.jsonl}
        """,
    )
    result = ws.cli("apply", env={"DEMO_TOKEN": SECRET})
    assert result.code == 0, result.stdout + result.stderr
    assert (ws.root / "other.txt").read_text() == "unset\nunset\n"
    written = [p for p in ws.root.rglob("*") if p.is_file() and p.name != "workflow.yaml"]
    assert any(p.suffix == ".log" for p in written)
    for path in written:
        data = path.read_bytes()
        for form in _forms(SECRET):
            assert form not in data, f"{form!r} leaked into {path}"
    console = (result.stdout + result.stderr).encode()
    for form in _forms(SECRET):
        assert form not in console
    log = next(p for p in written if p.name.startswith("leak.")).read_text()
    assert "plain ***" in log


def test_a_missing_secret_fails_before_any_task_with_exit_2(ws):
    ws.manifest(
        """
        t: {env: {X: "${{ secrets.NOPE }}"}, run: "touch ran"}
        """,
        extra="secrets: {NOPE: {provider: env, name: PSR_TEST_UNSET_VARIABLE}}",
    )
    result = ws.cli("apply")
    assert result.code == 2
    assert "NOPE" in result.stderr and "Traceback" not in result.stderr
    assert not (ws.root / "ran").exists()


def test_log_events_carry_each_line_masked(ws):
    ws.manifest(
        """
        talk:
          env: {TOKEN: "${{ secrets.API_TOKEN }}"}
          run: |
            echo "first line"
            echo "token is $TOKEN" >&2
        """,
        extra="secrets: {API_TOKEN: {provider: env, name: DEMO_TOKEN}}",
    )
    result = ws.cli("apply", "--log-events", env={"DEMO_TOKEN": SECRET})
    assert result.code == 0, result.stdout + result.stderr
    lines = [e["message"] for e in result.events if e["type"] == "task.log"]
    assert lines == ["first line", "token is ***"]
    (ws.root / "events.jsonl").unlink()  # the sink appends; look at the next run alone
    without = ws.cli("apply", env={"DEMO_TOKEN": SECRET})
    assert not [e for e in without.events if e["type"] == "task.log"]
