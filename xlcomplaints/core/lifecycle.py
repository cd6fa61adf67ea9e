"""The loop around a complaint: handling steps, callbacks, reopenings and repeats.

From the Tracking and Callbacks sheets this derives, per complaint, a ``Cycle``: stage
times a clerk did not type in the Register, the pauses that stop the clock, whether
the case was reopened (and from when its new handling cycle counts), the callback
retry schedule, and whether it repeats an earlier complaint.

Which wins when both exist: a time typed in the Register wins over the tracking
sheet (the clerk corrected it on purpose); the validator reports disagreements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from xlcomplaints.core.deadlines import NO_CYCLE, RESTARTED, Cycle
from xlcomplaints.core.models import BranchData, CallbackAttempt, Complaint, Settings, TrackingStep
from xlcomplaints.core.status import StageStatus

#: Tracking steps that complete a stage.
STEP_DONE: dict[str, str] = {
    "contacted": "first_contact",
    "reported": "report",
    "resolved": "resolve",
    "replied": "reply",
    "closed": "close",
}
PAUSE_STEPS = frozenset({"waiting_customer", "cold_handling"})
#: Steps that mean work goes on again: they end a pause.
RESUME_STEPS = frozenset({"resumed", "contacted", "investigating", "resolved", "replied", "closed",
                          "transferred", "assigned", "reopened", "escalated"})


def contact_key(phone: str | None, customer: str | None) -> str | None:
    """Who complained: the phone number's last 11 digits, else the name (what repeats are found by)."""
    if phone:
        digits = phone if phone.isdigit() else "".join(filter(str.isdigit, phone))
        return f"tel:{digits[-11:]}" if digits else None
    return f"name:{customer.strip()}" if customer else None


_time_then_kind = itemgetter(0, 1)
#: The fields repeats are found by.
_repeat_fields = attrgetter("no", "received_at", "validity", "category", "phone", "customer")
_first = itemgetter(0)

T = TypeVar("T")
#: One complaint as the repeat rule sees it: (what the caller wants back, number, received time,
#: validity, category, phone, customer name).
RepeatRecord = tuple[T, str | None, Any, str | None, str | None, str | None, str | None]


def repeat_pairs(records: Iterable[RepeatRecord[T]],
                 who: Callable[[str | None, str | None], str | None] = contact_key) -> Iterator[tuple[T, T]]:
    """The repeat-complaint rule up to its window, for one branch's engine and for a consolidation:
    (earlier, later) for every two complaints in a row, by received time, from the same customer
    (``who``) about the same category. Complaints without a number, a received time or a customer,
    and invalid ones, repeat nothing and are repeated by nothing. The caller holds each pair to its
    window (``repeat_window_days``) and keeps the later complaint's ``repeat_of``."""
    groups: dict[tuple[str, str | None], list[tuple[Any, T]]] = defaultdict(list)
    for item, no, received_at, validity, category, phone, customer in records:
        if no and received_at is not None and validity != "invalid" and (key := who(phone, customer)):
            groups[(key, category)].append((received_at, item))
    for group in groups.values():
        if len(group) > 1:
            group.sort(key=_first)
            for (_, earlier), (_, later) in zip(group, group[1:], strict=False):
                yield earlier, later


def find_repeats(complaints: Sequence[Complaint], window_days: int) -> dict[str, str]:
    """Complaint number → the earlier complaint it repeats (``repeat_pairs`` within the window)."""
    window = timedelta(days=window_days)
    out: dict[str, str] = {}
    earlier: Complaint
    later: Complaint
    for earlier, later in repeat_pairs((c, *_repeat_fields(c)) for c in complaints):
        assert earlier.received_at and later.received_at and later.no and earlier.no
        if later.received_at - earlier.received_at <= window:
            out[later.no] = earlier.no
    return out


def build_cycle(c: Complaint, steps: Sequence[TrackingStep], callbacks: Sequence[CallbackAttempt],
                settings: Settings, now: datetime, repeat_of: str | None = None) -> Cycle:
    """Walk one complaint's steps and callback attempts in time order.

    One reopening is one event however many sheets record it: within one handling cycle (after a
    resolution — a 处理完成 step or the Register's time — and before the next), unsatisfied callbacks
    and 重新处理 steps together are one reopening, whose clocks restart at its first record.
    """
    tracking_first = settings.timestamps_rule == "tracking"
    if not steps and not callbacks and repeat_of is None:  # nothing recorded: the usual case
        return _QUIET[tracking_first]
    events: list[tuple[datetime, int, str]] = []  # (when, 0 step / 1 callback / 2 Register, what)
    for s in steps:  # a record after ``now`` has not happened yet
        at, step = s.at, s.step
        if at and step and at <= now:
            events.append((at, 0, step))
    for a in callbacks:
        at, outcome = a.at, a.outcome
        if at and outcome and at <= now:
            events.append((at, 1, outcome))
    if c.resolved_at is not None and c.resolved_at <= now:  # the Register's resolution also ends a reopening (kind 2: no stage done)
        events.append((c.resolved_at, 2, "resolved"))
    events.sort(key=_time_then_kind)  # stable: same-time steps stay in sheet order
    done: dict[str, datetime] = {}
    pauses: list[tuple[datetime, datetime]] = []
    pause_start: datetime | None = None
    start: datetime | None = None
    reopen_count = 0
    failed = 0
    retry_due: datetime | None = None
    gave_up = False
    reopening = False  # a reopening was recorded since the last resolution (one event, however many records)
    for at, kind, what in events:
        reopened = False
        if what == "resolved":
            reopening = False
        if kind == 2:
            continue
        if kind == 0:
            if pause_start is not None and what in RESUME_STEPS:
                pauses.append((pause_start, at))
                pause_start = None
            if what in PAUSE_STEPS and pause_start is None:
                pause_start = at
            elif what == "reopened":
                reopened = True
            elif what in STEP_DONE:
                done.setdefault(STEP_DONE[what], at)
        elif what == "unreachable":
            failed += 1
            if failed >= settings.callback_max_attempts:
                gave_up = True
                retry_due = None
            else:
                retries = settings.callback_retry_hours or (24.0,)
                retry_due = at + timedelta(hours=retries[min(failed - 1, len(retries) - 1)])
        elif what == "unsatisfied":  # the callback of the cycle it reopens: not a done stage of the new one
            reopened = True
        elif what == "satisfied":
            done.setdefault("callback", at)
            retry_due = None
        if reopened and not reopening:  # a new handling cycle counts from its first record
            reopening = True
            start, reopen_count, failed, retry_due, gave_up = at, reopen_count + 1, 0, None, False
            for stage in RESTARTED:
                done.pop(stage, None)
    paused_now = pause_start is not None
    if paused_now:
        assert pause_start is not None
        pauses.append((pause_start, max(now, pause_start)))
    return Cycle(start, done, tuple(pauses) if pauses else (), paused_now, reopen_count, repeat_of, retry_due,
                 failed, gave_up, tracking_first)


#: The shared cycles of complaints with nothing recorded, by whether tracking times win.
_QUIET = {False: NO_CYCLE, True: Cycle(tracking_first=True)}


def build_cycles(data: BranchData, now: datetime) -> list[Cycle]:
    """One cycle per complaint, in the order of ``data.complaints`` (numbers may be missing
    or duplicated, and records built through the API may have no sheet row)."""
    return list(iter_cycles(data, now))


def iter_cycles(data: BranchData, now: datetime) -> Iterator[Cycle]:
    """``build_cycles`` one at a time, so that a caller evaluating as it goes holds none of them."""
    steps: dict[str, list[TrackingStep]] = defaultdict(list)
    calls: dict[str, list[CallbackAttempt]] = defaultdict(list)
    for s in data.tracking:
        if no := s.no:
            steps[no].append(s)
    for a in data.callbacks:
        if no := a.no:
            calls[no].append(a)
    settings = data.settings
    repeats = find_repeats(data.complaints, settings.repeat_window_days)
    for c in data.complaints:
        no = c.no or ""
        yield build_cycle(c, steps.get(no, ()), calls.get(no, ()), settings, now, repeats.get(no))


HANDOFF_STEPS = frozenset({"assigned", "transferred"})
#: The statuses a hand-off can have: stage statuses (``StageStatus``, the Tracking sheet's 本步状态 shows
#: their ``spec.vocab.STAGE_STATUS`` words), of a clock that is never missed, given up or not applicable.
HANDOFF_STATUSES = frozenset({StageStatus.NOT_DUE, StageStatus.DUE_SOON, StageStatus.OVERDUE,
                              StageStatus.DONE_ON_TIME, StageStatus.DONE_LATE})


def handoff_results(data: BranchData, now: datetime) -> dict[int, tuple[datetime, StageStatus]]:
    """Tracking row → (due, status) for each hand-off to a department.

    The receiving department must act — any later step on the case — within
    ``handoff_hours`` (24 in the car-dealer rules), or ``handoff_unreachable_hours`` (48)
    when its first action is to record that the customer cannot be reached.
    """
    s = data.settings
    by_no: dict[str, list[TrackingStep]] = defaultdict(list)
    for step in data.tracking:
        if step.no and step.at and step.step:
            by_no[step.no].append(step)
    out: dict[int, tuple[datetime, StageStatus]] = {}
    for steps in by_no.values():
        steps.sort(key=lambda x: x.at)  # type: ignore[arg-type, return-value]
        for i, step in enumerate(steps):
            if step.step not in HANDOFF_STEPS or step.row is None:
                continue
            assert step.at is not None
            after = next((x for x in steps[i + 1:] if x.at and step.at <= x.at <= now), None)
            hours = s.handoff_hours
            if after is not None and after.step == "waiting_customer":
                hours = s.handoff_unreachable_hours
            due = step.at + timedelta(hours=hours)
            if after is not None and after.at is not None:
                status = StageStatus.DONE_ON_TIME if after.at <= due else StageStatus.DONE_LATE
            elif now >= due:
                status = StageStatus.OVERDUE
            elif (due - now) < timedelta(hours=hours) * s.due_soon_percent / 100:  # strictly, as the stages
                status = StageStatus.DUE_SOON
            else:
                status = StageStatus.NOT_DUE
            out[step.row] = (due, status)
    return out


def callback_attempts(data: BranchData) -> dict[int, int]:
    """Callback row → which attempt it was for its complaint (1, 2, 3 …), in time order."""
    by_no: dict[str, list[CallbackAttempt]] = defaultdict(list)
    for a in data.callbacks:
        if a.no and a.at and a.row:
            by_no[a.no].append(a)
    out: dict[int, int] = {}
    for attempts in by_no.values():
        attempts.sort(key=lambda a: a.at)  # type: ignore[arg-type, return-value]
        for n, a in enumerate(attempts, start=1):
            out[a.row] = n  # type: ignore[index]
    return out
