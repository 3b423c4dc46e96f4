"""The JUnit XML sink: one <testsuite> per run, one <testcase> per task instance.

The shape GitLab's and GitHub's test reporters read: failures carry the last lines of the
task's log, skipped and cancelled tasks are <skipped/>, times are seconds. The file is
written when the sink closes (after run.finished), atomically: a CI step never reads half.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import anyio

from psr_engine.events.sinks.report import RunReport, TaskOutcome
from psr_engine.printable import printable
from psr_engine.store.logs import tail_lines

TAIL_LINES = 50
# Characters XML 1.0 cannot hold (ANSI escapes' ESC among them): dropped from log tails.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FAILED = frozenset({"failed", "timed_out", "crashed"})
_SKIPPED = frozenset({"skipped", "cancelled"})


class JunitSink(RunReport):
    """Writes a JUnit XML report of the run to `path` when the run ends."""

    name = "junit"

    def __init__(
        self,
        path: str,
        *,
        tail_lines: int = TAIL_LINES,
        provenance: str | None = None,
        **_: Any,
    ) -> None:
        """`provenance`: the file name of the run's provenance statement in its run folder,
        when one is written: a `provenance` property points at it."""
        self.path = path
        self.tail = tail_lines
        self.provenance = provenance
        super().__init__()

    async def aclose(self) -> None:
        if self._run is None:
            return
        await anyio.to_thread.run_sync(self.write)

    # -- the document ----------------------------------------------------------------------

    def write(self) -> None:
        document = self.document()
        ET.indent(document)
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".junit-", suffix=".xml")
        try:
            with os.fdopen(fd, "wb") as handle:
                ET.ElementTree(document).write(handle, encoding="utf-8", xml_declaration=True)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def document(self) -> ET.Element:
        assert self._run is not None
        start, end = self._run, self._end
        cases = list(self._outcomes.values())
        failures = sum(c.status in _FAILED for c in cases)
        skipped = sum(c.status in _SKIPPED for c in cases)
        elapsed = (end.ts - start.ts) if end is not None else sum(c.duration for c in cases)
        counts = {
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": _seconds(elapsed),
        }
        # `skipped` belongs to <testsuite> only: junit-10.xsd (what Jenkins validates with)
        # rejects it on <testsuites>, whose attributes are name, time, tests, failures, errors.
        totals = {k: v for k, v in counts.items() if k != "skipped"}
        root = ET.Element("testsuites", {"name": f"psr-engine {start.workflow}", **totals})
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": start.workflow,
                **counts,
                "timestamp": datetime.fromtimestamp(start.ts, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "hostname": socket.gethostname(),
                "id": start.run_id,
            },
        )
        properties = ET.SubElement(suite, "properties")
        status = end.status if end is not None else "unfinished"
        listed = [("runId", start.run_id), ("status", status or "")]
        run_dir = (start.data or {}).get("runDir")
        if self.provenance and run_dir:
            listed.append(("provenance", os.path.join(str(run_dir), self.provenance)))
        for key, value in listed:
            ET.SubElement(properties, "property", {"name": key, "value": value})
        for case in cases:
            self._testcase(suite, start.workflow, case)
        return root

    def _testcase(self, suite: ET.Element, workflow: str, case: TaskOutcome) -> None:
        element = ET.SubElement(
            suite,
            "testcase",
            {
                # printable: an id from matrix values may hold an ESC (not XML at all) or a
                # newline (which an attribute turns into a space: two ids, one name).
                "classname": f"{workflow}.{printable(case.task.split('[', 1)[0])}",
                "name": printable(case.task),
                "time": _seconds(case.duration),
            },
        )
        if case.status in _FAILED:
            message = case.reason or case.status
            failure = ET.SubElement(
                element, "failure", {"message": _clean(message), "type": case.status}
            )
            failure.text = _clean(self._details(case))
        elif case.status in _SKIPPED:
            reason = case.reason or case.status
            text = reason if case.status == "skipped" else f"{case.status}: {reason}"
            ET.SubElement(element, "skipped", {"message": _clean(text)})

    def _details(self, case: TaskOutcome) -> str:
        lines = [printable(f"{case.task} {case.status}: {case.reason or ''}".rstrip())]
        if case.message:
            lines.append(case.message)
        if case.attempts:
            lines.append(f"attempts: {case.attempts}, exit code: {case.exit_code}")
        tail = tail_lines(case.log_path, self.tail)
        if tail:
            lines.append(f"--- last {len(tail)} lines of {case.log_path} ---")
            lines.extend(tail)
        return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)
