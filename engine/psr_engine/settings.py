"""Typed settings that the Manifest and the Plan share, as units.py's Resources and RetryPolicy
are: a plug-in's envelope (its type and its own options, as Dagu's ExecutorConfig{Type,
Config}), tracing and cost. The builder makes them from the raw document once; the compiler
checks them (a plug-in's own option check included) and puts them in the Plan as they are;
the runtime reads their fields. Nobody re-parses a dict.

Frozen all the way down: a plug-in's options are a FrozenMap (nested mappings too; lists
become tuples). ``to_dict``/``from_dict`` give the Plan's JSON form, cheap to decode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NoReturn


class FrozenMap(dict[str, Any]):
    """A dict that refuses every change. A dict underneath, so it pickles (a gate's options
    go to a worker process), encodes as JSON and compares equal to the dict it was made from,
    at the cost of a dict; `types.FrozenMap` does neither of the first two."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("settings are read-only")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[str, Any]]]:
        return (FrozenMap, (dict(self),))


EMPTY: Mapping[str, Any] = FrozenMap()

BudgetAction = Literal["warn", "fail"]
BudgetScope = Literal["run", "day", "month"]


def freeze(value: Any) -> Any:
    """A read-only copy: mappings become read-only mappings, lists tuples, all the way down."""
    if isinstance(value, Mapping):
        return FrozenMap({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The JSON form of a frozen value: dicts and lists."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class PluginConfig:
    """A sink or executor as the manifest names it: the registry's name and its own options
    (paths already absolute), which the plug-in's validator checked at load time."""

    type: str
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def __post_init__(self) -> None:
        if not isinstance(self.options, FrozenMap):
            object.__setattr__(self, "options", freeze(self.options))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **thaw(self.options)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PluginConfig:
        return cls(str(data["type"]), {k: v for k, v in data.items() if k != "type"})


LOCAL_EXECUTOR = PluginConfig("local")

# spec.tracing and an otel sink's options, by their manifest names (snake_case accepted too,
# for Python callers), -> TracingSettings fields.
_TRACING_NAMES = {
    "enabled": "enabled",
    "serviceName": "service_name",
    "service_name": "service_name",
    "sampler": "sampler",
    "ratio": "ratio",
    "endpoint": "endpoint",
    "protocol": "protocol",
    "exporter": "exporter",
    "headers": "headers",
    "resourceAttributes": "resource_attributes",
    "resource_attributes": "resource_attributes",
}
_MERGED = frozenset({"headers", "resource_attributes"})


@dataclass(frozen=True, slots=True)
class TracingSettings:
    """spec.tracing. None means "not stated": the OTEL_* variables, then defaults, decide."""

    enabled: bool = True
    service_name: str | None = None
    sampler: str | None = None
    ratio: float | None = None
    endpoint: str | None = None
    protocol: str | None = None
    exporter: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    resource_attributes: Mapping[str, str] = field(default_factory=lambda: EMPTY)

    def overlay(self, options: Mapping[str, Any]) -> TracingSettings:
        """These settings with `options` (manifest names: spec.tracing, an otel sink's
        entry) over them; headers and resource attributes merge key by key. Unknown names
        are left out (the schema has refused them already)."""
        changes: dict[str, Any] = {}
        for key, value in options.items():
            name = _TRACING_NAMES.get(key)
            if name is None or value is None:
                continue
            if name in _MERGED:
                value = FrozenMap(
                    {**getattr(self, name), **{str(k): str(v) for k, v in value.items()}}
                )
            elif name == "enabled":
                value = bool(value)
            changes[name] = value
        return replace(self, **changes) if changes else self

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TracingSettings:
        return cls().overlay(options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "service_name": self.service_name,
            "sampler": self.sampler,
            "ratio": self.ratio,
            "endpoint": self.endpoint,
            "protocol": self.protocol,
            "exporter": self.exporter,
            "headers": dict(self.headers),
            "resource_attributes": dict(self.resource_attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TracingSettings:
        return cls(
            **{
                **data,
                "headers": FrozenMap(data.get("headers") or {}),
                "resource_attributes": FrozenMap(data.get("resource_attributes") or {}),
            }
        )


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """spec.cost.budget: a spending limit, and what happens past it."""

    limit: float
    currency: str = "USD"
    action: BudgetAction = "warn"
    scope: BudgetScope = "run"

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "currency": self.currency,
            "action": self.action,
            "scope": self.scope,
        }


@dataclass(frozen=True, slots=True)
class CostRates:
    """spec.cost.rates: the user's own prices per hour of one vCPU and one GiB."""

    vcpu_hour: float
    gib_hour: float


@dataclass(frozen=True, slots=True)
class CostSettings:
    """spec.cost: whose prices (provider, region, instance type) or own rates, and a budget.
    The compiler has checked that it can be priced: own rates, or all three of provider,
    region and instance type."""

    provider: str | None = None
    region: str | None = None
    instance_type: str | None = None
    rates: CostRates | None = None
    budget: BudgetSettings | None = None

    @property
    def currency(self) -> str:
        return self.budget.currency if self.budget is not None else "USD"

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) of what keeps these settings from being priced."""
        if self.rates is not None:
            return []
        if self.provider in (None, "static"):
            return [
                (
                    "provider" if self.provider else "",
                    "spec.cost needs provider, region and instanceType (e.g. aws, us-east-1, "
                    "m5.large), or rates: {vcpuHour, gibHour}",
                )
            ]
        if not self.region or not self.instance_type:
            return [
                (
                    "provider",
                    f"spec.cost with provider {self.provider} needs region and instanceType",
                )
            ]
        return []

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "region": self.region,
            "instance_type": self.instance_type,
            "rates": None
            if self.rates is None
            else {"vcpu_hour": self.rates.vcpu_hour, "gib_hour": self.rates.gib_hour},
            "budget": None if self.budget is None else self.budget.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostSettings:
        rates, budget = data.get("rates"), data.get("budget")
        return cls(
            provider=data.get("provider"),
            region=data.get("region"),
            instance_type=data.get("instance_type"),
            rates=None if rates is None else CostRates(**rates),
            budget=None if budget is None else BudgetSettings(**budget),
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """spec.limits: how large a plan and a run tree may grow, so that a param (or a mistake)
    cannot drive the engine out of memory or into endless recursion. The defaults are far
    above what people write and far below what hurts."""

    matrix_instances: int = 10_000  # instances of one matrix task
    instances: int = 100_000  # task instances of one plan, every task together
    workflow_depth: int = 16  # sub-workflows inside sub-workflows, the root's limit for all

    def to_dict(self) -> dict[str, Any]:
        return {
            "matrix_instances": self.matrix_instances,
            "instances": self.instances,
            "workflow_depth": self.workflow_depth,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Limits:
        return cls(**data)

    @classmethod
    def from_options(cls, raw: Mapping[str, Any]) -> Limits:
        """From spec.limits as written (camelCase, each key optional)."""
        default = cls()
        return cls(
            matrix_instances=raw.get("matrixInstances", default.matrix_instances),
            instances=raw.get("instances", default.instances),
            workflow_depth=raw.get("workflowDepth", default.workflow_depth),
        )


__all__ = [
    "EMPTY",
    "LOCAL_EXECUTOR",
    "BudgetSettings",
    "CostRates",
    "CostSettings",
    "FrozenMap",
    "Limits",
    "PluginConfig",
    "TracingSettings",
    "freeze",
    "thaw",
]
