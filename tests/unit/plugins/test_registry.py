"""The plug-in registry: a plug-in's validator, registered beside its factory (in process with
`register`, or as an entry point naming a `Plugin`), checks its options when the manifest is
compiled, so `validate` reports a bad option at its line; executors are open to plug-ins."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from psr_engine import api, plugins
from psr_engine.errors import ManifestError, PlanError
from psr_engine.settings import PluginConfig

MANIFEST = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: plugged}
spec:
  executor:
    type: nomad
    datacenter: dc-1
    region: moon
  sinks:
    - {type: kafka, brokers: "localhost:9092"}
  tasks:
    hello: {run: echo hello}
"""


def nomad_options(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    if options.get("region") not in ("eu", "us"):
        return [("region", f"nomad has no region {options.get('region')!r}; use eu or us")]
    return []


class Nomad:
    name = "nomad"

    def __init__(self, **options: Any) -> None:
        self.options = options


class EntryPoint:
    def __init__(self, value: object) -> None:
        self.value = value

    def load(self) -> object:
        return self.value


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    return path


@pytest.fixture
def registered():
    plugins.register("executors", "nomad", Nomad, validator=nomad_options)
    yield
    plugins.unregister("executors", "nomad")


def test_a_plugin_executor_can_be_named_in_a_manifest(monkeypatch, manifest):
    # The schema's executor type was a closed enum (local, dask): a plug-in could not be named.
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    report = api.validate(str(manifest))
    assert report.ok, [str(d) for d in report.diagnostics]
    assert report.plan is not None
    assert report.plan.executor == PluginConfig("nomad", {"datacenter": "dc-1", "region": "moon"})


def test_the_validator_registered_beside_the_factory_runs_at_compile_time(
    monkeypatch, manifest, registered
):
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    report = api.validate(str(manifest))
    [problem] = report.diagnostics
    assert problem.message == "nomad has no region 'moon'; use eu or us"
    assert (problem.line, problem.path) == (8, "spec.executor.region")
    with pytest.raises(PlanError):
        api.make_plan(str(manifest))


def test_an_entry_point_may_name_a_plugin_with_its_validator(monkeypatch, manifest):
    group = {"nomad": EntryPoint(plugins.Plugin(Nomad, validator=nomad_options))}
    monkeypatch.setattr(plugins, "_entry_points", lambda name: group if name == "executors" else {})
    [problem] = api.validate(str(manifest)).diagnostics
    assert "no region 'moon'" in problem.message
    assert plugins.resolve("executors", "nomad") is Nomad


def test_valid_options_reach_the_factory(monkeypatch, manifest, registered):
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    manifest.write_text(MANIFEST.replace("region: moon", "region: eu"))
    plan = api.make_plan(str(manifest))
    from psr_engine.executors import get_executor

    executor = get_executor(plan.executor.type, **plan.executor.options)
    assert isinstance(executor, Nomad)
    assert executor.options == {"datacenter": "dc-1", "region": "eu"}


def test_a_near_miss_of_a_known_executor_is_refused_at_its_line(monkeypatch, tmp_path):
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST.replace("type: nomad", "type: lokal"))
    with pytest.raises(ManifestError) as caught:
        api.load(str(path))
    [problem] = caught.value.diagnostics
    assert problem.message == "unknown executor 'lokal'"
    assert problem.hint.startswith("did you mean 'local'?")
    assert problem.line == 6


def test_the_builtin_dask_validator_checks_the_address_without_distributed():
    assert plugins.check_options("executors", "dask", {"address": "tcp://s:8786"}) == []
    [(field, message)] = plugins.check_options("executors", "dask", {"address": "http://s:1"})
    assert field == "address" and "tcp" in message


def test_the_fake_executor_is_named_with_exit_codes_only(tmp_path):
    path = tmp_path / "workflow.yaml"
    path.write_text(
        MANIFEST.replace(
            "    type: nomad\n    datacenter: dc-1\n    region: moon\n",
            "    type: fake\n    results: {'*hello*': 3, '*other*': three}\n    default: yes\n",
        ).replace('  sinks:\n    - {type: kafka, brokers: "localhost:9092"}\n', "")
    )
    problems = {(d.path, d.message) for d in api.validate(str(path)).diagnostics}
    assert problems == {
        ("spec.executor.results", "results['*other*'] must be an exit code"),
        ("spec.executor.default", "default must be an exit code"),
    }
    path.write_text(path.read_text().replace(", '*other*': three", "").replace("yes", "0"))
    result = api.run(api.make_plan(str(path)), sinks=[])
    assert (result.status, result.tasks["hello"].exit_code) == ("failed", 3)
