"""The builder: defaults merged, units parsed, paths absolute, whole-document checks."""

from __future__ import annotations

import os

import pytest

from psr_engine.errors import ManifestError
from psr_engine.manifest import load_manifest
from psr_engine.manifest.builder import merge_defaults
from psr_engine.units import Resources, RetryPolicy


def test_the_reference_example_builds_every_section(full_manifest) -> None:
    m = load_manifest(full_manifest)
    base = str(full_manifest.parent)
    assert (m.api_version, m.kind, m.name) == ("psr-engine/v1", "Workflow", "daily-etl")
    assert m.labels == {"team": "data", "cost-center": "cc-42"}
    assert m.env == {"LOG_LEVEL": "info", "RETRIES": "3"}  # numbers become text
    assert [t.name for t in m.tasks] == ["extract", "transform", "report"]  # manifest order
    assert [t.name for t in m.on_exit] == ["notify"] and m.on_exit[0].is_on_exit
    assert m.concurrency == 4
    assert m.capacity == Resources(cpu=2.0, memory=4 * 2**30)
    assert [g.name for g in m.gates] == ["code", "secrets", "deps"]
    assert m.gates[0].paths == (os.path.join(base, "scripts"),)
    assert m.gates[0].tools == ("bandit", "semgrep")
    assert m.gates[2].requirements == (os.path.join(base, "requirements.txt"),)
    assert m.secrets[0].name == "DB_PASSWORD" and m.secrets[0].provider == "vault"
    assert m.secrets[0].options == {"mount": "secret", "path": "etl", "key": "password"}
    assert m.sinks[0].options["path"] == os.path.join(base, ".psr", "events.jsonl")
    assert m.sinks[3].type == "kafka" and m.sinks[3].options["topic"] == "runs"
    assert m.tracing is not None and m.tracing.service_name == "daily-etl"
    assert m.tracing.ratio == 1.0
    assert m.cost is not None and m.cost.instance_type == "m5.large"
    assert m.cost.budget is not None and m.cost.budget.limit == 5.0
    assert m.executor.type == "local"
    assert m.base_dir == base


def test_task_fields_from_the_reference_example(full_manifest) -> None:
    m = load_manifest(full_manifest)
    base = str(full_manifest.parent)
    extract, transform, report = m.tasks
    assert extract.kind == "python"
    assert extract.command == os.path.join(base, "scripts", "extract.py")
    assert extract.args == ("--date", "${{ params.date }}", "3")  # expressions kept as text
    assert extract.workdir == base
    assert transform.workdir == os.path.join(base, "work")
    assert transform.when == "${{ tasks.extract.outputs.rows | int > 0 }}"
    assert transform.matrix is not None
    assert transform.matrix.axes == (
        ("region", "${{ params.regions }}"),
        ("size", ("small", "large")),
    )
    assert transform.matrix.exclude == ({"region": "us", "size": "small"},)
    assert transform.max_parallel == 2
    assert transform.cache is not None and transform.cache.inputs == ("data/*.csv",)
    assert report.needs == ("transform",)  # a single name is a list of one
    assert report.trigger == "all_done" and report.continue_on_error
    assert (report.timeout, report.kill_grace) == (90.0, 5.0)


def test_defaults_fill_in_and_merge_key_by_key(full_manifest) -> None:
    extract, transform, report = load_manifest(full_manifest).tasks
    # retries: the task's limit and on, the defaults' backoff, delay, maxDelay, jitter
    assert extract.retries == RetryPolicy(
        limit=5, backoff="exponential", delay=1.0, max_delay=30.0, jitter=True, on=(75, 111)
    )
    assert extract.timeout == 600.0
    # resources: the task's cpu and memory win; defaults fill what the task leaves out
    assert transform.resources == Resources(cpu=0.5, memory=2**30)
    assert extract.resources == Resources(cpu=1.0, memory=256 * 2**20)
    # env: merged key by key
    assert report.env == {"FROM_DEFAULTS": "yes", "LOG_LEVEL": "debug"}


def test_merge_defaults_expands_the_retries_shorthand() -> None:
    merged = merge_defaults({"retries": {"limit": 1, "backoff": "linear"}}, {"retries": 4})
    assert merged["retries"] == {"limit": 4, "backoff": "linear"}


def test_units_become_numbers(write) -> None:
    m = load_manifest(
        write(
            """
            apiVersion: psr-engine/v1
            kind: Workflow
            metadata: {name: demo}
            spec:
              tasks:
                a:
                  run: echo
                  timeout: 1h30m
                  killGrace: 250ms
                  retries: {limit: 1, delay: 2m, maxDelay: 1.5h}
                  resources: {cpu: 250m, memory: 1G}
            """
        )
    )
    (task,) = m.tasks
    assert task.timeout == 5400.0 and task.kill_grace == 0.25
    assert (task.retries.delay, task.retries.max_delay) == (120.0, 5400.0)
    assert task.resources == Resources(cpu=0.25, memory=10**9)


def test_kind_specific_fields(write, tmp_path) -> None:
    m = load_manifest(
        write(
            """
            apiVersion: psr-engine/v1
            kind: Workflow
            metadata: {name: demo}
            spec:
              defaults: {shell: "sh -c", interpreter: python3.12}
              tasks:
                sh: {run: echo hi}
                py: {python: ../up.py, args: [1, true]}
                inline: {script: "print(1)"}
                child: {workflow: sub/child.yaml, with: {n: 3}}
            """,
            name="flows/main.yaml",
        )
    )
    sh, py, inline, child = m.tasks
    assert (sh.shell, sh.interpreter) == ("sh -c", None)  # defaults apply where they mean something
    assert (py.shell, py.interpreter) == (None, "python3.12")
    assert py.command == str(tmp_path / "up.py") and py.args == ("1", "true")
    assert inline.command == "print(1)"
    assert child.command == str(tmp_path / "flows" / "sub" / "child.yaml")
    assert child.with_ == {"n": 3}


def test_file_secret_paths_are_absolute_but_vault_paths_are_not(write, tmp_path) -> None:
    m = load_manifest(
        write(
            """
            apiVersion: psr-engine/v1
            kind: Workflow
            metadata: {name: demo}
            spec:
              secrets:
                A: {provider: file, path: secrets/a.env, key: A}
                B: {provider: vault, path: etl/db}
              tasks: {a: {run: echo}}
            """
        )
    )
    assert m.secrets[0].options["path"] == str(tmp_path / "secrets" / "a.env")
    assert m.secrets[1].options["path"] == "etl/db"


def test_semantic_problems_are_all_reported_at_once(write) -> None:
    path = write(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          capacity: {cpu: 1, memory: 1Gi}
          secrets:
            TOKEN: {provider: env, name: TOKEN}
          gates:
            - {name: g, type: secrets, tools: [bandit]}
          tasks:
            a:
              run: echo
              resources: {cpu: 2, memory: 2Gi}
              secrets: [TOKN]
            b:
              gate: {type: code}
          onExit:
            a: {run: echo}
        """
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    expected = [
        (9, "tools only applies to code gates, not secrets"),
        (14, "task 'a' asks for secret 'TOKN', which spec.secrets does not declare"),
        (18, "onExit task 'a' has the name of a task in spec.tasks"),
    ]
    found = caught.value.diagnostics
    assert len(found) == len(expected)
    for diagnostic, (line, start) in zip(found, expected, strict=True):
        assert diagnostic.line == line and diagnostic.message.startswith(start), diagnostic
    assert found[1].hint == "did you mean 'TOKEN'?"
    assert caught.value.exit_code == 2


def test_param_defaults_are_checked_against_their_type_and_enum(write) -> None:
    path = write(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          params:
            size: {type: string, enum: [s, m], default: xl}
            regions: {type: array, items: {type: integer}, default: [1, two]}
            flag: {type: boolean, items: {type: string}}
          tasks: {a: {run: echo}}
        """
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    messages = [d.message for d in caught.value.diagnostics]
    assert messages == [
        'default: \'xl\' is not one of the allowed values: "s", "m"',
        "default: item 1: expected an integer, got 'two'",
        "only array params take items",
    ]


def test_declared_files_and_a_cache_that_names_none_uses_them(write) -> None:
    m = load_manifest(
        write(
            """
            apiVersion: psr-engine/v1
            kind: Workflow
            metadata: {name: demo}
            spec:
              tasks:
                a:
                  run: make
                  inputs: ["src/**/*.c"]
                  artifacts: [build/app]
                  cache: {}
                b:
                  run: make
                  inputs: [x]
                  cache: {inputs: [y], outputs: [z]}
            """
        )
    )
    a, b = m.tasks
    assert (a.inputs, a.artifacts) == (("src/**/*.c",), ("build/app",))
    assert a.cache is not None and (a.cache.inputs, a.cache.outputs) == (
        ("src/**/*.c",),
        ("build/app",),
    )
    assert b.cache is not None and (b.cache.inputs, b.cache.outputs) == (("y",), ("z",))
