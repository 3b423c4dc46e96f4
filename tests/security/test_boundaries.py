"""Doors between one thing and another that an attacker tried to push open (issue 13, item 4,
item 11 and the `init` lows): instances that share a file, gates that leave their folder,
control characters that forge console lines, `init` writing outside its target.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from leaks import psr

HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\n"


def _manifest(root: Path, body: str, name: str = "workflow.yaml") -> Path:
    path = root / name
    path.write_text(HEADER + textwrap.dedent(body).lstrip())
    return path


# -- item 4: every instance has its own log and $PSR_OUTPUT ----------------------------------

COLLIDING = ["Zürich", "Zárich", "São Paulo", "São_Paulo", "a b", "a/b", "a_b"]


def test_instances_whose_names_sanitise_alike_keep_their_own_logs_and_outputs(
    tmp_path: Path,
) -> None:
    """Before: `Zürich` and `Zárich` (and the others) shared `echo_city=Z_rich_.1.log` and one
    `$PSR_OUTPUT` file; one instance got the other's output, two got none, and the logs
    overwrote each other."""
    cities = json.dumps(COLLIDING, ensure_ascii=False)
    _manifest(
        tmp_path,
        f"""
        metadata: {{name: collide}}
        spec:
          tasks:
            echo:
              matrix: {{city: {cities}}}
              env: {{CITY: "${{{{ matrix.city }}}}"}}
              run: |
                sleep 0.2
                echo "log of <$CITY>"
                echo "seen=$CITY" >> "$PSR_OUTPUT"
        """,
    )
    applied = psr(tmp_path, "apply")
    assert applied.code == 0, applied.stderr
    tasks = json.loads(psr(tmp_path, "status", "last", "-o", "json").stdout)["tasks"]
    seen = {t["matrix"]["city"]: t["outputs"].get("seen") for t in tasks.values()}
    assert seen == {city: city for city in COLLIDING}
    for city in COLLIDING:
        logs = psr(tmp_path, "logs", "last", f"echo[city={city}]")
        assert logs.stdout == f"log of <{city}>\n", (city, logs.stdout, logs.stderr)
    names = [p.name for p in (tmp_path / ".psr" / "runs").glob("*/*.log")]
    assert len(names) == len(set(names)) == len(COLLIDING)


def test_a_child_task_named_like_a_parent_task_keeps_its_own_log_and_outputs(
    tmp_path: Path,
) -> None:
    """Before: the child's `work` wrote the parent's `work.1.log` and `work.1.out`."""
    _manifest(
        tmp_path,
        """
        metadata: {name: child}
        spec:
          tasks:
            work:
              run: |
                sleep 0.3
                echo "child log"
                echo "who=child" >> "$PSR_OUTPUT"
        """,
        "child.yaml",
    )
    _manifest(
        tmp_path,
        """
        metadata: {name: parent}
        spec:
          tasks:
            work:
              run: |
                sleep 0.3
                echo "parent log"
                echo "who=parent" >> "$PSR_OUTPUT"
            sub: {workflow: child.yaml}
            after:
              needs: [work, sub]
              run: echo "got ${{ tasks.work.outputs.who }}"
        """,
    )
    applied = psr(tmp_path, "apply")
    assert applied.code == 0, applied.stderr
    tasks = json.loads(psr(tmp_path, "status", "last", "-o", "json").stdout)["tasks"]
    assert tasks["work"]["outputs"] == {"who": "parent"}
    assert psr(tmp_path, "logs", "last", "work").stdout == "parent log\n"
    assert psr(tmp_path, "logs", "last", "sub/work").stdout == "child log\n"
