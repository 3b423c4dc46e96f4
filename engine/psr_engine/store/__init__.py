"""The run history: one SQLite file per state folder (`.psr/runs.db`), written by the history
sink, read by resume and the look-back commands (`runs`, `status`, `logs`, `prune`).

    RunStore.open(state_dir)      migrate to the current schema, close crashed runs
    store.runs(...) / run(ref) / tasks(id) / attempts(id) / gates(id) / prune(...)

Stdlib only (sqlite3); this package imports nothing above it (see [tool.importlinter]).
"""

from __future__ import annotations

from psr_engine.store.model import (
    AttemptRecord,
    GateRecord,
    HistoryError,
    RunRecord,
    StoreBusyError,
    TaskDigest,
    TaskRecord,
)
from psr_engine.store.paths import db_path, find_state_dir, run_dir, state_dir_for_manifest
from psr_engine.store.runstore import RunStore

__all__ = [
    "AttemptRecord",
    "GateRecord",
    "HistoryError",
    "RunRecord",
    "RunStore",
    "StoreBusyError",
    "TaskDigest",
    "TaskRecord",
    "db_path",
    "find_state_dir",
    "run_dir",
    "state_dir_for_manifest",
]
