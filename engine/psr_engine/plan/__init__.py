"""The plan stage: Manifest -> Plan (``compile_plan``), the Plan's text renderings, ``select``
(apply --only), ``script_plan`` (psr-engine run SCRIPT.py) and the plan cache (plan/cache.py).

Every name loads on first use (PEP 562): the runtime imports ``psr_engine.plan.model`` and
must not load the compiler, and with it the manifest stage, on the way (a cached plan needs
neither). rich is imported by the functions that use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psr_engine._lazy import attribute_loader

if TYPE_CHECKING:
    from psr_engine.plan.compile import compile_plan
    from psr_engine.plan.dry_run import describe_dry_run
    from psr_engine.plan.model import PLAN_FORMAT, Plan, PlannedGate, PlannedTask, SecretRequest
    from psr_engine.plan.render import plan_dot, plan_mermaid, plan_table
    from psr_engine.plan.script import script_plan
    from psr_engine.plan.select import select

_LAZY = {
    "PLAN_FORMAT": "psr_engine.plan.model",
    "Plan": "psr_engine.plan.model",
    "PlannedGate": "psr_engine.plan.model",
    "PlannedTask": "psr_engine.plan.model",
    "SecretRequest": "psr_engine.plan.model",
    "compile_plan": "psr_engine.plan.compile",
    "describe_dry_run": "psr_engine.plan.dry_run",
    "plan_dot": "psr_engine.plan.render",
    "plan_mermaid": "psr_engine.plan.render",
    "plan_table": "psr_engine.plan.render",
    "script_plan": "psr_engine.plan.script",
    "select": "psr_engine.plan.select",
}

__all__ = [
    "PLAN_FORMAT",
    "Plan",
    "PlannedGate",
    "PlannedTask",
    "SecretRequest",
    "compile_plan",
    "describe_dry_run",
    "plan_dot",
    "plan_mermaid",
    "plan_table",
    "script_plan",
    "select",
]

__getattr__ = attribute_loader(__name__, _LAZY, globals())
