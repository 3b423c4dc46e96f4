"""`psr-engine ui`: find the histories, check the address and the token, serve with uvicorn."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from psr_engine.errors import DashboardError
from psr_engine.ui.catalog import Catalog, discover
from psr_engine.ui.security import Guard, is_loopback

TOKEN_ENV = "PSR_UI_TOKEN"
TRACE_URL_ENV = "PSR_UI_TRACE_URL"


def check_trace_url(template: str | None) -> str | None:
    if not template:
        return None
    if not template.startswith(("http://", "https://")) or not (
        "{traceId}" in template or "{runId}" in template
    ):
        raise DashboardError(
            f"--trace-url {template!r}: an http(s) URL with {{traceId}} where the run's trace "
            "id goes (or {runId}, its run id), e.g. 'http://jaeger:16686/trace/{traceId}'"
        )
    return template


@dataclass(frozen=True, slots=True)
class Options:
    paths: tuple[str, ...] = (".",)
    host: str = "127.0.0.1"
    port: int = 8765
    token_file: str | None = None
    allow_actions: bool = False
    open_browser: bool = False
    trace_url: str | None = None


def read_token(token_file: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as error:
            raise DashboardError(f"--token-file {token_file}: {error.strerror}") from None
        if not token:
            raise DashboardError(f"--token-file {token_file} is empty: put the token in it")
        return token
    return env.get(TOKEN_ENV, "").strip() or None


def prepare(options: Options, environ: Mapping[str, str] | None = None) -> tuple[Catalog, Guard]:
    """Everything that can refuse, before a socket is opened."""
    token = read_token(options.token_file, environ)
    loopback = is_loopback(options.host)
    if not loopback and token is None:
        raise DashboardError(
            f"--host {options.host} is reachable from other machines: give a token with "
            f"--token-file FILE or ${TOKEN_ENV} (e.g. `openssl rand -hex 32 > ui.token`), "
            "or keep the default --host 127.0.0.1"
        )
    sources = discover(options.paths)
    if not sources:
        where = ", ".join(options.paths)
        raise DashboardError(
            f"no run history (.psr/runs.db) under {where}: run `psr-engine apply` there "
            "first, or name the folder that holds it"
        )
    catalog = Catalog(sources)
    catalog.upgrade()
    return catalog, Guard(token=token, loopback=loopback)


def trace_url_of(options: Options, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return check_trace_url(options.trace_url or env.get(TRACE_URL_ENV) or None)


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}/"


def serve(options: Options) -> int:
    try:
        import uvicorn

        from psr_engine.ui.app import create_app
    except ImportError as missing:
        raise DashboardError(
            f"the dashboard needs the `ui` extra ({missing.name} is missing): "
            "pip install 'psr-engine[ui]'"
        ) from None
    trace_url = trace_url_of(options)
    catalog, guard = prepare(options)
    app = create_app(catalog, guard, allow_actions=options.allow_actions, trace_url=trace_url)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        sockets = [s for srv in getattr(server, "servers", []) for s in srv.sockets]
        port = sockets[0].getsockname()[1] if sockets else options.port
        url = url_of(options.host, port)
        histories = len(catalog.sources)
        sys.stdout.write(
            f"psr-engine ui: {url} ({histories} run histor{'y' if histories == 1 else 'ies'}"
            f"{', actions on' if options.allow_actions else ''}); Ctrl-C stops it\n"
        )
        sys.stdout.flush()
        if options.open_browser:
            import webbrowser

            webbrowser.open(url)

    _announce_on_startup(server, announce)
    # uvicorn shuts down on Ctrl-C, then re-raises it: stopping is what was asked.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


def _announce_on_startup(server: object, announce: object) -> None:
    """Print the URL once uvicorn listens (the port is known only then when it was 0)."""
    original = server.startup  # type: ignore[attr-defined]

    async def startup(sockets: object = None) -> None:
        await original(sockets=sockets)
        if not getattr(server, "should_exit", False):
            announce()  # type: ignore[operator]

    server.startup = startup  # type: ignore[attr-defined]
