"""The report's tables over a period: breakdowns, stages, the overdue list, the trend and the top values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import compress
from operator import attrgetter
from typing import Literal, NamedTuple

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.metrics.facts import CLOSE, DECIDED, MET, MISSED, WIDTH, Case
from xlcomplaints.core.metrics.index import (
    CaseIndex,
    Deadline,
    _sum_by,
    durations,
    median,
    p90,
    rate,
)
from xlcomplaints.core.metrics.months import stamp
from xlcomplaints.core.metrics.periods import Period
from xlcomplaints.core.metrics.registry import METRICS, _received
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.status import StageStatus
from xlcomplaints.spec.vocab import severity_rank


class GroupRow(NamedTuple):
    """One value of a breakdown dimension (``key`` None = left blank in the register)."""

    key: str | None
    count: int  # type: ignore[assignment]  # the field, as callers read it; shadows tuple.count
    previous: int
    on_time_rate: float | None
    late: int


def breakdown(ix: CaseIndex, m: Period, dimension: str | Callable[[Case], str | None], order: Sequence[str] = (),
              previous: Mapping[str | None, int] | None = None) -> list[GroupRow]:
    """Received (this and the previous period), on-time rate and missed-deadline complaints per value.

    The count columns are ``received`` per value; the on-time and late columns are the
    ``on_time_rate`` and ``late_complaints`` metrics restricted to the value's complaints.
    Values in ``order`` come first, in that order, even when zero; the rest by count.
    ``previous`` gives the previous period's counts instead of the cases (from that period's report).
    ``dimension``: a ``Case`` field, or how to read a complaint's value (an office's own column).
    """
    key = attrgetter(dimension) if isinstance(dimension, str) else dimension
    now = Counter(map(key, _received(ix, m)))
    before = Counter(previous) if previous is not None else Counter(map(key, _received(ix, m.shift(-1))))
    due = ix.due(m)  # per complaint, not per deadline: a value's rate is its complaints' sums
    values = list(map(key, due.cases))
    met, missed = _sum_by(values, due.met), _sum_by(values, due.missed)
    late = Counter(compress(values, due.missed))
    keys: list[str | None] = list(order)
    rest = {k for k in (*now, *before, *values) if k not in keys}
    keys += sorted(rest, key=lambda k: (k is None, -now[k], -before[k], str(k)))
    return [GroupRow(k, now[k], before[k], rate(met[k], met[k] + missed[k]), late[k]) for k in keys]


def group_rows(now: Mapping[str | None, int], before: Mapping[str | None, int],
               rates: Mapping[str | None, float | None], late: Mapping[str | None, int], order: Sequence[str] = (),
               previous: Mapping[str | None, int] | None = None) -> list[GroupRow]:
    """``store.figures.Facts.breakdown``'s rows from its figures by value (missing from one: 0, None for a rate):
    ``order`` first, then the other values received, received the period before or with a deadline due, most
    first; ``previous``: the previous period's counts instead of ``before``. Also what ``report.kept_figures``
    gives from a period's breakdowns kept in its store."""
    if previous is not None:
        before = dict(previous)
    due = {k for k, v in rates.items() if v is not None}
    present = {k for k in now if now[k]} | {k for k in before if before[k] or previous is not None} | due
    keys: list[str | None] = list(order)
    rest = {k for k in present if k not in keys}
    keys += sorted(rest, key=lambda k: (k is None, -now.get(k, 0), -before.get(k, 0), str(k)))
    return [GroupRow(k, now.get(k, 0), before.get(k, 0), rates.get(k), late.get(k, 0)) for k in keys]


class StageRow(NamedTuple):
    stage: str
    due: int
    on_time: int
    on_time_rate: float | None
    median: float | None
    p90: float | None
    unit: Unit | None


def stage_table(ix: CaseIndex, m: Period) -> list[StageRow]:
    """Per stage: deadlines due in the period, met, rate; durations of stages done in the period.

    A stage whose rules use several units gets one extra row per further unit (timings only).
    """
    rows = []
    for stage in STAGES:
        met, missed = ix.stage_tally(m, stage)
        n = met + missed
        units: Sequence[Unit | None] = ix.units.get(stage, []) or [None]
        for i, unit in enumerate(units):
            took = durations(ix, m, stage, unit) if unit else []
            first = i == 0
            rows.append(StageRow(stage, n if first else 0, met if first else 0,
                                 rate(met, n) if first else None, median(took), p90(took), unit))
    return rows + custom_stage_rows(ix, m)


def custom_stage_rows(ix: CaseIndex, m: Period) -> list[StageRow]:
    """The office's own stages after the built-in ones, one row each in the order they first appear:
    deadlines due in the period decided (met, or missed as the built-in stages count them) and the rate;
    no times taken (a custom stage may count from another stage); the unit most of its rules use."""
    rows = []
    lo, hi = stamp(m.start), stamp(m.end)
    for name in ix.custom_labels:
        facts = [d.fact for d in ix.custom if d.stage == name]
        due = [f for f in facts if f.due is not None and lo <= f.due < hi and f.status in DECIDED]
        met = sum(1 for f in due if f.status in MET)
        units = Counter(f.unit for f in facts if f.unit)
        rows.append(StageRow(name, len(due), met, rate(met, len(due)), None, None,
                             units.most_common(1)[0][0] if units else None))
    return rows


def overdue_detail(ix: CaseIndex, m: Period) -> list[Deadline]:
    """The overdue list (超时上报表): deadlines due in the period and missed, plus earlier ones still not
    done at the as-of time; by severity (major, important, general, blank last), then the earliest due."""
    rows = list(ix.missed(m))
    start = stamp(m.start)
    rows += [d for d in ix.open_overdue if d.fact.due is not None and d.fact.due < start]
    rows += [d for d in ix.custom if d.fact.due is not None and (  # the office's own stages, alike
        (start <= d.fact.due < stamp(m.end) and d.fact.status in MISSED) or (d.fact.status is StageStatus.OVERDUE
                                                                           and d.fact.due < start))]
    rows.sort(key=lambda d: (severity_rank(d.case.severity), d.fact.due, d.case.branch, d.case.no or ""))
    return rows


OVERDUE_DEFINITION = (
    "每行一个未按时完成的环节：时限在本期到期而逾期完成、到统计时点仍未完成或结案时已过时限而未完成的，以及更早到期、到统计时点仍未完成的。"
    "超时＝完成时间（未完成的用统计时点，结案时未完成的用结案时间）晚于时限多少，单位同该环节的时限规则。"
    "按严重程度排列：重大、重要、一般，未填（或无法识别）的最后；同一严重程度内时限早的在前。"
    "行数超过一张 Excel 工作表所能容纳的（连表头共 1,048,576 行）时，按此顺序列出前面的行，末行注明未列出多少行（封面和“问题清单”亦注明）。",
    "One row per missed stage deadline: due in the period and done late, not done by the as-of time, or not done "
    "and already due when the case was closed, plus earlier ones still not done at the as-of time. 'Late by' is how "
    "far the completion (or the as-of time if not done; the close if closed without it) is past the due time, in "
    "the unit of the stage's rule. Ordered by severity — major, important, general, then blank (or not recognised) "
    "last — and within a severity the earliest due first. A list longer than an Excel sheet holds (1,048,576 rows "
    "with the header) shows its first rows in this order, and its last row says how many are left out (so do the "
    "cover and Issues).",
)


def closed_late(ix: CaseIndex, m: Period) -> list[Case]:
    """The insurer's 会办单超时上报表: complaints closed in the period after their close deadline (the close
    rule's limit, as the deadline engine applied it), by the time closed."""
    rows = [c for c in ix.closed(m) if c.stages[CLOSE * WIDTH] is StageStatus.DONE_LATE]
    rows.sort(key=lambda c: (c.closed_at, c.branch, c.no or ""))
    return rows


CLOSED_LATE_DEFINITION = (
    "本期结案（结案时间在本期）的需处理投诉中，没有在结案时限内结案的，每宗一行，不论何时受理（保险业会办单超时上报表）："
    "结案时限按“设置”中结案环节的时限规则（如保险业预设的受理后 9 个自然日）计算，与“结案”环节的时限相同"
    "（重新处理后从重新处理起算，暂停推后）；超时＝结案时间晚于时限多少，用时＝从受理到结案，单位同该规则。按结案时间先后排列。",
    "Complaints to handle closed in the period (their closing time falls in it) that were not closed within the "
    "close limit, one row each, whenever received (the insurer's overdue-case report): the limit is the close "
    "stage's SLA rule on the Settings sheet (9 calendar days from receipt in the insurer preset), the close "
    "stage's own due time (restarted by a reopening, moved by pauses); 'late by' is how far the close is past it "
    "and 'time taken' runs from receipt to the close, in the rule's unit. By time closed.",
)


class TrendRow(NamedTuple):
    month: Period  # the period of the row (named ``month`` as the Trend sheet's first column was)
    received: int | None
    closed: int | None
    on_time_rate: float | None
    satisfaction_rate: float | None


TREND_METRICS = ("received", "closed", "on_time_rate", "satisfaction_rate")
TREND_PERIODS = 12


def trend(ix: CaseIndex, m: Period, periods: int = TREND_PERIODS) -> list[TrendRow]:
    """The ``periods`` periods of ``m``'s kind up to ``m``, from the first one in which the data has a
    complaint received (``m`` itself always): 12 months, 12 weeks, 12 quarters, up to 12 years."""
    first = ix.first_received()
    shown = [m.shift(-i) for i in range(periods - 1, 0, -1)]
    shown = [] if first is None else [k for k in shown if stamp(k.end) > first]
    out = []
    for k in [*shown, m]:
        values = [METRICS[key](ix, k) for key in TREND_METRICS]
        out.append(TrendRow(k, *values))  # type: ignore[arg-type]
    return out


def top(rows: Sequence[GroupRow], by: Literal["count", "late"], n: int = 5) -> list[GroupRow]:
    """The ``n`` values with the most complaints (or missed-deadline complaints), zeros left out; equal
    ones in the order of ``rows`` (the breakdown sheet's), as the cover's panel definition says."""
    picked = [r for r in rows if getattr(r, by) > 0]
    picked.sort(key=lambda r: -getattr(r, by))  # stable: ties keep the sheet's order
    return picked[:n]
