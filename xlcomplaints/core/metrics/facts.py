"""``Case``: what the report needs of one complaint, made from the deadline engine's results by ``case_facts``."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from xlcomplaints.core.calendar import Unit, WorkCalendar
from xlcomplaints.core.custom_stages import labels as custom_labels
from xlcomplaints.core.custom_stages import office_value
from xlcomplaints.core.deadlines import ComplaintResult
from xlcomplaints.core.metrics.months import Stamp, month_key, stamp
from xlcomplaints.core.models import BranchData, Complaint
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.status import Escalation, OverallStatus, StageStatus

MET = frozenset({StageStatus.DONE_ON_TIME})
#: Missed: done late, still not done when due (overdue), or never done and already due when the case was closed.
MISSED = frozenset({StageStatus.DONE_LATE, StageStatus.OVERDUE, StageStatus.MISSED})
STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
CLOSE = STAGE_INDEX["close"]
TIMED_STAGES = ("acknowledge", "first_contact", "resolve", "close")


class StageFact(NamedTuple):
    """One stage of one complaint: the engine's status, and how long it took in ``unit``."""

    status: StageStatus
    due: Stamp | None
    done_at: Stamp | None
    late_by: float | None
    unit: Unit | None
    took: float | None
    handler: str | None  # the handler of record of the stage (``stage_handlers``)


#: ``Case.stages`` holds each stage's ``StageFact`` fields one after another, in one flat tuple:
#: a nested tuple per stage would be seven more objects per complaint to send, store and walk.
WIDTH = len(StageFact._fields)
_STATUS, _DUE, _DONE, _LATE_BY, _UNIT, _TOOK, _HANDLER = range(WIDTH)  # offsets in a stage's fields
#: The fields of a stage that does not apply and was not done, but its handler (nothing else is known of it).
NOT_APPLICABLE: tuple[StageStatus, None, None, None, None, None] = (
    StageStatus.NOT_APPLICABLE, None, None, None, None, None)
_CLOSED_AT = CLOSE * WIDTH + _DONE
_CASE_HANDLER = STAGE_INDEX["resolve"] * WIDTH + _HANDLER
#: A complaint's decided deadlines falling due in one month: (month key, met, missed, still overdue),
#: each a set of stages as bits (``1 << STAGE_INDEX[stage]``).
DueMonth = tuple[int, int, int, int]
DECIDED = MET | MISSED
_STAGE_BITS = tuple(1 << i for i in range(len(STAGES)))  # each stage's bit in a ``DueMonth`` set
_OVERDUE, _NOT_APPLICABLE = StageStatus.OVERDUE, StageStatus.NOT_APPLICABLE  # compared by identity per stage


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
    escalation: Escalation
    status: OverallStatus
    repeat_of: str | None
    reopen_count: int
    stages: tuple[Any, ...]  # WIDTH fields per stage, in STAGES order
    callbacks: tuple[tuple[Stamp, str, int | None], ...]  # reached attempts: (at, outcome, score), by time
    due_months: tuple[DueMonth, ...]  # by month key
    #: The office's own stages that apply (``core.custom_stages``): per stage its name, English label and
    #: ``StageFact`` fields, ``CUSTOM_WIDTH`` values one after another.
    custom: tuple[Any, ...] = ()
    #: The report dimensions of the office's own columns (Settings): name, value, name, value …
    office: tuple[str | None, ...] = ()

    def custom_stages(self) -> list[tuple[str, str, StageFact]]:
        """(name, English label, fact) of each of the office's own stages that applies."""
        x = self.custom
        return [(x[i], x[i + 1], StageFact._make(x[i + 2:i + CUSTOM_WIDTH])) for i in range(0, len(x), CUSTOM_WIDTH)]

    def office_value(self, name: str) -> str | None:
        """The value of the office's column ``name`` (a report dimension), None when blank or not kept."""
        x = self.office
        for i in range(0, len(x), 2):
            if x[i] == name:
                return x[i + 1]
        return None

    def stage(self, name: str) -> StageFact:
        i = STAGE_INDEX[name] * WIDTH
        return StageFact._make(self.stages[i:i + WIDTH])

    def done_at(self, name: str) -> Stamp | None:
        return self.stages[STAGE_INDEX[name] * WIDTH + _DONE]

    @property
    def handled(self) -> bool:
        return self.validity != "invalid"

    @property
    def closed_at(self) -> Stamp | None:
        return self.stages[_CLOSED_AT]

    def handler_of(self, name: str) -> str | None:
        """The stage's handler of record (``stage_handlers``)."""
        return self.stages[STAGE_INDEX[name] * WIDTH + _HANDLER]

    @property
    def handler_of_record(self) -> str | None:
        """The complaint's own handler of record: its 调查处理 (resolve) stage's."""
        return self.stages[_CASE_HANDLER]

    def handler_names(self) -> tuple[str | None, ...]:
        """The names ``renamed`` passes through its function: the Register's handler, then each stage's."""
        return (self.handler, *self.stages[_HANDLER::WIDTH])

    def renamed(self, fn: Callable[[str | None], str | None]) -> Case:
        """The case with every handler's name (the Register's and each stage's) passed through ``fn``
        (the same case if none changes)."""
        names = self.stages[_HANDLER::WIDTH]
        new = tuple(map(fn, names))
        handler = fn(self.handler)
        if new == names and handler == self.handler:
            return self
        stages = list(self.stages)
        stages[_HANDLER::WIDTH] = new
        return self._replace(handler=handler, stages=tuple(stages))

    def done_count(self) -> int:
        return len(STAGES) - self.stages[_DONE::WIDTH].count(None)


#: Values per custom stage in ``Case.custom``: its name, its English label, then the ``StageFact`` fields.
CUSTOM_WIDTH = 2 + WIDTH

#: The engine's codes from the plain strings a stored case holds (the facts store keeps a ``StrEnum`` as its code:
#: ``store.schema`` makes them enums again).
STAGE_STATUS_OF: dict[str, StageStatus] = {s.value: s for s in StageStatus}
UNIT_OF: dict[str | None, Unit | None] = {None: None, **{u.value: u for u in Unit}}
OVERALL_STATUS_OF: dict[str, OverallStatus] = {s.value: s for s in OverallStatus}
ESCALATION_OF: dict[str, Escalation] = {e.value: e for e in Escalation}


def due_months(stages: Sequence[Any]) -> tuple[DueMonth, ...]:
    """``Case.due_months`` of a complaint's ``Case.stages``: each stage decided (met or missed) with a due time, by
    the month it falls due, as bits; months in order. The one definition: the worker's ``case_maker`` makes it with
    this, and the facts store does not keep it but makes it again when it reads a partition (``store.schema``)."""
    months: dict[int, list[int]] = {}
    for status, due, bit in zip(stages[_STATUS::WIDTH], stages[_DUE::WIDTH], _STAGE_BITS, strict=True):
        if due is not None and status in DECIDED:
            sets = months.get(key := month_key(due)) or months.setdefault(key, [0, 0, 0])
            sets[status in MISSED] |= bit
            if status is _OVERDUE:
                sets[2] |= bit
    return tuple((k, *v) for k, v in sorted(months.items())) if months else ()  # type: ignore[misc]


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_STAGE_OFFSETS = tuple((i * WIDTH, stage) for i, stage in enumerate(STAGES))


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
    return round(cal.elapsed(anchor, s.done_at, s.unit), 4)


def _name(text: str | None) -> str | None:
    """A name as typed, spaces at either end left out; blank is None."""
    return (text.strip() or None) if text else None


def stage_handlers(c: Complaint, steps: Sequence[tuple[datetime, str]], r: ComplaintResult,
                   as_of: datetime) -> tuple[str | None, ...]:
    """The handler of record of each stage, in ``STAGES`` order (the Definitions' 处理人 rule).

    A stage's moment is when it was done; not done, when the case was closed; still open, the as-of
    time. Its handler of record is the 经办人 of the complaint's last Tracking row naming one at or
    before that moment (``steps``: (time, name) in time order, rows of one time in sheet order);
    without one, the Register's 处理人.
    """
    register = _name(c.handler)
    if not steps:
        return (register,) * len(STAGES)
    stages = r.stages
    closed_at = stages["close"].done_at
    last_at, last = steps[-1]
    out: list[str | None] = []
    for name in STAGES:
        moment = stages[name].done_at or closed_at or as_of
        if moment >= last_at:  # at or after the last row naming one (most stages): no search
            out.append(last)
        else:
            i = bisect_right(steps, moment, key=_FIRST)
            out.append(steps[i - 1][1] if i else register)
    return tuple(out)


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
    make = case_maker(branch, data, cal, timed, contact, as_of)
    return [c for r in results if (c := make(r)) is not None]


def case_maker(branch: str, data: BranchData, cal: WorkCalendar, timed: tuple[datetime, datetime] | None = None,
               contact: Callable[[str], str | None] | None = None, as_of: datetime | None = None,
               ) -> Callable[[ComplaintResult], Case | None]:
    """``case_facts`` one result at a time (None: received after the as-of time), for a caller that keeps
    no results (a refresh): the branch's Tracking and Callbacks are filed once, here."""
    until = as_of or datetime.max
    escalated_steps = {s.no for s in data.tracking if s.step == "escalated" and s.no and (s.at is None or s.at <= until)}
    # Filed by complaint number as read; each complaint's put in time order (stable: rows of one time keep
    # their sheet order) only when its case is made, as a refresh makes few of a large register's.
    reached: dict[str, list[tuple[datetime, str, int | None]]] = defaultdict(list)
    for a in data.callbacks:
        if a.no and a.at and a.at <= until and a.outcome in ("satisfied", "unsatisfied"):
            reached[a.no].append((a.at, a.outcome, a.score))
    named: dict[str, list[tuple[datetime, str]]] = defaultdict(list)  # Tracking rows naming a handler
    for step in data.tracking:
        if step.no and step.at and step.at <= until and (who := _name(step.handler)):
            named[step.no].append((step.at, who))
    lo, hi = timed or (datetime.min, datetime.max)
    english = {name: en for name, (_, en) in custom_labels(data.settings).items()}
    due_stamps: dict[datetime, Stamp] = {}  # complaints share due times (the ends of days): each stamped once
    dims = data.settings.report_dimensions

    def make(r: ComplaintResult) -> Case | None:
        c = r.complaint
        if not received_by(c, until):
            return None
        stages: list[Any] = []
        no = c.no
        steps = named.get(no or "")
        handlers = stage_handlers(c, sorted(steps, key=_FIRST) if steps else (), r, until)
        found = reached.get(no or "")
        calls = tuple((stamp(at), outcome, score) for at, outcome, score in sorted(found, key=_FIRST)) if found else ()
        for name, who in zip(STAGES, handlers, strict=True):
            s = r.stages[name]
            status, due, done_at = s.status, s.due, s.done_at
            if done_at is None:
                if status is _NOT_APPLICABLE:
                    stages += NOT_APPLICABLE
                    stages.append(who)
                    continue
                done = took = None
            else:
                done = stamp(done_at)
                took = _took(name, r, cal) if lo <= done_at < hi else None
            if due is None:
                at = None
            elif (at := due_stamps.get(due)) is None:
                at = due_stamps[due] = stamp(due)
            stages += (status, at, done, s.late_by, s.unit, took, who)
        t = c.received_at
        return Case._make((
            branch, no, None if t is None else stamp(t), c.case_type, c.channel, c.category, c.severity,
            c.validity, c.department, c.handler, c.customer,
            c.phone if contact is None or not c.phone else contact(c.phone), bool(c.escalated) or no in escalated_steps,
            r.escalation, r.status, r.repeat_of, r.reopen_count, tuple(stages), calls,
            due_months(stages),
            _custom_facts(r, english) if r.custom else (),
            tuple(x for d in dims for x in (d, office_value(data.office_columns.get(d), c.row))) if dims else ()))

    return make


def _custom_facts(r: ComplaintResult, english: dict[str, str]) -> tuple[Any, ...]:
    """``Case.custom`` of a complaint: its custom stages' names, English labels and facts (no durations:
    a custom stage may count from another stage, and the report shows its on-time rate only; no handler of
    record: the By-handler figures time the built-in stages)."""
    out: list[Any] = []
    for s in r.custom:
        out += (s.stage, english.get(s.stage, s.stage), s.status, None if s.due is None else stamp(s.due),
                None if s.done_at is None else stamp(s.done_at), s.late_by, s.unit, None, None)
    return tuple(out)
