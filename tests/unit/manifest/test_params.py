"""Params: command-line text and params-file values coerced to their declared types."""

from __future__ import annotations

import pytest

from psr_engine.errors import ManifestError
from psr_engine.manifest import ParamSpec, Position, resolve_params

SPECS = (
    ParamSpec("date", "string", default="2026-11-25", has_default=True),
    ParamSpec("n", "integer", default=1, has_default=True),
    ParamSpec("ratio", "number", default=0.5, has_default=True),
    ParamSpec("dry", "boolean", default=False, has_default=True),
    ParamSpec("regions", "array", default=["eu"], has_default=True, items="string"),
    ParamSpec("ports", "array", default=[], has_default=True, items="integer"),
    ParamSpec("extra", "object", default={}, has_default=True),
    ParamSpec("size", "string", default="s", has_default=True, enum=("s", "m", "l")),
)


def resolve(given, specs=SPECS, **kwargs):
    return resolve_params(specs, given, source="w.yaml", **kwargs)


def test_defaults_fill_everything_not_given() -> None:
    assert resolve({}) == {
        "date": "2026-11-25",
        "n": 1,
        "ratio": 0.5,
        "dry": False,
        "regions": ["eu"],
        "ports": [],
        "extra": {},
        "size": "s",
    }


def test_defaults_are_copies_not_the_specs_own_objects() -> None:
    resolved = resolve({})
    resolved["regions"].append("us")
    assert SPECS[4].default == ["eu"]


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("n", "3", 3),
        ("n", " -7 ", -7),
        ("ratio", "2", 2),
        ("ratio", "0.25", 0.25),
        ("dry", "true", True),
        ("dry", "No", False),
        ("dry", "1", True),
        ("regions", '["eu", "us"]', ["eu", "us"]),
        ("regions", "eu,us", ["eu", "us"]),
        ("ports", "[80, 443]", [80, 443]),
        ("ports", "80,443", [80, 443]),
        ("extra", '{"a": 1}', {"a": 1}),
        ("date", "2027-01-01", "2027-01-01"),
        ("size", "m", "m"),
    ],
)
def test_command_line_text_is_coerced_to_the_declared_type(name, text, value) -> None:
    assert resolve({name: text})[name] == value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n", 3, 3),
        ("n", 3.0, 3),
        ("ratio", 1, 1),
        ("dry", True, True),
        ("date", 20261125, "20261125"),
        ("date", False, "false"),
        ("regions", ["a"], ["a"]),
    ],
)
def test_typed_values_from_a_params_file_are_accepted(name, value, expected) -> None:
    assert resolve({name: value})[name] == expected


@pytest.mark.parametrize(
    ("name", "value", "pattern"),
    [
        ("n", "three", r"param 'n': expected an integer, got 'three'"),
        ("n", "3.5", r"expected an integer"),
        ("n", True, r"expected an integer, got true"),
        ("ratio", "nan", r"expected a number"),
        ("ratio", "inf", r"expected a number"),
        ("dry", "maybe", r"expected true or false"),
        ("regions", '{"a": 1}', r"expected a list"),
        ("ports", "80,http", r"item 1: expected an integer, got 'http'"),
        ("extra", "[1]", r"expected a mapping"),
        ("size", "xl", r"'xl' is not one of the allowed values: \"s\", \"m\", \"l\""),
        ("date", ["a"], r"expected text"),
    ],
)
def test_values_that_do_not_fit_are_refused(name, value, pattern) -> None:
    with pytest.raises(ManifestError, match=pattern) as caught:
        resolve({name: value})
    assert caught.value.exit_code == 2


def test_unknown_params_get_a_did_you_mean() -> None:
    with pytest.raises(ManifestError) as caught:
        resolve({"regoins": "eu"})
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == "unknown param 'regoins'"
    assert diagnostic.hint == "did you mean 'regions'?"


def test_missing_required_params_are_reported_together_with_other_problems() -> None:
    specs = (ParamSpec("date", "string"), ParamSpec("n", "integer"), ParamSpec("x", "string"))
    with pytest.raises(ManifestError) as caught:
        resolve({"n": "many"}, specs=specs)
    messages = [d.message for d in caught.value.diagnostics]
    assert messages == [
        "param 'n': expected an integer, got 'many'",
        "param 'date' is required (it has no default)",
        "param 'x' is required (it has no default)",
    ]


def test_problems_point_into_the_params_file_when_positions_are_given() -> None:
    with pytest.raises(ManifestError) as caught:
        resolve({"n": "x"}, positions={"n": Position(4, 1)})
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("w.yaml", 4, 1)


def test_result_follows_the_declaration_order() -> None:
    assert list(resolve({"size": "l", "date": "x"})) == [s.name for s in SPECS]
