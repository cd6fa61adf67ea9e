"""A Dask distributed cluster as a consolidation's executor: ``consolidate … --scheduler tcp://host:8786``.

Dask is an optional extra (``pip install "xlcomplaints[distributed]"``), on the head office's PC and
on every worker PC. ``cluster_executor`` connects to a running ``dask scheduler``, checks before any
file is sent that it has workers and that each runs this version of xlcomplaints (a worker of
another version would read the files by other rules, or fail on every file), and hands out the
client's ``concurrent.futures`` executor; the client is closed when the block ends. Every
refusal is an ``XlcError`` said before anything is read or written (exit 2).

Workers open the files by the head office's absolute paths (``dispatch``): every PC must reach
them by the same path, a shared folder. They write their branches' partitions into the facts store's
folder (beside the report, or ``--store``) by its path too: ``cluster_executor(…, store=FOLDER)`` has
each worker write and remove a small file there first (``probe_store``), and a worker that cannot is
refused by name, its machine and the folder, before any file is sent. A script that passes a Dask client's
executor to the Python API (``api.consolidate(…, executor=client.get_executor())``) gets the same probe
(``probe_executor``).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import Any

from xlcomplaints.core.problems import register_messages
from xlcomplaints.errors import XlcError


class Cluster(StrEnum):
    """Why a Dask cluster cannot be used; each value is the code of its words."""

    NOT_INSTALLED = "cluster.not_installed"
    UNREACHABLE = "cluster.unreachable"
    NO_WORKERS = "cluster.no_workers"
    OTHER_VERSION = "cluster.other_version"
    NOT_ON_WORKER = "cluster.not_on_worker"
    WORKERS_GIVEN = "cluster.workers_given"
    STORE_UNWRITABLE = "cluster.store_unwritable"


register_messages({
    Cluster.NOT_INSTALLED.value: (
        "--scheduler 需要 Dask，本机没有安装：请运行 pip install \"xlcomplaints[distributed]\"（每台工作电脑也要安装）。"
        "未读取任何文件，未写出报表。",
        "--scheduler needs Dask, which is not installed here: run pip install \"xlcomplaints[distributed]\" (on "
        "every worker PC too). No file was read and no report written."),
    Cluster.UNREACHABLE.value: (
        "无法连接 Dask 调度器 {address}（{detail}）。请确认那台电脑上正在运行 dask scheduler，且本机能访问该端口。"
        "未读取任何文件，未写出报表。",
        "Cannot reach the Dask scheduler at {address} ({detail}). Check that dask scheduler is running there and "
        "that this PC can reach its port. No file was read and no report written."),
    Cluster.NO_WORKERS.value: (
        "Dask 调度器 {address} 在 {seconds} 秒内没有任何工作进程连上。请在各工作电脑上运行 dask worker {address}。"
        "未读取任何文件，未写出报表。",
        "No worker joined the Dask scheduler at {address} within {seconds} s. Run dask worker {address} on the "
        "worker PCs. No file was read and no report written."),
    Cluster.OTHER_VERSION.value: (
        "工作进程 {worker} 上安装的是 xlcomplaints {theirs}，本机是 {ours}：各电脑须安装同一版本。未读取任何文件，未写出报表。",
        "The worker {worker} has xlcomplaints {theirs} and this PC {ours}: every PC needs the same version. No file "
        "was read and no report written."),
    Cluster.NOT_ON_WORKER.value: (
        "工作进程 {worker} 上没有安装 xlcomplaints（或无法运行：{detail}）。请在每台工作电脑上安装与本机相同的版本 {ours}。"
        "未读取任何文件，未写出报表。",
        "xlcomplaints is not installed on the worker {worker} (or cannot run there: {detail}). Install the same "
        "version as this PC's, {ours}, on every worker PC. No file was read and no report written."),
    Cluster.WORKERS_GIVEN.value: (
        "--workers 与 --scheduler 不能同时使用：使用 Dask 集群时，并行数由各电脑上 dask worker 的设置决定"
        "（如 dask worker --nworkers 2）。",
        "--workers and --scheduler cannot be given together: with a Dask cluster, each PC's dask worker decides "
        "how many read at once (dask worker --nworkers 2, say)."),
    Cluster.STORE_UNWRITABLE.value: (
        "{host} 上的工作进程 {worker} 无法写入汇总数据目录所在的文件夹 {location}（{detail}）。工作进程把各网点的数据直接写到那里："
        "请用 --store 给出每台工作电脑都能以同一路径写入的共享文件夹（或把 -o 的报表放在那里）。未读取任何文件，未写出报表。",
        "The worker {worker} on {host} cannot write to {location}, the folder of the facts store ({detail}). Workers "
        "write the branches' facts there themselves: give --store a shared folder every worker PC can write to by "
        "the same path (or write the report -o there). No file was read and no report written."),
})

#: How long to wait for the scheduler to answer, and then for a first worker to join it (seconds).
CONNECT_TIMEOUT = 10
WORKERS_TIMEOUT = 30
PACKAGE = "xlcomplaints"


class ClusterError(XlcError):
    """A Dask cluster that cannot be used: said before any file is read (exit 2)."""


def installed_version() -> str:
    """This PC's xlcomplaints, as installed (what a worker's is compared with)."""
    return version(PACKAGE)


@contextmanager
def cluster_executor(address: str, *, connect_timeout: float | None = None, workers_timeout: float | None = None,
                     store: Path | None = None) -> Iterator[Executor]:
    """The executor of a Dask client connected to the scheduler at ``address`` (``tcp://host:8786``);
    raises ``ClusterError`` when Dask is missing here, the scheduler cannot be reached, no worker
    joins it in time, a worker runs another version of xlcomplaints (or none), or cannot write to the
    folder ``store`` (the one the facts store is made in, by its absolute path here: ``probe_store``)."""
    try:
        from distributed import Client
    except ImportError as e:
        raise ClusterError(Cluster.NOT_INSTALLED.value) from e
    try:
        client = Client(address, timeout=connect_timeout or CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        raise ClusterError(Cluster.UNREACHABLE.value, address=address, detail=_said(e)) from e
    try:
        _check_workers(client, address, workers_timeout or WORKERS_TIMEOUT)
        if store is not None:
            _check_store(client, store)
        yield client.get_executor()
    finally:
        client.close()


def _check_workers(client: Any, address: str, timeout: float) -> None:
    """At least one worker, and each with this PC's xlcomplaints."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError) as e:
        raise ClusterError(Cluster.NO_WORKERS.value, address=address, seconds=f"{timeout:g}") from e
    ours = installed_version()
    found: dict[str, Any] = client.run(version, PACKAGE, on_error="return")
    for worker, theirs in sorted(found.items()):
        if isinstance(theirs, BaseException):  # PackageNotFoundError: not installed there
            raise ClusterError(Cluster.NOT_ON_WORKER.value, worker=worker, ours=ours, detail=_said(theirs))
        if theirs != ours:
            raise ClusterError(Cluster.OTHER_VERSION.value, worker=worker, theirs=theirs, ours=ours)


def probe_store(folder: str) -> tuple[str, str | None]:
    """Run on a worker: write, flush and remove a small file in ``folder``, as a partition is written.
    (this machine's name, None) if it could, else (its name, what went wrong); never raises."""
    path = os.path.join(folder, f".xlc-probe-{uuid.uuid4().hex}")
    try:
        with open(path, "xb") as f:
            f.write(b"xlcomplaints")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        return socket.gethostname() or "?", e.strerror or type(e).__name__
    with suppress(OSError):
        os.remove(path)
    return socket.gethostname() or "?", None


def probe_executor(executor: Executor, folder: Path) -> None:
    """``cluster_executor``'s write probe for an executor a script passes itself (the Python API's ``executor=``):
    a Dask client's (``Client.get_executor()``) has each of its workers write and remove a small file in
    ``folder`` before any file is sent, and the first that cannot is refused by name (``ClusterError``); any other
    executor (a process pool of this PC, say) is left as it is. Dask is not imported: an executor of its is told
    by its module and the client it holds."""
    client = getattr(executor, "_client", None)
    if type(executor).__module__.partition(".")[0] != "distributed" or client is None:
        return
    _check_store(client, folder)


def _check_store(client: Any, folder: Path) -> None:
    """Every worker can write to ``folder`` by the path given: the first that cannot is refused, by name."""
    found: dict[str, Any] = client.run(probe_store, str(folder), on_error="return")
    for worker, said in sorted(found.items()):
        if isinstance(said, BaseException):
            raise ClusterError(Cluster.STORE_UNWRITABLE.value, worker=worker, host="?", location=str(folder),
                               detail=_said(said))
        host, detail = said
        if detail is not None:
            raise ClusterError(Cluster.STORE_UNWRITABLE.value, worker=worker, host=host, location=str(folder),
                               detail=detail)


def _said(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
