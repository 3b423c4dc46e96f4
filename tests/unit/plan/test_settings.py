"""The Plan's settings are typed, frozen records, the same the builder made: no dict of
settings crosses the stage, and the plan cache's JSON gives them back equal."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from psr_engine import api
from psr_engine.plan.model import Plan
from psr_engine.settings import (
    BudgetSettings,
    CostRates,
    CostSettings,
    FrozenMap,
    PluginConfig,
    TracingSettings,
)

MANIFEST = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: typed}
spec:
  executor: {type: dask, address: "tcp://scheduler:8786"}
  secrets:
    TOKEN: {provider: env, name: MY_TOKEN}
  sinks:
    - {type: jsonl, path: events.jsonl, events: [task.finished]}
    - {type: webhook, url: "http://127.0.0.1:9/hook", headers: {X-Team: data}, timeout: 10s}
  tracing:
    serviceName: etl
    sampler: parentbased_traceidratio
    ratio: 0.5
    headers: {authorization: Bearer x}
  cost:
    rates: {vcpuHour: 0.04, gibHour: 0.005}
    budget: {limit: 2, action: fail}
  tasks:
    a: {run: 'echo ${{ secrets.TOKEN }}'}
"""


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    return api.make_plan(str(path))


def test_settings_are_typed_records(plan: Plan, tmp_path: Path):
    assert plan.executor == PluginConfig("dask", {"address": "tcp://scheduler:8786"})
    jsonl, webhook = plan.sinks
    assert jsonl == PluginConfig(
        "jsonl", {"path": str(tmp_path / "events.jsonl"), "events": ("task.finished",)}
    )
    assert webhook.options["headers"] == {"X-Team": "data"}
    assert plan.tracing == TracingSettings(
        service_name="etl",
        sampler="parentbased_traceidratio",
        ratio=0.5,
        headers=FrozenMap({"authorization": "Bearer x"}),
    )
    assert plan.cost == CostSettings(
        rates=CostRates(0.04, 0.005), budget=BudgetSettings(2.0, action="fail")
    )


def test_no_settings_field_of_the_plan_is_a_dict(plan: Plan):
    settings = (plan.executor, *plan.sinks, *plan.secrets)
    for record in settings:
        assert isinstance(record.options, FrozenMap)
    assert not isinstance(plan.tracing, dict) and not isinstance(plan.cost, dict)
    with pytest.raises(TypeError):
        plan.sinks[1].options["headers"]["X-Team"] = "other"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.executor.type = "local"  # type: ignore[misc]


def test_the_plan_round_trips_through_json_equal(plan: Plan):
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.to_json() == plan.to_json()
    assert isinstance(again.executor, PluginConfig)
    assert isinstance(again.tracing, TracingSettings)


def test_a_cost_block_that_cannot_be_priced_is_an_error_of_validate(tmp_path: Path):
    # It was found only when the run started (rates_for), without a line.
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST.replace("rates: {vcpuHour: 0.04, gibHour: 0.005}", "provider: gcp"))
    [problem] = api.validate(str(path)).diagnostics
    assert problem.message == "spec.cost with provider gcp needs region and instanceType"
    assert problem.path == "spec.cost.provider"
    assert problem.line == 17


def test_frozen_options_pickle_and_stay_frozen(plan: Plan):
    import pickle

    again = pickle.loads(pickle.dumps(plan.sinks[1]))
    assert again == plan.sinks[1] and isinstance(again.options, FrozenMap)
    with pytest.raises(TypeError):
        again.options["url"] = "http://elsewhere"  # type: ignore[index]
