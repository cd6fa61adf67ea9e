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
from collections.abc import Sequence
from datetime import datetime, timedelta

from xlcomplaints.core.deadlines import Cycle
from xlcomplaints.core.models import BranchData, CallbackAttempt, Complaint, Settings, TrackingStep

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


def _contact_key(c: Complaint) -> str | None:
    if c.phone:
        digits = "".join(ch for ch in c.phone if ch.isdigit())
        return f"tel:{digits[-11:]}" if digits else None
    return f"name:{c.customer.strip()}" if c.customer else None


def find_repeats(complaints: Sequence[Complaint], window_days: int) -> dict[str, str]:
    """Complaint number → the earlier complaint it repeats (same customer, same category, within the window)."""
    by_key: dict[tuple[str, str | None], list[Complaint]] = defaultdict(list)
    for c in complaints:
        key = _contact_key(c)
        if key and c.no and c.received_at and c.validity != "invalid":
            by_key[(key, c.category)].append(c)
    out: dict[str, str] = {}
    window = timedelta(days=window_days)
    for group in by_key.values():
        group.sort(key=lambda c: c.received_at)  # type: ignore[arg-type, return-value]
        for earlier, later in zip(group, group[1:], strict=False):
            assert earlier.received_at and later.received_at and later.no and earlier.no
            if later.received_at - earlier.received_at <= window:
                out[later.no] = earlier.no
    return out


def build_cycle(c: Complaint, steps: Sequence[TrackingStep], callbacks: Sequence[CallbackAttempt],
                settings: Settings, now: datetime, repeat_of: str | None = None) -> Cycle:
    """Walk one complaint's steps and callback attempts in time order."""
    events: list[tuple[datetime, int, str, object]] = []
    for s in steps:
        if s.at and s.step:
            events.append((s.at, 0, "step", s))
    for a in callbacks:
        if a.at and a.outcome:
            events.append((a.at, 1, "callback", a))
    events.sort(key=lambda e: (e[0], e[1]))
    done: dict[str, datetime] = {}
    pauses: list[tuple[datetime, datetime]] = []
    pause_start: datetime | None = None
    start: datetime | None = None
    reopen_count = 0
    failed = 0
    retry_due: datetime | None = None
    gave_up = False
    retries = settings.callback_retry_hours or (24.0,)

    def reopen(at: datetime) -> None:
        nonlocal start, reopen_count, failed, retry_due, gave_up
        start, reopen_count, failed, retry_due, gave_up = at, reopen_count + 1, 0, None, False
        for stage in ("resolve", "reply", "callback", "close"):
            done.pop(stage, None)

    for at, _, kind, rec in events:
        if kind == "step":
            step = rec.step  # type: ignore[attr-defined]
            if pause_start is not None and step in RESUME_STEPS:
                pauses.append((pause_start, at))
                pause_start = None
            if step in PAUSE_STEPS and pause_start is None:
                pause_start = at
            elif step == "reopened":
                reopen(at)
            elif step in STEP_DONE:
                done.setdefault(STEP_DONE[step], at)
        else:
            outcome = rec.outcome  # type: ignore[attr-defined]
            if outcome == "unreachable":
                failed += 1
                if failed >= settings.callback_max_attempts:
                    gave_up = True
                    retry_due = None
                else:
                    retry_due = at + timedelta(hours=retries[min(failed - 1, len(retries) - 1)])
            elif outcome == "unsatisfied":
                done.setdefault("callback", at)
                reopen(at)
            elif outcome == "satisfied":
                done.setdefault("callback", at)
                retry_due = None
    paused_now = pause_start is not None
    if paused_now:
        assert pause_start is not None
        pauses.append((pause_start, max(now, pause_start)))
    return Cycle(start=start, done=done, pauses=tuple(pauses), paused_now=paused_now, reopen_count=reopen_count,
                 repeat_of=repeat_of, callback_due_override=retry_due, callbacks_failed=failed,
                 gave_up_callback=gave_up, tracking_first=settings.timestamps_rule == "tracking")


def build_cycles(data: BranchData, now: datetime) -> list[Cycle]:
    """One cycle per complaint, in the order of ``data.complaints`` (numbers may be missing
    or duplicated, and records built through the API may have no sheet row)."""
    steps: dict[str, list[TrackingStep]] = defaultdict(list)
    calls: dict[str, list[CallbackAttempt]] = defaultdict(list)
    for s in data.tracking:
        if s.no:
            steps[s.no].append(s)
    for a in data.callbacks:
        if a.no:
            calls[a.no].append(a)
    repeats = find_repeats(data.complaints, data.settings.repeat_window_days)
    return [build_cycle(c, steps.get(c.no or "", ()), calls.get(c.no or "", ()), data.settings, now,
                        repeats.get(c.no or ""))
            for c in data.complaints]


HANDOFF_STEPS = frozenset({"assigned", "transferred"})


def handoff_results(data: BranchData, now: datetime) -> dict[int, tuple[datetime, str]]:
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
    out: dict[int, tuple[datetime, str]] = {}
    for steps in by_no.values():
        steps.sort(key=lambda x: x.at)  # type: ignore[arg-type, return-value]
        for i, step in enumerate(steps):
            if step.step not in HANDOFF_STEPS or step.row is None:
                continue
            assert step.at is not None
            after = next((x for x in steps[i + 1:] if x.at and x.at >= step.at), None)
            hours = s.handoff_hours
            if after is not None and after.step == "waiting_customer":
                hours = s.handoff_unreachable_hours
            due = step.at + timedelta(hours=hours)
            if after is not None and after.at is not None:
                status = "done_on_time" if after.at <= due else "done_late"
            elif now > due:
                status = "overdue"
            elif (due - now) <= timedelta(hours=hours) * s.due_soon_percent / 100:
                status = "due_soon"
            else:
                status = "not_due"
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
