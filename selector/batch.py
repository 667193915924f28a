"""Batch runs, the front end: many areas or scenarios in parallel processes, with progress.

The runs themselves are the application layer's (`app.plan_batch`, `app.run_batch_item`,
`app.run_batch`); this module only spreads them over processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import app

Row = dict[str, object]


def process_pool(jobs: int, progress: Callable[[Iterator[Row], int], Iterator[Row]] | None = None) -> app.RunMany:
    """A way to run batch items in `jobs` processes (one by one for 1), reporting each as it ends."""
    def run_many(items: list[app.BatchItem]) -> Iterator[Row]:
        stream = (app.run_batch_item(t) for t in items) if jobs <= 1 else _parallel(items, jobs)
        return progress(stream, len(items)) if progress else stream

    return run_many


def _parallel(items: list[app.BatchItem], jobs: int) -> Iterator[Row]:
    # Largest caseloads first, so a big area does not start last and hold up the end.
    ordered = sorted(items, key=lambda t: -_size_of(t.request.sources.caseload))
    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(app.run_batch_item, t) for t in ordered]
        for future in as_completed(futures):
            yield future.result()
    except BaseException:
        # Stopped (Ctrl+C, SIGTERM): end the workers now rather than wait for their areas.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _size_of(path: Path | None) -> int:
    try:
        return Path(path).stat().st_size if path else 0
    except OSError:
        return 0
