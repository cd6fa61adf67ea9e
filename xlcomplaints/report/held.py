"""A report run's hold on what it writes: its output's lock file and, for a consolidation, its facts store's.

Two runs must not write one report, nor one facts store, at the same moment: ``held`` takes ``.NAME.xlsx.lock``
beside the report and ``.NAME.facts.lock`` beside the store (``workbook.owners.OutputLock``: created with
O_EXCL, holding the run's host, process id and start, and for the store the report it is written for). Two
reports of one file name in two folders share a ``--store`` folder's store: the second is refused with who
holds it. A lock left by a run that died (its process gone on this PC; on another PC, a day old) is taken over
and said on the Issues sheet, never a permanent block. Readers take no lock: head office reading a region's store
asks ``writer_of`` whether a run is writing it at that moment (``report.regions``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.filekind import write_reason
from xlcomplaints.workbook.owners import OutputLock, OutputLockedError, clear_leftovers

register_messages({
    "report.output_busy": (
        "{path} 正由另一次运行写入（进程 {pid}，开始于 {since}），请等它结束后再试；若确知没有运行在进行，请删除 {lock}。",
        "{path} is being written by another run (process {pid}, since {since}); try again once it is done, or "
        "delete {lock} if you are sure none is running."),
    "report.output_unwritable": ("文件夹 {folder} 不可写入（{reason_zh}），报表无法写入。",
                                 "The folder {folder} cannot be written to ({reason_en}); the report cannot be written."),
    "report.lock_taken_over": (
        "上次写 {path} 的运行（进程 {pid}，开始于 {since}）已中断，本次运行接管了它的锁文件。",
        "The run that was writing {path} (process {pid}, since {since}) was interrupted; this run took over its lock."),
    "report.store_busy": (
        "汇总数据目录 {store} 正由另一次运行写入（报表 {report}，进程 {pid}，开始于 {since}），本次未读取任何文件，未写出报表；"
        "请等它结束后再试。若确知没有运行在进行（例如那次运行所在的电脑已关机），请删除 {lock}。",
        "The facts store {store} is being written by another run (report {report}, process {pid}, since {since}); "
        "nothing was read or written. Try again once it is done, or delete {lock} if you are sure none is running "
        "(the PC it ran on was switched off, say)."),
    "report.store_lock_taken_over": (
        "上次写汇总数据目录 {store} 的运行（进程 {pid}，开始于 {since}）已中断，本次运行接管了它的锁文件。",
        "The run that was writing the facts store {store} (process {pid}, since {since}) was interrupted; this run "
        "took over its lock."),
})


@contextlib.contextmanager
def held(output: Path, store: Path | None = None) -> Iterator[list[Problem]]:
    """Hold ``output`` for this run (its lock file) and its facts ``store`` (``.NAME.facts.lock`` beside it: two
    reports of one name in two folders share a ``--store`` folder's store), clear what killed runs left beside
    the report; yields the notes for the Issues sheet (a lock taken over, leftovers removed). A lock left by a
    run that died is taken over (``workbook.owners.OutputLock``: its process gone on this PC, or a day old)."""
    lock = OutputLock(output)
    try:
        lock.acquire()
    except OutputLockedError as e:
        raise WorkbookError("report.output_busy", path=output.name, lock=e.lock.name, pid=e.holder.get("pid", "?"),
                            since=e.holder.get("since", "?")) from e
    except OSError as e:  # a read-only folder, say: said before any branch is read
        raise WorkbookError("report.output_unwritable", folder=str(output.parent),
                            **write_reason(e)) from e
    try:
        held = _hold_store(store, output) if store is not None else None
        try:
            notes = []
            for took, code, what in ((lock, "report.lock_taken_over", output.name),
                                     (held, "report.store_lock_taken_over", str(store))):
                if took is not None and took.taken_over is not None:
                    notes.append(Problem(level=Level.WARNING, code=code, file=output.name, params={
                        "path": what, "store": what, "pid": took.taken_over.get("pid", "?"),
                        "since": took.taken_over.get("since", "?")}))
            notes += [Problem(level=Level.WARNING, code=done.action.value, file=output.name,
                              params={"name": done.name, "target": done.target}) for done in clear_leftovers(output)]
            yield notes
        finally:
            if held is not None:
                held.release()
    finally:
        lock.release()


def _hold_store(store: Path, output: Path) -> OutputLock:
    """The facts store's lock, taken for the report ``output``, or a refusal: another run (of another report of
    the same name, say) writes it."""
    lock = OutputLock(store, about=str(output.absolute()))
    try:
        lock.acquire()
    except OutputLockedError as e:
        raise WorkbookError("report.store_busy", store=str(store), lock=str(e.lock), report=e.holder.get("report", "?"),
                            pid=e.holder.get("pid", "?"), since=e.holder.get("since", "?")) from e
    except OSError as e:  # the --store folder read-only, say
        raise WorkbookError("report.output_unwritable", folder=str(store.parent),
                            **write_reason(e)) from e
    return lock


def writer_of(store: Path) -> dict[str, object] | None:
    """The run writing the facts ``store`` now (its lock's host, pid, since, report), None if none is: a lock left
    by a run that was killed counts as none (``OutputLock.held_by``)."""
    return OutputLock(store).held_by()
