"""The runtime never reads manifests, at run time too: import-linter sees the static imports;
these tests see what a process actually loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MANIFEST = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: cached}
spec:
  tasks:
    a: {run: echo a}
    b: {run: echo b, needs: [a]}
"""


def _loaded(code: str, cwd: Path) -> list[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd
    ).stdout.splitlines()[-1]
    return json.loads(out)


def test_importing_the_runtime_loads_nothing_of_the_manifest_stage(tmp_path: Path):
    loaded = _loaded(
        "import psr_engine.run.engine, psr_engine.run.scheduler, psr_engine.executors.local\n"
        "import psr_engine.events.bus, psr_engine.plan, psr_engine.plan.model",
        tmp_path,
    )
    assert "psr_engine.run.engine" in loaded
    assert not [m for m in loaded if m.startswith("psr_engine.manifest")]
    assert "psr_engine.plan.compile" not in loaded


def test_a_cached_plan_runs_through_the_api_without_the_manifest_stage(tmp_path: Path):
    (tmp_path / "workflow.yaml").write_text(MANIFEST)
    warm = "from psr_engine import api\napi.make_plan_cached('workflow.yaml')"
    assert any(m.startswith("psr_engine.manifest") for m in _loaded(warm, tmp_path))
    loaded = _loaded(
        "from psr_engine import api\n"
        "from psr_engine.executors.fake import FakeExecutor\n"
        "plan = api.make_plan_cached('workflow.yaml')\n"
        "result = api.run(plan, sinks=[], executor=FakeExecutor())\n"
        "assert result.status == 'succeeded', result",
        tmp_path,
    )
    assert "psr_engine.run.engine" in loaded
    assert not [m for m in loaded if m.startswith("psr_engine.manifest")]
    assert not [m for m in loaded if m.startswith(("ruamel", "jsonschema", "networkx"))]


def _apply_imports(cwd: Path, *args: str) -> set[str]:
    """The modules `psr-engine apply` has loaded when it is done: its main() in a new process,
    stdout a pipe (not a terminal), as in CI. (-X importtime would not see the modules
    importlib.import_module loads.)"""
    script = (
        "import sys, json\n"
        "from psr_engine.cli import main\n"
        f"code = main(['apply', *{list(args)!r}])\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
        "sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stderr.splitlines()[-1]))


COMPILING_ONLY = ("ruamel", "yaml", "jsonschema", "jinja2", "networkx", "psr_engine.manifest")


def test_a_warm_plan_cache_keeps_apply_off_everything_only_compiling_needs(tmp_path: Path):
    (tmp_path / "workflow.yaml").write_text(MANIFEST)
    cold = _apply_imports(tmp_path, "-q")
    assert "psr_engine.plan.compile" in cold and "ruamel.yaml" in cold  # the cache was empty
    warm = _apply_imports(tmp_path, "-q")
    assert "psr_engine.run.engine" in warm
    assert not sorted(m for m in warm if m.startswith(COMPILING_ONLY))
    assert "psr_engine.plan.compile" not in warm
    # Nor what only other commands or a terminal need.
    assert not sorted(m for m in warm if m.startswith("psr_engine.cli.cmd_") and "apply" not in m)
    assert not sorted(m for m in warm if m.startswith("rich"))
    # Nor, untraced, tracing's configuration (only whether to trace is asked).
    assert "psr_engine.tracing.config" not in warm


def _added_by(code: str) -> set[str]:
    """What `code` adds to sys.modules in a bare interpreter (-I -S: as the keeper starts)."""
    script = f"import sys, json; before = set(sys.modules)\n{code}\n" + (
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_the_keepers_own_process_imports_nothing_beyond_os_signal_sys_and_time():
    """It starts beside every apply that runs a task: its imports are start-up CPU."""
    from psr_engine.executors import keeper_process

    folder = str(Path(keeper_process.__file__).parent)
    added = _added_by(f"sys.path.insert(0, {folder!r}); import keeper_process")
    assert added - {"keeper_process", "__future__"} == _added_by("import os, signal, time")


ROOT = Path(__file__).resolve().parents[2]
# What `validate` of a manifest whose expressions are all simple (a name and its keys, filters,
# one comparison) does without, once the compiled schema is kept (manifest/compiled_schema.py):
# jsonschema only explains a manifest that fails, Jinja only reads other expressions.
NOT_FOR_VALIDATE = (
    "jsonschema",
    "fastjsonschema",
    "referencing",
    "jinja2",
    "networkx",
    "decimal",
    "rich",
    "psr_engine.run",
    "psr_engine.store",
    "psr_engine.events",
    "psr_engine.executors",
    "shutil",  # argparse's help sizing imports it: cli/app.py sizes help without it
)


def _validate_imports(cache: Path, *args: str) -> set[str]:
    """The modules `psr-engine validate` has loaded when it is done, with `cache` as its
    XDG_CACHE_HOME."""
    script = (
        "import sys, json\n"
        "from psr_engine.cli import main\n"
        f"code = main(['validate', *{list(args)!r}])\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
        "sys.exit(code)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stderr.splitlines()[-1]))


def test_validate_of_the_example_loads_neither_jsonschema_nor_jinja(tmp_path: Path):
    example = "manifests/examples/daily-etl.yaml"
    first = _validate_imports(tmp_path, example)
    assert "fastjsonschema" in first  # nothing was kept yet: compiled, and kept
    warm = _validate_imports(tmp_path, example)
    assert "psr_engine.plan.compile" in warm
    assert not sorted(m for m in warm if m.startswith(NOT_FOR_VALIDATE))
    assert not sorted(
        m for m in warm if m.startswith("psr_engine.cli.cmd_") and "validate" not in m
    )
