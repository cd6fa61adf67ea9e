"""Monthly-report metrics, each defined once: what is counted and which date decides the month.

A metric is a pure function over ``Case`` facts (one complaint as the deadline engine
saw it) organised by month in a ``CaseIndex``, registered together with its zh/en name
and definition; the report's Definitions sheet is generated from these registrations,
so the words and the arithmetic cannot drift apart.

Conventions every definition relies on:
- *handled* complaints are all except those marked invalid (无效); blank validity counts
  as handled, as the deadline engine gives it deadlines too;
- the workbook is seen as it stood at the as-of time: anything recorded after it has not
  happened yet (the engine is evaluated at the as-of time, ``case_facts`` drops later callbacks
  and complaints received later);
- a *deadline* is one stage's due time for one complaint; it is *met* when the stage was
  done at or before it, *missed* when done later, not done at the as-of time though due,
  or never done and already due when the case was closed; deadlines neither done nor due
  at the as-of time, not applicable at the close, or of a callback given up are in neither group;
- months are calendar months of local (wall-clock) time; ``Month.end`` is exclusive;
- a ``Case`` keeps its times as ``Stamp`` ints (see there), shown as datetimes again in the report.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, partial
from itertools import compress, repeat
from operator import and_, attrgetter, itemgetter
from typing import Any, Literal, NamedTuple

from xlcomplaints.core.calendar import Unit, WorkCalendar
from xlcomplaints.core.deadlines import ComplaintResult
from xlcomplaints.core.models import BranchData, Complaint
from xlcomplaints.core.policy import STAGES
from xlcomplaints.spec.vocab import severity_rank

MET = frozenset({"done_on_time"})
#: Missed: done late, still not done when due (overdue), or never done and already due when the case was closed.
MISSED = frozenset({"done_late", "overdue", "missed"})
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


# --------------------------------------------------------------------------- times
#: A wall-clock time as one int: its month's ``Month.key`` above bit 42, the microseconds into the
#: month below (2**42 µs is about 51 days). It orders like the datetime, pickles and stores as a plain
#: int (a datetime costs several times more to send from a worker), and gives its month with one
#: shift, which indexing a consolidation does a million times.
Stamp = int
MONTH_BITS = 42
_IN_MONTH = (1 << MONTH_BITS) - 1


def stamp(t: datetime) -> Stamp:
    """The stamp of ``t``: its day's stamp (remembered) plus the time of day, from one subtraction.

    A worker stamps a dozen times per complaint; this is half the cost of the plain formula
    (``_day_stamp``), which ``tests/test_metrics.py`` holds it equal to.
    """
    since = t - _EPOCH
    day = _DAY_STAMPS.get(since.days)
    if day is None:
        day = _DAY_STAMPS[since.days] = _day_stamp(t)
    return day + since.seconds * 1_000_000 + since.microseconds


def _day_stamp(t: datetime) -> Stamp:
    """The stamp of the midnight starting ``t``'s day."""
    return ((t.year * 12 + t.month - 1) << MONTH_BITS) + (t.day - 1) * 86_400_000_000


_EPOCH = datetime(2000, 1, 1)
_DAY_STAMPS: dict[int, Stamp] = {}  # days since _EPOCH → stamp of that midnight (a few KiB per decade)


def time_of(s: Stamp) -> datetime:
    """The datetime a stamp stands for: to show it, or to measure a span."""
    year, month = divmod(s >> MONTH_BITS, 12)
    return datetime(year, month + 1, 1) + timedelta(microseconds=s & _IN_MONTH)


def time_or_none(s: Stamp | None) -> datetime | None:
    return None if s is None else time_of(s)


def month_start(m: Month) -> Stamp:
    """The stamp of the month's first instant (``m.start``)."""
    return m.key << MONTH_BITS


def month_end(m: Month) -> Stamp:
    """The stamp of ``m.end``, the next month's first instant."""
    return (m.key + 1) << MONTH_BITS


# --------------------------------------------------------------------------- facts
class StageFact(NamedTuple):
    """One stage of one complaint: the engine's status, and how long it took in ``unit``."""

    status: str
    due: Stamp | None
    done_at: Stamp | None
    late_by: float | None
    unit: str | None
    took: float | None


#: ``Case.stages`` holds each stage's ``StageFact`` fields one after another, in one flat tuple:
#: a nested tuple per stage would be seven more objects per complaint to send, store and walk.
WIDTH = len(StageFact._fields)
_STATUS, _DUE, _DONE, _LATE_BY, _UNIT, _TOOK = range(WIDTH)  # offsets in a stage's fields
#: The fields of a stage that does not apply and was not done (nothing else is known of it).
NOT_APPLICABLE: tuple[str, None, None, None, None, None] = ("not_applicable", None, None, None, None, None)
_CLOSED_AT = CLOSE * WIDTH + _DONE
#: A complaint's decided deadlines falling due in one month: (month key, met, missed, still overdue),
#: each a set of stages as bits (``1 << STAGE_INDEX[stage]``).
DueMonth = tuple[int, int, int, int]
DECIDED = MET | MISSED


class Case(NamedTuple):
    """What the report needs of one complaint; small and picklable (no free text but names).

    Times are ``Stamp`` ints. ``due_months`` sorts the deadlines by the month they fall due,
    once in the worker, so that a month's figures need no pass over every complaint's stages.
    """

    branch: str
    no: str | None
    received_at: Stamp | None
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
    stages: tuple[Any, ...]  # WIDTH fields per stage, in STAGES order
    callbacks: tuple[tuple[Stamp, str, int | None], ...]  # reached attempts: (at, outcome, score), by time
    due_months: tuple[DueMonth, ...]  # by month key

    def stage(self, name: str) -> StageFact:
        i = STAGE_INDEX[name] * WIDTH
        return _fact(self.stages[i:i + WIDTH])

    def done_at(self, name: str) -> Stamp | None:
        return self.stages[STAGE_INDEX[name] * WIDTH + _DONE]

    @property
    def handled(self) -> bool:
        return self.validity != "invalid"

    @property
    def closed_at(self) -> Stamp | None:
        return self.stages[_CLOSED_AT]

    def done_count(self) -> int:
        return len(STAGES) - self.stages[_DONE::WIDTH].count(None)


_fact: Callable[[Sequence[Any]], StageFact] = partial(tuple.__new__, StageFact)
#: ``Case`` from its fields in order, without the Python-level ``__new__`` (a worker makes one per complaint).
_case: Callable[[tuple[Any, ...]], Case] = partial(tuple.__new__, Case)
_STAGE_BITS = tuple((1 << i, name) for i, name in enumerate(STAGES))
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_STAGE_OFFSETS = tuple((i * WIDTH, stage) for i, stage in enumerate(STAGES))
_UNITS = {u.value: u for u in Unit}  # a dict lookup, not an Enum call per stage


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
    return round(cal.elapsed(anchor, s.done_at, _UNITS[s.unit]), 4)


def received_by(c: Complaint, as_of: datetime) -> bool:
    """Whether the complaint had been received at the as-of time: one received later is not in the workbook
    as it stood then (R4). One without a readable received time is kept (it is in no month's receipts)."""
    return c.received_at is None or c.received_at <= as_of


def case_facts(branch: str, data: BranchData, results: Sequence[ComplaintResult], cal: WorkCalendar,
               timed: tuple[datetime, datetime] | None = None,
               contact: Callable[[str], str | None] | None = None, as_of: datetime | None = None) -> list[Case]:
    """The ``Case`` of each evaluated complaint of one branch workbook.

    Durations need the branch's calendar, so they are measured here; ``timed`` limits that
    to stages done in [start, end) — the months a report shows durations for. ``contact``
    turns each contact number into what the report may show (a consolidation masks them).
    ``as_of`` is the time the results were evaluated at: records made after it have not happened yet,
    complaints received after it included (left out, see ``received_by``).
    """
    until = as_of or datetime.max
    escalated_steps = {s.no for s in data.tracking if s.step == "escalated" and s.no and (s.at is None or s.at <= until)}
    reached: dict[str, list[tuple[Stamp, str, int | None]]] = defaultdict(list)
    for a in data.callbacks:
        if a.no and a.at and a.at <= until and a.outcome in ("satisfied", "unsatisfied"):
            reached[a.no].append((stamp(a.at), a.outcome, a.score))
    calls = {no: tuple(sorted(found, key=_FIRST)) for no, found in reached.items()}
    lo, hi = timed or (datetime.min, datetime.max)
    out = []
    for r in results:
        c = r.complaint
        if not received_by(c, until):
            continue
        stages: list[Any] = []
        months: dict[int, list[int]] = {}
        for bit, name in _STAGE_BITS:
            s = r.stages[name]
            status, due, done_at = s.status, s.due, s.done_at
            if done_at is None:
                if status == "not_applicable":
                    stages += NOT_APPLICABLE
                    continue
                done = took = None
            else:
                done = stamp(done_at)
                took = _took(name, r, cal) if lo <= done_at < hi else None
            at = None if due is None else stamp(due)
            if at is not None and status in DECIDED:
                sets = months.get(at >> MONTH_BITS) or months.setdefault(at >> MONTH_BITS, [0, 0, 0])
                sets[status in MISSED] |= bit
                if status == "overdue":
                    sets[2] |= bit
            stages += (status, at, done, s.late_by, s.unit, took)
        t, no = c.received_at, c.no
        out.append(_case((
            branch, no, None if t is None else stamp(t), c.case_type, c.channel, c.category, c.severity,
            c.validity, c.department, c.handler, c.customer,
            c.phone if contact is None or not c.phone else contact(c.phone), bool(c.escalated) or no in escalated_steps,
            r.escalation, r.status, r.repeat_of, r.reopen_count, tuple(stages), calls.get(no or "", ()),
            tuple((k, *v) for k, v in sorted(months.items())) if months else ())))
    return out


# --------------------------------------------------------------------------- index
class Deadline(NamedTuple):
    case: Case
    stage: str
    fact: StageFact


#: ``Deadline`` without the Python-level ``__new__``: a month can have thousands.
_deadline: Callable[[tuple[Case, str, StageFact]], Deadline] = partial(tuple.__new__, Deadline)
#: Durations of one month: (stage, unit) → times taken, shortest first.
Took = dict[tuple[str, str | None], list[float]]


def _stages_in(bits: int) -> list[int]:
    """The indexes (in STAGES) of a set of stages."""
    return [i for i in range(len(STAGES)) if bits >> i & 1]


def _sum_by(keys: Iterable[Any], amounts: Iterable[int]) -> Counter[Any]:
    """Amounts added up per key: the (key, amount) pairs counted by built-ins, then a few products."""
    out: Counter[Any] = Counter()
    for (key, amount), times in Counter(zip(keys, amounts, strict=True)).items():
        out[key] += amount * times
    return out


def _file_callbacks(c: Case, by_month: dict[int, list[tuple[Case, str, int | None]]]) -> None:
    """A complaint's reached callbacks by month; in time order, so each month's last one wins."""
    last: dict[int, tuple[str, int | None]] = {}
    for at, outcome, score in c.callbacks:
        last[at >> MONTH_BITS] = (outcome, score)
    for k, (outcome, score) in last.items():
        by_month[k].append((c, outcome, score))


def _durations(timed: Sequence[Case]) -> tuple[dict[int, Took], dict[str, list[str]]]:
    """Times taken, by month done and (stage, unit), shortest first; and the units each stage's
    durations were measured in, most used first (policies may differ), ties in order of appearance.

    Complaint by complaint, all its stages at once: one visit to each complaint's facts in
    memory is quicker than a pass per stage over all of them (measured).
    """
    took: dict[int, Took] = defaultdict(lambda: defaultdict(list))
    counts: Counter[tuple[str, str]] = Counter()
    for c in timed:
        stages = c.stages
        for j, stage in _STAGE_OFFSETS:
            value = stages[j + _TOOK]
            if value is not None:
                unit = stages[j + _UNIT]
                took[stages[j + _DONE] >> MONTH_BITS][(stage, unit)].append(value)
                if unit:
                    counts[(stage, unit)] += 1
    for lists in took.values():
        for values in lists.values():
            values.sort()
    units: dict[str, list[str]] = {s: [] for s in STAGES}
    for (stage, unit), _ in counts.most_common():
        units[stage].append(unit)
    return took, units


class DueMonthRows(NamedTuple):
    """The handled complaints with deadlines falling due in one month, by column: the complaint,
    how many of them it met and missed, and which stages it missed (bits, as in ``DueMonth``)."""

    cases: list[Case]
    met: list[int]
    missed: list[int]
    missed_stages: list[int]


class CaseIndex:
    """The cases, filed once under the months each definition looks at (received, closed, due...).

    The one pass over all cases does only what any month needs (lists per month); the rest —
    a month's totals, its deadlines by stage, its durations, who was open when — is worked
    out from those lists on first use and kept, so a report pays for the months it shows.
    """

    def __init__(self, cases: Sequence[Case]) -> None:
        self.cases = cases
        received: dict[int, list[Case]] = defaultdict(list)
        closed: dict[int, list[Case]] = defaultdict(list)  # handled only, like all below
        never_closed: list[Case] = []  # received at a known time
        due: dict[int, list[tuple[Case, int, int]]] = defaultdict(list)  # (case, met, missed stages)
        callbacks: dict[int, list[tuple[Case, str, int | None]]] = defaultdict(list)
        overdue: list[tuple[Case, int]] = []  # with the stages still not done at the as-of time
        timed: list[Case] = []  # with a duration measured
        untimed = (None,) * len(STAGES)
        for c in cases:  # the hot loop of a consolidation: appends to locals, helpers for the rare cases
            t = c.received_at
            if t is not None:
                received[t >> MONTH_BITS].append(c)
            if c.validity == "invalid":  # left out of every rate and average, callbacks included
                continue
            calls = c.callbacks
            if len(calls) == 1:
                at, outcome, score = calls[0]
                callbacks[at >> MONTH_BITS].append((c, outcome, score))
            elif calls:
                _file_callbacks(c, callbacks)
            late = 0
            for k, met, missed, still in c.due_months:
                due[k].append((c, met, missed))
                late |= still
            if late:
                overdue.append((c, late))
            stages = c.stages
            closed_at = stages[_CLOSED_AT]
            if closed_at is not None:
                closed[closed_at >> MONTH_BITS].append(c)
            elif t is not None:
                never_closed.append(c)
            if stages[_TOOK::WIDTH] != untimed:
                timed.append(c)
        self._received, self._closed, self._never_closed = received, closed, never_closed
        self._due, self._callbacks, self._overdue = due, callbacks, overdue
        self._took, self.units = _durations(timed)
        self._memo: dict[tuple[str, int], Any] = {}

    def _remember(self, kind: str, key: int, make: Callable[[], Any]) -> Any:
        if (kind, key) not in self._memo:
            self._memo[(kind, key)] = make()
        return self._memo[(kind, key)]

    def received(self, m: Month) -> list[Case]:
        return self._received.get(m.key, [])

    def handled(self, m: Month) -> list[Case]:
        """Received in the month and not invalid."""
        return self._remember("handled", m.key, lambda: [c for c in self.received(m) if c.validity != "invalid"])

    def closed(self, m: Month) -> list[Case]:
        return self._closed.get(m.key, [])

    def due(self, m: Month) -> DueMonthRows:
        """Who has deadlines falling due in the month, with the number met and missed."""
        def columns() -> DueMonthRows:
            rows = self._due.get(m.key, [])
            missed = list(map(_THIRD, rows))
            return DueMonthRows(list(map(_FIRST, rows)), list(map(int.bit_count, map(_SECOND, rows))),
                                list(map(int.bit_count, missed)), missed)
        return self._remember("due", m.key, columns)

    def tally(self, m: Month) -> tuple[int, int, int]:
        """The month's deadlines met, missed, and the complaints with a missed one."""
        def count() -> tuple[int, int, int]:
            rows = self._due.get(m.key, [])
            missed = list(map(int.bit_count, map(_THIRD, rows)))
            return sum(map(int.bit_count, map(_SECOND, rows))), sum(missed), len(missed) - missed.count(0)
        return self._remember("tally", m.key, count)

    def stage_tally(self, m: Month, stage: str) -> tuple[int, int]:
        """The month's deadlines of one stage, met and missed."""
        def count() -> tuple[int, int]:
            bit = 1 << STAGE_INDEX[stage]
            rows = self._due.get(m.key, [])
            met = list(map(and_, map(_SECOND, rows), repeat(bit)))
            missed = list(map(and_, map(_THIRD, rows), repeat(bit)))
            return len(met) - met.count(0), len(missed) - missed.count(0)
        return self._remember(f"tally:{stage}", m.key, count)

    def missed(self, m: Month) -> list[Deadline]:
        """The month's missed deadlines one by one, complaint by complaint in stage order."""
        def find() -> list[Deadline]:
            due = self.due(m)
            return [_deadline((c, STAGES[i], c.stage(STAGES[i])))
                    for c, bits in zip(due.cases, due.missed_stages, strict=True) if bits for i in _stages_in(bits)]
        return self._remember("missed", m.key, find)

    def took(self, m: Month) -> Took:
        """Times taken by stages done in the month, per (stage, unit), shortest first."""
        return self._took.get(m.key, {})

    def callbacks(self, m: Month) -> list[tuple[Case, str, int | None]]:
        return self._callbacks.get(m.key, [])

    def open_at(self, t: Stamp) -> list[Case]:
        """Handled complaints received before ``t`` and not closed by then (remembered: month
        ends and starts are asked for more than once). Only those never closed or closed in
        ``t``'s month or later can be, so only those are looked at."""
        def find() -> list[Case]:
            out = [c for c in self._never_closed if c.received_at < t]  # type: ignore[operator]
            for k, closed in self._closed.items():
                if k >= t >> MONTH_BITS:
                    out += [c for c in closed if (r := c.received_at) is not None and r < t and c.stages[_CLOSED_AT] >= t]
            return out
        return self._remember("open", t, find)

    @cached_property
    def open_overdue(self) -> list[Deadline]:
        """Every deadline still not done at the as-of time, whatever month it fell due."""
        return [_deadline((c, STAGES[i], c.stage(STAGES[i]))) for c, bits in self._overdue for i in _stages_in(bits)]

    def months(self) -> list[Month]:
        """Months with any complaint received, oldest first."""
        return [Month.from_key(k) for k in sorted(k for k, v in self._received.items() if v)]


# --------------------------------------------------------------------------- primitives
def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the ⌈0.9·n⌉-th smallest value, so 90 % of cases took no longer."""
    if not values:
        return None
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def age_bucket(days: int) -> int:
    for i, (lo, hi) in enumerate(AGE_BUCKETS):
        if days >= lo and (hi is None or days <= hi):
            return i
    return 0


def backlog_ages(ix: CaseIndex, m: Month) -> list[int]:
    """Carried-over backlog by age at the start of the month (calendar days since receipt)."""
    counts = [0] * len(AGE_BUCKETS)
    for c in ix.open_at(month_start(m)):
        assert c.received_at is not None
        counts[age_bucket((m.start - time_of(c.received_at)).days)] += 1
    return counts


def durations(ix: CaseIndex, m: Month, stage: str, unit: str | None = None) -> list[float]:
    """Times taken by the stage for complaints that completed it in the month, in ``unit``
    (default: the unit most of the stage's policy rules use), shortest first."""
    if unit is None:
        units = ix.units.get(stage, [])
        if not units:
            return []
        unit = units[0]
    return ix.took(m).get((stage, unit), [])


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
    return ix.handled(m)


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
    cases, end = _handled(ix, m), month_end(m)
    return rate(sum(1 for c in cases if (t := c.closed_at) is not None and t < end), len(cases))


@metric("open_end", "月末未结案", "Open at month end", "count",
        ("月末仍未结案的需处理投诉件数：月末前受理，且没有结案时间或结案在月末之后（含以前月份受理的）。",
         "Complaints to handle still open when the month ended: received before the end and not closed by then "
         "(earlier months' included)."),
        ("月末时点", "The end of the month"))
def open_end(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.open_at(month_end(m)))


@metric("backlog_in", "上月结转未结案", "Backlog carried over", "count",
        ("本月开始时仍未结案的需处理投诉件数（即上月月末未结案）；按月初时已受理的自然日数分为 0–3、4–7、8–14、15 天以上。",
         "Complaints to handle still open when the month began (last month's open at month end); by age at the start "
         "of the month in calendar days since receipt: 0–3, 4–7, 8–14, 15 and more."),
        ("月初时点", "The start of the month"))
def backlog_in(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.open_at(month_start(m)))


@metric("on_time_rate", "处理及时率", "On-time rate", "rate",
        ("本月到期的各环节时限（受理通知、首次联系、上报、处理、答复、回访、结案）中按时完成的比例。"
         "按统计时点时工作簿的样子计算：时间晚于统计时点的步骤、回访和结案当作尚未发生。"
         "一个时限在统计时点结果已知才计入：到统计时点已完成的，完成时间不晚于时限为按时，晚于时限为未按时；"
         "到统计时点未完成而时限已到（不晚于统计时点）的为未按时；既未完成也未到期的不计。"
         "已结案投诉中未完成的环节：结案时时限已过的仍算未按时（逾期未完成），结案时尚未到期的为“不适用”，不计。"
         "按“设置”的次数未接通而放弃的回访不算逾期，不计。无效投诉不计。",
         "Of all stage deadlines (acknowledge, first contact, report, resolve, reply, callback, close) falling due in "
         "the month, the share met. The workbook is seen as it stood at the as-of time: a step, callback or close "
         "recorded after it has not happened yet. A deadline counts once its outcome is known at the as-of time: "
         "done by then (met if done at or before its due time, else missed), or due at or before the as-of time "
         "and not done by then (missed); one neither done nor due at the as-of time is left out. In a closed case, "
         "a stage not done whose due time had passed at the close stays missed; one not yet due at the close is not "
         "applicable and left out. A callback given up (the Settings' number of unreachable attempts) is not late "
         "and is left out. Invalid complaints are left out."),
        DUE)
def on_time_rate(ix: CaseIndex, m: Month) -> float | None:
    met, missed, _ = ix.tally(m)
    return rate(met, met + missed)


@metric("late_complaints", "逾期件数", "Complaints with a missed deadline", "count",
        ("至少有一个环节时限在本月到期而未按时完成（逾期完成、到统计时点仍未完成，或结案时已过时限而未完成）的需处理投诉件数。",
         "Complaints to handle with at least one stage deadline falling due in the month that was missed (done "
         "late, not done by the as-of time, or not done and already due when the case was closed)."),
        DUE)
def late_complaints(ix: CaseIndex, m: Month) -> float | None:
    return ix.tally(m)[2]


def _duration_metric(stage: str, zh: str, en: str) -> None:
    from_zh, from_en = ("处理完成（或答复）", "resolution (or the reply)") if stage == "callback" else ("受理", "receipt")
    unit_zh = ("按该环节时限规则的单位计（小时、自然日或工作日；工作日按国家节假日、调休和本网点日历计算，"
               "每个工作日按全天24小时计、休息日不计）")
    unit_en = ("in the unit of the stage's SLA rule (hours, calendar days or working days; working days follow the "
               "national holidays, make-up days and the branch's own calendar, each counting its whole 24 hours and "
               "closed days nothing)")
    for key, stat, fn in (("median", ("中位数", "median"), median), ("p90", ("90%分位", "90th percentile"), p90)):
        how_zh = "一半投诉不超过此值" if key == "median" else "按用时从短到长排列第 ⌈0.9×n⌉ 件的用时，即 90% 的投诉不超过此值"
        how_en = ("half the complaints took no longer" if key == "median" else
                  "the ⌈0.9×n⌉-th shortest time, so 90% of complaints took no longer")

        def duration(ix: CaseIndex, m: Month, stage: str = stage,
                     fn: Callable[[Sequence[float]], float | None] = fn) -> float | None:
            return fn(durations(ix, m, stage))

        metric(f"{stage}_{key}", f"{zh}用时{stat[0]}", f"Time to {en}, {stat[1]}", "duration",
               (f"本月完成“{zh}”环节的投诉，从{from_zh}到完成的用时的{stat[0]}：{how_zh}；{unit_zh}。",
                f"For complaints that completed '{en}' in the month, the {stat[1]} of the time from {from_en} to "
                f"completion: {how_en}; {unit_en}."),
               (f"“{zh}”完成时间在本月", f"The time '{en}' was done falls in the month"), stage=stage,
               )(duration)


_duration_metric("acknowledge", "受理通知", "acknowledge")
_duration_metric("first_contact", "首次联系", "first contact")
_duration_metric("resolve", "处理", "resolve")
_duration_metric("close", "结案", "close")


@metric("callback_rate", "回访率", "Callback rate", "rate",
        ("本月结案的投诉中，有回访（登记表“回访时间”，或回访记录中联系上客户的一次回访）的比例。"
         "放弃回访（按“设置”的次数未接通）算已尝试、未联系上，不算有回访。",
         "Of the complaints closed in the month, the share with a callback (the Register's 'Called back', or a "
         "callback that reached the customer on the Callbacks sheet). A callback given up (the Settings' number of "
         "unreachable attempts) counts as attempted, not reached: not called back."),
        CLOSED)
def callback_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = ix.closed(m)
    return rate(sum(1 for c in cases if c.done_at("callback") is not None), len(cases))


@metric("callback_on_time_rate", "回访及时率", "Callback on-time rate", "rate",
        ("“回访”环节的及时率：定义同处理及时率，只计回访环节。回访时限从处理完成时间（没有时用答复时间）起算，不从受理起算；"
         "放弃回访的不计。",
         "The on-time rate of the callback stage alone (same definition as the on-time rate). The callback limit "
         "counts from the resolution (or the reply when no resolution time is known), not from receipt; callbacks "
         "given up are left out."),
        ("回访时限在本月", "The callback's due time falls in the month"), stage="callback")
def callback_on_time_rate(ix: CaseIndex, m: Month) -> float | None:
    met, missed = ix.stage_tally(m, "callback")
    return rate(met, met + missed)


@metric("satisfaction_rate", "满意率", "Satisfaction rate", "rate",
        ("本月联系上客户的回访中，结果为“满意”的比例；同一投诉本月回访多次只计最后一次，未联系上的不计；无效投诉的回访不计。",
         "Of the callbacks in the month that reached the customer, the share 'satisfied'; a complaint called back "
         "more than once in the month counts by its last callback; unreachable attempts are left out, and so are "
         "the callbacks of invalid complaints."),
        ("回访时间在本月", "Time of the callback falls in the month"))
def satisfaction_rate(ix: CaseIndex, m: Month) -> float | None:
    outcomes = list(map(_SECOND, ix.callbacks(m)))
    return rate(outcomes.count("satisfied"), len(outcomes))


@metric("average_score", "平均评分", "Average score", "score",
        ("上述回访（需处理投诉每宗本月最后一次联系上的回访，不含无效投诉）中填写了评分的，评分（1–10）的平均值。",
         "The mean score (1–10) of those callbacks (each complaint's last reached callback in the month, invalid "
         "complaints left out) that have a score."),
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
        ("本月受理的需处理投诉中，重复投诉的比例：同一客户（按电话判定，没有电话时按姓名）、同一投诉类别，在“设置”的判定期（默认30天）内再次投诉；"
         "先在各网点自己的登记中判定，汇总多个网点时不同网点之间也判定（按后一宗投诉所在网点的判定期；电话已打码时姓名也须相同）。",
         "Of the complaints to handle received in the month, the share that repeat an earlier one: same customer "
         "(matched on the phone number, on the name only when there is no phone), same category, within the Settings window (30 days by default); judged within each "
         "branch's register, and across branches when several are consolidated (by the window of the later complaint's "
         "branch; where phone numbers are masked, the names must match too)."),
        RECEIVED)
def repeat_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = _handled(ix, m)
    return rate(sum(1 for c in cases if c.repeat_of), len(cases))


# --------------------------------------------------------------------------- tables
class GroupRow(NamedTuple):
    """One value of a breakdown dimension (``key`` None = left blank in the register)."""

    key: str | None
    count: int  # type: ignore[assignment]  # the field, as callers read it; shadows tuple.count
    previous: int
    on_time_rate: float | None
    late: int


def breakdown(ix: CaseIndex, m: Month, dimension: str, order: Sequence[str] = (),
              previous: Mapping[str | None, int] | None = None) -> list[GroupRow]:
    """Received (this and last month), on-time rate and missed-deadline complaints per value.

    The count columns are ``received`` per value; the on-time and late columns are the
    ``on_time_rate`` and ``late_complaints`` metrics restricted to the value's complaints.
    Values in ``order`` come first, in that order, even when zero; the rest by count.
    ``previous`` gives last month's counts instead of the cases (from last month's report).
    """
    key = attrgetter(dimension)
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
        met, missed = ix.stage_tally(m, stage)
        n = met + missed
        units: Sequence[str | None] = ix.units.get(stage, []) or [None]
        for i, unit in enumerate(units):
            took = durations(ix, m, stage, unit) if unit else []
            first = i == 0
            rows.append(StageRow(stage, n if first else 0, met if first else 0,
                                 rate(met, n) if first else None, median(took), p90(took), unit))
    return rows


def overdue_detail(ix: CaseIndex, m: Month) -> list[Deadline]:
    """The overdue list (超时上报表): deadlines due in the month and missed, plus earlier ones still not
    done at the as-of time; by severity (major, important, general, blank last), then the earliest due."""
    rows = list(ix.missed(m))
    start = month_start(m)
    rows += [d for d in ix.open_overdue if d.fact.due is not None and d.fact.due < start]
    rows.sort(key=lambda d: (severity_rank(d.case.severity), d.fact.due, d.case.branch, d.case.no or ""))
    return rows


OVERDUE_DEFINITION = (
    "每行一个未按时完成的环节：时限在本月到期而逾期完成、到统计时点仍未完成或结案时已过时限而未完成的，以及更早到期、到统计时点仍未完成的。"
    "超时＝完成时间（未完成的用统计时点，结案时未完成的用结案时间）晚于时限多少，单位同该环节的时限规则。"
    "按严重程度排列：重大、重要、一般，未填（或无法识别）的最后；同一严重程度内时限早的在前。",
    "One row per missed stage deadline: due in the month and done late, not done by the as-of time, or not done "
    "and already due when the case was closed, plus earlier ones still not done at the as-of time. 'Late by' is how "
    "far the completion (or the as-of time if not done; the close if closed without it) is past the due time, in "
    "the unit of the stage's rule. Ordered by severity — major, important, general, then blank (or not recognised) "
    "last — and within a severity the earliest due first.",
)


# --------------------------------------------------------------------------- typical cases
#: Why a complaint is a typical case (典型案例), the most telling first.
TYPICAL_REASONS = ("major", "escalated", "reopened", "repeat", "late")
TYPICAL_MAX = 20
TYPICAL_DEFINITION = (
    f"本月受理、值得逐宗分析的投诉（最多{TYPICAL_MAX}宗）：重大投诉、投诉升级、重新处理过、重复投诉、有环节未按时完成的。"
    "符合条件多的在前；同样多时逐项比较，依次是重大、升级、重新处理、重复、超时（先比是否重大，重大的在前；"
    "再比是否升级；依此类推），再按受理时间先后。无效投诉不计。",
    f"Complaints received in the month worth analysing one by one (at most {TYPICAL_MAX}): major, escalated, "
    "reopened, repeat complaints and those that missed a deadline. Those meeting more of these come first; among "
    "those meeting as many, the reasons are compared one by one in that order (major ones first; then, among "
    "those alike on that, escalated ones first; and so on), then by time received. Invalid complaints are left out.",
)


class TypicalCase(NamedTuple):
    case: Case
    reasons: tuple[str, ...]  # TYPICAL_REASONS that apply, in that order


def typical_reasons(c: Case) -> tuple[str, ...]:
    """Which TYPICAL_REASONS apply to a handled complaint (none to an invalid one)."""
    if not c.handled:
        return ()
    found = (c.severity == "major", c.escalated, c.reopen_count > 0, c.repeat_of is not None,
             any(s in MISSED for s in c.stages[_STATUS::WIDTH]))
    return tuple(r for r, yes in zip(TYPICAL_REASONS, found, strict=True) if yes)


def typical_cases(ix: CaseIndex, m: Month, n: int = TYPICAL_MAX) -> list[TypicalCase]:
    """The month's typical cases (see TYPICAL_DEFINITION), the most telling first."""
    found = [TypicalCase(c, reasons) for c in ix.received(m) if (reasons := typical_reasons(c))]
    found.sort(key=lambda t: (-len(t.reasons), tuple(r not in t.reasons for r in TYPICAL_REASONS),
                              t.case.received_at or 0, t.case.branch, t.case.no or ""))
    return found[:n]


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
    """The ``n`` values with the most complaints (or missed-deadline complaints), zeros left out; equal
    ones in the order of ``rows`` (the breakdown sheet's), as the cover's panel definition says."""
    picked = [r for r in rows if getattr(r, by) > 0]
    picked.sort(key=lambda r: -getattr(r, by))  # stable: ties keep the sheet's order
    return picked[:n]
