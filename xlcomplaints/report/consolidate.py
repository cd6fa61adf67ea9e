"""Read many branch workbooks in parallel and merge them into one set of cases for the report.

Each file is read once, in a worker (any ``concurrent.futures.Executor``; by default a
process pool sized to the cores). A worker never raises: it returns a small picklable
``FileSummary`` — the branch's ``Case`` facts and every problem met, or the reason the
file could not be used — so one bad file never stops the batch.

The summaries are then merged into one set of branches by the merging rules (``report.merging``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from pathlib import Path

from xlcomplaints.collector import collector_paused
from xlcomplaints.core.deadlines import make_calendar
from xlcomplaints.core.metrics import (
    Case,
    Period,
    case_facts,
    received_by,
    stamp,
    time_of,
    typical_reasons,
)
from xlcomplaints.core.models import Complaint
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.refresh import evaluate_branch
from xlcomplaints.core.settings import numbering_blockers
from xlcomplaints.core.validation import validate
from xlcomplaints.report.dispatch import NOT_THERE, as_seen_here, here, sent_as, worker_host
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.report.inputs import file_labels
from xlcomplaints.report.masking import mask_phone, mask_summary
from xlcomplaints.report.merging import _problem, any_received_in
from xlcomplaints.report.pool import default_executor
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND
from xlcomplaints.store.partition import PartitionDamaged, read_partition, write_partition
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.filekind import os_reason, write_reason
from xlcomplaints.workbook.reader import read_branch
from xlcomplaints.workbook.safety import lock_candidates

MESSAGES = {
    "report.unreadable": ("{path} 无法读取：{reason_zh}。", "{path} cannot be read: {reason_en}."),
    "report.failed": ("{path} 处理时出错，未计入（{detail}）。请把文件发给维护人员。",
                      "{path} could not be processed and is left out ({detail}). Please report it with the file."),
    "report.none_in_month": ("{path}（网点 {branch}）没有 {month} 受理的投诉，最近一宗受理于 {latest}。"
                             "如这不是本月在用的登记表，请网点重新发送。",
                             "{path} (branch {branch}) has no complaint received in {month}; the latest was received "
                             "on {latest}. If this is not the register in use, ask the branch to send it again."),
    "report.empty_register": ("{path}（网点 {branch}）的登记表中没有任何投诉。如这不是在用的登记表，请网点重新发送。",
                              "{path} (branch {branch}) has no complaint in its register. If this is not the register "
                              "in use, ask the branch to send it again."),
    "report.not_a_branch": ("{path} 是月报表，不是网点工作簿，已跳过（往期月报请用 --history 给出）。",
                            "{path} is a monthly report, not a branch workbook; it is passed over (earlier reports "
                            "go after --history)."),
    "report.open_in_excel": ("{path} 正在被编辑（发现锁定文件 {lock}），统计采用其最后一次保存的内容。",
                             "{path} is open for editing (lock file {lock}); its last saved content is used."),
    "report.no_usable_rows": ("{path} 有 {rows} 行登记，但没有一行能读出受理时间，整个文件未计入。",
                              "{path} has {rows} rows but none with a readable time received; the file is left out."),
}
register_messages(MESSAGES)
register_messages({
    "report.store_unwritable": ("{path} 的数据无法写入汇总数据目录（{reason_zh}），未计入。",
                                "{path}'s facts could not be written to the facts store ({reason_en}); it is left out."),
    "report.no_memory_file": ("{path} 读取时内存不足，未计入；请关闭其他程序或减少 --workers 后再试。",
                              "{path} ran out of memory while read and is left out; close other programs or give "
                              "fewer --workers and try again."),
})


#: Why a worker's partition could not be used (``report.store_unwritable``): gone or changed once it was written.
GONE = ("它写入的数据文件已不在原处或已被改动", "the data file it wrote is gone or was changed")

#: The Register's words a typical case is read with: what happened, what was done, why, what changed.
CASE_TEXTS = ("content", "result", "root_cause", "corrective_action")


def _typical_texts(complaints: Sequence[Complaint], cases: Sequence[Case],
                   month: Period) -> dict[str, tuple[str | None, ...]]:
    """The texts of the complaints that may be among the report's typical cases: those received in the
    period that meet a reason (the report keeps the most telling of all branches')."""
    start, end = stamp(month.start), stamp(month.end)
    out: dict[str, tuple[str | None, ...]] = {}
    for record, c in zip(complaints, cases, strict=True):
        if c.no and c.received_at is not None and start <= c.received_at < end and typical_reasons(c):
            out[c.no] = attrgetter(*CASE_TEXTS)(record)
    return out


def read_file(path: str, month: Period, as_of: datetime, now: datetime, show_contacts: bool = False,
              lang: str = "zh", label: str | None = None, staging: str | None = None) -> FileSummary:
    """Read, validate and evaluate one branch workbook; never raises (the batch must go on).

    ``as_of`` decides stage statuses; ``now`` (the real clock) decides what is "in the future";
    stage durations are measured for ``month`` (the period) and the one before, the two the report shows.
    ``label`` names the file in problems (default: its name). Without ``show_contacts`` everything
    in the summary is masked (``mask_summary``) before it leaves.
    ``staging``: a folder of the facts store (``report.facts.Staging``); the branch's cases and texts are
    written there as its partition, and the summary comes back without them (``FileSummary.partition``).
    """
    with collector_paused():
        summary = _read_file(path, month, as_of, now, show_contacts, lang, label or Path(path).name)
        summary = summary if show_contacts else mask_summary(summary)  # the one masking step: see masking
        if staging is None or not summary.usable or summary.branch is None:
            return summary
        try:
            part = write_partition(staging, summary.cases, summary.texts)
        except OSError as e:  # the store's folder full or gone: the file is left out, said as such
            return FileSummary(path, summary.mtime, error=_problem(
                "report.store_unwritable", summary.name, Level.ERROR, **write_reason(e)),
                seconds=summary.seconds, label=summary.name)
        return replace(summary, cases=(), texts={}, partition=part)


def _read_file(path: str, month: Period, as_of: datetime, now: datetime, show_contacts: bool,
               lang: str, name: str) -> FileSummary:
    started = time.perf_counter()
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError:
        mtime = 0.0

    def failed(problem: Problem) -> FileSummary:
        return FileSummary(path, mtime, error=problem, seconds=time.perf_counter() - started, label=name)

    try:
        port = FileWorkbook(p)
        read = read_branch(port, lang=lang, digest=False)  # the grey cells' checksum is refresh's
        problems = read.problems + validate(read.data, read.layouts, now=now)
        data = read.data
        cal = make_calendar(data.settings, data)  # the branch's, for its deadlines and its durations
        results, warnings = evaluate_branch(data, as_of, cal)
        # no code of its own (no Settings sheet, or its code blank): the file's name, never the default
        own = "settings" in read.sheets and not any(
            q.params.get("setting") == "branch_code" for q in numbering_blockers(read.problems))
        branch = data.settings.branch_code if own else p.stem
        cases = case_facts(branch, data, results, cal,
                           timed=(month.shift(-1).start, month.end), contact=None if show_contacts else mask_phone,
                           as_of=as_of)
        received = [c for c in data.complaints if received_by(c, as_of)]  # what case_facts kept
        texts = _typical_texts(received, cases, month)
    except WorkbookError as e:
        if e.code == "file.wrong_kind" and e.params.get("kind") == REPORT_TEMPLATE_KIND:  # last month's, say
            return FileSummary(path, mtime, problems=(_problem("report.not_a_branch", name, Level.WARNING),),
                               seconds=time.perf_counter() - started, label=name)
        where = {"host": worker_host(), "sent": path} if e.code in NOT_THERE else {}  # see dispatch.as_seen_here
        return failed(Problem(level=Level.ERROR, code=e.code, file=name, params={**e.params, "path": name, **where}))
    except OSError as e:
        return failed(_problem("report.unreadable", name, Level.ERROR, **os_reason(e)))
    except MemoryError:  # the machine's limit, not a bug: said as such, and the batch goes on
        return failed(_problem("report.no_memory_file", name))
    except Exception as e:  # a bug or a file shape nobody foresaw: report it, keep going
        return failed(_problem("report.failed", name, detail=f"{type(e).__name__}: {e}"))
    found = [_problem("report.open_in_excel", name, Level.WARNING, lock=lock.name)
             for lock in lock_candidates(p) if lock.exists()][:1]
    found += [Problem(level=Level.WARNING, code=w.code, file=name, params={"year": w.year})
              for w in sorted(warnings, key=lambda w: w.year)]
    found += [q.model_copy(update={"file": name}) for q in problems]
    if cases and all(c.received_at is None for c in cases):  # left out, with every cell to fix
        return replace(failed(_problem("report.no_usable_rows", name, rows=len(cases))), problems=tuple(found))
    found += _stale(cases, month, name, branch)
    return FileSummary(path, mtime, branch, data.settings.branch_name, tuple(cases), tuple(found),
                       seconds=time.perf_counter() - started, texts=texts,
                       repeat_window_days=data.settings.repeat_window_days,
                       rank_min_complaints=data.settings.rank_min_complaints, label=name, lists=read.lists)


def _stale(cases: Sequence[Case], month: Period, name: str, branch: str) -> list[Problem]:
    """A warning when nothing in the file was received in the month: last month's file sent again,
    say, or a blank template; a branch with a quiet month just confirms it."""
    if any_received_in(cases, month):
        return []
    received = [c.received_at for c in cases if c.received_at is not None]
    if not received:
        return [_problem("report.empty_register", name, Level.WARNING, branch=branch)]
    return [_problem("report.none_in_month", name, Level.WARNING, branch=branch, month=str(month),
                     latest=f"{time_of(max(received)):%Y-%m-%d}")]


def read_all(paths: Sequence[Path], month: Period, *, as_of: datetime, now: datetime, show_contacts: bool = False,
             lang: str = "zh", executor: Executor | None = None, workers: int | None = None,
             on_file: Callable[[FileSummary], None] | None = None,
             labels: Mapping[Path, str] | None = None, staging: str | None = None,
             read_back: bool = True) -> list[FileSummary]:
    """Each file read once, in parallel; results in path order whatever order they finish in.

    Without an ``executor``, a process pool of ``workers`` (default: one per core; ``report.pool``) is started
    and shut down again before this returns. ``labels`` name the files (default: ``file_labels``).
    A file the head office cannot see itself is not sent; one a worker cannot see is said as such
    (``dispatch``). ``staging``: the facts store's folder the workers write their partitions to (see
    ``read_file``); each is read back here as it arrives (``with_cases``), while the workers read the next files,
    unless not ``read_back`` (the report computed from the store: ``report.store_report``).
    """
    labels = labels or file_labels(paths)
    done: dict[Path, FileSummary] = {p: s for p in paths if (s := here(p, labels[p])) is not None}
    for summary in done.values():
        if on_file is not None:
            on_file(summary)
    sent = [p for p in paths if p not in done]
    own = executor is None
    pool: Executor = executor or default_executor(min(len(sent), workers or os.cpu_count() or 1) or 1)
    try:
        futures: dict[Future[FileSummary], Path] = {
            pool.submit(read_file, sent_as(p), month, as_of, now, show_contacts, lang, labels[p], staging): p
            for p in sent}
        for fut in as_completed(futures):
            p = futures[fut]
            try:
                summary = as_seen_here(fut.result(), p)
                summary = with_cases(summary) if read_back else summary
            except PartitionDamaged as e:  # the partition the worker wrote is not there as written
                summary = FileSummary(str(p), 0.0, error=_problem("report.store_unwritable", labels[p], detail=str(e),
                                                                   reason_zh=GONE[0], reason_en=GONE[1]),
                                      label=labels[p])
            except Exception as e:  # the executor itself failed (a worker died, a remote node was lost)
                summary = FileSummary(str(p), 0.0, error=_problem("report.failed", labels[p],
                                                                   detail=f"{type(e).__name__}: {e}"), label=labels[p])
            done[p] = summary
            if on_file is not None:
                on_file(summary)
    finally:
        if own:
            pool.shutdown()
    return [done[p] for p in paths]


def with_cases(f: FileSummary) -> FileSummary:
    """A worker's summary with its cases and texts read back from the partition it wrote: the one place
    facts come back from the store for the metrics engine (which needs ``Case``s). The same summary if it
    has no partition or holds its cases."""
    if f.partition is None or f.cases:
        return f
    cases, texts = read_partition(f.partition)
    return replace(f, cases=tuple(cases), texts=texts)


