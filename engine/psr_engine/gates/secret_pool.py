"""Scanning many files on every core: a process pool over batches of files.

Module-level functions, so that worker processes can find them by name. Each worker receives
the scanner once (pool initializer), then batches of (absolute path, relative path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psr_engine.gates.secrets import FileResult, SecretScanner

_worker_scanner: SecretScanner | None = None


def _init_worker(scanner: SecretScanner) -> None:
    global _worker_scanner
    _worker_scanner = scanner


def _scan_batch(batch: list[tuple[str, str]]) -> list[FileResult]:
    assert _worker_scanner is not None
    return [_worker_scanner._scan_one(abs_path, rel) for abs_path, rel in batch]


def _batches(todo: list[tuple[str, str]], count: int) -> list[list[tuple[str, str]]]:
    size = max(1, -(-len(todo) // count))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def scan_in_pool(scanner: SecretScanner, todo: list[tuple[str, str]]) -> list[FileResult]:
    """Scan ``todo`` with ``scanner.workers`` processes; the results in ``todo``'s order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # forkserver, not fork: the engine runs threads (anyio), and forking a threaded process
    # can deadlock the child on a lock some other thread held.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    results: list[FileResult] = []
    try:
        with ProcessPoolExecutor(
            max_workers=scanner.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(scanner,),
        ) as pool:
            for batch_results in pool.map(_scan_batch, _batches(todo, scanner.workers * 8)):
                results.extend(batch_results)
    except BrokenProcessPool:
        # A worker died before scanning: typically a caller's main module that is not
        # import-safe (no `if __name__ == "__main__":`). Slower, but the scan still completes.
        return [scanner._scan_one(abs_path, rel) for abs_path, rel in todo]
    return results
