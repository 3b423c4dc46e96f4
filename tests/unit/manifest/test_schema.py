"""Schema verdicts as FILE:LINE:COL diagnostics a person can act on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from psr_engine.manifest.loader import load_text
from psr_engine.manifest.schema import dotted, load_schema, schema_diagnostics, schema_text

from .conftest import dedent

REPO_SCHEMA = Path(__file__).parents[3] / "schemas" / "workflow.v1.json"


def diagnose(text: str) -> list:
    return schema_diagnostics(load_text(dedent(text), path="w.yaml"))


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://psr-engine.dev/schemas/workflow.v1.json"


def test_schema_text_is_the_repository_file_in_an_editable_install() -> None:
    assert json.loads(schema_text()) == json.loads(REPO_SCHEMA.read_text())


def properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property definition of the schema, skipping if/then discriminator stubs."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            if key not in ("if", "then", "properties"):
                yield from properties(sub, f"{where}/{key}")
        for name, sub in node.get("properties", {}).items():
            yield from properties(sub, f"{where}.{name}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from properties(sub, f"{where}[{index}]")


def test_every_property_has_a_description() -> None:
    missing = [where for where, sub in properties(load_schema()) if "description" not in sub]
    assert missing == []


def test_every_object_refuses_unknown_fields_unless_it_is_a_map() -> None:
    def objects(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield where, node
            for key, sub in node.items():
                if key not in ("if", "then"):
                    yield from objects(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                yield from objects(sub, f"{where}[{index}]")

    # Objects whose extra keys are data (axes) or discriminated by if/then (secret providers,
    # sinks with plug-in types, executors) are allowed to have a schema for extras.
    loose = [
        where
        for where, node in objects(load_schema())
        if node.get("additionalProperties", True) is True and "allOf" not in node
    ]
    assert loose == []


def test_the_reference_example_is_valid(full_manifest) -> None:
    text = full_manifest.read_text()
    assert schema_diagnostics(load_text(text)) == []


def test_all_errors_are_reported_at_once_sorted_by_line() -> None:
    found = diagnose(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          concurrency: 0
          tasks:
            a:
              run: echo
              timeout: soon
            b:
              run: echo
              trigger: sometimes
        """
    )
    assert [(d.line, d.path) for d in found] == [
        (5, "spec.concurrency"),
        (9, "spec.tasks.a.timeout"),
        (12, "spec.tasks.b.trigger"),
    ]
    assert all(d.file == "w.yaml" for d in found)


def test_unknown_key_points_at_the_key_and_suggests_the_right_one() -> None:
    (found,) = diagnose(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          tasks:
            a:
              run: echo
              retries:
                limt: 3
        """
    )
    assert (found.line, found.column) == (9, 9)
    assert found.message == "unknown field 'limt'"
    assert found.hint == "did you mean 'limit'?"
    assert found.path == "spec.tasks.a.retries.limt"


def test_task_kind_errors_say_what_a_task_needs() -> None:
    found = diagnose(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          tasks:
            both: {run: echo, script: "print(1)"}
            none: {timeout: 1s}
        """
    )
    messages = [d.message for d in found]
    assert messages == [
        "a task needs exactly one of run, python, script, workflow or gate: "
        "this one has run and script",
        "a task needs exactly one of run, python, script, workflow or gate: this one has none",
    ]
    assert [d.line for d in found] == [6, 7]


def test_a_mapping_is_judged_as_a_mapping_not_as_the_integer_alternative() -> None:
    found = diagnose(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          tasks:
            a:
              run: echo
              retries: {limit: -1, backoff: exp}
        """
    )
    assert [d.message for d in found] == [
        "must be at least 0, not -1",
        "'exp' is not one of fixed, linear, exponential (did you mean 'exponential'?)",
    ]


def test_huge_values_are_summarised_not_dumped() -> None:
    big = "x" * 5000
    (found,) = diagnose(
        f"""
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {{name: demo}}
        spec:
          tasks:
            a: {{run: echo, timeout: "{big}"}}
        """
    )
    assert len(found.message) < 200


def test_bad_task_name_points_at_the_name() -> None:
    (found,) = diagnose(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          tasks:
            ok: {run: echo}
            "not ok": {run: echo}
        """
    )
    assert found.line == 7 and "'not ok' is not a valid task name" in found.message


def test_plugin_sinks_take_free_options_but_built_in_sinks_do_not() -> None:
    found = diagnose(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: demo}
        spec:
          tasks: {a: {run: echo}}
          sinks:
            - {type: kafka, brokers: "localhost:9092"}
            - {type: jsonl, brokers: "localhost:9092"}
        """
    )
    assert [(d.line, d.message) for d in found] == [(8, "unknown field 'brokers'")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("spec", "tasks", "a"), "spec.tasks.a"),
        (("spec", "gates", 0, "failOn"), "spec.gates[0].failOn"),
    ],
)
def test_dotted_paths(path, text) -> None:
    assert dotted(path) == text
