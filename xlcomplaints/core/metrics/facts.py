"""``Case``: what the report needs of one complaint, made from the deadline engine's results by ``case_facts``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from xlcomplaints.core.calendar import Unit, WorkCalendar
from xlcomplaints.core.deadlines import ComplaintResult
from xlcomplaints.core.metrics.months import Stamp, month_key, stamp
from xlcomplaints.core.models import BranchData, Complaint
from xlcomplaints.core.policy import STAGES

MET = frozenset({"done_on_time"})
#: Missed: done late, still not done when due (overdue), or never done and already due when the case was closed.
MISSED = frozenset({"done_late", "overdue", "missed"})
STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
CLOSE = STAGE_INDEX["close"]
TIMED_STAGES = ("acknowledge", "first_contact", "resolve", "close")


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
        return StageFact._make(self.stages[i:i + WIDTH])

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
                key = month_key(at)
                sets = months.get(key) or months.setdefault(key, [0, 0, 0])
                sets[status in MISSED] |= bit
                if status == "overdue":
                    sets[2] |= bit
            stages += (status, at, done, s.late_by, s.unit, took)
        t, no = c.received_at, c.no
        out.append(Case._make((
            branch, no, None if t is None else stamp(t), c.case_type, c.channel, c.category, c.severity,
            c.validity, c.department, c.handler, c.customer,
            c.phone if contact is None or not c.phone else contact(c.phone), bool(c.escalated) or no in escalated_steps,
            r.escalation, r.status, r.repeat_of, r.reopen_count, tuple(stages), calls.get(no or "", ()),
            tuple((k, *v) for k, v in sorted(months.items())) if months else ())))
    return out
