"""Figures per person (按处理人) and per department (考核): one function per figure, each with its words.

Who a figure is counted for is a ``Grouping``: for handlers, a stage deadline goes to the stage's
handler of record and a complaint to its own (its 调查处理 stage's, ``Case.handler_of_record``); for
departments both go to the Register's 责任部门. The words of each figure (``PEOPLE_FIGURES``) are on
the Definitions sheet, with the handler-of-record rule (``HANDLER_OF_RECORD``) and the ranking's
(``RANKING_DEFINITION``); the independent auditor (``tests/audit/people.py``) reads them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from xlcomplaints.core.metrics.facts import STAGE_INDEX, Case
from xlcomplaints.core.metrics.index import CaseIndex, median, rate
from xlcomplaints.core.metrics.months import stamp
from xlcomplaints.core.metrics.periods import Period
from xlcomplaints.core.policy import STAGES
from xlcomplaints.spec import vocab as v

Key = str | None  # a name or department as typed; None = left blank


@dataclass(frozen=True)
class Grouping:
    """Whom a complaint counts for (``case``) and whom one of its stage deadlines counts for (``stage``)."""

    case: Callable[[Case], Key]
    stage: Callable[[Case, str], Key]


BY_HANDLER = Grouping(lambda c: c.handler_of_record, lambda c, stage: c.handler_of(stage))
BY_DEPARTMENT = Grouping(lambda c: c.department, lambda c, stage: c.department)

Figure = Callable[[CaseIndex, Period, Grouping], dict[Key, Any]]


@dataclass(frozen=True)
class PersonFigure:
    """One column of the By-handler sheet (and of the department breakdown): its key (the column's in
    ``spec.report.BY_HANDLER``, which holds its name), its words and its month rule."""

    key: str
    what_zh: str
    what_en: str
    month_zh: str
    month_en: str
    fn: Figure


PEOPLE_FIGURES: dict[str, PersonFigure] = {}


def figure(key: str, what: tuple[str, str], month: tuple[str, str]) -> Callable[[Figure], Figure]:
    def register(fn: Figure) -> Figure:
        PEOPLE_FIGURES[key] = PersonFigure(key, what[0], what[1], month[0], month[1], fn)
        return fn
    return register


HANDLER_OF_RECORD = (
    "处理人按登记表和处理跟踪中填写的原样（去掉首尾空格）统计。每个环节的“经办处理人”：以该环节完成的时间为准（未完成的，"
    "已结案的以结案时间、未结案的以统计时点为准），取该投诉在处理跟踪中此时间及以前最后一条填写了“经办人”的记录的经办人"
    "（同一时间的按表中先后，后者为准）；没有这样的记录时取登记表的“处理人”（登记表只保留当前处理人）。"
    "一宗投诉的处理人是其“调查处理”环节的经办处理人。环节的时限算给该环节的经办处理人，整宗投诉的件数、用时、满意度、"
    "重开和重复算给投诉的处理人。经办处理人和处理人都为空的计入“（未填）”。",
    "Handlers are counted by their names as typed on the Register and the Tracking sheet (spaces at either end "
    "left out). Each stage's handler of record: at the time the stage was done (not done: the close if the case "
    "was closed, else the as-of time), the Handler of the complaint's last Tracking row naming one at or before "
    "that time (rows of one time in sheet order, the later one counting); with no such row, the Register's "
    "Handler (the Register keeps only the current one). A complaint's handler is its 'Investigate & resolve' "
    "stage's handler of record. A stage deadline counts for its stage's handler of record; the complaint's counts, "
    "time, satisfaction, reopenings and repeats count for the complaint's handler. Blank names go to '(blank)'.",
)

DEPARTMENT_COLUMNS = (
    "“按责任部门”表在分类统计各列之后有与“按处理人”相同的各列（处理及时率除外：分类统计已有，两者相同），按登记表的"
    "“责任部门”计（环节时限和整宗投诉都算给该部门）。",
    "The By-department sheet has, after the breakdown columns, the same columns as the By-handler sheet (but the "
    "on-time rate, which the breakdown has already: the same figure), counted by the Register's 'Responsible "
    "dept.' (stage deadlines and whole complaints alike).",
)

RANKING_DEFINITION = (
    "“按处理人”表格下方：本期需处理件数不少于“设置”中“考核排名最少件数”（默认5件；汇总多个网点时取各网点设置中最大的）、"
    "且本期有到期时限的处理人中，处理及时率最高的3人（从高到低）和其余人中最低的3人（从低到高）；及时率相同的按表中先后顺序。"
    "“（未填）”不参加排名。",
    "Below the table of the By-handler sheet: among the handlers with at least the Settings' 'Fewest complaints to "
    "be ranked' (5 by default; when branches are consolidated, the largest of their settings) complaints to "
    "handle received in the period and with deadlines due in the period, the 3 with the highest on-time rate "
    "(highest first) and, of the others, the 3 with the lowest (lowest first); equal rates keep the sheet's "
    "order. '(blank)' is not ranked.",
)

_RECEIVED = ("受理时间在本期", "Time received falls in the period")
_CLOSED = ("结案时间在本期", "Time closed falls in the period")
_DUE = ("环节时限（应完成时间）在本期", "The stage's due time falls in the period")


@figure("handled",
        ("本期受理、有效性不是“无效”的投诉中，由此人处理的件数。", "Complaints to handle (not invalid) received in the "
         "period that are this handler's."), _RECEIVED)
def handled(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    return dict(Counter(map(by.case, ix.handled(m))))


@figure("closed",
        ("结案时间在本期的投诉（不含无效投诉）中，由此人处理的件数。", "Complaints (invalid ones excluded) closed in "
         "the period that are this handler's."), _CLOSED)
def closed(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    return dict(Counter(map(by.case, ix.closed(m))))


@figure("open",
        ("期末仍未结案的需处理投诉（含以前受理的；本期尚未结束时即统计时点仍未结案的）中，由此人处理的件数"
         "（同封面“月末未结案”）。",
         "Complaints to handle still open when the period ended (earlier periods' included; while the period is not "
         "over, those open at the as-of time) that are this handler's (as the cover's 'Open at period end')."),
        ("期末时点", "The end of the period"))
def open_end(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    return dict(Counter(map(by.case, ix.open_at(stamp(m.end)))))


def _tallies(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, list[list[int]]]:
    """Per person, per stage: [met, missed] of the deadlines due in the period whose handler of record they are."""
    out: dict[Key, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in STAGES])
    for c, met, missed in ix.due_bits(m):
        for bits, col in ((met, 0), (missed, 1)):
            i = 0
            while bits:
                if bits & 1:
                    out[by.stage(c, STAGES[i])][i][col] += 1
                bits >>= 1
                i += 1
    return out


@figure("on_time_rate",
        ("本期到期的各环节时限中，经办处理人为此人的时限按时完成的比例（按时、未按时和不计的判断同封面“处理及时率”）。",
         "Of the stage deadlines falling due in the period whose stage's handler of record is this handler, the share "
         "met (met, missed and left out as for the cover's on-time rate)."), _DUE)
def on_time_rate(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    return {k: rate(sum(t[0] for t in per), sum(t[0] + t[1] for t in per)) for k, per in _tallies(ix, m, by).items()}


def _stage_on_time(stage: str) -> None:
    i = STAGE_INDEX[stage]

    def fn(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
        return {k: rate(per[i][0], per[i][0] + per[i][1]) for k, per in _tallies(ix, m, by).items()}

    zh, en = v.STAGE.label(stage, "zh"), v.STAGE.label(stage, "en")
    figure(f"on_time_{stage}",
           (f"“{zh}”环节本期到期的时限中，经办处理人为此人的按时完成的比例。",
            f"Of the '{en}' deadlines falling due in the period whose handler of record is this handler, the share met."),
           _DUE)(fn)


for _stage in STAGES:
    _stage_on_time(_stage)


@figure("overdue_now",
        ("到统计时点仍未完成且已过时限的环节（不论何时到期）中，经办处理人为此人的，所涉投诉的件数。",
         "Complaints with a stage not done and past its due time at the as-of time (whenever it fell due) whose "
         "stage's handler of record is this handler."), ("统计时点", "The as-of time"))
def overdue_now(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    found = {(by.stage(d.case, d.stage), id(d.case)) for d in ix.open_overdue}
    return dict(Counter(k for k, _ in found))


@figure("resolve_median",
        ("本期完成“调查处理”环节、由此人处理的需处理投诉，从受理到处理完成的用时的中位数，单位同封面“处理用时中位数”"
         "（该环节多数时限规则的单位；以其他单位计时的不计）。",
         "For this handler's complaints to handle that completed 'Investigate & resolve' in the period, the median time from "
         "receipt to the resolution, in the unit of the cover's 'Time to resolve, median' (the unit most of the "
         "stage's rules use; times in another unit left out)."), ("“处理”完成时间在本期", "The time 'resolve' was done falls in the period"))
def resolve_median(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    units = ix.units.get("resolve") or []
    lo, hi = stamp(m.start), stamp(m.end)
    took: dict[Key, list[float]] = defaultdict(list)
    if units:
        for c in ix.cases:
            if c.validity == "invalid":
                continue
            f = c.stage("resolve")
            if f.took is not None and f.unit == units[0] and f.done_at is not None and lo <= f.done_at < hi:
                took[by.case(c)].append(f.took)
    return {k: median(v) for k, v in took.items()}


@figure("satisfaction_rate",
        ("本期联系上客户的回访中（每宗投诉本期最后一次，不含无效投诉），由此人处理的投诉结果为“满意”的比例。",
         "Of the period's callbacks that reached the customer (each complaint's last in the period, invalid ones left "
         "out), of this handler's complaints, the share 'satisfied'."), ("回访时间在本期", "Time of the callback falls in the period"))
def satisfaction_rate(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    outcomes: dict[Key, list[str]] = defaultdict(list)
    for c, outcome, _ in ix.callbacks(m):
        outcomes[by.case(c)].append(outcome)
    return {k: rate(found.count("satisfied"), len(found)) for k, found in outcomes.items()}


@figure("average_score",
        ("上述回访中填写了评分的，评分（1–10）的平均值。", "The mean score (1–10) of those callbacks that have a score."),
        ("回访时间在本期", "Time of the callback falls in the period"))
def average_score(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    scores: dict[Key, list[int]] = defaultdict(list)
    for c, _, score in ix.callbacks(m):
        if score is not None:
            scores[by.case(c)].append(score)
    return {k: statistics.fmean(found) for k, found in scores.items()}


@figure("reopened",
        ("本期结案、由此人处理的投诉中，曾重新处理至少一次的件数。", "This handler's complaints closed in the period that "
         "were reopened at least once."), _CLOSED)
def reopened(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    return dict(Counter(by.case(c) for c in ix.closed(m) if c.reopen_count > 0))


@figure("repeats",
        ("本期受理、由此人处理的需处理投诉中，重复投诉（定义同“重复投诉率”）的件数。", "This handler's complaints to "
         "handle received in the period that repeat an earlier one (as in the repeat-complaint rate)."), _RECEIVED)
def repeats(ix: CaseIndex, m: Period, by: Grouping) -> dict[Key, Any]:
    return dict(Counter(by.case(c) for c in ix.handled(m) if c.repeat_of))


class PersonRow(NamedTuple):
    """One handler (or department): ``values`` by ``PEOPLE_FIGURES`` key; a count none of is 0."""

    key: Key
    values: dict[str, Any]


COUNT_FIGURES = frozenset({"handled", "closed", "open", "overdue_now", "reopened", "repeats"})


def people(ix: CaseIndex, m: Period, by: Grouping = BY_HANDLER, keys: Sequence[Key] = ()) -> list[PersonRow]:
    """Every figure per person: ``keys`` first in their order, then everyone else by complaints to handle
    (most first), then name; '(blank)' last."""
    columns = {f.key: f.fn(ix, m, by) for f in PEOPLE_FIGURES.values()}
    found: set[Key] = set(keys)
    for values in columns.values():
        found |= set(values)
    handled_ = columns["handled"]
    rest = sorted((k for k in found if k not in keys), key=lambda k: (k is None, -handled_.get(k, 0), str(k)))
    return [PersonRow(k, {name: values.get(k, 0 if name in COUNT_FIGURES else None) for name, values in columns.items()})
            for k in (*keys, *rest)]


def ranking(rows: Sequence[PersonRow], least: int, n: int = 3) -> tuple[list[PersonRow], list[PersonRow]]:
    """The ``n`` handlers most on time and, of the others, the ``n`` least (``RANKING_DEFINITION``)."""
    eligible = [r for r in rows if r.key is not None and r.values["handled"] >= least
                and r.values["on_time_rate"] is not None]
    best = sorted(eligible, key=lambda r: -r.values["on_time_rate"])[:n]  # stable: ties keep the sheet's order
    rest = [r for r in eligible if r not in best]
    worst = sorted(rest, key=lambda r: r.values["on_time_rate"])[:n]
    return best, worst
