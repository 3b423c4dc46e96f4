"""The shipped price table: complete for the families the issue names, dated and sourced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psr_engine.cost.prices import (
    CostError,
    InstancePrice,
    load_table,
    shipped_table,
    user_prices_path,
    write_table,
)


@pytest.mark.parametrize(
    ("provider", "prefixes"),
    [
        ("aws", ("t3.", "m5.", "m6i.", "m7i.", "c5.", "c6i.", "r5.", "r6i.")),
        ("azure", ("Standard_B", "Standard_D", "Standard_F", "Standard_E")),
        ("gcp", ("e2-", "n2-", "c2-")),
    ],
)
def test_every_family_is_priced_in_several_regions(provider: str, prefixes: tuple) -> None:
    prices = shipped_table().select(provider=provider)
    regions = {p.region for p in prices}
    assert len(regions) >= 3
    for prefix in prefixes:
        for region in regions:
            assert any(p.instance_type.startswith(prefix) and p.region == region for p in prices), (
                prefix,
                region,
            )


def test_every_figure_has_a_date_a_source_and_a_shape() -> None:
    table = shipped_table()
    assert table.snapshot
    for price in table.prices:
        assert price.date and price.source.startswith(("Amazon", "Azure", "Google")), price
        assert price.hourly > 0 and price.vcpu > 0 and price.memory_gib > 0
        assert price.currency == "USD"


def test_refreshed_prices_replace_the_snapshot(tmp_path: Path) -> None:
    path = str(tmp_path / "prices.json")
    newer = InstancePrice("aws", "us-east-1", "m5.large", 2, 8, 0.2, date="2030-01-01")
    write_table(path, [newer])
    table = load_table({"PSR_PRICES_FILE": path})
    assert table.find("aws", "us-east-1", "m5.large").hourly == 0.2
    assert table.find("aws", "us-east-1", "m5.xlarge").hourly == 0.192  # untouched
    assert not table.snapshot


def test_a_broken_user_table_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{not json")
    with pytest.raises(CostError, match="unreadable price table"):
        load_table({"PSR_PRICES_FILE": str(path)})


def test_user_table_lives_in_the_cache_folder() -> None:
    assert user_prices_path({"XDG_CACHE_HOME": "/c"}) == "/c/psr-engine/prices.json"
    assert user_prices_path({"PSR_PRICES_FILE": "/p.json"}) == "/p.json"


def test_written_table_is_json_with_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "prices.json"
    write_table(
        str(path), [InstancePrice("gcp", "r", "n2-x", 2, 8, 0.1, vcpu_hour=0.03, gib_hour=0.005)]
    )
    entry = json.loads(path.read_text())["prices"][0]
    assert entry["vcpuHour"] == 0.03 and entry["instanceType"] == "n2-x"
