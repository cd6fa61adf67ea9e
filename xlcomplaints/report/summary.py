"""Everything the report shows (a month's, a week's, any period's), computed once from the merged cases, in no language.

The writer only lays these numbers out and labels them; tests compare what they read
back from the workbook with these numbers and with hand-computed ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from xlcomplaints.core import metrics as M
from xlcomplaints.core.metrics import (
    CaseIndex,
    Deadline,
    GroupRow,
    Period,
    PersonRow,
    StageRow,
    TrendRow,
    stamp,
    time_of,
)
from xlcomplaints.core.problems import Problem
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.report import office_dimension
from xlcomplaints.spec.vocab import Vocabulary

#: The cover's headline metrics, in the order a supervisor reads them.
COVER_KEYS: tuple[str, ...] = (
    "received", "validity_valid", "validity_assist", "validity_invalid", "handled", "major", "escalations",
    "closed", "closure_rate", "open_end", "backlog_in", "on_time_rate", "late_complaints", "overdue_now",
    "acknowledge_median", "acknowledge_p90", "first_contact_median", "first_contact_p90",
    "resolve_median", "resolve_p90", "close_median", "close_p90",
    "callback_rate", "callback_on_time_rate", "satisfaction_rate", "average_score", "reopen_rate", "repeat_rate",
)

#: Breakdown dimensions: the Case field, its vocabulary (None = free text), shown in this order.
DIMENSIONS: tuple[tuple[str, Vocabulary | None], ...] = (
    ("case_type", v.CASE_TYPE), ("category", v.CATEGORY), ("channel", v.CHANNEL), ("severity", v.SEVERITY),
    ("validity", v.VALIDITY), ("department", None), ("branch", None),
)


@dataclass(frozen=True)
class CoverRow:
    key: str
    value: float | None
    previous: float | None
    unit: str | None = None  # duration metrics: the unit both values are in


#: A typical case's words, in ``consolidate.CASE_TEXTS`` order (content, result, root cause, corrective action).
Texts = tuple[str | None, ...]


@dataclass(frozen=True)
class TypicalRow:
    """A typical case (典型案例) as the report shows it: the facts, why it is typical, and its words."""

    case: M.Case
    reasons: tuple[str, ...]
    texts: Texts


class Cover(NamedTuple):
    """An earlier report's own month as read back by ``report.history``: its file, the cover's
    "this month" figures by metric key, the unit each duration was measured in, the breakdown
    sheets' counts (dimension → value code → complaints received) and the ages of the backlog
    carried into the month (``metrics.AGE_BUCKETS``; None if not read), and the branch codes it
    names (``spec.report.BRANCHES_NAME``; empty in reports that do not)."""

    file: str
    figures: dict[str, float | None]
    units: dict[str, str]
    breakdowns: Mapping[str, Mapping[str | None, int]] = {}
    backlog_ages: list[int] | None = None
    branches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Branch:
    code: str
    name: str
    file: str


@dataclass
class MonthlyReport:
    month: Period  # the report's period, of any kind (named ``month`` as it was the only kind)
    as_of: datetime
    branches: list[Branch]
    cover: list[CoverRow]
    breakdowns: dict[str, list[GroupRow]]
    backlog_ages: tuple[list[int], list[int]]  # this month, last month
    stages: list[StageRow]
    overdue: list[Deadline]
    trend: list[TrendRow]
    closed_late: list[M.Case] = field(default_factory=list)  # 超时结案: closed in the period after the close limit
    issues: list[Problem] = field(default_factory=list)
    typical: list[TypicalRow] = field(default_factory=list)
    previous_from: str | None = None  # the earlier report the cover's last-month figures come from, if any
    contacts_shown: bool = False
    files_read: int = 0
    files_failed: int = 0
    #: Rows whose received time is blank or cannot be read: in no month's figures; the cover says how many.
    unreadable_received: int = 0
    #: The breakdowns and the list each shows its values in (``report.imposed.dimensions``: the office's).
    dimensions: tuple[tuple[str, Vocabulary | None], ...] = DIMENSIONS
    #: When the previous period holds only part of its data (see ``partial_from``): the first time received
    #: that says so; the cover marks the comparison instead of showing a change. None: a whole previous period.
    previous_partial: datetime | None = None
    #: The By-handler sheet (``metrics.people``), its ranking (most on time, least) and the least to be ranked.
    handlers: list[PersonRow] = field(default_factory=list)
    ranking: tuple[list[PersonRow], list[PersonRow]] = field(default_factory=lambda: ([], []))
    rank_min: int = 5
    #: The department breakdown's extra columns, by department (the breakdown's keys).
    departments: dict[str | None, PersonRow] = field(default_factory=dict)
    #: The office's own columns broken down by (Settings' report dimensions), each in ``breakdowns`` under
    #: ``spec.report.office_dimension(name)``, in the order the branches name them.
    office_dimensions: list[str] = field(default_factory=list)
    #: The office's own stages (rows of ``stages`` after the built-in ones): name → English label.
    custom_stages: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> float | None:
        for row in self.cover:
            if row.key == key:
                return row.value
        raise KeyError(key)

    def top(self, dimension: str, by: str, n: int = 5) -> list[GroupRow]:
        return M.top(self.breakdowns[dimension], by, n)  # type: ignore[arg-type]


def merge_history(trend: list[TrendRow], history: Mapping[Period, TrendRow]) -> list[TrendRow]:
    """Periods the inputs have no complaints for are taken from earlier reports' trend rows of the same kind."""
    if trend:
        history = {k: r for k, r in history.items() if k.kind is trend[-1].month.kind}
    if not history:
        return trend
    data = {r.month: r for r in trend}
    last = trend[-1].month if trend else max(history)
    out: list[TrendRow] = []
    k = last.shift(1 - M.TREND_PERIODS)
    while k <= last:
        if k in data and data[k].received:
            out.append(data[k])
        elif k in history:
            out.append(history[k])
        elif k in data and out:  # inside the known range, nothing received that month
            out.append(data[k])
        k = k.shift(1)
    return out


def branch_codes(counts: Mapping[str | None, int], codes: Sequence[str]) -> dict[str | None, int]:
    """Counts by an earlier report's branch labels ("BJ01 北京一店", or the code alone) → by branch code:
    the longest of this report's codes a label starts with (codes may hold spaces), else the label's
    first word (a branch missing from this report)."""
    out: dict[str | None, int] = {}
    longest_first = sorted(codes, key=len, reverse=True)
    for shown, n in counts.items():
        code = shown
        if shown is not None:
            code = next((c for c in longest_first if shown == c or shown.startswith(c + " ")), shown.split(" ", 1)[0])
        out[code] = out.get(code, 0) + n
    return out


def cover_row(key: str, value: float | None, previous: float | None, unit: str | None,
              earlier: Cover | None) -> CoverRow:
    """A cover figure with its previous period's: computed from the inputs (``previous``), or, when they hold
    none of that period, the earlier report's (``earlier``), left out if it was measured in another unit."""
    if earlier is not None:
        previous, before = earlier.figures.get(key), earlier.units.get(key)
        if unit is None:
            unit = before
        elif before is not None and before != unit:
            previous = None
    return CoverRow(key, value, previous, unit)


#: One breakdown sheet's rows: (dimension, its values' order, the previous period's counts by value) → rows.
BreakdownOf = Callable[[str, Sequence[str], Mapping[str | None, int] | None], list[GroupRow]]


def previous_counts(earlier: Cover | None, dim: str) -> Mapping[str | None, int] | None:
    """A breakdown's previous-period counts as the earlier report gives them (None: computed from the inputs)."""
    return earlier.breakdowns.get(dim) if earlier is not None else None


def breakdown_rows(dimensions: tuple[tuple[str, Vocabulary | None], ...], earlier: Cover | None,
                   branches: Sequence[Branch], rows_of: BreakdownOf) -> dict[str, list[GroupRow]]:
    """The breakdown sheets of ``dimensions`` in the report's order, each sheet's rows from ``rows_of`` (the
    Python engine's or the facts store's): the earlier report's counts put on this report's keys, every
    branch read a row of its own, the By-branch rows worst on-time rate first."""
    breakdowns: dict[str, list[GroupRow]] = {}
    for dim, vocab in dimensions:
        counts = previous_counts(earlier, dim)
        if dim == "branch" and counts is not None:
            counts = branch_codes(counts, [b.code for b in branches])
        elif counts is not None and vocab is not None:  # an office's entry read back by its name: its code
            by_name: dict[str | None, str | None] = {c.label(lang): c.code for c in vocab for lang in ("zh", "en")}
            mapped: dict[str | None, int] = {}
            for k, n in counts.items():
                code = k if k in vocab.codes else by_name.get(k, k)
                mapped[code] = mapped.get(code, 0) + n
            counts = mapped
        # every branch read has its row, a quiet period's a row of zeros (零报)
        order = vocab.codes if vocab else sorted(b.code for b in branches) if dim == "branch" else ()
        rows = rows_of(dim, order, counts)
        if dim == "branch":  # worst on-time rate first: where head office looks
            rows.sort(key=lambda r: (r.on_time_rate is None, r.on_time_rate or 0.0, r.key or ""))
        breakdowns[dim] = rows
    return breakdowns


def partial_from(cases: Sequence[M.Case], previous: Period) -> datetime | None:
    """Whether the previous period holds only part of its data, and since when: the first received time of
    each branch's complaints (each branch's register, in a consolidation); when the latest of those falls
    after the previous period's start, the data begins inside (or after) it — a register started mid-period —
    and that time is returned. None when every branch's data reaches back to the previous period's start."""
    first: dict[str, M.Stamp] = {}
    for c in cases:
        t = c.received_at
        if t is not None and (c.branch not in first or t < first[c.branch]):
            first[c.branch] = t
    if not first:
        return None
    latest = max(first.values())
    return time_of(latest) if latest > stamp(previous.start) else None


def build(cases: Sequence[M.Case], month: Period, as_of: datetime, *, branches: Sequence[Branch] = (),
          issues: Sequence[Problem] = (), history: Mapping[Period, TrendRow] | None = None,
          contacts_shown: bool = False, texts: Mapping[tuple[str, str], Texts] | None = None,
          previous_cover: Cover | None = None,
          dimensions: tuple[tuple[str, Vocabulary | None], ...] = DIMENSIONS, rank_min: int = 5) -> MonthlyReport:
    """The report's figures; ``texts`` are the typical cases' words by (branch, complaint number).

    ``previous_cover`` (the previous period's report, read back) gives every previous-period column —
    the cover's, the breakdown sheets' and the backlog's ages — when the inputs hold no complaint
    received in that period; a duration measured there in another unit than this period's is not
    compared. Otherwise a previous period holding only part of its data (``partial_from``) is marked.
    """
    ix = CaseIndex(cases)
    prev = month.shift(-1)
    partial = partial_from(cases, prev)
    earlier = previous_cover if previous_cover is not None and not ix.received(prev) else None
    cover = []
    for key in COVER_KEYS:
        m = M.METRICS[key]
        unit: str | None = (ix.units.get(m.stage) or (None,))[0] if m.kind == "duration" and m.stage else None
        cover.append(cover_row(key, m(ix, month), m(ix, prev) if earlier is None else None, unit, earlier))
    breakdowns = breakdown_rows(dimensions, earlier, branches,
                                lambda dim, order, counts: M.breakdown(ix, month, dim, order, previous=counts))
    handlers = M.people(ix, month, M.BY_HANDLER)
    departments = M.people(ix, month, M.BY_DEPARTMENT, [g.key for g in breakdowns["department"]])
    # a department with only closes or callbacks in the month: a row of its own, its counts zero
    breakdowns["department"] += [GroupRow(r.key, 0, 0, None, 0) for r in departments[len(breakdowns["department"]):]]
    office = list(dict.fromkeys(str(c.office[i]) for c in cases if c.office for i in range(0, len(c.office), 2)))
    for name in office:
        breakdowns[office_dimension(name)] = M.breakdown(ix, month, _office_column(name),
                                                         previous=previous_counts(earlier, office_dimension(name)))
    return MonthlyReport(
        office_dimensions=office, custom_stages=dict(ix.custom_labels),
        month=month, as_of=as_of, branches=sorted(branches, key=lambda b: b.code), cover=cover,
        breakdowns=breakdowns, backlog_ages=(M.backlog_ages(ix, month), (
            earlier.backlog_ages if earlier is not None and earlier.backlog_ages is not None
            else M.backlog_ages(ix, prev))),
        stages=M.stage_table(ix, month), overdue=M.overdue_detail(ix, month), closed_late=M.closed_late(ix, month),
        trend=merge_history(M.trend(ix, month), history or {}), issues=list(issues),
        contacts_shown=contacts_shown,
        typical=[TypicalRow(t.case, t.reasons, (texts or {}).get((t.case.branch, t.case.no or ""), ()))
                 for t in M.typical_cases(ix, month)],
        previous_from=earlier.file if earlier else None,
        previous_partial=partial if earlier is None else None,
        unreadable_received=sum(1 for c in cases if c.received_at is None), dimensions=dimensions,
        handlers=handlers, ranking=M.ranking(handlers, rank_min), rank_min=rank_min,
        departments={r.key: r for r in departments},
    )


def _office_column(name: str) -> Callable[[M.Case], str | None]:
    """How a complaint's value of the office's own column ``name`` (a report dimension) is read."""
    def value(c: M.Case) -> str | None:
        return c.office_value(name)
    return value
