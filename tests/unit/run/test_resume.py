"""Resume: only what did not succeed, and what depends on it, runs again.

Every task appends a line to its own counter file when it runs, so the tests see exactly
which tasks a resumed run executed. Real processes (LocalExecutor), real runs.db.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from psr_engine import api
from psr_engine.plan.model import Plan
from psr_engine.run.engine import WorkflowEngine
from psr_engine.run.results import WorkflowResult
from psr_engine.run.resume import (
    ResumeRefused,
    history_sink,
    plan_auto_resume,
    plan_resume,
    task_digest,
)
from psr_engine.store import RunStore


def prepare_resume(plan, store, ref, **options):
    resume = plan_resume(plan, store, ref, **options)
    return resume.plan, resume.reuse


FLOW = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: resumable}
spec:
  params:
    fail: {type: string, default: "yes"}
  tasks:
    extract:
      run: echo x >> counts/extract; echo rows=7 >> $PSR_OUTPUT
    transform:
      needs: [extract]
      matrix: {region: [eu, us]}
      run: |
        echo x >> counts/transform-${{ matrix.region }}
        if [ ${{ matrix.region }} = us ] && [ -e fail-us ]; then exit 1; fi
        echo got ${{ tasks.extract.outputs.rows }}
    side:
      needs: [extract]
      run: echo x >> counts/side
    load:
      needs: [transform]
      run: echo x >> counts/load; echo rows=${{ tasks.extract.outputs.rows }} >> $PSR_OUTPUT
"""


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / ".psr"
        (root / "counts").mkdir()
        self.write(FLOW)

    def write(self, text: str) -> None:
        (self.root / "workflow.yaml").write_text(textwrap.dedent(text).lstrip())

    def plan(self, **params: str) -> Plan:
        return api.make_plan(str(self.root / "workflow.yaml"), params=params)

    def run(self, plan: Plan, *, reuse=None, resumed_from=None) -> WorkflowResult:
        sink = history_sink(plan, state_dir=str(self.state), resumed_from=resumed_from)
        engine = WorkflowEngine(sinks=[sink], state_dir=str(self.state), concurrency=2)
        return engine.run_sync(plan, reuse=reuse)

    def counts(self) -> dict[str, int]:
        return {p.name: len(p.read_text().splitlines()) for p in (self.root / "counts").iterdir()}

    def store(self) -> RunStore:
        return RunStore.open(str(self.state))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def _failed_once(project: Project) -> WorkflowResult:
    (project.root / "fail-us").touch()
    first = project.run(project.plan())
    assert first.status == "failed"
    assert first.tasks["load"].status == "skipped"
    (project.root / "fail-us").unlink()
    return first


def test_resume_after_a_failure_reruns_only_the_failed_subtree(project: Project) -> None:
    first = _failed_once(project)
    plan = project.plan()
    with project.store() as store:
        plan, reuse = prepare_resume(plan, store, "last")
    assert sorted(reuse) == ["extract", "side", "transform[region=eu]"]
    second = project.run(plan, reuse=reuse, resumed_from=first.run_id)

    assert second.status == "succeeded"
    assert second.run_id != first.run_id
    # extract, side and transform[eu] ran once (first run); us and load ran again.
    assert project.counts() == {
        "extract": 1,
        "side": 1,
        "transform-eu": 1,
        "transform-us": 2,
        "load": 1,
    }
    # The reused outputs of extract reached load through the expression.
    assert second.tasks["load"].outputs == {"rows": "7"}
    with project.store() as store:
        record = store.run(second.run_id)
        assert record.resumed_from == first.run_id
        statuses = {t.id: (t.status, t.reason) for t in store.tasks(second.run_id)}
    assert statuses["extract"] == ("succeeded", "reused")
    assert statuses["transform[region=us]"] == ("succeeded", None)


def test_resume_of_a_resumed_run_keeps_reusing_recorded_outputs(project: Project) -> None:
    _failed_once(project)
    with project.store() as store:
        plan, reuse = prepare_resume(project.plan(), store, "last")
    project.run(plan, reuse=reuse)
    with project.store() as store:
        plan, reuse = prepare_resume(project.plan(), store, "last", from_task="load")
    assert reuse["extract"].outputs == {"rows": "7"}
    third = project.run(plan, reuse=reuse)
    assert third.tasks["load"].outputs == {"rows": "7"}
    assert project.counts()["extract"] == 1
    assert project.counts()["load"] == 2


def test_from_task_reruns_every_instance_and_everything_downstream(project: Project) -> None:
    assert project.run(project.plan()).status == "succeeded"
    with project.store() as store:
        resume = plan_resume(project.plan(), store, "last", from_task="transform")
    assert resume.rerun == ("transform[region=eu]", "transform[region=us]", "load")
    project.run(resume.plan, reuse=resume.reuse)
    assert project.counts() == {
        "extract": 1,
        "side": 1,
        "transform-eu": 2,
        "transform-us": 2,
        "load": 2,
    }


def test_a_changed_task_to_be_reused_refuses_unless_forced(project: Project) -> None:
    _failed_once(project)
    project.write(FLOW.replace("echo x >> counts/extract;", "echo y >> counts/extract;"))
    with project.store() as store, pytest.raises(ResumeRefused) as refused:
        prepare_resume(project.plan(), store, "last")
    message = str(refused.value)
    assert "task extract changed" in message
    assert "--force" in message
    assert refused.value.exit_code == 2
    with project.store() as store:
        _, reuse = prepare_resume(project.plan(), store, "last", force=True)
    assert "extract" in reuse


def test_a_change_to_a_task_that_reruns_anyway_does_not_refuse(project: Project) -> None:
    _failed_once(project)
    project.write(FLOW.replace("echo x >> counts/load;", "echo z >> counts/load;"))
    with project.store() as store:
        _, reuse = prepare_resume(project.plan(), store, "last")
    assert "load" not in reuse


def test_different_params_refuse(project: Project) -> None:
    _failed_once(project)
    with project.store() as store, pytest.raises(ResumeRefused, match=r"params differ.*fail"):
        prepare_resume(project.plan(fail="no"), store, "last")


def test_a_succeeded_run_has_nothing_to_resume(project: Project) -> None:
    project.run(project.plan())
    with project.store() as store, pytest.raises(ResumeRefused, match="nothing to resume"):
        prepare_resume(project.plan(), store, "last")


def test_unknown_from_task_suggests_a_name(project: Project) -> None:
    project.run(project.plan())
    with project.store() as store, pytest.raises(ResumeRefused, match="did you mean 'transform'"):
        prepare_resume(project.plan(), store, "last", from_task="transfrom")


def test_unknown_run_is_a_clear_error(project: Project) -> None:
    from psr_engine.store import HistoryError

    project.run(project.plan())
    with project.store() as store, pytest.raises(HistoryError, match="no run 'nope'"):
        prepare_resume(project.plan(), store, "nope")


def test_digest_ignores_position_but_not_the_command(project: Project) -> None:
    plan = project.plan()
    task = plan.task("extract")
    from dataclasses import replace

    assert task_digest(replace(task, line=task.line + 10, level=3)) == task_digest(task)
    assert task_digest(replace(task, command=task.command + " ")) != task_digest(task)
    assert task_digest(replace(task, env={"A": "1"})) != task_digest(task)


def test_a_kept_digest_does_not_survive_a_change_to_the_task(project: Project) -> None:
    """The digest is made once and kept on the task; a changed task (replace, the only way to
    change a frozen one) must not carry its original's."""
    from dataclasses import replace

    task = project.plan().task("extract")
    kept = task_digest(task)
    assert task.digest == kept
    changed = replace(task, needs=("other",))
    assert changed.digest == ""
    assert task_digest(changed) != kept
    assert task_digest(replace(changed, needs=task.needs)) == kept


def test_a_digest_is_the_one_earlier_versions_recorded(project: Project) -> None:
    """Resume compares digests with those an earlier version recorded: the text hashed is
    still json.dumps(sort_keys=True, compact) of the digested fields."""
    import hashlib
    import json

    from psr_engine.plan.digest import _DIGESTED, _plain

    for task in project.plan().tasks:
        fields = {f: getattr(task, f) for f in _DIGESTED}
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_plain)
        assert task_digest(task) == hashlib.sha256(text.encode()).hexdigest()[:32]


def test_auto_with_no_history_or_a_succeeded_last_run_is_a_plain_run(project: Project) -> None:
    """`--resume auto`, what a CI re-run passes: a first attempt finds no run (no error)."""
    with project.store() as store:
        assert plan_auto_resume(project.plan(), store) is None
    assert project.run(project.plan()).status == "succeeded"
    with project.store() as store:
        assert plan_auto_resume(project.plan(), store) is None  # nothing to rerun


def test_auto_resumes_the_last_run_when_it_did_not_succeed(project: Project) -> None:
    first = _failed_once(project)
    with project.store() as store:
        resume = plan_auto_resume(project.plan(), store)
    assert resume is not None and resume.resumed_from == first.run_id
    assert resume.rerun == ("transform[region=us]", "load")


def test_auto_still_refuses_a_changed_manifest(project: Project) -> None:
    _failed_once(project)
    project.write(FLOW.replace("echo x >> counts/side", "echo y >> counts/side"))
    with project.store() as store, pytest.raises(ResumeRefused, match="manifest changed"):
        plan_auto_resume(project.plan(), store)
