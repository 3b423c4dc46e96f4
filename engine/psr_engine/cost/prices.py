"""The price table: on-demand hourly prices, vCPUs and memory of common instance types.

Shipped as data (`prices.json` in this package, a dated snapshot of the providers' public list
prices, each figure with its date and source). `psr-engine cost prices --update` writes a
fresher table to the user's cache (`$PSR_PRICES_FILE`, else
`$XDG_CACHE_HOME/psr-engine/prices.json`); entries found there replace the shipped ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import CostError as CostError

PROVIDERS = ("aws", "azure", "gcp")


@dataclass(frozen=True, slots=True)
class InstancePrice:
    """One instance type in one region: its hourly on-demand price and its shape."""

    provider: str
    region: str
    instance_type: str
    vcpu: float
    memory_gib: float
    hourly: float
    currency: str = "USD"
    date: str = ""
    source: str = ""
    # Set where the provider itself prices vCPUs and memory apart (GCP).
    vcpu_hour: float | None = None
    gib_hour: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.provider, self.region, self.instance_type)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "provider": self.provider,
            "region": self.region,
            "instanceType": self.instance_type,
            "vcpu": self.vcpu,
            "memoryGiB": self.memory_gib,
            "hourly": self.hourly,
            "currency": self.currency,
            "date": self.date,
            "source": self.source,
        }
        if self.vcpu_hour is not None:
            out["vcpuHour"] = self.vcpu_hour
        if self.gib_hour is not None:
            out["gibHour"] = self.gib_hour
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], sources: Mapping[str, str]) -> InstancePrice:
        source = str(data.get("source", ""))
        return cls(
            provider=str(data["provider"]),
            region=str(data["region"]),
            instance_type=str(data["instanceType"]),
            vcpu=float(data["vcpu"]),
            memory_gib=float(data["memoryGiB"]),
            hourly=float(data["hourly"]),
            currency=str(data.get("currency", "USD")),
            date=str(data.get("date", "")),
            source=sources.get(source, source),
            vcpu_hour=None if data.get("vcpuHour") is None else float(data["vcpuHour"]),
            gib_hour=None if data.get("gibHour") is None else float(data["gibHour"]),
        )


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Every known price, and the vCPU:GiB price ratio used to split an instance's price."""

    prices: tuple[InstancePrice, ...]
    vcpu_per_gib: float  # price of one vCPU-hour over that of one GiB-hour
    split_source: str = ""
    snapshot: bool = True

    def find(self, provider: str, region: str, instance_type: str) -> InstancePrice:
        """The price of one instance type; CostError naming what is known when absent."""
        for price in self.prices:
            if price.key == (provider, region, instance_type):
                return price
        if provider not in PROVIDERS:
            raise CostError(
                f"spec.cost.provider {provider!r} has no price table; use one of "
                f"{', '.join(PROVIDERS)}, or `static` with rates: {{vcpuHour, gibHour}}"
            )
        regions = sorted({p.region for p in self.prices if p.provider == provider})
        if region not in regions:
            raise CostError(
                f"no {provider} prices for region {region!r}; known regions: {', '.join(regions)}"
                " (or give your own rates: {vcpuHour, gibHour})"
            )
        types = sorted(p.instance_type for p in self.select(provider=provider, region=region))
        raise CostError(
            f"no {provider} price for instance type {instance_type!r} in {region}; known: "
            f"{', '.join(types)} (see `psr-engine cost prices --provider {provider}`)"
        )

    def select(
        self, *, provider: str | None = None, region: str | None = None
    ) -> list[InstancePrice]:
        return [
            p
            for p in self.prices
            if (provider is None or p.provider == provider)
            and (region is None or p.region == region)
        ]

    def merged(self, newer: Iterable[InstancePrice]) -> PriceTable:
        """This table with `newer` entries replacing those of the same key."""
        table = {p.key: p for p in self.prices}
        table.update((p.key, p) for p in newer)
        return PriceTable(tuple(table.values()), self.vcpu_per_gib, self.split_source, False)


def user_prices_path(environ: Mapping[str, str] | None = None) -> str:
    """Where `--update` writes and where refreshed prices are read from."""
    env = os.environ if environ is None else environ
    if env.get("PSR_PRICES_FILE"):
        return env["PSR_PRICES_FILE"]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "psr-engine", "prices.json")


@cache
def shipped_table() -> PriceTable:
    """The snapshot shipped in the package."""
    text = resources.files("psr_engine.cost").joinpath("prices.json").read_text("utf-8")
    return parse_table(json.loads(text))


def parse_table(document: Mapping[str, Any]) -> PriceTable:
    sources = document.get("sources") or {}
    split = document.get("split") or {}
    return PriceTable(
        prices=tuple(InstancePrice.from_dict(p, sources) for p in document.get("prices", ())),
        vcpu_per_gib=float(split.get("vcpuPerGibHour", 0.0)) or shipped_ratio(),
        split_source=str(split.get("source", "")),
        snapshot=bool(document.get("snapshot", False)),
    )


def shipped_ratio() -> float:
    return shipped_table().vcpu_per_gib


def load_table(environ: Mapping[str, str] | None = None) -> PriceTable:
    """The shipped snapshot, overlaid with the user's refreshed prices when there are any."""
    table = shipped_table()
    path = user_prices_path(environ)
    if not os.path.isfile(path):
        return table
    try:
        with open(path, encoding="utf-8") as handle:
            newer = parse_table(json.load(handle))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CostError(
            f"{path}: unreadable price table ({error}); delete it or run "
            "`psr-engine cost prices --update` again"
        ) from None
    return table.merged(newer.prices)


def write_table(path: str, prices: Iterable[InstancePrice]) -> None:
    """Write refreshed prices (atomically: a reader never sees half a file)."""
    entries = [p.to_dict() for p in prices]
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"format": 1, "snapshot": False, "prices": entries}, handle, indent=1)
    os.replace(temporary, path)
