"""Who may see and act: the token, the login cookie, CSRF, allowed hosts, security headers.

- Bound to a loopback address without a token, the dashboard answers only requests whose
  Host is a loopback name (a web page cannot point its own domain at 127.0.0.1 and read the
  dashboard: DNS rebinding).
- With a token (required on any other address), every request but the login page and the
  static files carries it: `Authorization: Bearer TOKEN`, or the cookie the login form sets
  (HttpOnly, SameSite=Strict; it holds an HMAC of the token, never the token).
- Actions are POSTs that carry the page's CSRF token in `X-CSRF-Token` (a bearer request
  needs none: no browser sends that header by itself).
- Every response carries a CSP without inline script, nosniff and frame-ancestors 'none'.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "psr_ui_session"
CSRF_HEADER = "x-csrf-token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_OPEN_PATHS = ("/login", "/static/")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Guard:
    token: str | None
    loopback: bool  # bound to a loopback address
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def session(self) -> str:
        """The cookie's value: proves the token was typed once, without holding it."""
        assert self.token is not None
        return hmac.new(self.token.encode(), b"psr-ui-session", hashlib.sha256).hexdigest()

    def token_ok(self, offered: str) -> bool:
        return self.token is not None and hmac.compare_digest(offered.encode(), self.token.encode())

    def authorised(self, headers: dict[str, str]) -> tuple[bool, bool]:
        """(allowed, by bearer header)."""
        if self.token is None:
            return True, False
        bearer = headers.get("authorization", "")
        if bearer[:7].lower() == "bearer " and self.token_ok(bearer[7:].strip()):
            return True, True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:
            return False, False
        morsel = cookie.get(COOKIE)
        ok = morsel is not None and hmac.compare_digest(morsel.value, self.session)
        return ok, False

    def csrf_ok(self, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(offered.encode(), self.csrf.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class GuardMiddleware:
    """Host check, authentication and the headers, around the whole app (pure ASGI, so
    Server-Sent Events stream through it untouched)."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + list(HEADERS)
            await send(message)

        headers = _headers(scope)
        path: str = scope["path"]
        if self.guard.token is None and self.guard.loopback:
            host = headers.get("host", "").rsplit(":", 1)[0] if headers.get("host") else ""
            if host and host not in _LOOPBACK_NAMES:
                await _plain(
                    send_with_headers,
                    421,
                    "unknown Host: open the dashboard by the "
                    "address it printed (127.0.0.1 or localhost)",
                )
                return
        allowed, bearer = self.guard.authorised(headers)
        scope.setdefault("state", {})["bearer"] = bearer
        if not allowed and not path.startswith(_OPEN_PATHS):
            if path.startswith("/api/") or scope["method"] != "GET":
                await _json(
                    send_with_headers,
                    401,
                    {"error": "a token is required"},
                    extra=((b"www-authenticate", b'Bearer realm="psr-engine"'),),
                )
            else:
                from urllib.parse import quote

                target = "/login?next=" + quote(path, safe="/")
                await _redirect(send_with_headers, target)
            return
        await self.app(scope, receive, send_with_headers)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(
    send: Send, status: int, doc: Any, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = json.dumps(doc).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
