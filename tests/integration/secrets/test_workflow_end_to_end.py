"""A workflow reading secrets from OpenBao, AWS (moto) and the environment, run by the real CLI;
then every byte the engine wrote is searched for each value and its encodings."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

from psr_engine.secrets import SecretManagerAdapter

VAULT_VALUE = "vault-Pa55word/with+chars=="
AWS_VALUE = "aws-T0ken-9f8e7d6c5b4a"
ENV_VALUE = "env-S3cret-value-42"


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        urllib.parse.quote(value, safe="").encode(),
        urllib.parse.quote_plus(value).encode(),
        json.dumps(value).encode()[1:-1],
    ]


def _cli(root: Path, *args: str, stdin: str | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "psr_engine", *args],
        cwd=root,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def test_a_workflow_with_vault_aws_and_env_secrets_leaks_nothing(vault_env, aws_env, tmp_path):
    SecretManagerAdapter("vault").put_secret_sync("etl", {"password": VAULT_VALUE})
    aws = SecretManagerAdapter("aws", endpointUrl=aws_env.endpoint, region="us-east-1")
    aws.put_secret_sync("prod/api", json.dumps({"token": AWS_VALUE}))
    (tmp_path / "workflow.yaml").write_text(f"""
apiVersion: psr-engine/v1
kind: Workflow
metadata: {{name: secret-flow}}
spec:
  secrets:
    DB_PASSWORD: {{provider: vault, mount: secret, path: etl, key: password}}
    API_TOKEN: {{provider: aws, name: prod/api, key: token, endpointUrl: "{aws_env.endpoint}"}}
    LOCAL: {{provider: env, name: PSR_TEST_LOCAL_SECRET}}
  tasks:
    use:
      secrets: [DB_PASSWORD, API_TOKEN]
      env: {{LOCAL_COPY: "${{{{ secrets.LOCAL }}}}"}}
      run: |
        for v in "$DB_PASSWORD" "$API_TOKEN" "$LOCAL_COPY"; do
          echo "plain $v"
          printf '%s' "$v" | base64 -w0; echo
          python3 -c 'import sys,urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$v"
          python3 -c 'import sys,json; print(json.dumps({{"v": sys.argv[1]}}))' "$v"
        done
        [ "${{#DB_PASSWORD}}" = {len(VAULT_VALUE)} ]
        echo "token=$API_TOKEN" >> "$PSR_OUTPUT"
  sinks:
    - {{type: jsonl, path: .psr/events.jsonl}}
""")
    result = _cli(
        tmp_path,
        "apply",
        "--junit",
        "junit.xml",
        "--summary-md",
        "summary.md",
        env={"PSR_TEST_LOCAL_SECRET": ENV_VALUE},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "workflow.yaml"]
    assert any(p.suffix == ".log" for p in written) and any(p.name == "runs.db" for p in written)
    for value in (VAULT_VALUE, AWS_VALUE, ENV_VALUE):
        for form in _forms(value):
            for path in written:
                assert form not in path.read_bytes(), f"{form!r} leaked into {path}"
            assert form not in (result.stdout + result.stderr).encode()
    log = next(p for p in written if p.name == "use.1.log").read_text()
    assert log.count("plain ***") == 3


def test_a_secret_that_cannot_be_read_stops_the_run_before_any_task(vault_env, tmp_path):
    (tmp_path / "workflow.yaml").write_text("""
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: missing}
spec:
  secrets:
    GONE: {provider: vault, path: does/not/exist, key: x}
  tasks:
    t: {secrets: [GONE], run: "touch ran"}
""")
    result = _cli(tmp_path, "apply")
    assert result.returncode == 2
    assert "GONE" in result.stderr and "vault" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ran").exists()


def test_the_secrets_command_hides_values_unless_revealed(vault_env, tmp_path):
    put = _cli(
        tmp_path,
        "secrets",
        "put",
        "vault",
        "cli/demo",
        "--key",
        "password",
        stdin="s3cret-from-stdin\n",
    )
    assert put.returncode == 0, put.stderr
    hidden = _cli(tmp_path, "secrets", "get", "vault", "cli/demo", "--key", "password")
    assert hidden.returncode == 0 and "s3cret-from-stdin" not in hidden.stdout
    assert "17 characters" in hidden.stdout
    shown = _cli(tmp_path, "secrets", "get", "vault", "cli/demo", "--key", "password", "--reveal")
    assert shown.stdout.strip() == "s3cret-from-stdin"
    listed = _cli(tmp_path, "secrets", "list", "vault", "cli/")
    assert "demo" in listed.stdout
    assert _cli(tmp_path, "secrets", "delete", "vault", "cli/demo").returncode == 0
    gone = _cli(tmp_path, "secrets", "get", "vault", "cli/demo", "--key", "password")
    assert gone.returncode == 2 and "Traceback" not in gone.stderr
