"""`psr-engine verify`: a run's statement against the files on disk and its signature.

Every subject and resolved dependency is re-hashed (names are relative to the manifest's
folder, as written), and the run's results byproduct is checked against its digest. Each
mismatch is reported; none is fatal to the others.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from psr_engine.errors import ProvenanceError
from psr_engine.provenance.materials import sha256_file
from psr_engine.provenance.signing import open_document
from psr_engine.provenance.statement import STATEMENT_TYPE


@dataclass(frozen=True, slots=True)
class VerifyReport:
    path: str
    signed: bool
    signature_ok: bool | None
    checked: int  # files re-hashed
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "ok": self.ok,
            "signed": self.signed,
            "signatureVerified": self.signature_ok,
            "filesChecked": self.checked,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def statement_file(target: str, state_dir: str) -> str:
    """A FILE as given, or the statement of run TARGET (an id, or `last`) in `state_dir`."""
    from psr_engine.provenance.statement import STATEMENT_FILE
    from psr_engine.store.paths import run_dir

    if os.path.isfile(target):
        return target
    if target == "last":
        runs = os.path.join(state_dir, "runs")
        found = sorted(
            name
            for name in (os.listdir(runs) if os.path.isdir(runs) else [])
            if os.path.isfile(os.path.join(runs, name, STATEMENT_FILE))
        )
        if not found:
            raise ProvenanceError(f"{state_dir}: no run with a provenance statement")
        target = found[-1]
    path = os.path.join(run_dir(state_dir, target), STATEMENT_FILE)
    if not os.path.isfile(path):
        raise ProvenanceError(
            f"{target}: neither a file nor a run with a statement in {state_dir} "
            f"(looked for {path})"
        )
    return path


def verify_file(path: str, *, key: str | None = None, base: str | None = None) -> VerifyReport:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise ProvenanceError(f"{path}: {error.strerror}") from None
    except ValueError as error:
        return VerifyReport(path, False, None, 0, (f"{path}: not valid JSON ({error})",))
    if not isinstance(document, dict):
        return VerifyReport(path, False, None, 0, (f"{path}: not a JSON object",))
    opened = open_document(document, key)
    problems = [opened.problem] if opened.problem else []
    notes = []
    if opened.signed and key is None:
        notes.append("signed, but the signature was not checked: pass --key PUBLIC.pem")
    statement = opened.statement
    if not statement:
        return VerifyReport(path, opened.signed, opened.signature_ok, 0, tuple(problems))
    if statement.get("_type") != STATEMENT_TYPE:
        raise ProvenanceError(
            f"{path}: not an in-toto Statement v1 (its _type is {statement.get('_type')!r})"
        )
    predicate = _mapping(statement.get("predicate"))
    definition = _mapping(predicate.get("buildDefinition"))
    manifest = _mapping(definition.get("externalParameters")).get("manifest")
    root = base or (os.path.dirname(str(manifest)) if manifest else os.getcwd())
    checked = 0
    if not _items(statement.get("subject")):
        problems.append("subject: none (an in-toto Statement attests at least one)")
    for role, items in (
        ("subject", _items(statement.get("subject"))),
        ("dependency", _items(definition.get("resolvedDependencies"))),
    ):
        for item in items:
            if "content" in item:
                problem = _content_problem(role, item)
            else:
                checked += 1
                problem = _file_problem(role, item, root)
            if problem:
                problems.append(problem)
    for item in _items(_mapping(predicate.get("runDetails")).get("byproducts")):
        if "content" in item and "digest" in item:
            problem = _content_problem("byproduct", item)
            if problem:
                problems.append(problem)
    return VerifyReport(
        path, opened.signed, opened.signature_ok, checked, tuple(problems), tuple(notes)
    )


def _file_problem(role: str, item: dict[str, Any], root: str) -> str | None:
    name = str(item.get("name", ""))
    recorded = (item.get("digest") or {}).get("sha256")
    path = name if os.path.isabs(name) else os.path.join(root, name)
    if not recorded:
        return f"{role} {name}: no sha256 recorded"
    try:
        now = sha256_file(path)
    except OSError:
        return f"{role} {name}: missing ({path})"
    if now != recorded:
        return f"{role} {name}: sha256 differs (recorded {recorded[:12]}…, now {now[:12]}…)"
    return None


def _content_problem(role: str, item: dict[str, Any]) -> str | None:
    name = str(item.get("name", ""))
    recorded = (item.get("digest") or {}).get("sha256")
    if not recorded:
        return None
    try:
        content = base64.b64decode(str(item["content"]))
    except ValueError:
        return f"{role} {name}: its content is not base64"
    if hashlib.sha256(content).hexdigest() != recorded:
        return f"{role} {name}: its content does not match its sha256"
    return None


def _mapping(value: Any) -> dict[str, Any]:
    """A statement's object where one is expected; anything else reads as empty (what it
    should hold is then reported missing, never a crash)."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
