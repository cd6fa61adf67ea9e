"""Monthly-report metrics, each defined once: what is counted and which date decides the month.

A metric is a pure function over ``Case`` facts (one complaint as the deadline engine
saw it) organised by month in a ``CaseIndex``, registered together with its zh/en name
and definition; the report's Definitions sheet is generated from these registrations,
so the words and the arithmetic cannot drift apart.

Conventions every definition relies on:
- *handled* complaints are all except those marked invalid (无效); blank validity counts
  as handled, as the deadline engine gives it deadlines too;
- a *deadline* is one stage's due time for one complaint; it is *met* when the stage was
  done at or before it, *missed* when done later or still not done at the as-of time;
  deadlines not yet due at the as-of time are in neither group;
- months are calendar months of local (wall-clock) time; ``Month.end`` is exclusive.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal, NamedTuple

from xlcomplaints.core.calendar import Unit, WorkCalendar
from xlcomplaints.core.deadlines import ComplaintResult
from xlcomplaints.core.models import BranchData
from xlcomplaints.core.policy import STAGES

MET = frozenset({"done_on_time"})
MISSED = frozenset({"done_late", "overdue"})
STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
CLOSE = STAGE_INDEX["close"]
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 3), (4, 7), (8, 14), (15, None))
TIMED_STAGES = ("acknowledge", "first_contact", "resolve", "close")


# --------------------------------------------------------------------------- months
@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9998:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-10``, ``2026/10``, ``2026.10``, ``202610`` or ``2026年10月``."""
        t = text.strip().replace("年", "-").rstrip("月").replace("/", "-").replace(".", "-")
        if "-" not in t and len(t) == 6 and t.isdigit():
            t = f"{t[:4]}-{t[4:]}"
        parts = t.split("-")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"not a month: {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    @classmethod
    def of(cls, t: datetime) -> Month:
        return cls(t.year, t.month)

    @classmethod
    def from_key(cls, key: int) -> Month:
        y, m = divmod(key, 12)
        return cls(y, m + 1)

    @property
    def key(self) -> int:
        """Months since year 0, to index by (``t.year * 12 + t.month - 1`` for a time in the month)."""
        return self.year * 12 + self.month - 1

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        return self.shift(1).start

    def shift(self, n: int) -> Month:
        y, m = divmod(self.year * 12 + self.month - 1 + n, 12)
        return Month(y, m + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def label(self, lang: str) -> str:
        return f"{self.year}年{self.month}月" if lang == "zh" else self.start.strftime("%B %Y")


def default_as_of(month: Month, now: datetime) -> datetime:
    """The end of the month, or now when the month is not over yet."""
    return min(month.end, now)


# --------------------------------------------------------------------------- facts
class StageFact(NamedTuple):
    """One stage of one complaint: the engine's status, and how long it took in ``unit``."""

    status: str
    due: datetime | None
    done_at: datetime | None
    late_by: float | None
    unit: str | None
    took: float | None


class Case(NamedTuple):
    """What the report needs of one complaint; small and picklable (no free text but names)."""

    branch: str
    no: str | None
    received_at: datetime | None
    case_type: str | None
    channel: str | None
    category: str | None
    severity: str | None
    validity: str | None
    department: str | None
    handler: str | None
    customer: str | None
    phone: str | None
    escalated: bool
    escalation: str
    status: str
    repeat_of: str | None
    reopen_count: int
    stages: tuple[StageFact | None, ...]  # in STAGES order; None: not applicable and not done
    callbacks: tuple[tuple[datetime, str, int | None], ...]  # reached attempts: (at, outcome, score)

    def done_at(self, name: str) -> datetime | None:
        s = self.stages[STAGE_INDEX[name]]
        return s.done_at if s is not None else None

    @property
    def handled(self) -> bool:
        return self.validity != "invalid"

    @property
    def closed_at(self) -> datetime | None:
        s = self.stages[CLOSE]
        return s.done_at if s is not None else None

    def done_count(self) -> int:
        return sum(s is not None and s.done_at is not None for s in self.stages)


def _took(stage: str, r: ComplaintResult, cal: WorkCalendar) -> float | None:
    s = r.stages[stage]
    if s.done_at is None or s.unit is None:
        return None
    if stage == "callback":
        anchor = r.stages["resolve"].done_at or r.stages["reply"].done_at
    else:
        anchor = r.complaint.received_at
    if anchor is None or s.done_at < anchor:
        return None
    return round(cal.elapsed(anchor, s.done_at, Unit(s.unit)), 4)


def case_facts(branch: str, data: BranchData, results: Sequence[ComplaintResult], cal: WorkCalendar,
               timed: tuple[datetime, datetime] | None = None) -> list[Case]:
    """The ``Case`` of each evaluated complaint of one branch workbook.

    Durations need the branch's calendar, so they are measured here; ``timed`` limits that
    to stages done in [start, end) — the months a report shows durations for.
    """
    escalated_steps = {s.no for s in data.tracking if s.step == "escalated" and s.no}
    reached: dict[str, list[tuple[datetime, str, int | None]]] = defaultdict(list)
    for a in data.callbacks:
        if a.no and a.at and a.outcome in ("satisfied", "unsatisfied"):
            reached[a.no].append((a.at, a.outcome, a.score))
    lo, hi = timed or (datetime.min, datetime.max)
    out = []
    for r in results:
        c = r.complaint
        stages: list[StageFact | None] = []
        for name in STAGES:
            s = r.stages[name]
            if s.status == "not_applicable" and s.done_at is None:
                stages.append(None)
                continue
            took = _took(name, r, cal) if s.done_at is not None and lo <= s.done_at < hi else None
            stages.append(StageFact(s.status, s.due, s.done_at, s.late_by, s.unit, took))
        out.append(Case(
            branch=branch, no=c.no, received_at=c.received_at, case_type=c.case_type, channel=c.channel,
            category=c.category, severity=c.severity, validity=c.validity, department=c.department,
            handler=c.handler, customer=c.customer, phone=c.phone,
            escalated=bool(c.escalated) or (c.no in escalated_steps), escalation=r.escalation, status=r.status,
            repeat_of=r.repeat_of, reopen_count=r.reopen_count, stages=tuple(stages),
            callbacks=tuple(sorted(reached.get(c.no or "", ()), key=lambda x: x[0])),
        ))
    return out


# --------------------------------------------------------------------------- index
class Deadline(NamedTuple):
    case: Case
    stage: str
    fact: StageFact


#: ``Deadline`` without the Python-level ``__new__``: the index makes hundreds of thousands.
_deadline: Callable[[tuple[Case, str, StageFact]], Deadline] = partial(tuple.__new__, Deadline)  # type: ignore[assignment]


class CaseIndex:
    """The cases, grouped once by the month each definition looks at (received, closed, due...).

    Built in one pass so that every metric of a month reads only that month's entries.
    """

    def __init__(self, cases: Sequence[Case]) -> None:
        self.cases = cases
        self._received: dict[int, list[Case]] = defaultdict(list)
        self._closed: dict[int, list[Case]] = defaultdict(list)
        self._due: dict[int, list[Deadline]] = defaultdict(list)
        self._done: dict[int, list[Deadline]] = defaultdict(list)
        self._callbacks: dict[int, list[tuple[Case, str, int | None]]] = defaultdict(list)
        self.open_overdue: list[Deadline] = []
        units: Counter[tuple[str, str]] = Counter()
        decided = MET | MISSED
        received, closed, due, done, overdue = (self._received, self._closed, self._due, self._done,
                                                self.open_overdue.append)
        for c in cases:  # the hot loop of a consolidation: month keys inline, no helper calls
            t = c.received_at
            if t is not None:
                received[t.year * 12 + t.month - 1].append(c)
            if c.callbacks:
                last: dict[int, tuple[str, int | None]] = {}
                for at, outcome, score in c.callbacks:  # sorted by time: the month's last wins
                    last[at.year * 12 + at.month - 1] = (outcome, score)
                for k, (outcome, score) in last.items():
                    self._callbacks[k].append((c, outcome, score))
            if c.validity == "invalid":
                continue
            for i, f in enumerate(c.stages):
                if f is None:
                    continue
                status, t = f.status, f.due
                if t is not None and status in decided:
                    due[t.year * 12 + t.month - 1].append(d := _deadline((c, STAGES[i], f)))
                    if status == "overdue":
                        overdue(d)
                t = f.done_at
                if t is not None and f.took is not None:
                    done[t.year * 12 + t.month - 1].append(_deadline((c, STAGES[i], f)))
                    if f.unit:
                        units[(STAGES[i], f.unit)] += 1
                    if i == CLOSE:
                        closed[t.year * 12 + t.month - 1].append(c)
                elif t is not None and i == CLOSE:
                    closed[t.year * 12 + t.month - 1].append(c)
        self._open: dict[datetime, list[Case]] = {}
        #: Units each stage's durations were measured in, most used first (policies may differ).
        self.units: dict[str, list[str]] = {s: [] for s in STAGES}
        for (stage, unit), _ in units.most_common():
            self.units[stage].append(unit)

    def received(self, m: Month) -> list[Case]:
        return self._received.get(m.key, [])

    def closed(self, m: Month) -> list[Case]:
        return self._closed.get(m.key, [])

    def due(self, m: Month) -> list[Deadline]:
        return self._due.get(m.key, [])

    def done(self, m: Month) -> list[Deadline]:
        return self._done.get(m.key, [])

    def callbacks(self, m: Month) -> list[tuple[Case, str, int | None]]:
        return self._callbacks.get(m.key, [])

    def open_at(self, t: datetime) -> list[Case]:
        """``open_at(cases, t)``, remembered: month ends and starts are asked for more than once."""
        if t not in self._open:
            self._open[t] = open_at(self.cases, t)
        return self._open[t]

    def months(self) -> list[Month]:
        """Months with any complaint received, oldest first."""
        return [Month.from_key(k) for k in sorted(k for k, v in self._received.items() if v)]


# --------------------------------------------------------------------------- primitives
def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def on_time_rate_of(deadlines: Iterable[Deadline]) -> float | None:
    met = missed = 0
    for d in deadlines:
        if d.fact.status in MET:
            met += 1
        elif d.fact.status in MISSED:
            missed += 1
    return rate(met, met + missed)


def late_complaints_of(deadlines: Iterable[Deadline]) -> int:
    return len({id(d.case) for d in deadlines if d.fact.status in MISSED})


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the ⌈0.9·n⌉-th smallest value, so 90 % of cases took no longer."""
    if not values:
        return None
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def open_at(cases: Iterable[Case], t: datetime) -> list[Case]:
    """Handled complaints received before ``t`` and not closed by then."""
    return [c for c in cases if c.handled and c.received_at is not None and c.received_at < t
            and (c.closed_at is None or c.closed_at >= t)]


def age_bucket(days: int) -> int:
    for i, (lo, hi) in enumerate(AGE_BUCKETS):
        if days >= lo and (hi is None or days <= hi):
            return i
    return 0


def backlog_ages(ix: CaseIndex, m: Month) -> list[int]:
    """Carried-over backlog by age at the start of the month (calendar days since receipt)."""
    counts = [0] * len(AGE_BUCKETS)
    for c in ix.open_at(m.start):
        assert c.received_at is not None
        counts[age_bucket((m.start - c.received_at).days)] += 1
    return counts


def durations(ix: CaseIndex, m: Month, stage: str, unit: str | None = None) -> list[float]:
    """Times taken by the stage for complaints that completed it in the month, in ``unit``
    (default: the unit most of the stage's policy rules use)."""
    if unit is None:
        units = ix.units.get(stage, [])
        if not units:
            return []
        unit = units[0]
    return [d.fact.took for d in ix.done(m) if d.stage == stage and d.fact.unit == unit
            and d.fact.took is not None]


def stage_deadlines(ix: CaseIndex, m: Month, stage: str) -> list[Deadline]:
    return [d for d in ix.due(m) if d.stage == stage]


# --------------------------------------------------------------------------- registry
Kind = Literal["count", "rate", "duration", "score"]


@dataclass(frozen=True)
class Metric:
    key: str
    zh: str
    en: str
    kind: Kind
    what_zh: str
    what_en: str
    month_zh: str
    month_en: str
    fn: Callable[[CaseIndex, Month], float | None]
    stage: str | None = None  # duration metrics: the stage they time

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def definition(self, lang: str) -> str:
        return self.what_zh if lang == "zh" else self.what_en

    def month_rule(self, lang: str) -> str:
        return self.month_zh if lang == "zh" else self.month_en

    def __call__(self, ix: CaseIndex, m: Month) -> float | None:
        return self.fn(ix, m)


METRICS: dict[str, Metric] = {}
RECEIVED = ("受理时间在本月", "Time received falls in the month")
CLOSED = ("结案时间在本月", "Time closed falls in the month")
DUE = ("环节时限（应完成时间）在本月", "The stage's due time falls in the month")


def metric(key: str, zh: str, en: str, kind: Kind, what: tuple[str, str], month: tuple[str, str],
           stage: str | None = None) -> Callable[[Callable[[CaseIndex, Month], float | None]], Metric]:
    def register(fn: Callable[[CaseIndex, Month], float | None]) -> Metric:
        m = Metric(key, zh, en, kind, what[0], what[1], month[0], month[1], fn, stage)
        METRICS[key] = m
        return m
    return register


def _received(ix: CaseIndex, m: Month) -> list[Case]:
    return ix.received(m)


def _handled(ix: CaseIndex, m: Month) -> list[Case]:
    return [c for c in _received(ix, m) if c.handled]


@metric("received", "受理件数", "Complaints received", "count",
        ("本月受理的全部登记，不分类型与有效性（含无效投诉）。",
         "Everything registered in the month, whatever its type or validity (invalid ones included)."),
        RECEIVED)
def received(ix: CaseIndex, m: Month) -> float | None:
    return len(_received(ix, m))


def _validity_metric(code: str, zh: str, en: str, note_zh: str = "", note_en: str = "") -> None:
    metric(f"validity_{code}", zh, en, "count",
           (f"本月受理、有效性为“{zh[:2]}”的件数。{note_zh}", f"Received in the month and marked {en.lower()}.{note_en}"),
           RECEIVED)(lambda ix, m: sum(1 for c in _received(ix, m) if c.validity == code))


_validity_metric("valid", "有效投诉", "Valid")
_validity_metric("assist", "协助处理", "Needs another department")
_validity_metric("invalid", "无效投诉", "Invalid",
                 "无效投诉没有处理时限，不计入各项比率。", " Invalid ones have no deadlines and are left out of every rate.")


@metric("handled", "需处理件数", "Complaints to handle", "count",
        ("本月受理、有效性不是“无效”的件数（有效、协助及未填有效性的）；下列各率以此为基础。",
         "Received in the month and not marked invalid (valid, needs another department, or blank); "
         "the rates below are over these."),
        RECEIVED)
def handled(ix: CaseIndex, m: Month) -> float | None:
    return len(_handled(ix, m))


@metric("major", "重大投诉", "Major complaints", "count",
        ("需处理投诉中严重程度为“重大”的件数。", "Complaints to handle whose severity is major."), RECEIVED)
def major(ix: CaseIndex, m: Month) -> float | None:
    return sum(1 for c in _handled(ix, m) if c.severity == "major")


@metric("escalations", "投诉升级", "Escalated complaints", "count",
        ("需处理投诉中登记为“投诉升级”（客户越级投诉或监管转办），或处理跟踪中有“升级”步骤的件数。",
         "Complaints to handle marked escalated (customer went over our head, or a regulator transfer) or with an "
         "'escalated' step on the Tracking sheet."),
        RECEIVED)
def escalations(ix: CaseIndex, m: Month) -> float | None:
    return sum(1 for c in _handled(ix, m) if c.escalated)


@metric("closed", "结案件数", "Closed", "count",
        ("结案时间（登记表“结案时间”，或处理跟踪中的“结案”步骤）在本月的投诉件数，不论何时受理；不含无效投诉。",
         "Complaints whose closing time (the Register's 'Closed', or a 'closed' step on the Tracking sheet) falls in "
         "the month, whenever they were received; invalid ones excluded."),
        CLOSED)
def closed(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.closed(m))


@metric("closure_rate", "结案率", "Closure rate", "rate",
        ("本月受理的需处理投诉中，到月末已结案的比例。", "Of the complaints to handle received in the month, the share "
         "closed by the end of the month."),
        ("受理时间在本月；结案须在月末之前", "Time received falls in the month; closed before the month ended"))
def closure_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = _handled(ix, m)
    return rate(sum(1 for c in cases if c.closed_at is not None and c.closed_at < m.end), len(cases))


@metric("open_end", "月末未结案", "Open at month end", "count",
        ("月末仍未结案的需处理投诉件数：月末前受理，且没有结案时间或结案在月末之后（含以前月份受理的）。",
         "Complaints to handle still open when the month ended: received before the end and not closed by then "
         "(earlier months' included)."),
        ("月末时点", "The end of the month"))
def open_end(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.open_at(m.end))


@metric("backlog_in", "上月结转未结案", "Backlog carried over", "count",
        ("本月开始时仍未结案的需处理投诉件数（即上月月末未结案）；按月初时已受理的自然日数分为 0–3、4–7、8–14、15 天以上。",
         "Complaints to handle still open when the month began (last month's open at month end); by age at the start "
         "of the month in calendar days since receipt: 0–3, 4–7, 8–14, 15 and more."),
        ("月初时点", "The start of the month"))
def backlog_in(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.open_at(m.start))


@metric("on_time_rate", "处理及时率", "On-time rate", "rate",
        ("本月到期的各环节时限（受理通知、首次联系、上报、处理、答复、回访、结案）中按时完成的比例。按时＝完成时间不晚于时限；"
         "逾期完成或到统计时点仍未完成的算未按时；统计时点尚未到期的不计。",
         "Of all stage deadlines (acknowledge, first contact, report, resolve, reply, callback, close) falling due in "
         "the month, the share met. Met = done at or before the due time; done later, or still not done at the as-of "
         "time, is missed; deadlines not yet due at the as-of time are left out."),
        DUE)
def on_time_rate(ix: CaseIndex, m: Month) -> float | None:
    return on_time_rate_of(ix.due(m))


@metric("late_complaints", "逾期件数", "Complaints with a missed deadline", "count",
        ("至少有一个环节时限在本月到期而未按时完成（逾期完成或到统计时点仍未完成）的投诉件数。",
         "Complaints with at least one stage deadline falling due in the month that was missed (done late, or not "
         "done by the as-of time)."),
        DUE)
def late_complaints(ix: CaseIndex, m: Month) -> float | None:
    return late_complaints_of(ix.due(m))


def _duration_metric(stage: str, zh: str, en: str) -> None:
    from_zh, from_en = ("处理完成（或答复）", "resolution (or the reply)") if stage == "callback" else ("受理", "receipt")
    unit_zh = "按该环节时限规则的单位计（小时、自然日或工作日；工作日按国家节假日、调休和本网点日历计算）"
    unit_en = ("in the unit of the stage's SLA rule (hours, calendar days or working days; working days follow the "
               "national holidays, make-up days and the branch's own calendar)")
    for key, stat, fn in (("median", ("中位数", "median"), median), ("p90", ("90%分位", "90th percentile"), p90)):
        how_zh = "一半投诉不超过此值" if key == "median" else "按用时从短到长排列第 ⌈0.9×n⌉ 件的用时，即 90% 的投诉不超过此值"
        how_en = ("half the complaints took no longer" if key == "median" else
                  "the ⌈0.9×n⌉-th shortest time, so 90% of complaints took no longer")
        metric(f"{stage}_{key}", f"{zh}用时{stat[0]}", f"Time to {en}, {stat[1]}", "duration",
               (f"本月完成“{zh}”环节的投诉，从{from_zh}到完成的用时的{stat[0]}：{how_zh}；{unit_zh}。",
                f"For complaints that completed '{en}' in the month, the {stat[1]} of the time from {from_en} to "
                f"completion: {how_en}; {unit_en}."),
               (f"“{zh}”完成时间在本月", f"The time '{en}' was done falls in the month"), stage=stage,
               )(lambda ix, m, stage=stage, fn=fn: fn(durations(ix, m, stage)))


_duration_metric("acknowledge", "受理通知", "acknowledge")
_duration_metric("first_contact", "首次联系", "first contact")
_duration_metric("resolve", "处理", "resolve")
_duration_metric("close", "结案", "close")


@metric("callback_rate", "回访率", "Callback rate", "rate",
        ("本月结案的投诉中，有回访（登记表“回访时间”，或回访记录中联系上客户的一次回访）的比例。",
         "Of the complaints closed in the month, the share with a callback (the Register's 'Called back', or a "
         "callback that reached the customer on the Callbacks sheet)."),
        CLOSED)
def callback_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = ix.closed(m)
    return rate(sum(1 for c in cases if c.done_at("callback") is not None), len(cases))


@metric("callback_on_time_rate", "回访及时率", "Callback on-time rate", "rate",
        ("“回访”环节的及时率：定义同处理及时率，只计回访环节（回访时限从处理完成起算）。",
         "The on-time rate of the callback stage alone (same definition as the on-time rate; the callback limit "
         "counts from resolution)."),
        ("回访时限在本月", "The callback's due time falls in the month"), stage="callback")
def callback_on_time_rate(ix: CaseIndex, m: Month) -> float | None:
    return on_time_rate_of(stage_deadlines(ix, m, "callback"))


@metric("satisfaction_rate", "满意率", "Satisfaction rate", "rate",
        ("本月联系上客户的回访中，结果为“满意”的比例；同一投诉本月回访多次只计最后一次，未联系上的不计。",
         "Of the callbacks in the month that reached the customer, the share 'satisfied'; a complaint called back "
         "more than once in the month counts by its last callback; unreachable attempts are left out."),
        ("回访时间在本月", "Time of the callback falls in the month"))
def satisfaction_rate(ix: CaseIndex, m: Month) -> float | None:
    calls = ix.callbacks(m)
    return rate(sum(1 for _, outcome, _ in calls if outcome == "satisfied"), len(calls))


@metric("average_score", "平均评分", "Average score", "score",
        ("上述回访（每宗投诉本月最后一次联系上的回访）中填写了评分的，评分（1–10）的平均值。",
         "The mean score (1–10) of those callbacks (each complaint's last reached callback in the month) that "
         "have a score."),
        ("回访时间在本月", "Time of the callback falls in the month"))
def average_score(ix: CaseIndex, m: Month) -> float | None:
    scores = [s for _, _, s in ix.callbacks(m) if s is not None]
    return statistics.fmean(scores) if scores else None


@metric("reopen_rate", "重开率", "Reopen rate", "rate",
        ("本月结案的投诉中，曾重新处理（回访“不满意”或处理跟踪中“重新处理”）至少一次的比例。",
         "Of the complaints closed in the month, the share reopened at least once (an unsatisfied callback or a "
         "'reopened' step on the Tracking sheet)."),
        CLOSED)
def reopen_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = ix.closed(m)
    return rate(sum(1 for c in cases if c.reopen_count > 0), len(cases))


@metric("repeat_rate", "重复投诉率", "Repeat-complaint rate", "rate",
        ("本月受理的需处理投诉中，重复投诉的比例：同一客户（电话或姓名相同）、同一投诉类别，在“设置”的判定期（默认30天）内再次投诉；"
         "只在同一网点的登记中判定。",
         "Of the complaints to handle received in the month, the share that repeat an earlier one: same customer "
         "(phone or name), same category, within the Settings window (30 days by default); judged within one "
         "branch's register."),
        RECEIVED)
def repeat_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = _handled(ix, m)
    return rate(sum(1 for c in cases if c.repeat_of), len(cases))


# --------------------------------------------------------------------------- tables
class GroupRow(NamedTuple):
    """One value of a breakdown dimension (``key`` None = left blank in the register)."""

    key: str | None
    count: int
    previous: int
    on_time_rate: float | None
    late: int


def group_key(c: Case, dimension: str) -> str | None:
    return getattr(c, dimension)


def breakdown(ix: CaseIndex, m: Month, dimension: str, order: Sequence[str] = ()) -> list[GroupRow]:
    """Received (this and last month), on-time rate and missed-deadline complaints per value.

    The count columns are ``received`` per value; the on-time and late columns are the
    ``on_time_rate`` and ``late_complaints`` metrics restricted to the value's complaints.
    Values in ``order`` come first, in that order, even when zero; the rest by count.
    """
    now = Counter(group_key(c, dimension) for c in _received(ix, m))
    before = Counter(group_key(c, dimension) for c in _received(ix, m.shift(-1)))
    due: dict[str | None, list[Deadline]] = defaultdict(list)
    for d in ix.due(m):
        due[group_key(d.case, dimension)].append(d)
    keys: list[str | None] = list(order)
    rest = {k for k in (*now, *before, *due) if k not in keys}
    keys += sorted(rest, key=lambda k: (k is None, -now[k], -before[k], str(k)))
    return [GroupRow(k, now[k], before[k], on_time_rate_of(due.get(k, ())), late_complaints_of(due.get(k, ())))
            for k in keys]


class StageRow(NamedTuple):
    stage: str
    due: int
    on_time: int
    on_time_rate: float | None
    median: float | None
    p90: float | None
    unit: str | None


def stage_table(ix: CaseIndex, m: Month) -> list[StageRow]:
    """Per stage: deadlines due in the month, met, rate; durations of stages done in the month.

    A stage whose rules use several units gets one extra row per further unit (timings only).
    """
    rows = []
    for stage in STAGES:
        dl = stage_deadlines(ix, m, stage)
        met = sum(1 for d in dl if d.fact.status in MET)
        units = ix.units.get(stage, []) or [None]
        for i, unit in enumerate(units):
            took = durations(ix, m, stage, unit) if unit else []
            first = i == 0
            rows.append(StageRow(stage, len(dl) if first else 0, met if first else 0,
                                 on_time_rate_of(dl) if first else None, median(took), p90(took), unit))
    return rows


def overdue_detail(ix: CaseIndex, m: Month) -> list[Deadline]:
    """The overdue list (超时上报表): deadlines due in the month and missed, plus earlier ones still not
    done at the as-of time; major first, then the earliest due."""
    rows = [d for d in ix.due(m) if d.fact.status in MISSED]
    rows += [d for d in ix.open_overdue if d.fact.due is not None and d.fact.due < m.start]
    rank = {"major": 0, "important": 1, "general": 2}
    rows.sort(key=lambda d: (rank.get(d.case.severity or "", 3), d.fact.due, d.case.branch, d.case.no or ""))
    return rows


OVERDUE_DEFINITION = (
    "每行一个未按时完成的环节：时限在本月到期而逾期完成或到统计时点仍未完成的，以及更早到期、到统计时点仍未完成的。"
    "超时＝完成时间（未完成的用统计时点）晚于时限多少，单位同该环节的时限规则。重大投诉在前，时限早的在前。",
    "One row per missed stage deadline: due in the month and done late or not done by the as-of time, plus earlier "
    "ones still not done at the as-of time. 'Late by' is how far the completion (or the as-of time, if not done) is "
    "past the due time, in the unit of the stage's rule. Major complaints first, then the earliest due.",
)


class TrendRow(NamedTuple):
    month: Month
    received: int | None
    closed: int | None
    on_time_rate: float | None
    satisfaction_rate: float | None


TREND_METRICS = ("received", "closed", "on_time_rate", "satisfaction_rate")


def trend(ix: CaseIndex, m: Month, months: int = 12) -> list[TrendRow]:
    """The ``months`` up to ``m``, from the first month the data has a complaint received."""
    have = ix.months()
    first = min(max(have[0], m.shift(1 - months)), m) if have else m
    out = []
    k = first
    while k <= m:
        values = [METRICS[key](ix, k) for key in TREND_METRICS]
        out.append(TrendRow(k, *values))  # type: ignore[arg-type]
        k = k.shift(1)
    return out


def top(rows: Sequence[GroupRow], by: Literal["count", "late"], n: int = 5) -> list[GroupRow]:
    """The ``n`` values with the most complaints (or missed-deadline complaints), zeros left out."""
    picked = [r for r in rows if getattr(r, by) > 0]
    picked.sort(key=lambda r: (-getattr(r, by), r.key is None, str(r.key)))
    return picked[:n]
