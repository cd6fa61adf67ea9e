"""Stage deadlines and statuses for each complaint, from the policy and the calendar.

For each stage: the due time (policy limit counted from the stage's anchor on the
office's calendar, pushed later by recorded pauses), and a status — not due, due
soon, overdue, done on time, done late — with how late (or how much is left) in the
rule's own unit. Then what a supervisor reads first: overall status, days overdue,
escalation level and the next action. Pure; ``now`` is always passed in.

A refresh evaluates tens of thousands of complaints at one ``now``, so what they
share is worked out once per branch by its engine (:class:`Evaluator`, made per branch
and owning its memo; no state is kept in the process): the rules of each kind of
complaint, and one result for the open stages due on the same day. Results are
immutable, which is what makes sharing them safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import NamedTuple

from xlcomplaints.core.calendar import CalendarWarning, Due, OfficeHours, Unit, WorkCalendar
from xlcomplaints.core.models import BranchData, Complaint, Settings
from xlcomplaints.core.policy import DONE_FIELD, STAGES
from xlcomplaints.core.rulebook import PAUSABLE, RESTARTED, Limit, RuleBook  # noqa: F401  (PAUSABLE: re-exported)
from xlcomplaints.core.status import Escalation, NextAction, OverallStatus, StageStatus
from xlcomplaints.spec.vocab import severity_rank

Pause = tuple[datetime, datetime]

#: Escalation levels, lowest first: the ESCALATION dropdown's order.
ESCALATION_ORDER: tuple[Escalation, ...] = tuple(Escalation)
_DONE_ON_TIME, _DONE_LATE, _NOT_APPLICABLE_STATUS = StageStatus.DONE_ON_TIME, StageStatus.DONE_LATE, StageStatus.NOT_APPLICABLE

_RESOLVE, _REPLY, _CLOSE = (STAGES.index(s) for s in ("resolve", "reply", "close"))
_STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
_RESTARTED_INDEX = tuple(i for i, s in enumerate(STAGES) if s in RESTARTED)
_typed_times = attrgetter(*(DONE_FIELD[s] for s in STAGES))  # the Register's times, in STAGES order
_NO_WARNINGS: frozenset[CalendarWarning] = frozenset()


class StageResult(NamedTuple):
    """One stage's deadline and status. A NamedTuple, as ``Due``: one per stage of every complaint, and the
    cheapest immutable record to make (as a frozen dataclass, its generated ``__init__`` was a sixth of
    evaluating a branch's complaints, measured 2026-12-06)."""

    stage: str
    status: StageStatus
    due: datetime | None = None
    done_at: datetime | None = None
    late_by: float | None = None  # >0 late, for overdue/done_late; time left for due_soon
    unit: Unit | None = None


#: ``StageResult(*fields)`` for all six fields, without the Python-level ``__new__`` a NamedTuple adds around
#: this same call: for the done stages, most of a branch's (2,716 of 3,500 in a 500-complaint bench branch),
#: 0.43 → 0.18 µs each (measured 2026-12-07), about 0.5 ms a file. ``tests/test_deadlines.py`` holds the two equal.
_made = tuple.__new__


@dataclass(slots=True)
class ComplaintResult:
    complaint: Complaint
    stages: dict[str, StageResult]
    status: OverallStatus
    days_overdue: float | None
    escalation: Escalation
    next_action: NextAction
    next_stage: str | None = None
    repeat_of: str | None = None
    reopen_count: int = 0
    #: Unreachable callback attempts in the current handling cycle (the reason a callback was given up).
    callbacks_failed: int = 0
    #: Immutable, and one shared empty set when there are none (the usual case): a set each costs 216 bytes.
    warnings: frozenset[CalendarWarning] = _NO_WARNINGS
    #: The office's own stages that apply, in their order (``core.custom_stages``; set by the refresh).
    custom: tuple[StageResult, ...] = ()

    def overdue_stages(self) -> list[StageResult]:
        return [s for s in self.stages.values() if s.status == "overdue"]


@dataclass(frozen=True, slots=True)
class Cycle:
    """What the lifecycle (tracking, callbacks) adds to a complaint's own row.

    ``start`` replaces the receipt as the anchor of handling stages after a reopening;
    ``done`` gives stage times derived from the tracking sheet where the Register is blank.
    Read-only once built: complaints with nothing recorded share one.
    """

    start: datetime | None = None
    done: dict[str, datetime] = field(default_factory=dict)
    pauses: tuple[Pause, ...] = ()
    paused_now: bool = False
    reopen_count: int = 0
    repeat_of: str | None = None
    callback_due_override: datetime | None = None
    callbacks_failed: int = 0
    gave_up_callback: bool = False
    tracking_first: bool = False


#: The cycle of a complaint nothing was recorded for on the Tracking and Callbacks sheets.
NO_CYCLE = Cycle()

#: Results that depend on the stage alone, shared by every complaint that has them.
_NOT_APPLICABLE = {s: StageResult(s, StageStatus.NOT_APPLICABLE) for s in STAGES}
_NO_LIMITS: tuple[None, ...] = (None,) * len(STAGES)


def make_calendar(settings: Settings, data: BranchData | None = None) -> WorkCalendar:
    """The office's calendar: its country's days, its own closures and extra working days, its hours.

    A new one each call: a flow makes one per branch and passes it where it is needed
    (``evaluate_branch``, ``case_facts``); what it works out stays with it.
    """
    closures = frozenset(e.date for e in (data.calendar if data else ()) if e.date and e.kind == "closure")
    working = frozenset(e.date for e in (data.calendar if data else ()) if e.date and e.kind == "working")
    return WorkCalendar(settings.country, extra_closures=closures, extra_working_days=working,
                        office_hours=OfficeHours(settings.office_start, settings.office_end))


def done_times(c: Complaint, cycle: Cycle, now: datetime | None = None) -> Sequence[datetime | None]:
    """When each stage (in ``STAGES`` order) was done: the Register's time or the Tracking
    sheet's, whichever the Settings say wins, the other filling in when blank. In a
    reopened case only times from the current handling cycle count. A time after ``now``
    has not happened yet (the workbook as it stood at the as-of time)."""
    typed: tuple[datetime | None, ...] = _typed_times(c)
    if now is not None and any(t is not None and t > now for t in typed):
        typed = tuple(None if t is not None and t > now else t for t in typed)
    start, tracked = cycle.start, cycle.done
    if start is None and not tracked:
        return typed
    out = list(typed)
    if start is not None:
        for i in _RESTARTED_INDEX:
            t = out[i]
            if t is not None and t < start:
                out[i] = None
    for stage, tr in tracked.items():
        at = _STAGE_INDEX.get(stage)
        if at is not None:
            t = out[at]
            out[at] = (tr or t) if cycle.tracking_first else (t or tr)
    return out


class Evaluator:
    """The deadline engine of one branch: evaluates its complaints at one ``now`` with one calendar and policy.

    Made per branch (``refresh.evaluate_branch``) and let go with it; it owns its memo, and
    nothing is kept between branches or in the process. What complaints share is worked out
    once: a stage counted in days from an anchor is due at the end of a day set by the
    anchor's date, so the due time is remembered per date, amount and unit; and an open
    stage's lateness depends only on its due time, so every such stage due the same day
    shares one result. At 50,000 complaints that spares most calendar sums and most of the
    open stages' objects.
    """

    def __init__(self, settings: Settings, cal: WorkCalendar, now: datetime, rules: RuleBook | None = None) -> None:
        self.cal, self.now = cal, now
        self.rules = rules or RuleBook(settings.policy)
        self.due_soon_percent = settings.due_soon_percent
        #: Day-unit due times by (anchor date ordinal, amount, unit): see ``_add``.
        self._day_dues: dict[tuple[int, float, Unit], Due] = {}
        self._shared: dict[tuple[str, StageStatus, datetime | None, Unit], StageResult] = {}

    def evaluate(self, c: Complaint, cycle: Cycle = NO_CYCLE) -> ComplaintResult:
        done = done_times(c, cycle, self.now)
        received = c.received_at
        warnings: tuple[CalendarWarning, ...] = ()
        stages: dict[str, StageResult] = {}
        first_overdue: datetime | None = None  # the due time of the most overdue stage
        closed = done[_CLOSE] is not None
        limits = _NO_LIMITS if received is None else self.rules.limits(c)
        for stage, lim, done_at in zip(STAGES, limits, done, strict=True):
            if lim is None:
                stages[stage] = _NOT_APPLICABLE[stage] if done_at is None else StageResult(
                    stage, _NOT_APPLICABLE_STATUS, None, done_at, None, None)
                continue
            if stage == "callback":
                answered = done[_RESOLVE] or done[_REPLY]
                if answered is None:  # nothing to count from: not yet, or never once the case is closed
                    status = StageStatus.NOT_APPLICABLE if closed else StageStatus.NOT_DUE
                    stages[stage] = self._open(lim, status, None) if done_at is None else StageResult(
                        stage, status, None, done_at, None, lim.unit)
                    continue
                anchor = answered
            elif lim.restarted and cycle.start is not None:
                # received is set here: without it every limit is None (_NO_LIMITS)
                anchor = max(received, cycle.start)  # type: ignore[type-var, assignment]
            else:
                anchor = received  # type: ignore[assignment]
            computed = self._add(lim, anchor, cycle.pauses if lim.pausable else ())
            if computed.warnings:
                warnings += computed.warnings
            due = computed.at
            if stage == "callback" and cycle.callback_due_override is not None and done_at is None:
                due = cycle.callback_due_override
            if done_at is not None:  # most stages: made as ``StageResult(…)`` makes it, a call less (see _made)
                late = None if done_at <= due else round(self.cal.elapsed(due, done_at, lim.unit), 2)
                stages[stage] = _made(StageResult, (stage, _DONE_LATE if late is not None else _DONE_ON_TIME, due,
                                                    done_at, late, lim.unit))
            elif stage == "callback" and cycle.gave_up_callback:  # an outcome per the Settings, not overdue
                stages[stage] = StageResult(stage, StageStatus.GIVEN_UP, due, None, None, lim.unit)
            elif closed and stage != "close":  # closed without it: a miss if already due, else not applicable
                closed_at = done[_CLOSE]
                assert closed_at is not None
                if due < closed_at:
                    stages[stage] = StageResult(stage, StageStatus.MISSED, due, None,
                                                round(self.cal.elapsed(due, closed_at, lim.unit), 2), lim.unit)
                else:
                    stages[stage] = self._open(lim, StageStatus.NOT_APPLICABLE, due)
            else:
                stages[stage] = result = self._open(lim, self._open_status(lim, due), due)
                if result.status == "overdue" and (first_overdue is None or due < first_overdue):
                    first_overdue = due
        days_overdue = None if first_overdue is None else round((self.now - first_overdue).total_seconds() / 86400, 1)
        action, next_stage = _next_action(c, stages, cycle, closed)
        return ComplaintResult(c, stages, _overall(c, stages, cycle, closed, action), days_overdue,
                               _escalation(c, stages, cycle, days_overdue), action, next_stage, cycle.repeat_of,
                               cycle.reopen_count, cycle.callbacks_failed,
                               frozenset(warnings) if warnings else _NO_WARNINGS)  # few: a set each is 216 bytes

    def _add(self, lim: Limit, anchor: datetime, pauses: tuple[Pause, ...]) -> Due:
        """``cal.add`` for the limit, remembered per anchor date where only the date matters."""
        if not lim.by_day or pauses:
            return self.cal.add(anchor, lim.amount, lim.unit, pauses=pauses)
        key = (anchor.toordinal(), lim.amount, lim.unit)
        due = self._day_dues.get(key)
        if due is None:
            due = self._day_dues[key] = self.cal.add(anchor, lim.amount, lim.unit)
        return due

    def _open_status(self, lim: Limit, due: datetime) -> StageStatus:
        """Overdue; due soon when the time left is strictly less than ``due_soon_percent`` of the limit,
        both in the rule's own unit (working time for working units: closed days and pauses, all before
        now, not counted); else not due."""
        now = self.now
        if now >= due:  # due at or before the as-of time and not done by then: late (R4)
            return StageStatus.OVERDUE
        share = lim.amount * self.due_soon_percent / 100
        return StageStatus.DUE_SOON if self.cal.elapsed(now, due, lim.unit) < share else StageStatus.NOT_DUE

    def _open(self, lim: Limit, status: StageStatus, due: datetime | None) -> StageResult:
        """A stage not done; those due at the same end of a day share one result."""
        if not lim.by_day:
            return self._open_result(lim, status, due)
        key = (lim.stage, status, due, lim.unit)
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = self._open_result(lim, status, due)
        return found

    def _open_result(self, lim: Limit, status: StageStatus, due: datetime | None) -> StageResult:
        late = None
        if status == "overdue":
            late = round(self.cal.elapsed(due, self.now, lim.unit), 2)  # type: ignore[arg-type]
        elif status == "due_soon":
            late = round(self.cal.elapsed(self.now, due, lim.unit), 2)  # type: ignore[arg-type]
        return StageResult(lim.stage, status, due, None, late, lim.unit)


def _overall(c: Complaint, stages: dict[str, StageResult], cycle: Cycle, closed: bool,
             action: NextAction) -> OverallStatus:
    """The overall status, read off the same state as the next action so that the two never disagree."""
    if c.validity == "invalid":
        return OverallStatus.INVALID
    if closed:
        return OverallStatus.CLOSED
    if cycle.paused_now:
        return OverallStatus.PAUSED
    if action is NextAction.CALLBACK or action is NextAction.RETRY_CALLBACK:
        return OverallStatus.AWAITING_CALLBACK
    if action is NextAction.CLOSE:
        return OverallStatus.AWAITING_CLOSE
    if cycle.reopen_count and stages["resolve"].done_at is None:
        return OverallStatus.REOPENED
    return OverallStatus.OPEN


def _escalation(c: Complaint, stages: dict[str, StageResult], cycle: Cycle, days_overdue: float | None) -> Escalation:
    """none → supervisor → manager → general manager, the highest any rule reaches.

    supervisor: any stage overdue, an important complaint, or a repeat complaint;
    manager: a major or escalated (投诉升级) complaint, or overdue by more than 3 days;
    general manager: a major complaint overdue, an escalated one overdue, or a second reopening
    (the customer was not satisfied twice).
    """
    if c.validity == "invalid" or stages["close"].done_at is not None:
        return Escalation.NONE
    overdue = days_overdue is not None and days_overdue > 0
    level = 0
    if overdue or c.severity == "important" or cycle.repeat_of:
        level = 1
    if c.severity == "major" or c.escalated or (days_overdue or 0) > 3:
        level = 2
    if (overdue and (c.severity == "major" or c.escalated)) or cycle.reopen_count >= 2:
        level = 3
    return ESCALATION_ORDER[level]


_OPEN_STATUSES = frozenset({StageStatus.OVERDUE, StageStatus.DUE_SOON, StageStatus.NOT_DUE})
#: Each stage's next action, named as the stage (a stage without one fails here, on import).
_ACTION_OF = {s: NextAction(s) for s in STAGES}


def _next_action(c: Complaint, stages: dict[str, StageResult], cycle: Cycle,
                 closed: bool) -> tuple[NextAction, str | None]:
    """The first stage still to do, in ``STAGES`` order (a callback given up is not one); else close the case."""
    if c.validity == "invalid" or closed:
        return (NextAction.NONE, None)
    if cycle.paused_now:
        return (NextAction.FOLLOW_UP_PAUSE, None)
    for stage, s in stages.items():  # in STAGES order
        if s.status in _OPEN_STATUSES and s.done_at is None:
            if stage == "callback" and cycle.callbacks_failed:
                return (NextAction.RETRY_CALLBACK, stage)
            return (_ACTION_OF[stage], stage)
    return (NextAction.CLOSE, "close")


def evaluate(c: Complaint, settings: Settings, cal: WorkCalendar, now: datetime,
             cycle: Cycle | None = None, rules: RuleBook | None = None) -> ComplaintResult:
    """One complaint; for a whole register use one :class:`Evaluator`, which shares the set-up."""
    return Evaluator(settings, cal, now, rules).evaluate(c, cycle or NO_CYCLE)


def urgency_key(result: ComplaintResult, stage: StageResult) -> tuple[int, int, float]:
    """Overdue before due soon; major before general; the latest (or soonest due) first."""
    rank = 0 if stage.status == "overdue" else 1
    sev = severity_rank(result.complaint.severity)
    ts = stage.due.timestamp() if stage.due else 0.0
    return (rank, sev, ts)
