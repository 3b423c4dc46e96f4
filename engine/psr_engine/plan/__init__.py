"""The plan stage: Manifest -> Plan (``compile_plan``), and the Plan's text renderings.

Light to import: networkx and rich are imported by the functions that use them.
"""

from __future__ import annotations

from psr_engine.plan.compile import compile_plan
from psr_engine.plan.model import PLAN_FORMAT, Plan, PlannedGate, PlannedTask, SecretRequest
from psr_engine.plan.render import plan_dot, plan_mermaid, plan_table

__all__ = [
    "PLAN_FORMAT",
    "Plan",
    "PlannedGate",
    "PlannedTask",
    "SecretRequest",
    "compile_plan",
    "plan_dot",
    "plan_mermaid",
    "plan_table",
]
