"""The cost model on worked examples computed by hand (the figures in docs/features/cloud-costs.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from psr_engine.cost.model import (
    Rates,
    rates_for,
    reserved_cost,
    split_price,
    task_cost,
    used_cost,
)
from psr_engine.cost.prices import CostError, InstancePrice, shipped_table
from psr_engine.settings import BudgetSettings, CostRates, CostSettings

GIB = 2**30


@dataclass
class Result:
    duration: float
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    max_rss: int = 0
    attempts: int = 1


def test_m5_large_splits_like_a_gcp_custom_machine() -> None:
    # By hand: ratio 7.460703 (0.031611 / 0.004237, GCP N2 us-central1).
    # gib_hour  = 0.096 / (2 x 7.460703 + 8) = 0.096 / 22.921406 = 0.00418822
    # vcpu_hour = 7.460703 x 0.00418822          = 0.03124710
    table = shipped_table()
    rates = split_price(table.find("aws", "us-east-1", "m5.large"), table.vcpu_per_gib)
    assert rates.gib_hour == pytest.approx(0.00418822, abs=5e-9)
    assert rates.vcpu_hour == pytest.approx(0.03124710, abs=5e-8)
    # The split gives the whole instance price back.
    assert 2 * rates.vcpu_hour + 8 * rates.gib_hour == pytest.approx(0.096, abs=1e-12)
    assert rates.source == "aws/us-east-1/m5.large"


def test_worked_example_reserved_and_used() -> None:
    # A task asking 1 vCPU and 2 GiB runs 30 min, spends 900 CPU seconds, peaks at 1 GiB.
    # reserved = 0.5 h x (1 x 0.0312471 + 2 x 0.0041882) = 0.5 x 0.0396235 = 0.01981175
    # used     = 0.25 h x 0.0312471 + 0.5 h x 1 x 0.0041882 = 0.00781178 + 0.0020941 = 0.00990588
    table = shipped_table()
    rates = split_price(table.find("aws", "us-east-1", "m5.large"), table.vcpu_per_gib)
    cost = task_cost(rates, cpu=1, memory=2 * GIB, result=Result(1800, 600, 300, GIB))
    assert cost.reserved == pytest.approx(0.01981175, abs=1e-7)
    assert cost.used == pytest.approx(0.00990588, abs=1e-7)
    assert cost.currency == "USD"


def test_gcp_instances_use_their_published_rates_unsplit() -> None:
    table = shipped_table()
    price = table.find("gcp", "us-central1", "n2-standard-2")
    rates = split_price(price, table.vcpu_per_gib)
    assert (rates.vcpu_hour, rates.gib_hour) == (0.031611, 0.004237)
    # n2-standard-2 = 2 x 0.031611 + 8 x 0.004237 = 0.063222 + 0.033896 = 0.097118
    assert price.hourly == pytest.approx(0.097118)


def test_split_without_published_rates_follows_the_ratio() -> None:
    price = InstancePrice("aws", "r", "x.large", vcpu=4, memory_gib=16, hourly=1.0)
    # gib = 1 / (4 x 2 + 16) = 1/24; vcpu = 2/24
    rates = split_price(price, 2.0)
    assert rates.gib_hour == pytest.approx(1 / 24)
    assert rates.vcpu_hour == pytest.approx(2 / 24)


def test_own_rates_win_and_take_the_budget_currency() -> None:
    rates = rates_for(
        CostSettings(
            provider="aws",
            region="us-east-1",
            instance_type="m5.large",
            rates=CostRates(vcpu_hour=0.04, gib_hour=0.005),
            budget=BudgetSettings(limit=1, currency="EUR"),
        )
    )
    assert rates == Rates(0.04, 0.005, "EUR", "rates")
    # 2 h x (0.5 x 0.04 + 4 x 0.005) = 2 x 0.04 = 0.08
    assert reserved_cost(rates, seconds=7200, cpu=0.5, memory_bytes=4 * GIB) == pytest.approx(0.08)


def test_used_cost_counts_cpu_seconds_and_peak_memory() -> None:
    rates = Rates(0.036, 0.0036)
    # 100 CPU s = 1/36 h x 0.036 = 0.001; 3600 s x 0.5 GiB x 0.0036 = 0.0018
    assert used_cost(rates, seconds=3600, cpu_seconds=100, peak_rss=GIB / 2) == pytest.approx(
        0.0028
    )


def test_missing_requests_are_priced_as_one_vcpu_and_the_peak_rss() -> None:
    rates = Rates(0.036, 0.0036)
    cost = task_cost(rates, cpu=0, memory=0, result=Result(3600, max_rss=GIB))
    assert cost.reserved == pytest.approx(0.036 + 0.0036)


@pytest.mark.parametrize(
    ("cost", "words"),
    [
        (CostSettings("aws", "us-east-1", "m9.huge"), "m9.huge"),
        (CostSettings("aws", "mars-1", "m5.large"), "mars-1"),
        (CostSettings("static"), "rates"),
        (CostSettings("gcp"), "region and instanceType"),
        (
            CostSettings("aws", "us-east-1", "m5.large", budget=BudgetSettings(1, "EUR")),
            "EUR",
        ),
    ],
)
def test_unpriceable_settings_say_what_to_fix(cost: CostSettings, words: str) -> None:
    with pytest.raises(CostError, match=re.escape(words)) as caught:
        rates_for(cost)
    assert caught.value.exit_code == 2


def test_unknown_instance_lists_known_ones() -> None:
    with pytest.raises(CostError, match=r"m5\.large"):
        rates_for(CostSettings("aws", "us-east-1", "m5.nano"))
