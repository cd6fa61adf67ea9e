"""Read many branch workbooks in parallel and merge them into one set of cases for the report.

Each file is read once, in a worker (any ``concurrent.futures.Executor``; by default a
process pool sized to the cores). A worker never raises: it returns a small picklable
``FileSummary`` — the branch's ``Case`` facts and every problem met, or the reason the
file could not be used — so one bad file never stops the batch.

Merging rules (each leaves a row on the Issues sheet):
- two files with the same branch code are two versions of one branch: the one saved
  last is used, the other is set aside (a re-sent file replaces the old one) — unless only
  one holds complaints received in the month (an office keeping a register per month); one
  workbook twice (a region's copy of it, and it given directly or in another region: the same
  path as each read it, saved at the same time) is counted once and said as such, a warning;
- a complaint number found in two branches' files is counted once, keeping the record
  that got further (more stages done; on a tie, the branch that sorts first);
- with ``previous`` state (``--update``), branches not in this run keep the data of the
  previous run; a file read now and the file the previous run used for its branch are two
  versions of one branch, by the first rule (the older is set aside, as a full run over both
  would; on a tie the file read now is used); a file given again replaces what it held then (``report.run``), and a
  file the previous run could not use, not given again, is said again (``report.run`` adds it to the files);
- a complaint repeating one the same customer made at another branch, about the same
  category within the repeat window of its own branch's Settings (30 days unless changed),
  is a repeat complaint (each branch's engine saw only its own register).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field, replace
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
from xlcomplaints.report.pool import default_executor
from xlcomplaints.report.repeats import mark_repeats_across_branches
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND
from xlcomplaints.store.partition import PartitionDamaged, read_partition, write_partition
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch
from xlcomplaints.workbook.safety import lock_candidates

MESSAGES = {
    "report.unreadable": ("{path} 无法读取（{detail}）。", "{path} cannot be read ({detail})."),
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
    "report.superseded": ("{path} 与 {other} 都是网点 {branch} 的工作簿，采用最后保存的 {other}，本文件未计入。"
                          "如二者属于不同网点，请改正其中一份“设置”中的网点代码后重新汇总。",
                          "{path} and {other} are both branch {branch}; the one saved last, {other}, is used and this "
                          "file is left out. If they are different branches, correct one's branch code in Settings "
                          "and run again."),
    "report.same_code": ("{path}（{this_name}）与 {other}（{other_name}）的网点代码都是 {branch}，但网点名称不同，"
                         "应是两个网点：本次只计入最后保存的 {other}。请改正其中一份“设置”中的网点代码后重新汇总。",
                         "{path} ({this_name}) and {other} ({other_name}) both have branch code {branch} but different "
                         "branch names, so they are likely two branches: only {other}, saved last, is counted. "
                         "Correct one's branch code in Settings and run again."),
    "report.superseded_month": ("{path} 与 {other} 都是网点 {branch} 的工作簿，{path} 中没有 {month} 受理的投诉，"
                                "采用 {other}，本文件未计入。",
                                "{path} and {other} are both branch {branch}; {path} has no complaint received in "
                                "{month}, so {other} is used and this file is left out."),
    "report.same_workbook": ("{path} 与 {other} 是同一个工作簿（网点 {branch}，区域汇总中有、又另行给出，或两个区域都有），只计一次。",
                             "{path} and {other} are the same workbook (branch {branch}: in a region's consolidation "
                             "and given again, or in two regions); it is counted once."),
    "report.duplicate_no": ("投诉编号 {no} 同时出现在 {path}（网点 {branch}）和 {other}（网点 {other_branch}），"
                            "只计一次，采用 {kept} 的记录。",
                            "Complaint number {no} is in both {path} (branch {branch}) and {other} (branch "
                            "{other_branch}); it is counted once, from {kept}."),
}
register_messages(MESSAGES)
register_messages({
    "report.store_unwritable": ("{path} 的数据无法写入汇总数据目录（{detail}），未计入。",
                                "{path}'s facts could not be written to the facts store ({detail}); it is left out."),
    "report.no_memory_file": ("{path} 读取时内存不足，未计入；请关闭其他程序或减少 --workers 后再试。",
                              "{path} ran out of memory while read and is left out; close other programs or give "
                              "fewer --workers and try again."),
})


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


def _problem(code: str, name: str, level: Level = Level.ERROR, **params: object) -> Problem:
    return Problem(level=level, code=code, file=name, params={"path": name, **params})


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
                "report.store_unwritable", summary.name, detail=e.strerror or type(e).__name__),
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
        return failed(_problem("report.unreadable", name, detail=e.strerror or type(e).__name__))
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


def _received_in(cases: Iterable[Case], month: Period) -> bool:
    """Whether any of the cases was received in the period."""
    start, end = stamp(month.start), stamp(month.end)
    return any(c.received_at is not None and start <= c.received_at < end for c in cases)


def _stale(cases: Sequence[Case], month: Period, name: str, branch: str) -> list[Problem]:
    """A warning when nothing in the file was received in the month: last month's file sent again,
    say, or a blank template; a branch with a quiet month just confirms it."""
    if _received_in(cases, month):
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
                summary = FileSummary(str(p), 0.0, error=_problem("report.store_unwritable", labels[p], detail=str(e)),
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


@dataclass
class Consolidation:
    """The merged inputs of one report: cases counted once, and every issue met on the way."""

    month: Period
    as_of: datetime
    files: list[FileSummary]
    branches: dict[str, FileSummary] = field(default_factory=dict)  # code → the summary used
    cases: list[Case] = field(default_factory=list)
    issues: list[Problem] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)  # branches kept from the previous run
    contacts_shown: bool = False
    #: complaints counted once, when the report was computed from the facts store (``cases`` then stays empty)
    counted: int | None = None

    @property
    def unreadable(self) -> int:
        return sum(1 for f in self.files if not f.usable)

    @property
    def complaints(self) -> int:
        """The complaints read and counted once (a number in two branches' files once)."""
        return len(self.cases) if self.counted is None else self.counted


def merge(files: Sequence[FileSummary], month: Period, as_of: datetime, *,
          previous: Sequence[FileSummary] = (), contacts_shown: bool = False,
          received_in: Callable[[FileSummary, Period], bool] | None = None) -> Consolidation:
    """Apply the merging rules above; pure over the summaries. ``received_in``: whether a file holds complaints
    received in the period (default: its cases say; a summary without them, its partition: ``store_report``)."""
    received = received_in or (lambda f, m: _received_in(f.cases, m))
    out = Consolidation(month=month, as_of=as_of, files=list(files), contacts_shown=contacts_shown)
    by_branch: dict[str, list[FileSummary]] = {}
    for f in files:
        if f.error is not None:
            out.issues.append(f.error)
            out.issues.extend(f.problems)
        elif f.branch is not None:
            by_branch.setdefault(f.branch, []).append(f)
    set_aside: dict[str, Problem] = {}
    before = {f.branch: f for f in previous if f.branch is not None}
    for code, group in by_branch.items():
        if code in before:  # an update: the file the last run used for the branch competes, as in a full run
            group.append(before[code])
        holds = {f.path: received(f, month) for f in group} if len(group) > 1 else {group[0].path: True}
        # on a tie the file read now wins: the last run's may be the same file, named from another folder
        group.sort(key=lambda f: (holds[f.path], f.mtime, f is not before.get(code), f.path))
        kept = group[-1]
        out.branches[code] = kept
        if kept is before.get(code):
            out.carried.append(code)
        for f in group[:-1]:
            if f.mtime == kept.mtime and f.workbook == kept.workbook:  # a region's copy of a workbook given again
                set_aside[f.path] = _problem("report.same_workbook", f.name, Level.WARNING, other=kept.name, branch=code)
            elif holds[kept.path] and not holds[f.path]:
                set_aside[f.path] = _problem("report.superseded_month", f.name, other=kept.name, branch=code,
                                             month=str(month))
            elif f.branch_name and kept.branch_name and f.branch_name != kept.branch_name:  # two branches, one code
                set_aside[f.path] = _problem("report.same_code", f.name, other=kept.name, branch=code,
                                             this_name=f.branch_name, other_name=kept.branch_name)
            else:
                set_aside[f.path] = _problem("report.superseded", f.name, other=kept.name, branch=code)
    for f in previous:
        if f.branch is not None and f.branch not in out.branches:
            out.branches[f.branch] = f
            out.carried.append(f.branch)
    for f in files:  # problems in file order; a set-aside file shows only why it was set aside
        if f.path in set_aside:
            out.issues.append(set_aside[f.path])
        elif f.usable:
            out.issues.extend(f.problems)
    out.issues += [set_aside[f.path] for f in previous if f.path in set_aside]  # the last run's file, older
    for code in sorted(out.carried):
        out.issues.extend(out.branches[code].problems)
    out.cases = _count_once(out.branches, out.issues)
    mark_repeats_across_branches(out.cases, {code: f.repeat_window_days for code, f in out.branches.items()})
    return out


def _count_once(branches: dict[str, FileSummary], issues: list[Problem]) -> list[Case]:
    """Cases of all branches; a number seen in another branch's file is kept once (see module doc)."""
    kept: dict[str, tuple[Case, FileSummary]] = {}
    cases: list[Case] = []
    position: dict[str, int] = {}
    for code in sorted(branches):
        f = branches[code]
        for c in f.cases:
            if c.no is None or c.no not in kept:
                if c.no is not None:
                    kept[c.no] = (c, f)
                    position[c.no] = len(cases)
                cases.append(c)
                continue
            first, first_file = kept[c.no]
            if first_file is f:  # twice in one file: the validator already reported it
                cases.append(c)
                continue
            winner, winner_file = (c, f) if c.done_count() > first.done_count() else (first, first_file)
            issues.append(_problem("report.duplicate_no", f.name, Level.WARNING, no=c.no, branch=f.branch,
                                   other=first_file.name, other_branch=first_file.branch, kept=winner_file.name))
            if winner is c:
                kept[c.no] = (c, f)
                cases[position[c.no]] = c
    return cases
