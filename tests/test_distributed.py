"""Consolidating on a Dask cluster (``consolidate --scheduler``), as a head office runs it across PCs.

One ``distributed.LocalCluster`` of two worker processes serves the module. The command line runs
in a process of its own (the head office's PC), the workers in theirs; a report read there is the
same cell for cell as one read by the command line's own process pool. A worker that cannot see a
file the head office sees says so, naming its machine; a file missing on the head office's machine
is said as before and never sent. Without Dask, ``--scheduler`` is refused and nothing is written.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from xlcomplaints.console import REFUSAL_PREFIX
from xlcomplaints.core.metrics import Period
from xlcomplaints.i18n import Lang, render
from xlcomplaints.report import distributed as D
from xlcomplaints.report.dispatch import Dispatch
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.request import ReportHooks, ReportRequest
from xlcomplaints.report.run import report_flow
from xlcomplaints.spec import report as R

NOW = "2026-11-02 09:00"
CLI = [sys.executable, "-m", "xlcomplaints.cli"]


def run(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


def grids(path: Path) -> dict[str, list[list[object]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The head office's folder: the demo's three branch workbooks under ``branches/``."""
    from xlcomplaints.demo import run_demo

    home = tmp_path_factory.mktemp("office")
    made = run_demo(home / "demo")
    (home / "branches").mkdir()
    for path in made[:-1]:
        shutil.copy(path, home / "branches" / path.name)
    return home


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture
def elsewhere(cluster: Any, tmp_path: Path) -> Iterator[Path]:
    """The workers run in a folder of their own (as ``dask worker`` started elsewhere on another PC)."""
    from distributed import Client

    away = tmp_path / "worker-folder"
    away.mkdir()
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        before = client.run(os.getcwd)
        client.run(os.chdir, str(away))
        try:
            yield away
        finally:
            for worker, folder in before.items():
                client.run(os.chdir, folder, workers=[worker])


def test_the_cluster_gives_the_report_of_the_process_pool_cell_for_cell(office: Path, cluster: Any,
                                                                       elsewhere: Path) -> None:
    pool = run(office, "consolidate", "branches", "--month", "2026-10", "--now", NOW, "-o", "pool.xlsx",
               "--workers", "2")
    dask = run(office, "consolidate", "branches", "--month", "2026-10", "--now", NOW, "-o", "dask.xlsx",
               "--scheduler", cluster.scheduler_address)
    assert pool.returncode == 0, pool.stderr[-2000:]
    assert dask.returncode == 0, dask.stderr[-2000:]
    assert "Traceback" not in dask.stderr
    ours, theirs = grids(office / "pool.xlsx"), grids(office / "dask.xlsx")
    assert list(ours) == list(theirs)
    for name in ours:
        assert theirs[name] == ours[name], name
    assert store_path(office / "dask.xlsx").exists()  # --update works after a cluster's run too


class Recording(Executor):
    """The cluster's executor, noting the paths each file is sent by."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.sent: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sent.append(args[0])
        return self.inner.submit(fn, *args, **kwargs)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/cwd: a path each process sees its own way")
def test_a_worker_that_cannot_see_a_file_says_so(office: Path, cluster: Any, elsewhere: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """``/proc/self/cwd/…`` is an absolute path whose meaning differs per process, as a drive letter mapped
    to another share on another PC does: the head office sees BJ01 there, the workers (in their own
    folder) do not. SH02 is given relative to the head office's folder and is sent as it sees it; a
    file missing on the head office's machine is said as before and never sent."""
    monkeypatch.chdir(office)
    blind = "/proc/self/cwd/branches/BJ01.xlsx"

    def no_fork() -> int:
        raise AssertionError("forked while the Dask client's threads are alive")

    monkeypatch.setattr(os, "fork", no_fork)
    with D.cluster_executor(cluster.scheduler_address) as executor:
        recording = Recording(executor)
        request = ReportRequest((blind, "branches/SH02.xlsx", "branches/XX09.xlsx"), Period.parse("2026-10"),
                                tmp_path / "group.xlsx", lang="en")
        result = report_flow(request, ReportHooks(executor=recording))
    assert sorted(recording.sent) == sorted([blind, str(office / "branches" / "SH02.xlsx")])
    assert list(result.consolidation.branches) == ["SH02"]
    errors = {p.file: p for p in result.consolidation.issues if p.level == "error"}
    cannot = errors["BJ01.xlsx"]
    assert cannot.code == Dispatch.WORKER_CANNOT_OPEN
    assert cannot.params == {"path": "BJ01.xlsx", "host": socket.gethostname(), "sent": blind}
    assert errors["XX09.xlsx"].code == "file.missing"
    assert store_path(tmp_path / "group.xlsx").exists()  # the workers wrote their partitions into it

    # the command line says the same on the Issues sheet
    out = tmp_path / "cli.xlsx"
    said = run(office, "consolidate", blind, "branches/SH02.xlsx", "--month", "2026-10", "-o", out, "--lang", "en",
               "--scheduler", cluster.scheduler_address)
    assert said.returncode == 0, said.stderr[-2000:]
    issues = grids(out)[R.ISSUES.title("en")]
    assert [row for row in issues if render(Dispatch.WORKER_CANNOT_OPEN, "en", cannot.params) in row]


def test_every_worker_runs_this_version(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(D, "installed_version", lambda: "0.0.0")
    with pytest.raises(D.ClusterError) as refused, D.cluster_executor(cluster.scheduler_address):
        pass
    assert refused.value.code == D.Cluster.OTHER_VERSION and refused.value.params["ours"] == "0.0.0"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_dask_the_scheduler_is_refused_and_nothing_written(office: Path, tmp_path: Path, lang: str) -> None:
    """Dask is an optional extra: without it ``--scheduler`` says how to install it (exit 2)."""
    out = tmp_path / "group.xlsx"
    code = ("import sys; sys.modules['distributed'] = None; sys.argv[0] = 'xlcomplaints'; "
            "from xlcomplaints.cli import main; main()")
    said = subprocess.run([sys.executable, "-c", code, "consolidate", str(office / "branches"), "--month", "2026-10",
                           "-o", str(out), "--lang", lang, "--scheduler", "tcp://127.0.0.1:8786"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert said.returncode == 2
    expected = D.ClusterError(D.Cluster.NOT_INSTALLED).message(lang)
    assert said.stderr.strip() == REFUSAL_PREFIX[Lang(lang)] + expected
    assert not out.exists() and not store_path(out).exists()


def test_a_scheduler_that_cannot_be_reached_or_workers_given_too(office: Path, tmp_path: Path) -> None:
    out = tmp_path / "group.xlsx"
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    code = ("import sys; from xlcomplaints.report import distributed; distributed.CONNECT_TIMEOUT = 2; "
            "sys.argv[0] = 'xlcomplaints'; from xlcomplaints.cli import main; main()")
    said = subprocess.run([sys.executable, "-c", code, "consolidate", str(office / "branches"), "--month", "2026-10",
                           "-o", str(out), "--lang", "en", "--scheduler", address],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert said.returncode == 2, said.stderr[-2000:]
    assert said.stderr.startswith(REFUSAL_PREFIX[Lang.EN]) and address in said.stderr and "Traceback" not in said.stderr
    both = run(office, "consolidate", "branches", "--month", "2026-10", "-o", out, "--workers", "2", "--lang", "en",
               "--scheduler", address)
    assert both.returncode == 2
    assert both.stderr.strip() == REFUSAL_PREFIX[Lang.EN] + D.ClusterError(D.Cluster.WORKERS_GIVEN).message("en")
    assert not out.exists() and not store_path(out).exists()
