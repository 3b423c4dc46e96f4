"""CVSS base scores (v2, v3.0, v3.1 and v4.0) of the vector strings OSV advisories carry.

The arithmetic is the ``cvss`` package's (RedHat's implementation of FIRST's specifications).
Only base metrics count: temporal and environmental ones do not describe the advisory.
"""

from __future__ import annotations

from psr_engine.gates.findings import Severity


def base_score(vector: str) -> tuple[float, str] | None:
    """(base score, ``CVSS_V2``/``CVSS_V3``/``CVSS_V4``) of a vector, or None when invalid."""
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    text = vector.strip()
    try:
        if text.startswith("CVSS:4."):
            return float(CVSS4(text).base_score), "CVSS_V4"
        if text.startswith("CVSS:3."):
            return float(CVSS3(text).scores()[0]), "CVSS_V3"
        return float(CVSS2(text.removeprefix("CVSS:2.0/")).scores()[0]), "CVSS_V2"
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None


def severity_of_score(score: float) -> Severity:
    """Our scale from a CVSS score: >=9 critical, >=7 high, >=4 medium, else low.

    A 0.0 score (no impact) still maps to low: an advisory exists, so it is reported. (CVSS v2
    has no "critical" band; a v2 score of 9 or more is critical here all the same.)
    """
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"
