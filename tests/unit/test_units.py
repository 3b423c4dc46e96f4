"""Durations, cpu and memory quantities: worked examples and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psr_engine.units import (
    Resources,
    RetryPolicy,
    format_duration,
    format_memory,
    parse_cpu,
    parse_duration,
    parse_memory,
)

seconds = st.floats(min_value=0, max_value=10**7, allow_nan=False, allow_infinity=False)
sizes = st.integers(min_value=0, max_value=2**50)
# Letters that cannot spell a unit, a number, "nan" or "inf".
garbage = st.text(alphabet="bcdegjlopqrtuvwxyz!@#/_ ", min_size=1)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("1h2m3s", 3723.0),
        ("250ms", 0.25),
        ("90", 90.0),
        (90, 90.0),
        (2.5, 2.5),
        ("0s", 0.0),
    ],
)
def test_parse_duration_examples(text, value) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    ("text", "value"), [("2", 2.0), ("0.5", 0.5), ("500m", 0.5), ("1500m", 1.5), (4, 4.0)]
)
def test_parse_cpu_examples(text, value) -> None:
    assert parse_cpu(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("512Mi", 512 * 2**20),
        ("2Gi", 2 * 2**30),
        ("1G", 10**9),
        ("1500k", 1_500_000),
        ("1.5Gi", 3 * 2**29),
        ("100", 100),
        (4096, 4096),
    ],
)
def test_parse_memory_examples(text, value) -> None:
    assert parse_memory(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.85, "850ms"), (4.25, "4.2s"), (42, "42s"), (185, "3m05s"), (3720, "1h02m")],
)
def test_format_duration_examples(value, text) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(512, "512"), (2048, "2Ki"), (512 * 2**20, "512Mi"), (3 * 2**29, "1.5Gi")]
)
def test_format_memory_examples(value, text) -> None:
    assert format_memory(value) == text


@pytest.mark.parametrize("parse", [parse_duration, parse_cpu, parse_memory])
@pytest.mark.parametrize("bad", ["", "ten", "1x", "-5", -5, True, "1 h", "5 secs", "1GB"])
def test_garbage_and_negative_values_are_refused(parse, bad) -> None:
    with pytest.raises(ValueError):
        parse(bad)


def duration_tolerance(value: float) -> float:
    if value < 1:
        return 0.0005  # whole milliseconds
    if value < 10:
        return 0.05  # one decimal
    if value < 3600:
        return 0.5  # whole seconds
    return 60.0  # hours and minutes: the seconds are dropped


@given(seconds)
def test_format_duration_round_trips_within_its_rounding(value: float) -> None:
    assert abs(parse_duration(format_duration(value)) - value) <= duration_tolerance(value) + 1e-9


@given(seconds, seconds)
def test_format_duration_keeps_order(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert parse_duration(format_duration(low)) <= parse_duration(format_duration(high))


@given(sizes)
def test_format_memory_round_trips_within_its_rounding(size: int) -> None:
    back = parse_memory(format_memory(size))
    assert abs(back - size) <= max(0.05 * size, 1)


@given(sizes, sizes)
def test_format_memory_keeps_order(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert parse_memory(format_memory(low)) <= parse_memory(format_memory(high))


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_parse_duration_is_monotonic_in_every_unit(a: int, b: int) -> None:
    low, high = sorted((a, b))
    for unit in ("ms", "s", "m", "h"):
        assert parse_duration(f"{low}{unit}") <= parse_duration(f"{high}{unit}")
    assert parse_duration(f"{low}ms") <= parse_duration(f"{low}s") <= parse_duration(f"{low}m")


@given(st.integers(min_value=1, max_value=10**6))
def test_memory_units_grow_in_order(n: int) -> None:
    ladder = [parse_memory(f"{n}{unit}") for unit in ("", "Ki", "Mi", "Gi", "Ti", "Pi")]
    assert ladder == sorted(ladder) and len(set(ladder)) == len(ladder)
    assert parse_memory(f"{n}k") == parse_memory(f"{n}K") == n * 1000


@given(st.integers(min_value=0, max_value=10**6))
def test_millicores_are_thousandths_of_a_core(n: int) -> None:
    assert math.isclose(parse_cpu(f"{n}m"), n / 1000)
    assert parse_cpu(str(n)) == n


@given(st.integers(min_value=0, max_value=10**4), st.integers(0, 59), st.integers(0, 59))
def test_compound_durations_add_up(h: int, m: int, s: int) -> None:
    assert parse_duration(f"{h}h{m}m{s}s") == h * 3600 + m * 60 + s


@given(garbage)
def test_text_without_a_number_is_refused(text: str) -> None:
    for parse in (parse_duration, parse_cpu, parse_memory):
        with pytest.raises(ValueError):
            parse(text)


@pytest.mark.parametrize("bad", ["nan", "inf", "infinity", math.nan, math.inf])
def test_non_finite_durations_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(("parse", "bad"), [(parse_cpu, math.nan), (parse_memory, math.inf)])
def test_non_finite_quantities_are_value_errors(parse, bad) -> None:
    with pytest.raises(ValueError):
        parse(bad)


@pytest.mark.parametrize("parse", [parse_duration, parse_cpu, parse_memory])
def test_non_ascii_digits_are_refused(parse) -> None:
    with pytest.raises(ValueError):
        parse("١٢")  # Arabic-Indic twelve


def test_resources_arithmetic_and_fit() -> None:
    small, big = Resources(0.5, 2**20), Resources(2, 2**30)
    assert small.fits_in(big) and not big.fits_in(small)
    assert (big - small) + small == big
    assert Resources.from_dict(big.to_dict()) == big


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [("fixed", [2, 2, 2, 2]), ("linear", [2, 4, 6, 8]), ("exponential", [2, 4, 8, 10])],
)
def test_retry_delays_follow_the_backoff_and_cap(backoff, delays) -> None:
    policy = RetryPolicy(limit=4, backoff=backoff, delay=2, max_delay=10)
    assert [policy.delay_before(n) for n in range(1, 5)] == delays
    assert RetryPolicy.from_dict(policy.to_dict()) == policy


def test_a_gpu_request_counts_in_the_ledger_and_beyond_capacity_can_never_start():
    from psr_engine.units import Resources, capacity_problems

    assert not Resources(gpu=1).fits_in(Resources(cpu=8, memory=2**30))
    assert Resources(gpu=1).fits_in(Resources(cpu=8, memory=2**30, gpu=2))
    assert (Resources(gpu=2) - Resources(gpu=1)).gpu == 1
    assert Resources.from_dict(Resources(cpu=1, gpu=1).to_dict()) == Resources(cpu=1, gpu=1)
    assert "gpu" not in Resources(cpu=1).to_dict()  # plans without GPUs read as before
    (problem,) = capacity_problems("train", Resources(gpu=1), Resources(cpu=8), whose="x's")
    assert problem[0] == "gpu" and "--resources gpu=N" in problem[2]
