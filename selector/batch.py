"""Batch runs, the front end: many areas or scenarios in parallel processes, or on a Dask
cluster, with progress.

The runs themselves are the application layer's (`app.plan_batch`, `app.run_batch_item`,
`app.run_batch`); this module only spreads them over processes or a cluster's workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import app, stopping
from .contract.errors import InputError

Row = dict[str, object]

# Seconds a stopped batch waits for each worker to end its area (a search under way stops within
# a twentieth of a second; removing a staging folder takes less).
WORKER_STOP_S = 10


def process_pool(jobs: int, progress: Callable[[Iterator[Row], int], Iterator[Row]] | None = None) -> app.RunMany:
    """A way to run batch items in `jobs` processes (one by one for 1), reporting each as it ends."""
    def run_many(items: list[app.BatchItem]) -> Iterator[Row]:
        stream = (app.run_batch_item(t) for t in items) if jobs <= 1 else _parallel(items, jobs)
        return progress(stream, len(items)) if progress else stream

    return run_many


def _parallel(items: list[app.BatchItem], jobs: int) -> Iterator[Row]:
    # Scenarios sharing a lottery go to one process, one after another (it is worked out once);
    # largest caseloads first, so a big area does not start last and hold up the end.
    groups = sorted(app.scenario_groups(items), key=lambda g: -_size_of(g[0].request.sources.caseload))
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=stopping.install_in_worker)
    try:
        futures = [pool.submit(stopping.run_as_worker, app.run_batch_group, group) for group in groups]
        for future in as_completed(futures):
            yield from future.result()
    except BaseException:
        # Stopped (Ctrl+C, SIGTERM): stop the workers' areas now rather than wait for them, and
        # wait until each has removed its staging folder (inside the batch's own, removed next).
        workers = list(getattr(pool, "_processes", {}).values())
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(WORKER_STOP_S)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


# Seconds to wait for a Dask scheduler to answer before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10


def dask_cluster(address: str, progress: Callable[[Iterator[Row], int], Iterator[Row]] | None = None
                 ) -> app.RunMany:
    """A way to run batch items on the Dask cluster whose scheduler is at `address` (e.g.
    tcp://10.0.0.5:8786). Each worker runs whole areas and writes their folders itself, so the
    output folder must be one every worker can write (a shared drive)."""
    def run_many(items: list[app.BatchItem]) -> Iterator[Row]:
        stream = _on_cluster(items, address)
        return progress(stream, len(items)) if progress else stream

    return run_many


def _connect(address: str):  # type: ignore[no-untyped-def]  (distributed is an optional extra)
    """A client of the Dask scheduler at `address`."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed package, which is not installed.", "no_dask",
                         fix="Install it with: pip install 'selector[cluster]'") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"could not reach the Dask scheduler at {address} ({error}).", "no_scheduler",
                         where="--scheduler",
                         fix="Check the address (tcp://HOST:PORT) and that the scheduler is running.") from None


def _on_cluster(items: list[app.BatchItem], address: str) -> Iterator[Row]:
    client = _connect(address)
    from distributed import as_completed

    # As in local processes: scenarios sharing a lottery go to one worker, one after another.
    groups = sorted(app.scenario_groups(items), key=lambda g: -_size_of(g[0].request.sources.caseload))
    futures = {client.submit(app.run_batch_group, group, key=f"selector-batch-{n}-{group[0].name}", pure=False): group
               for n, group in enumerate(groups)}
    try:
        # The client is not the process's default (set_as_default=False), and `as_completed`
        # looks for the default one unless given the client's loop.
        for future in as_completed(list(futures), loop=client.loop):
            for row, item in zip(future.result(), futures[future], strict=True):
                yield _written_here(row, item)
    finally:  # finished, failed or stopped: nothing of ours is left running on the cluster
        client.cancel(list(futures))
        client.close()


def audit_on_cluster(request: app.AuditRequest, address: str) -> app.AuditResult:
    """The audit run by a worker of the Dask cluster whose scheduler is at `address`: the worker
    computes the lotteries and the draws and writes the audit folder itself, so `request.out` must
    be a folder it shares with this machine. Errors come back as they would locally.

    Raises:
        SelectorError: bad input (2), impossible rules (3), no scheduler, or a folder written
            where this machine cannot see it.
    """
    client = _connect(address)
    future = client.submit(app.audit, request, key=f"selector-audit-{Path(request.out).name}", pure=False)
    try:
        result = future.result()
    finally:  # finished, failed or stopped: nothing of ours is left running on the cluster
        client.cancel([future])
        client.close()
    if not Path(request.out).is_dir():
        raise InputError(f"the worker wrote the audit to {request.out}, which this machine cannot see.", "not_shared",
                         where="--out", fix="Give --out a folder every worker shares.")
    return result


def _written_here(row: Row, item: app.BatchItem) -> Row:
    """A worker on another machine may have written the area's folder to its own disk: then the
    area is reported as failed here rather than silently missing from the output."""
    out = item.request.out
    if row["exit_code"] == 0 and out is not None and not Path(out).is_dir():
        row = {**row, "status": "ERROR", "exit_code": 1, "run_folder": "",
               "error": f"the worker wrote the run to {out}, which this machine cannot see; give --out a "
                        "folder every worker shares."}
    return row


def _size_of(path: Path | None) -> int:
    try:
        return Path(path).stat().st_size if path else 0
    except OSError:
        return 0
