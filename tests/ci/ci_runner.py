"""Test helpers (imported as ``ci_runner``; conftest.py puts this folder on sys.path).

Run the CI templates' shell the way the CI systems do, on this machine.

GitHub: a composite action's steps run in order; `${{ }}` in a step's `env:`, `if:` and
`working-directory:` is evaluated by the runner, then `run:` goes to
`bash --noprofile --norc -eo pipefail {0}`; `uses:` steps are recorded, not run (they fetch
actions from the network), except actions/cache's restore and save, which a folder stands in
for (GitHub's cache service cannot run here): keys, restore-keys prefixes and the rule that an
entry is never overwritten behave as GitHub documents. GitLab: `extends:` merges hashes deeply and replaces everything
else; `before_script` and `script` run in one bash session with `set -eo pipefail`, the job's
variables in the environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "ci-templates" / "github" / "action.yml"
GITLAB = REPO / "ci-templates" / "gitlab" / "psr-engine.gitlab-ci.yml"
COMPONENT = REPO / "ci-templates" / "gitlab" / "templates" / "psr-engine.yml"
SCHEMAS = REPO / "tests" / "data" / "schemas"
VENV_BIN = str(Path(sys.executable).parent)
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def sample_flow(name: str) -> str:
    """A two-task workflow: greet writes greeted.txt from `who`; check fails when it says fail."""
    return f"""\
apiVersion: psr-engine/v1
kind: Workflow
metadata: {{name: {name}}}
spec:
  params:
    who: {{type: string, default: world}}
  tasks:
    greet:
      run: printf '%s' ${{{{ params.who }}}} > greeted.txt
    check:
      needs: [greet]
      run: test "$(cat greeted.txt)" != fail
"""


def load_yaml(path: Path) -> Any:
    """YAML 1.2 (ruamel): a workflow's `on:` stays the string "on", not True."""
    return YAML(typ="safe", pure=True).load(path.read_text())


def load_all(path: Path) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(path.read_text()))


def cli_has(command: str, flag: str) -> bool:
    """Whether `psr-engine COMMAND --help` mentions FLAG (flags other engineers add)."""
    proc = subprocess.run(
        [sys.executable, "-m", "psr_engine", *command.split(), "--help"],
        capture_output=True,
        text=True,
    )
    return proc.returncode == 0 and flag in proc.stdout


def ci_env(root: Path, **extra: str) -> dict[str, str]:
    """A clean environment: this venv's psr-engine first on PATH, nothing from CI leaking in."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "CI_"))}
    keep.pop("PSR_STATE_DIR", None)
    return {**keep, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "NO_COLOR": "1", **extra}


@dataclass
class ActionRun:
    code: int  # of the first failing step, else 0
    outputs: dict[str, str]
    summary: str
    steps: list[dict[str, Any]] = field(default_factory=list)  # name, ran, code, stdout, stderr

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.steps if s["name"] == name)


class FakeCache:
    """actions/cache's service, as a folder: save(key) once, restore(key, prefixes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.saved: list[str] = []  # keys, oldest first

    def save(self, key: str, path: Path) -> bool:
        if key in self.saved or not path.exists():
            return False  # GitHub never overwrites an entry; a missing path saves nothing
        shutil.copytree(path, self.root / str(len(self.saved)))
        self.saved.append(key)
        return True

    def restore(self, key: str, prefixes: list[str], path: Path) -> str:
        """The exact key, else the newest entry whose key starts with a prefix; "" on a miss."""
        for index in range(len(self.saved) - 1, -1, -1):
            if self.saved[index] == key:
                break
        else:
            index = next(
                (
                    i
                    for p in prefixes
                    for i in range(len(self.saved) - 1, -1, -1)
                    if self.saved[i].startswith(p)
                ),
                -1,
            )
        if index < 0:
            return ""
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(self.root / str(index), path)
        return self.saved[index]


class GitHubRunner:
    """Runs ci-templates/github/action.yml's steps in a temp repo."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.action = load_yaml(ACTION)
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.cache = FakeCache(workspace.parent / "actions-cache")
        self.github = {"run_id": "4242", "run_attempt": "1", "job": "etl"}

    def run(
        self,
        inputs: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        run_attempt: int = 1,
    ) -> ActionRun:
        self.github["run_attempt"] = str(run_attempt)
        declared = self.action["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"not inputs of the action: {unknown}"
        values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
        values.update(inputs)
        step_outputs: dict[str, dict[str, str]] = {}
        summary = self.temp / "step-summary.md"
        summary.write_text("")
        steps, failed = [], 0
        for step in self.action["runs"]["steps"]:
            context = {
                "inputs": values,
                "steps": step_outputs,
                "failed": bool(failed),
                "github": self.github,
            }
            name = step.get("name", step.get("id", "?"))
            record = {"name": name, "ran": False, "code": None, "stdout": "", "stderr": ""}
            steps.append(record)
            if not _condition(step.get("if", "success()"), context):
                continue
            if "uses" in step:
                record["ran"] = "recorded"
                record["with"] = {
                    k: _render(str(v), context) for k, v in step.get("with", {}).items()
                }
                self._cache_step(step["uses"], record["with"])
                continue
            output_file = self.temp / f"output-{len(steps)}"
            output_file.write_text("")
            step_env = {k: _render(str(v), context) for k, v in step.get("env", {}).items()}
            # The runner also exposes inputs as INPUT_<NAME> (upper-cased, as for other actions).
            runner_env = {f"INPUT_{k.upper()}": v for k, v in values.items()}
            full_env = ci_env(
                self.workspace,
                GITHUB_WORKSPACE=str(self.workspace),
                GITHUB_OUTPUT=str(output_file),
                GITHUB_STEP_SUMMARY=str(summary),
                GITHUB_ACTION_PATH=str(ACTION.parent),
                GITHUB_REPOSITORY="acme/etl",
                RUNNER_TEMP=str(self.temp),
                **runner_env,
                **(env or {}),
                **step_env,
            )
            workdir = self.workspace / _render(step.get("working-directory", "."), context)
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=workdir,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            record.update(ran=True, code=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)
            if "id" in step:
                step_outputs[step["id"]] = _parse_output_file(output_file.read_text())
            if proc.returncode and not failed:
                failed = proc.returncode
        context = {"inputs": values, "steps": step_outputs, "failed": bool(failed)}
        outputs = {k: _render(v["value"], context) for k, v in self.action["outputs"].items()}
        return ActionRun(failed, outputs, summary.read_text(), steps)

    def _cache_step(self, uses: str, given: dict[str, str]) -> None:
        """actions/cache/restore and /save at their pinned SHA, run against the FakeCache."""
        action = uses.split("@", 1)[0]
        if action not in ("actions/cache/restore", "actions/cache/save"):
            return
        path = Path(given["path"])
        path = path if path.is_absolute() else self.workspace / path
        if action.endswith("save"):
            self.cache.save(given["key"], path)
        else:
            prefixes = [p for p in given.get("restore-keys", "").splitlines() if p.strip()]
            self.cache.restore(given["key"], prefixes, path)


def _parse_output_file(text: str) -> dict[str, str]:
    from psr_engine.run.outputs import parse_outputs  # the same format as $GITHUB_OUTPUT

    return parse_outputs(text)


def _lookup(path: str, context: dict[str, Any]) -> str:
    parts = path.split(".")
    if parts[0] == "inputs":
        return context["inputs"].get(parts[1], "")
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        return context["steps"].get(parts[1], {}).get(parts[3], "")
    if parts[0] == "github" and len(parts) == 2:
        return context.get("github", {})[parts[1]]
    if path == "runner.os":
        return "Linux"
    if path.startswith("hashFiles("):
        return "0" * 64  # what a cache key hashes does not matter to these tests
    raise AssertionError(f"the test runner does not know {path!r}")


def _render(text: str, context: dict[str, Any]) -> str:
    return _EXPR.sub(lambda m: _lookup(m.group(1), context), text)


def _condition(expression: str, context: dict[str, Any]) -> bool:
    """GitHub's `if:` for the forms the action uses: always(), success(), ==, !=, &&, ||."""
    text = _EXPR.sub(lambda m: m.group(1), expression)
    text = text.replace("always()", "True").replace("success()", str(not context["failed"]))
    text = re.sub(
        r"\b(inputs\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+)",
        lambda m: repr(_lookup(m.group(1), context)),
        text,
    )
    text = text.replace("&&", " and ").replace("||", " or ")
    has_status = re.search(r"\b(always|success|failure|cancelled)\(\)", expression) is not None
    # Only literals, operators and GitHub's contains() remain.
    functions = {"contains": lambda haystack, needle: needle.lower() in haystack.lower()}
    value = bool(eval(text, {"__builtins__": {}}, functions))
    return value and (has_status or not context["failed"])


def resolve_extends(jobs: dict[str, Any], name: str) -> dict[str, Any]:
    """A job with its `extends:` chain merged the way GitLab merges it."""
    job = jobs[name]
    parents = job.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = _deep_merge(merged, resolve_extends(jobs, parent))
    own = {k: v for k, v in job.items() if k != "extends"}
    return _deep_merge(merged, own)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def run_gitlab_job(
    job: dict[str, Any], project: Path, **variables: str
) -> subprocess.CompletedProcess:
    """before_script + script in one bash session, as gitlab-runner's bash shell does."""
    lines = [*job.get("before_script", []), *job["script"]]
    env_vars = {k: str(v) for k, v in job.get("variables", {}).items()}
    env_vars.update(variables)
    env = ci_env(project, CI_PROJECT_DIR=str(project), CI_JOB_ID="42", CI_PIPELINE_ID="7")
    # GitLab expands $VARS inside variable values (PIP_CACHE_DIR: $CI_PROJECT_DIR/...).
    for key, value in env_vars.items():
        env[key] = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def interpolate_component(path: Path, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The component's jobs with `$[[ inputs.x ]]` replaced, after parsing, as GitLab does."""
    header, jobs = load_all(path)
    specs = header["spec"]["inputs"]
    unknown = set(given or {}) - set(specs)
    assert not unknown, f"not inputs of the component: {unknown}"
    values = {name: spec.get("default", "") for name, spec in specs.items()} | (given or {})

    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {walk(k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return _INPUT.sub(lambda m: text(values[m.group(1)]), node)
        return node

    return walk(jobs)
