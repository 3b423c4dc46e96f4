"""The cost model: hourly rates for one vCPU and one GiB, and what a task costs at them.

An instance's price is split between its vCPUs and its memory the way Google prices custom
machine types: price = vCPUs x vCPU rate + GiB x GiB rate, with the two rates in the ratio of
Google's own N2 prices (one vCPU-hour costs as much as ~7.46 GiB-hours). For an instance with
`v` vCPUs, `m` GiB and hourly price `P`:

    gib_hour  = P / (v x ratio + m)
    vcpu_hour = ratio x gib_hour

GCP instances carry their published per-vCPU and per-GB rates, used as they are.

    reserved = duration_h x (cpu request x vcpu_hour + memory request GiB x gib_hour)
    used     = cpu seconds / 3600 x vcpu_hour + duration_h x peak RSS GiB x gib_hour

A task without a cpu request is priced as one vCPU (what a process can use at least), and one
without a memory request at its peak RSS: a run is never free because requests were left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psr_engine.cost.prices import CostError, InstancePrice, PriceTable, load_table
from psr_engine.settings import CostSettings
from psr_engine.store.model import TaskEnding

GIB = float(2**30)


@dataclass(frozen=True, slots=True)
class Rates:
    """Prices of one vCPU-hour and one GiB-hour, and where they come from."""

    vcpu_hour: float
    gib_hour: float
    currency: str = "USD"
    source: str = "rates"  # "aws/us-east-1/m5.large", or "rates" for the user's own

    def to_dict(self) -> dict[str, Any]:
        return {
            "vcpuHour": self.vcpu_hour,
            "gibHour": self.gib_hour,
            "currency": self.currency,
            "source": self.source,
        }


# What a finished task reports (run.results.TaskResult, store.TaskRecord): its duration,
# CPU seconds and peak RSS are what it cost.
Measured = TaskEnding


@dataclass(frozen=True, slots=True)
class TaskCost:
    reserved: float
    used: float
    currency: str

    def to_dict(self, rates: Rates) -> dict[str, Any]:
        return {
            "reserved": round(self.reserved, 8),
            "used": round(self.used, 8),
            "currency": self.currency,
            "vcpuHour": rates.vcpu_hour,
            "gibHour": rates.gib_hour,
            "rates": rates.source,
        }


def split_price(price: InstancePrice, vcpu_per_gib: float) -> Rates:
    """An instance's hourly price as a vCPU rate and a GiB rate (see the module docstring)."""
    source = f"{price.provider}/{price.region}/{price.instance_type}"
    if price.vcpu_hour is not None and price.gib_hour is not None:
        return Rates(price.vcpu_hour, price.gib_hour, price.currency, source)
    gib_hour = price.hourly / (price.vcpu * vcpu_per_gib + price.memory_gib)
    return Rates(vcpu_per_gib * gib_hour, gib_hour, price.currency, source)


def rates_for(cost: CostSettings, *, table: PriceTable | None = None) -> Rates:
    """The rates of a plan's `cost` settings. Own `rates` win over the price table; their
    currency is the budget's. The compiler has checked that the settings can be priced
    (CostSettings.problems); the price table may still not know the instance or region."""
    currency = cost.currency
    if cost.rates is not None:
        return Rates(cost.rates.vcpu_hour, cost.rates.gib_hour, currency, "rates")
    problems = cost.problems()
    if problems:  # settings made in Python, not compiled from a manifest
        raise CostError(problems[0][1])
    provider, region, instance = str(cost.provider), str(cost.region), str(cost.instance_type)
    table = table or load_table()
    rates = split_price(table.find(provider, region, instance), table.vcpu_per_gib)
    if currency != rates.currency:
        raise CostError(
            f"spec.cost.budget.currency is {currency} but {provider} list prices are in "
            f"{rates.currency}; set currency: {rates.currency}, or give rates in {currency}"
        )
    return rates


def reserved_cost(rates: Rates, *, seconds: float, cpu: float, memory_bytes: float) -> float:
    """What holding `cpu` cores and `memory_bytes` for `seconds` costs."""
    return seconds / 3600.0 * (cpu * rates.vcpu_hour + memory_bytes / GIB * rates.gib_hour)


def used_cost(rates: Rates, *, seconds: float, cpu_seconds: float, peak_rss: float) -> float:
    """What the CPU time spent and the peak memory held for `seconds` cost."""
    return cpu_seconds / 3600.0 * rates.vcpu_hour + seconds / 3600.0 * (
        peak_rss / GIB * rates.gib_hour
    )


def priced_request(cpu: float, memory: int, peak_rss: int = 0) -> tuple[float, float]:
    """The request that is priced: one vCPU when none was asked, the peak RSS when no memory."""
    return (cpu if cpu > 0 else 1.0, float(memory if memory > 0 else peak_rss))


def task_cost(rates: Rates, *, cpu: float, memory: int, result: Measured) -> TaskCost:
    """Reserved and used cost of a finished task (all its attempts)."""
    cores, memory_bytes = priced_request(cpu, memory, result.max_rss)
    return TaskCost(
        reserved=reserved_cost(
            rates, seconds=result.duration, cpu=cores, memory_bytes=memory_bytes
        ),
        used=used_cost(
            rates,
            seconds=result.duration,
            cpu_seconds=result.cpu_user + result.cpu_sys,
            peak_rss=result.max_rss,
        ),
        currency=rates.currency,
    )
