"""selector batch --scheduler: the areas run on a real Dask cluster (a scheduler and two workers,
each its own process) and the outputs are the same, byte for byte, as a local batch's."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from selector import batch
from tests.conftest import SAMPLE, run
from tests.test_batch import areas  # noqa: F401  (the three-area manifest fixture)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Dask scheduler and two one-thread workers started as separate processes, as an
    administrator would start them; yields the scheduler's address."""
    folder = tmp_path_factory.mktemp("cluster")
    address_file = folder / "scheduler.json"
    common = ["--no-dashboard"]
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
                                   str(address_file), "--host", "127.0.0.1", "--port", "0", *common],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        for name in ("worker-1", "worker-2"):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(address_file),
                 "--nthreads", "1", "--name", name, "--local-directory", str(folder / name), *common],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # Not the default client: a real `selector batch --scheduler` process has none of its own.
        with distributed.Client(scheduler_file=str(address_file), timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            yield client.scheduler.address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def executed_by_worker(address: str) -> dict[str, int]:
    with distributed.Client(address, timeout=30) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
        names = client.run(lambda dask_worker: dask_worker.name)
    return {names[w]: counts[w] for w in counts}


def without_seconds(folder: Path) -> dict[str, object]:
    """Every output of a batch folder, with the wall times (which no two runs share) taken out."""
    files: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(folder))
        if path.name == "run.json":
            record = json.loads(path.read_text())
            for cohort in record["cohorts"]:
                cohort.pop("seconds")
            record["solver"].pop("seconds_spent")
            record.get("lottery", {}).pop("seconds", None)
            files[name] = record
        elif path.name == "summary.csv":
            files[name] = pd.read_csv(path, encoding="utf-8-sig", dtype=str).drop(columns="seconds").to_dict("list")
        else:
            files[name] = path.read_bytes()
    return files


def test_a_batch_on_a_cluster_gives_the_local_batchs_outputs(areas: Path, scheduler: str,  # noqa: F811
                                                             tmp_path: Path) -> None:
    before = sum(executed_by_worker(scheduler).values())
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    # The same seed on both (without one, each area's run would draw its own).
    code, stdout, _ = run("batch", str(areas), "--out", str(local), "--jobs", "1", "--sets", "2", "--seed", "0")
    assert code == 1 and "1 of 3 runs succeeded" in stdout  # one bad list, one impossible area
    code, stdout, stderr = run("batch", str(areas), "--out", str(cluster), "--sets", "2", "--seed", "0",
                               "--scheduler", scheduler)
    assert code == 1 and "1 of 3 runs succeeded" in stdout, stderr
    assert without_seconds(cluster) == without_seconds(local)
    # The three areas ran on the workers, not here.
    assert sum(executed_by_worker(scheduler).values()) - before == 3


def test_a_national_audit_on_a_cluster_gives_the_local_outputs(areas: Path, scheduler: str,  # noqa: F811
                                                                tmp_path: Path) -> None:
    # Every area of the manifest audited (its lottery, 200 draws, the rows shuffled) in one
    # command: the same files locally and on the cluster.
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    code, stdout, _ = run("batch", str(areas), "--out", str(local), "--jobs", "1", "--audit", "200")
    assert code == 1 and "1 of 3 runs succeeded" in stdout  # one bad list, one impossible area
    assert "Lotteries whose draws deviate from their chances: 0" in stdout
    code, stdout, stderr = run("batch", str(areas), "--out", str(cluster), "--audit", "200", "--scheduler", scheduler)
    assert code == 1 and "1 of 3 runs succeeded" in stdout, stderr
    assert without_seconds(cluster) == without_seconds(local)
    summary = pd.read_csv(local / "summary.csv", encoding="utf-8-sig")
    (good,) = summary.loc[summary["exit_code"] == 0, "area"]
    assert summary.loc[summary["area"] == good, "status"].item() == "NO_DEVIATION"
    assert {"audit.md", "audit.csv", "chances.csv"} <= {p.name for p in (local / good).iterdir()}


def test_an_audit_on_a_cluster_gives_the_local_audit(scheduler: str, tmp_path: Path) -> None:
    # selector audit sends its work to a worker, which writes the same folder, byte for byte,
    # and the same verdict; an error on the worker is the same error (and exit code) here.
    args = (str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"), "--draws", "200")
    before = sum(executed_by_worker(scheduler).values())
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    here = run("audit", *args, "--out", str(local))
    there = run("audit", *args, "--out", str(cluster), "--scheduler", scheduler)
    assert there[0] == here[0] == 0
    assert there[1] == here[1].replace(str(local), str(cluster))  # the same verdict, figures and lottery
    assert sum(executed_by_worker(scheduler).values()) == before + 1
    assert {p.name: p.read_bytes() for p in cluster.iterdir()} == {p.name: p.read_bytes() for p in local.iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_text("child_id,age\nC1,300\n")
    code, _, stderr = run("audit", str(bad), "--out", str(tmp_path / "bad"), "--scheduler", scheduler)
    assert code == 2 and "bad.csv" in stderr and not (tmp_path / "bad").exists()


def test_an_unreachable_scheduler_is_exit_2_and_leaves_nothing(areas: Path, tmp_path: Path,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CONNECT_TIMEOUT_S", 1)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(areas), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in stderr
    assert "Check the address (tcp://HOST:PORT) and that the scheduler is running." in stderr
    assert not out.exists()


def test_a_run_written_where_this_machine_cannot_see_it_is_a_failure(tmp_path: Path) -> None:
    from selector import app

    item = app.BatchItem(name="Farshire", request=app.SelectRequest(
        sources=app.Sources(caseload=tmp_path / "x.csv"), out=tmp_path / "nowhere"), manifest=None)
    row = batch._written_here({"area": "Farshire", "exit_code": 0, "status": "OPTIMAL", "run_folder": "Farshire",
                               "error": ""}, item)
    assert row["exit_code"] == 1 and row["status"] == "ERROR"
    assert "which this machine cannot see; give --out a folder every worker shares" in str(row["error"])


def test_a_relative_folder_reaches_the_workers(scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers run in another working folder: the areas' paths must reach them absolute, and
    # summary.csv still names each caseload as the user typed it.
    from tests.test_batch_paths import make_areas

    make_areas(tmp_path / "areas")
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run("batch", "areas", "--out", "runs", "--sets", "1", "--scheduler", scheduler)
    assert code == 0 and "2 of 2 runs succeeded" in stdout, stderr
    summary = pd.read_csv(tmp_path / "runs" / "summary.csv", encoding="utf-8-sig", dtype=str)
    assert summary["caseload"].tolist() == ["areas/Eastshire.csv", "areas/Westshire.csv"]
    assert summary["status"].tolist() == ["OPTIMAL", "OPTIMAL"]
