"""The merging rules of a consolidation: many branch files' summaries made one set of branches for the report.

Merging rules (each leaves a row on the Issues sheet):
- two files with the same branch code are two versions of one branch: the one saved
  last is used, the other is set aside (a re-sent file replaces the old one) — unless only
  one holds complaints received in the month (an office keeping a register per month);
  on a tie the file read now is used (an ``--update``'s file against the last run's); one
  workbook twice (a region's copy of it, and it given directly or in another region: the same
  path as each read it, saved at the same time) is counted once and said as such, a warning;
- a complaint number found in two branches' files is counted once, keeping the record
  that got further (more stages done; on a tie, the branch that sorts first);
- with ``previous`` state (``--update``), branches not in this run keep the data of the
  previous run; a file read now and the file the previous run used for its branch are two
  versions of one branch, by the first rule (the older is set aside, as a full run over both
  would); a file given again replaces what it held then (``report.run``);
- the files the previous run read and did not count (``LeftOut``: unreadable, or set aside as
  the older copy of a branch) and that this run does not read again keep their rows on the
  Issues sheet, as a full run over the files as they stand would write them: an unreadable one
  its words; a set-aside one is weighed again, by the first rule, against the file the branch
  uses now (by the time it was saved and whether it held the month, as that run saw them). One that
  would now win cannot be counted (its facts were never kept): the report says so and asks for it;
- a complaint repeating one the same customer made at another branch, about the same
  category within the repeat window of its own branch's Settings (30 days unless changed),
  is a repeat complaint (each branch's engine saw only its own register).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from xlcomplaints.core.metrics import Case, Period, stamp
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.report.repeats import mark_repeats_across_branches

register_messages({
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
    "report.duplicate_no": ("投诉编号 {no} 同时出现在 {path}（网点 {branch}）和 {other}（网点 {other_branch}），"
                            "只计一次，采用 {kept} 的记录。",
                            "Complaint number {no} is in both {path} (branch {branch}) and {other} (branch "
                            "{other_branch}); it is counted once, from {kept}."),
    "report.same_workbook": ("{path} 与 {other} 是同一个工作簿（网点 {branch}，区域汇总中有、又另行给出，或两个区域都有），只计一次。",
                             "{path} and {other} are the same workbook (branch {branch}: in a region's consolidation "
                             "and given again, or in two regions); it is counted once."),
    "report.left_out_newer": (
        "{path} 上次汇总时作为网点 {branch} 的旧副本未计入，本次未重新读取；它比现在采用的 {other} 保存得晚，"
        "按规则应采用它，但其数据未保存。请把 {path} 一并给出后再 --update，或不带 --update 重新汇总。",
        "{path} was set aside as an older copy of branch {branch} by the last run and is not read again; it was saved "
        "after {other}, used now, so the rule would use it, but its data was not kept. Give {path} too and --update "
        "again, or consolidate without --update."),
    "report.left_out_alone": (
        "{path} 上次汇总时作为网点 {branch} 的旧副本未计入，本次未重新读取；网点 {branch} 现在没有别的可用文件，"
        "按规则应采用它，但其数据未保存，网点 {branch} 本次未计入。请把 {path} 一并给出后再 --update，或不带 --update 重新汇总。",
        "{path} was set aside as an older copy of branch {branch} by the last run and is not read again; branch "
        "{branch} has no other usable file now, so the rule would use it, but its data was not kept: branch {branch} "
        "is left out. Give {path} too and --update again, or consolidate without --update."),
})


#: The notes of a file set aside as another version of a branch (the first rule): what a store keeps for a head
#: office taking its run as a region's (``report.facts``, ``report.regions``).
SET_ASIDE = frozenset({"report.superseded", "report.superseded_month", "report.same_code", "report.same_workbook"})


def _problem(code: str, name: str, level: Level = Level.ERROR, **params: object) -> Problem:
    return Problem(level=level, code=code, file=name, params={"path": name, **params})


def any_received_in(cases: Iterable[Case], month: Period) -> bool:
    """Whether any of the cases was received in the period."""
    start, end = stamp(month.start), stamp(month.end)
    return any(c.received_at is not None and start <= c.received_at < end for c in cases)


@dataclass(frozen=True)
class LeftOut:
    """A file a consolidation read and did not count: unreadable (``file.error``), or set aside as another copy of
    a branch (``holds``: whether it held complaints received in the period, as the first rule weighed it). The facts
    store keeps them (``report.facts``), for an ``--update`` that does not read them again (see the rules)."""

    file: FileSummary
    holds: bool = False


@dataclass
class Consolidation:
    """The merged inputs of one report: cases counted once, and every issue met on the way."""

    month: Period
    as_of: datetime
    files: list[FileSummary]  # those read, and an update's unreadable ones carried (``left_before``)
    branches: dict[str, FileSummary] = field(default_factory=dict)  # code → the summary used
    cases: list[Case] = field(default_factory=list)
    issues: list[Problem] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)  # branches kept from the previous run
    contacts_shown: bool = False
    #: complaints counted once, when the report was computed from the facts store (``cases`` then stays empty)
    counted: int | None = None
    #: the files read (now, or by the previous run and not read again) and not counted, kept in the facts store
    left_out: list[LeftOut] = field(default_factory=list)

    @property
    def unreadable(self) -> int:
        return sum(1 for f in self.files if not f.usable)

    @property
    def complaints(self) -> int:
        """The complaints read and counted once (a number in two branches' files once)."""
        return len(self.cases) if self.counted is None else self.counted


def merge(files: Sequence[FileSummary], month: Period, as_of: datetime, *,
          previous: Sequence[FileSummary] = (), contacts_shown: bool = False,
          received_in: Callable[[FileSummary, Period], bool] | None = None,
          left_before: Sequence[LeftOut] = ()) -> Consolidation:
    """Apply the merging rules above; pure over the summaries. ``received_in``: whether a file holds complaints
    received in the period (default: its cases say; a summary without them, its partition: ``store_report``).
    ``left_before``: the files the previous run did not count (an ``--update``'s; those read again are passed over)."""
    received = received_in or (lambda f, m: any_received_in(f.cases, m))
    out = Consolidation(month=month, as_of=as_of, files=list(files), contacts_shown=contacts_shown)
    by_branch: dict[str, list[FileSummary]] = {}
    for f in files:
        if f.error is not None:
            out.issues.append(f.error)
            out.issues.extend(f.problems)
            out.left_out.append(LeftOut(f))
        elif f.branch is not None:
            by_branch.setdefault(f.branch, []).append(f)
    read_now = {f.path for f in files}
    ghosts: dict[int, bool] = {}  # the previous run's set-aside copies (id → held the month): weighed, never counted
    for g in left_before:
        if g.file.path in read_now:
            continue
        if g.file.error is not None:  # unreadable then, not read again: its words stand, as a full run would say them
            out.issues.append(g.file.error)
            out.issues.extend(g.file.problems)
            out.left_out.append(g)
            out.files.append(g.file)  # and it is counted among the files left out (``unreadable``)
        elif g.file.branch is not None:
            ghosts[id(g.file)] = g.holds
            by_branch.setdefault(g.file.branch, []).append(g.file)
    set_aside: dict[str, Problem] = {}
    before = {f.branch: f for f in previous if f.branch is not None}
    for code, group in by_branch.items():
        if code in before:  # an update: the file the last run used for the branch competes, as in a full run
            group.append(before[code])
        holds = {f.path: ghosts[id(f)] if id(f) in ghosts else received(f, month) for f in group} \
            if len(group) > 1 else {group[0].path: True}
        # on a tie the file read now wins: the last run's may be the same file, named from another folder
        group.sort(key=lambda f: (holds[f.path], f.mtime, f is not before.get(code) and id(f) not in ghosts, f.path))
        at = max((i for i, f in enumerate(group) if id(f) not in ghosts), default=None)
        for f in group[(-1 if at is None else at) + 1:]:  # a copy set aside then that would win now
            set_aside[f.path] = _problem("report.left_out_newer", f.name, Level.WARNING, branch=code,
                                         other=group[at].name) if at is not None else \
                _problem("report.left_out_alone", f.name, Level.WARNING, branch=code)
            out.left_out.append(LeftOut(f, holds[f.path]))
        if at is None:
            continue
        kept = group[at]
        out.branches[code] = kept
        if kept is before.get(code):
            out.carried.append(code)
        for f in group[:at]:
            out.left_out.append(LeftOut(f, holds[f.path]))
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
    out.issues += [set_aside[g.file.path] for g in left_before if id(g.file) in ghosts and g.file.path in set_aside]
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
