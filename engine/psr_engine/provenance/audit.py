"""The audit trail: `<state dir>/audit.jsonl`, append-only and hash-chained.

Each line is one entry, a JSON object. Its `hash` is the sha256 of its canonical bytes (the
entry without `hash`, keys sorted, no spaces, UTF-8) and its `prev` is the `hash` of the entry
before it (64 zeros for the first), so editing, removing or reordering a line breaks the chain
at that line. `seq` counts from 1, so a removed entry is named by the number missing. The
last entry's seq and hash are also kept in `audit.head`, which catches removing entries from
the end (an anchor beside the file, not a signature: the trail is tamper-evident, not
tamper-proof).

Appends hold an exclusive flock on the file around reading the last entry, writing and
fsync, so concurrent applies neither lose nor interleave entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psr_engine.store.private import open_private

AUDIT_FILE = "audit.jsonl"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64

Action = str  # apply | resume | cancel | gate | budget | secret


def audit_path(state_dir: str) -> str:
    return os.path.join(state_dir, AUDIT_FILE)


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over: everything but `hash`, canonical JSON."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a caller records; the log adds seq, time, prev and hash."""

    action: Action
    run_id: str = ""
    workflow: str = ""
    manifest_digest: str = ""
    identity: Mapping[str, Any] | None = None  # Identity.to_dict()
    details: Mapping[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        if self.run_id:
            out["runId"] = self.run_id
        if self.workflow:
            out["workflow"] = self.workflow
        if self.manifest_digest:
            out["manifestDigest"] = self.manifest_digest
        if self.identity:
            out.update(self.identity)
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True, slots=True)
class AuditProblem:
    line: int  # 1-based line of audit.jsonl; 0 for the file as a whole
    seq: int | None
    kind: str  # edited | removed | reordered | unreadable | truncated
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "audit trail"
        if self.seq is not None:
            where += f" (seq {self.seq})"
        return f"{where}: {self.kind}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "seq": self.seq, "kind": self.kind, "message": self.message}


class AuditLog:
    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        self.path = audit_path(state_dir)
        self.head_path = os.path.join(state_dir, HEAD_FILE)

    def append(self, records: Sequence[AuditRecord]) -> list[dict[str, Any]]:
        """Append `records` as consecutive entries, under one lock and one fsync."""
        if not records:
            return []
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        written: list[dict[str, Any]] = []
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _last_entry(fd)
            seq = int(last.get("seq", 0)) if last else 0
            prev = str(last.get("hash", GENESIS)) if last else GENESIS
            lines = []
            for record in records:
                seq += 1
                entry = {"seq": seq, "time": now_rfc3339(), **record.fields(), "prev": prev}
                entry["hash"] = prev = entry_hash(entry)
                written.append(entry)
                lines.append(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
            data = "".join(lines).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            self._write_head(seq, prev)
        finally:
            os.close(fd)  # releases the lock
        return written

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = f"{self.head_path}.{os.getpid()}.tmp"
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with open(fd, "w", encoding="utf-8") as handle:
            json.dump({"seq": seq, "hash": digest}, handle)
        os.replace(tmp, self.head_path)

    def entries(self) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        """(line number, the entry or None when the line is not a JSON object, the raw line)."""
        try:
            handle = open(self.path, encoding="utf-8")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    yield number, None, line
                    continue
                yield number, entry if isinstance(entry, dict) else None, line

    def verify(self) -> list[AuditProblem]:
        """Every break in the chain, each naming its line and seq; empty when it holds."""
        problems: list[AuditProblem] = []
        previous_hash, expected_seq = GENESIS, 1
        last_seq = 0
        for number, entry, _ in self.entries():
            if entry is None:
                problems.append(AuditProblem(number, None, "unreadable", "not a JSON object"))
                continue
            seq = entry.get("seq")
            seq_n = seq if isinstance(seq, int) else None
            if entry.get("hash") != entry_hash(entry):
                problems.append(
                    AuditProblem(number, seq_n, "edited", "its content does not match its hash")
                )
            elif seq_n is not None and seq_n > expected_seq:
                missing = (
                    f"seq {expected_seq}"
                    if seq_n == expected_seq + 1
                    else f"seq {expected_seq}..{seq_n - 1}"
                )
                problems.append(
                    AuditProblem(number, seq_n, "removed", f"{missing} missing before it")
                )
            elif seq_n is not None and seq_n < expected_seq:
                problems.append(
                    AuditProblem(number, seq_n, "reordered", f"comes after seq {expected_seq - 1}")
                )
            elif entry.get("prev") != previous_hash:
                problems.append(
                    AuditProblem(
                        number,
                        seq_n,
                        "edited",
                        "its prev does not match the entry before it (that entry was "
                        "replaced or rewritten)",
                    )
                )
            previous_hash = str(entry.get("hash"))
            if seq_n is not None:
                expected_seq = max(expected_seq, seq_n + 1)
                last_seq = seq_n
        head = self._head()
        if head is not None and not problems:
            head_seq = head.get("seq")
            if isinstance(head_seq, int) and head_seq > last_seq:
                problems.append(
                    AuditProblem(
                        0,
                        None,
                        "removed",
                        f"the trail ends at seq {last_seq} but {HEAD_FILE} records seq "
                        f"{head_seq}: entries were removed from its end",
                    )
                )
            elif head_seq == last_seq and head.get("hash") != previous_hash:
                problems.append(
                    AuditProblem(
                        0,
                        last_seq,
                        "edited",
                        f"the last entry's hash does not match {HEAD_FILE}",
                    )
                )
        return problems

    def _head(self) -> dict[str, Any] | None:
        try:
            with open(self.head_path, encoding="utf-8") as handle:
                head = json.load(handle)
        except (OSError, ValueError):
            return None
        return head if isinstance(head, dict) else None


def _last_entry(fd: int) -> dict[str, Any] | None:
    """The last complete line of the file, parsed; read backwards in blocks."""
    end = os.lseek(fd, 0, os.SEEK_END)
    if end == 0:
        return None
    block, buffer, position = 4096, b"", end
    while position > 0:
        step = min(block, position)
        position -= step
        buffer = os.pread(fd, step, position) + buffer
        stripped = buffer.rstrip(b"\n")
        cut = stripped.rfind(b"\n")
        if cut >= 0 or position == 0:
            line = stripped[cut + 1 :]
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    return entry
            return None
    return None
