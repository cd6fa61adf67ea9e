"""Consolidating on a Dask cluster (``consolidate --scheduler``), as a head office runs it across PCs.

One ``distributed.LocalCluster`` of two worker processes serves the module. The command line runs
in a process of its own (the head office's PC), the workers in theirs; a report read there is the
same cell for cell as one read by the command line's own process pool. A worker that cannot see a
file the head office sees says so, naming its machine; a file missing on the head office's machine
is said as before and never sent. Without Dask, ``--scheduler`` is refused and nothing is written.
With ``--store`` the workers write their partitions into a shared folder's store (by path or ``file://``
URL), an update reads it there, and a worker that cannot write there is refused by name before any
file is read.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from tests.conftest import head_office
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
    return head_office(tmp_path_factory.mktemp("office"))


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


# --store: the folder the facts store is kept in, which the workers write their partitions to


def _store_arg(shared: Path, form: str) -> str:
    if form == "url":
        pytest.importorskip("fsspec")
        return shared.as_uri()
    return str(shared)


@pytest.mark.parametrize("form", ["path", "url"])
def test_a_store_in_a_shared_folder_gives_the_same_report_and_serves_an_update(office: Path, cluster: Any,
                                                                             elsewhere: Path, tmp_path: Path,
                                                                             form: str) -> None:
    """The workers write their partitions into the store in ``--store`` (a folder, or its ``file://`` URL);
    the report is the one the process pool writes without it, the store is there and not beside the report,
    and ``--update`` given the same ``--store`` reads it (and without it finds no store: exit 2)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    store = _store_arg(shared, form)
    pool = run(office, "consolidate", "branches", "--month", "2026-10", "--now", NOW, "-o", tmp_path / "pool.xlsx",
               "--workers", "2")
    out = tmp_path / "report" / "group.xlsx"
    out.parent.mkdir()
    dask = run(office, "consolidate", "branches", "--month", "2026-10", "--now", NOW, "-o", out,
               "--scheduler", cluster.scheduler_address, "--store", store)
    assert pool.returncode == 0, pool.stderr[-2000:]
    assert dask.returncode == 0, dask.stderr[-2000:]
    ours = grids(tmp_path / "pool.xlsx")
    assert grids(out) == ours
    assert (shared / "group.facts" / "manifest.json").is_file()
    assert not store_path(out).exists()
    assert sorted(p.name for p in (shared / "group.facts").iterdir() if p.name.startswith(".")) == []  # no staging
    [pack] = (shared / "group.facts").glob("period=*/*.parquet")  # the three branches in one pack

    update = run(office, "consolidate", "branches/SH02.xlsx", "--update", "--month", "2026-10", "--now", NOW,
                 "-o", out, "--scheduler", cluster.scheduler_address, "--store", store)
    assert update.returncode == 0, update.stderr[-2000:]
    again, issues = grids(out), R.ISSUES.title("zh")  # SH02 read again, BJ01 and GZ03 carried from the shared store
    assert {k: v for k, v in again.items() if k != issues} == {k: v for k, v in ours.items() if k != issues}
    assert sorted(map(repr, again[issues])) == sorted(map(repr, ours[issues]))  # the read file's issues first
    [packed_again] = (shared / "group.facts").glob("period=*/*.parquet")  # SH02's pack written again
    assert packed_again != pack

    lost = run(office, "consolidate", "branches/SH02.xlsx", "--update", "--month", "2026-10", "--now", NOW,
               "-o", out, "--lang", "en", "--workers", "1")  # the store is not beside the report
    assert lost.returncode == 2 and "Traceback" not in lost.stderr
    assert str(store_path(out)) in lost.stderr.replace("\n", "")  # where it looked
    assert not store_path(out).exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/cwd: a path each process sees its own way")
@pytest.mark.parametrize("where", ["--store", "-o"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_worker_that_cannot_write_to_the_store_is_refused_before_any_file_is_read(
        office: Path, cluster: Any, elsewhere: Path, where: str, lang: str) -> None:
    """``/proc/self/cwd/shared`` is a folder the head office sees (its own working folder's) and the workers,
    in a folder of their own, do not: a share mapped on the head office's PC only. Whether the store goes
    there by ``--store`` or beside the report, each worker's probe write fails and the run is refused by the
    worker's name, its machine and the folder: exit 2, no report, no store."""
    shared = office / "shared"
    shared.mkdir(exist_ok=True)
    seen = "/proc/self/cwd/shared"
    args = ["--store", seen, "-o", "group.xlsx"] if where == "--store" else ["-o", f"{seen}/group.xlsx"]
    said = run(office, "consolidate", "branches", "--month", "2026-10", "--lang", lang,
               "--scheduler", cluster.scheduler_address, *args)
    assert said.returncode == 2, said.stderr[-2000:]
    assert "Traceback" not in said.stderr
    text = said.stderr.strip()
    assert text.startswith(REFUSAL_PREFIX[Lang(lang)])
    worker = min(cluster.scheduler_info["workers"])
    expected = D.ClusterError(D.Cluster.STORE_UNWRITABLE, worker=worker, host=socket.gethostname(),
                              location=seen, detail=os.strerror(2)).message(lang)
    assert text == REFUSAL_PREFIX[Lang(lang)] + expected
    assert list(shared.iterdir()) == [] and not (office / "group.xlsx").exists()


def test_a_probe_says_what_went_wrong_and_leaves_nothing(tmp_path: Path) -> None:
    assert D.probe_store(str(tmp_path)) == (socket.gethostname(), None)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a-file").write_bytes(b"")
    host, detail = D.probe_store(str(tmp_path / "a-file"))
    assert host == socket.gethostname() and detail == os.strerror(20)  # Not a directory


def test_a_store_location_that_cannot_be_used_is_refused(office: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from xlcomplaints.store.layout import Location, StoreLocationError, store_location

    assert store_location(tmp_path) == tmp_path
    with pytest.raises(StoreLocationError) as missing:
        store_location(tmp_path / "nowhere")
    assert missing.value.code == Location.NO_FOLDER
    if importlib.util.find_spec("fsspec") is not None:
        assert store_location(tmp_path.as_uri()) == tmp_path
        with pytest.raises(StoreLocationError) as remote:
            store_location("s3://bucket/facts")
        assert remote.value.code == Location.NOT_A_FOLDER_URL and remote.value.params["scheme"] == "s3"
    monkeypatch.setitem(sys.modules, "fsspec", None)
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(StoreLocationError) as without:
        store_location(tmp_path.as_uri())
    assert without.value.code == Location.NEEDS_FSSPEC

    out = tmp_path / "group.xlsx"  # the command line: one sentence, exit 2, nothing written, no cluster asked
    said = run(office, "consolidate", "branches", "--month", "2026-10", "-o", out, "--lang", "en",
               "--store", tmp_path / "nowhere")
    assert said.returncode == 2
    assert said.stderr.strip() == REFUSAL_PREFIX[Lang.EN] + StoreLocationError(
        Location.NO_FOLDER, location=str(tmp_path / "nowhere")).message("en")
    assert not out.exists() and not store_path(out).exists()


def test_a_store_elsewhere_without_a_cluster_and_through_the_api(office: Path, tmp_path: Path) -> None:
    """``--store`` is where the store is, whoever reads the files: the process pool writes there too, and
    the Python API's ``store=`` finds it for an update."""
    from xlcomplaints import api

    shared = tmp_path / "shared"
    shared.mkdir()
    out = tmp_path / "group.xlsx"
    said = run(office, "consolidate", "branches", "--month", "2026-10", "--now", NOW, "-o", out, "--workers", "2",
               "--store", shared)
    assert said.returncode == 0, said.stderr[-2000:]
    assert (shared / "group.facts" / "manifest.json").is_file() and not store_path(out).exists()
    result = api.consolidate([office / "branches" / "GZ03.xlsx"], "2026-10", out, update=True, workers=1,
                             store=shared)
    assert result.state == shared / "group.facts"
    assert sorted(result.consolidation.carried) == ["BJ01", "SH02"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/cwd: a path each process sees its own way")
def test_the_apis_dask_executor_gets_the_same_write_probe(office: Path, cluster: Any, elsewhere: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A script passing a Dask client's executor to ``xlcomplaints.consolidate`` (the README's way) is probed
    as ``--scheduler`` is: a store folder the workers cannot write to is refused by the worker's name before any
    file is read, nothing written; one they can write to runs. A process pool is not probed."""
    from concurrent.futures import ThreadPoolExecutor

    from distributed import Client

    import xlcomplaints as xc

    monkeypatch.chdir(office)
    shared = office / "shared-api"
    shared.mkdir()
    seen = "/proc/self/cwd/shared-api"  # the head office's folder, not the workers'
    worker = min(cluster.scheduler_info["workers"])
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        for store, output in ((seen, "group.xlsx"), (None, f"{seen}/group.xlsx")):
            with pytest.raises(D.ClusterError) as info:
                xc.consolidate(["branches"], "2026-10", output, executor=client.get_executor(), store=store)
            assert info.value.code == D.Cluster.STORE_UNWRITABLE
            assert info.value.params["worker"] == worker and info.value.params["location"] == seen
            assert list(shared.iterdir()) == [] and not (office / "group.xlsx").exists()
        run_ = xc.consolidate(["branches"], "2026-10", office / "api.xlsx", executor=client.get_executor(),
                              store=shared)
    assert run_.report.value("received") and store_path(office / "api.xlsx", shared).exists()
    D.probe_executor(ThreadPoolExecutor(1), office / "nowhere")  # not Dask's: nothing asked of it
