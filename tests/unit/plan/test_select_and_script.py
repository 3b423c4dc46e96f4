"""`apply --only` (plan/select.py) and `psr-engine run SCRIPT.py` (plan/script.py), in process."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_factory import manifest, plan_of, task

from psr_engine.errors import ManifestError
from psr_engine.plan.script import script_plan
from psr_engine.plan.select import select


def test_only_keeps_the_named_tasks_and_what_they_need():
    plan = plan_of(
        manifest(
            task("extract"),
            task("transform", needs=["extract"], matrix={"r": ["eu", "us"]}),
            task("load", needs=["transform"]),
            task("docs"),
        )
    )
    narrowed = select(plan, ["transform[r=eu]"])
    assert [t.id for t in narrowed.tasks] == ["extract", "transform[r=eu]"]
    assert narrowed.groups == {"extract": ("extract",), "transform": ("transform[r=eu]",)}
    assert narrowed.levels == (("extract",), ("transform[r=eu]",))
    assert [t.id for t in select(plan, ["load"]).tasks] == [
        "extract",
        "transform[r=eu]",
        "transform[r=us]",
        "load",
    ]


def test_only_with_an_unknown_name_suggests_the_closest():
    plan = plan_of(manifest(task("extract"), task("load", needs=["extract"])))
    with pytest.raises(ManifestError, match=r"--only lod: no such task in .*did you mean 'load'"):
        select(plan, ["lod"])


def test_a_script_becomes_a_one_task_plan(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my job.py").write_text("print('hi')\n")
    plan = script_plan("my job.py", ["--n", "3"], timeout="90s", retries=2)
    [only] = plan.tasks
    assert (only.id, only.kind, only.args) == ("my-job", "python", ("--n", "3"))
    assert only.command == str(tmp_path / "my job.py")
    assert (only.timeout, only.retries.limit) == (90.0, 2)
    assert plan.workflow == "my-job" and plan.levels == (("my-job",),)


@pytest.mark.parametrize(
    ("script", "options", "words"),
    [
        ("missing.py", {}, "missing.py: no such file"),
        ("job.py", {"timeout": "soon"}, "--timeout"),
        ("job.py", {"retries": -1}, "--retries must be 0 or more"),
    ],
)
def test_a_bad_script_or_option_is_bad_input(tmp_path, monkeypatch, script, options, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "job.py").write_text("")
    with pytest.raises(ManifestError, match=words):
        script_plan(script, [], **options)
