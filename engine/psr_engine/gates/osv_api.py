"""The OSV web API (https://google.github.io/osv.dev/api/): which advisories affect which pins.

``POST /v1/querybatch`` answers up to 1,000 ``(name, version)`` queries at once with bare
advisory ids; ``GET /v1/vulns/{id}`` gives each advisory in full. Plain urllib: the product
needs no HTTP client library for two JSON calls.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from psr_engine.errors import ExecutionError
from psr_engine.gates.osv import ECOSYSTEM, Advisory, advisory_from_osv

BATCH_SIZE = 1000  # the API's limit per querybatch request


class OsvApi:
    """A client for one OSV API endpoint; advisories fetched once per client."""

    def __init__(self, api_url: str = "https://api.osv.dev", *, timeout: float = 30) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._advisories: dict[str, Advisory] = {}

    def affecting(self, pins: list[tuple[str, str]]) -> list[list[Advisory]]:
        """For each ``(name, version)``, the advisories the API says affect it, in full."""
        ids = self.query_batch(pins)
        return [[self.advisory(i) for i in found] for found in ids]

    def query_batch(self, pins: list[tuple[str, str]]) -> list[list[str]]:
        """Advisory ids per ``(name, version)``, following the API's page tokens."""
        results: list[list[str]] = [[] for _ in pins]
        for start in range(0, len(pins), BATCH_SIZE):
            pending = {start + k: "" for k in range(min(BATCH_SIZE, len(pins) - start))}
            while pending:
                order = list(pending)
                queries = [self._query(*pins[i], page_token=pending[i]) for i in order]
                answer = self._call("POST", "/v1/querybatch", {"queries": queries})
                rows = answer.get("results") or []
                if len(rows) != len(order):
                    raise ExecutionError(
                        f"the OSV API at {self.api_url} answered {len(rows)} results "
                        f"for {len(order)} queries"
                    )
                pending = {}
                for i, row in zip(order, rows, strict=True):
                    if not isinstance(row, dict):
                        raise ExecutionError(f"the OSV API at {self.api_url} sent a bad result")
                    vulns = [v for v in row.get("vulns") or () if isinstance(v, dict)]
                    results[i].extend(str(v["id"]) for v in vulns if "id" in v)
                    if row.get("next_page_token"):
                        pending[i] = row["next_page_token"]
        return [sorted(set(r)) for r in results]

    def advisory(self, advisory_id: str) -> Advisory:
        if advisory_id not in self._advisories:
            path = "/v1/vulns/" + urllib.parse.quote(advisory_id, safe="")
            raw = self._call("GET", path, None)
            try:
                self._advisories[advisory_id] = advisory_from_osv(raw)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ExecutionError(
                    f"the OSV API at {self.api_url} sent an unreadable advisory {advisory_id}: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
        return self._advisories[advisory_id]

    @staticmethod
    def _query(name: str, version: str, *, page_token: str) -> dict[str, Any]:
        query: dict[str, Any] = {
            "package": {"name": name, "ecosystem": ECOSYSTEM},
            "version": version,
        }
        if page_token:
            query["page_token"] = page_token
        return query

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = self.api_url + path
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        hint = "check the network and api_url, or scan offline with osv_db / $PSR_OSV_DB"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ExecutionError(
                f"the OSV API refused {method} {url}: HTTP {exc.code} {exc.reason}; {hint}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ExecutionError(f"cannot reach the OSV API at {url}: {reason}; {hint}") from None
        except ValueError as exc:
            raise ExecutionError(f"the OSV API at {url} did not answer JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ExecutionError(
                f"the OSV API at {url} answered {type(payload).__name__}, not an object"
            )
        return payload
