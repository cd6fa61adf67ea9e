"""Stage deadlines and statuses for each complaint, from the policy and the calendar.

For each stage: the due time (policy limit counted from the stage's anchor on the
office's calendar, pushed later by recorded pauses), and a status — not due, due
soon, overdue, done on time, done late — with how late (or how much is left) in the
rule's own unit. Then what a supervisor reads first: overall status, days overdue,
escalation level and the next action. Pure; ``now`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from xlcomplaints.core.calendar import CalendarWarning, OfficeHours, Unit, WorkCalendar
from xlcomplaints.core.models import BranchData, Complaint, PolicyRule, Settings
from xlcomplaints.core.policy import STAGES, rule_for

Pause = tuple[datetime, datetime]

#: The Register column that marks each stage done.
DONE_FIELD: dict[str, str] = {
    "acknowledge": "acknowledged_at",
    "first_contact": "first_contact_at",
    "report": "reported_at",
    "resolve": "resolved_at",
    "reply": "replied_at",
    "callback": "callback_at",
    "close": "closed_at",
}
UNITS: dict[str, Unit] = {u.value: u for u in Unit}  # a dict lookup, not an Enum call per stage
#: Stages whose clock stops while the case waits on the customer or is in cold handling.
PAUSABLE = frozenset({"resolve", "reply", "close"})
SEVERITY_RANK = {"major": 0, "important": 1, "general": 2}
ESCALATION_ORDER = ("none", "supervisor", "manager", "general_manager")


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: str
    status: str  # a STAGE_STATUS code
    due: datetime | None = None
    done_at: datetime | None = None
    late_by: float | None = None  # >0 late, for overdue/done_late; time left for due_soon
    unit: str | None = None


@dataclass(slots=True)
class ComplaintResult:
    complaint: Complaint
    stages: dict[str, StageResult]
    status: str
    days_overdue: float | None
    escalation: str
    next_action: str  # a NEXT_ACTION code
    next_stage: str | None = None
    repeat_of: str | None = None
    reopen_count: int = 0
    warnings: set[CalendarWarning] = field(default_factory=set)

    def overdue_stages(self) -> list[StageResult]:
        return [s for s in self.stages.values() if s.status == "overdue"]


@dataclass(frozen=True)
class Cycle:
    """What the lifecycle (tracking, callbacks) adds to a complaint's own row.

    ``start`` replaces the receipt as the anchor of handling stages after a reopening;
    ``done`` gives stage times derived from the tracking sheet where the Register is blank.
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


def make_calendar(settings: Settings, data: BranchData | None = None) -> WorkCalendar:
    closures = [e.date for e in (data.calendar if data else ()) if e.date and e.kind == "closure"]
    working = [e.date for e in (data.calendar if data else ()) if e.date and e.kind == "working"]
    return WorkCalendar(settings.country, extra_closures=closures, extra_working_days=working,
                        office_hours=OfficeHours(settings.office_start, settings.office_end))


def _applies(stage: str, c: Complaint) -> bool:
    if c.validity == "invalid":
        return False
    return not (stage == "first_contact" and c.validity not in (None, "valid", "assist"))


#: Stages a reopening starts again; acknowledgement, first contact and the report stay done.
RESTARTED = frozenset({"resolve", "reply", "callback", "close"})


def done_time(stage: str, c: Complaint, cycle: Cycle) -> datetime | None:
    """When a stage was done: the Register's time or the Tracking sheet's, whichever the
    Settings say wins, the other filling in when blank. In a reopened case only times
    from the current handling cycle count."""
    typed = getattr(c, DONE_FIELD[stage])
    if typed is not None and cycle.start is not None and stage in RESTARTED and typed < cycle.start:
        typed = None
    tracked = cycle.done.get(stage)
    return (tracked or typed) if cycle.tracking_first else (typed or tracked)


def stage_result(stage: str, c: Complaint, rule: PolicyRule | None, cal: WorkCalendar, now: datetime,
                 settings: Settings, cycle: Cycle, warnings: set[CalendarWarning]) -> StageResult:
    done_at = done_time(stage, c, cycle)
    if rule is None or not _applies(stage, c) or c.received_at is None:
        return StageResult(stage, "not_applicable", done_at=done_at)
    unit = UNITS[rule.unit]  # type: ignore[index]
    amount = rule.amount or 0.0
    if stage == "callback":
        anchor = done_time("resolve", c, cycle) or done_time("reply", c, cycle)
        if anchor is None:
            return StageResult(stage, "not_due", done_at=done_at, unit=rule.unit)
    else:
        anchor = c.received_at
        if cycle.start is not None and stage not in ("acknowledge", "first_contact", "report"):
            anchor = max(anchor, cycle.start)
    pauses = cycle.pauses if stage in PAUSABLE else ()
    computed = cal.add(anchor, amount, unit, pauses=pauses)
    warnings.update(computed.warnings)
    due = computed.at
    if stage == "callback" and cycle.callback_due_override is not None and done_at is None:
        due = cycle.callback_due_override
    if done_at is not None:
        if done_at <= due:
            return StageResult(stage, "done_on_time", due, done_at, None, rule.unit)
        return StageResult(stage, "done_late", due, done_at, round(cal.elapsed(due, done_at, unit), 2), rule.unit)
    if done_time("close", c, cycle) is not None and stage != "close":
        return StageResult(stage, "not_applicable", due, None, None, rule.unit)
    if now > due:
        return StageResult(stage, "overdue", due, None, round(cal.elapsed(due, now, unit), 2), rule.unit)
    total = (due - anchor).total_seconds()
    left = (due - now).total_seconds()
    if total > 0 and left <= total * settings.due_soon_percent / 100:
        return StageResult(stage, "due_soon", due, None, round(cal.elapsed(now, due, unit), 2), rule.unit)
    return StageResult(stage, "not_due", due, None, None, rule.unit)


def _overall(c: Complaint, stages: dict[str, StageResult], cycle: Cycle) -> str:
    if c.validity == "invalid":
        return "invalid"
    if done_time("close", c, cycle) is not None:
        return "closed"
    if cycle.paused_now:
        return "paused"
    resolved = stages["resolve"].done_at is not None
    if cycle.reopen_count and not resolved:
        return "reopened"
    return "awaiting_callback" if resolved else "open"


def _escalation(c: Complaint, stages: dict[str, StageResult], cycle: Cycle, days_overdue: float | None) -> str:
    """none → supervisor → manager → general manager, the highest any rule reaches.

    supervisor: any stage overdue, an important complaint, or a repeat complaint;
    manager: a major or escalated (投诉升级) complaint, or overdue by more than 3 days;
    general manager: a major complaint overdue, an escalated one overdue, or a second reopening
    (the customer was not satisfied twice).
    """
    if c.validity == "invalid" or stages["close"].done_at is not None:
        return "none"
    overdue = days_overdue is not None and days_overdue > 0
    level = 0
    if overdue or c.severity == "important" or cycle.repeat_of:
        level = 1
    if c.severity == "major" or c.escalated or (days_overdue or 0) > 3:
        level = 2
    if (overdue and (c.severity == "major" or c.escalated)) or cycle.reopen_count >= 2:
        level = 3
    return ESCALATION_ORDER[level]


def _next_action(c: Complaint, stages: dict[str, StageResult], status: str, cycle: Cycle) -> tuple[str, str | None]:
    if status in ("invalid", "closed"):
        return ("none", None)
    if status == "paused":
        return ("follow_up_pause", None)
    order = ("acknowledge", "first_contact", "report", "resolve", "reply", "callback", "close")
    if cycle.gave_up_callback and stages["callback"].done_at is None:
        order = tuple(s for s in order if s != "callback")
    for stage in order:
        s = stages[stage]
        if s.status in ("overdue", "due_soon", "not_due") and s.done_at is None:
            if stage == "callback" and cycle.callbacks_failed:
                return ("retry_callback", stage)
            return (stage, stage)
    return ("close", "close")


class RuleBook:
    """The policy's rules with lookups remembered: rules match on a few fields, which repeat."""

    def __init__(self, rules: Sequence[PolicyRule]) -> None:
        self.rules = tuple(rules)
        self._memo: dict[tuple[str | None, ...], PolicyRule | None] = {}

    def get(self, stage: str, c: Complaint) -> PolicyRule | None:
        key = (stage, c.severity, c.category, c.channel, c.complexity)
        if key not in self._memo:
            self._memo[key] = rule_for(stage, c, self.rules)
        return self._memo[key]


def evaluate(c: Complaint, settings: Settings, cal: WorkCalendar, now: datetime,
             cycle: Cycle | None = None, rules: RuleBook | None = None) -> ComplaintResult:
    cycle = cycle or Cycle()
    rules = rules or RuleBook(settings.policy)
    warnings: set[CalendarWarning] = set()
    stages = {s: stage_result(s, c, rules.get(s, c), cal, now, settings, cycle, warnings) for s in STAGES}
    status = _overall(c, stages, cycle)
    late = [(now - s.due).total_seconds() / 86400 for s in stages.values() if s.status == "overdue" and s.due]
    days_overdue = round(max(late), 1) if late else None
    action, next_stage = _next_action(c, stages, status, cycle)
    return ComplaintResult(
        complaint=c, stages=stages, status=status, days_overdue=days_overdue,
        escalation=_escalation(c, stages, cycle, days_overdue), next_action=action, next_stage=next_stage,
        repeat_of=cycle.repeat_of, reopen_count=cycle.reopen_count, warnings=warnings,
    )


def urgency_key(result: ComplaintResult, stage: StageResult) -> tuple[int, int, float]:
    """Overdue before due soon; major before general; the latest (or soonest due) first."""
    rank = 0 if stage.status == "overdue" else 1
    sev = SEVERITY_RANK.get(result.complaint.severity or "", 3)
    ts = stage.due.timestamp() if stage.due else 0.0
    return (rank, sev, ts)
