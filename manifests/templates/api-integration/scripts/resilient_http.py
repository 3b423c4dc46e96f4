"""A resilient HTTP client, standard library only: timeouts, retries with exponential backoff
and full jitter (honouring Retry-After), a token-bucket rate limit, bearer / basic / API-key
auth, and metrics. Import it from your own scripts, or run http_client.py.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class RequestFailed(Exception):
    """A request failed for good. ``transient`` tells whether trying later might help."""

    def __init__(self, message: str, *, status: int | None, transient: bool) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass
class Metrics:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, float | int]:
        ordered = sorted(self.latencies) or [0.0]
        return {
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "errors": self.errors,
            "latencyP50S": round(ordered[len(ordered) // 2], 4),
            "latencyP95S": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 4),
        }


class RateLimiter:
    """A token bucket: ``rate`` requests a second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            wait = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
            self.tokens -= 1
        if wait:
            time.sleep(wait)


def auth_headers(kind: str, secrets: dict[str, str], *, key_header: str = "X-API-Key") -> dict:
    """Headers for ``kind``: none | bearer (API_TOKEN) | basic (API_USER, API_PASSWORD) |
    api-key (API_KEY). Values come from the environment the engine filled from secrets."""
    if kind == "none":
        return {}
    needed = {
        "bearer": ["API_TOKEN"],
        "basic": ["API_USER", "API_PASSWORD"],
        "api-key": ["API_KEY"],
    }
    if kind not in needed:
        raise ValueError(f"unknown auth {kind!r}; use none, bearer, basic or api-key")
    missing = [name for name in needed[kind] if not secrets.get(name)]
    if missing:
        raise ValueError(f"auth {kind} needs the secret(s) {', '.join(missing)}")
    if kind == "bearer":
        return {"Authorization": f"Bearer {secrets['API_TOKEN']}"}
    if kind == "basic":
        pair = f"{secrets['API_USER']}:{secrets['API_PASSWORD']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {key_header: secrets["API_KEY"]}


class ResilientClient:
    """GET JSON with retries. ``max_attempts`` counts the first try."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        rate: float = 0.0,
        log=print,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.timeout, self.max_attempts = timeout, max(1, max_attempts)
        self.backoff, self.max_backoff = backoff, max_backoff
        self.limiter = RateLimiter(rate)
        self.metrics = Metrics()
        self.log = log
        self.random = random.Random()

    def get_json(self, path: str, params: dict | None = None) -> object:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.acquire()
            self.metrics.requests += 1
            started = time.monotonic()
            retry_after = None
            try:
                request = urllib.request.Request(url, headers=self.headers)
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = response.read()
                self.metrics.latencies.append(time.monotonic() - started)
                return json.loads(body or b"null")
            except urllib.error.HTTPError as error:
                self.metrics.latencies.append(time.monotonic() - started)
                self.metrics.errors += 1
                last = f"HTTP {error.code} from {path}"
                if error.code == 429:
                    self.metrics.throttled += 1
                if error.code not in RETRY_STATUSES:
                    raise RequestFailed(last, status=error.code, transient=False) from None
                retry_after = _retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                self.metrics.errors += 1
                reason = getattr(error, "reason", error)
                last = f"{type(reason).__name__}: {reason} ({path})"
            if attempt == self.max_attempts:
                break
            delay = self._delay(attempt, retry_after)
            self.metrics.retries += 1
            self.log(f"attempt {attempt} failed ({last}); retrying in {delay:.2f}s")
            time.sleep(delay)
        raise RequestFailed(
            f"giving up after {self.max_attempts} attempts: {last}", status=None, transient=True
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        # Full jitter (AWS's "exponential backoff and jitter"): uniform in [0, base * 2^n].
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        delay = self.random.uniform(0, ceiling)
        if retry_after is not None:  # the server said when; never sooner than that
            delay = max(delay, min(retry_after, self.max_backoff))
        return delay


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
