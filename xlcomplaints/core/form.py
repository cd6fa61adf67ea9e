"""What one complaint's handling form (投诉处理单) holds: pure, from what was read.

The deadlines and statuses are refresh's own: the same engine (``refresh.iter_results``) at the
same minute, the same hand-off clock on Tracking (``lifecycle.handoff_results``) and the same
attempt count on Callbacks, so the form shows what a refresh at that time writes on the sheets.
A complaint whose received time cannot be read gets no stage status, as on the Register, and its next
action names the cell to correct.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.cells import fold_code
from xlcomplaints.core.corrections import Correction
from xlcomplaints.core.deadlines import StageResult
from xlcomplaints.core.lifecycle import callback_attempts, handoff_results
from xlcomplaints.core.models import BranchData, CallbackAttempt, Complaint, TrackingStep
from xlcomplaints.core.refresh import iter_results, next_action_text
from xlcomplaints.core.status import Escalation, OverallStatus, StageStatus


@dataclass(frozen=True)
class StageLine:
    """One stage as refresh writes it on the Register (due, status), with when it was done and how
    late (or how much is left) in the rule's unit."""

    stage: str
    due: datetime | None
    status: StageStatus | None  # None on a row to correct, as refresh leaves it
    done_at: datetime | None = None
    late_by: float | None = None
    unit: Unit | None = None


@dataclass(frozen=True)
class StepLine:
    """A Tracking row of the complaint, with the hand-off's due time and status (codes) if it is one."""

    step: TrackingStep
    due: datetime | None = None
    status: str | None = None


@dataclass(frozen=True)
class CallbackLine:
    """A Callbacks row of the complaint, and which attempt it was."""

    attempt: CallbackAttempt
    number: int | None = None


@dataclass(frozen=True)
class CaseForm:
    """One complaint's page: its Register row, its stages as refresh computes them, and every
    Tracking step and callback recorded for it, in time order."""

    complaint: Complaint
    stages: tuple[StageLine, ...]
    status: OverallStatus
    days_overdue: float | None
    escalation: Escalation | None  # None on a row to correct, as refresh leaves it
    repeat_of: str | None
    reopen_count: int
    next_action: str  # in the form's language
    steps: tuple[StepLine, ...]
    callbacks: tuple[CallbackLine, ...]


@dataclass(frozen=True)
class Forms:
    forms: tuple[CaseForm, ...]
    not_found: tuple[str, ...]  # the numbers asked for, as given, that no complaint has


def _when(record: TrackingStep | CallbackAttempt) -> tuple[bool, datetime, int]:
    """Time order; rows without a readable time last, in sheet order."""
    return record.at is None, record.at or datetime.min, record.row or 0


def _stage(s: StageResult, known: bool) -> StageLine:
    if not known:
        return StageLine(s.stage, s.due, None)
    return StageLine(s.stage, s.due, s.status, s.done_at, s.late_by, s.unit)


def build_forms(data: BranchData, numbers: Sequence[str], now: datetime, lang: str,
                corrections: Mapping[int, Correction] | None = None) -> Forms:
    """The form of every complaint numbered as one of ``numbers`` (compared as the Register reads
    numbers: full-width forms and letter case folded), in the order asked; a number two rows share
    gives both. ``now`` is the minute refresh would compute at."""
    corrections = corrections or {}
    wanted = {fold_code(n.strip()): n for n in numbers}
    order = list(dict.fromkeys(fold_code(n.strip()) for n in numbers))
    handoffs = handoff_results(data, now)
    attempts = callback_attempts(data)
    steps_of: dict[str, list[TrackingStep]] = defaultdict(list)
    for s in data.tracking:
        if s.no in wanted:
            steps_of[s.no].append(s)
    calls_of: dict[str, list[CallbackAttempt]] = defaultdict(list)
    for a in data.callbacks:
        if a.no in wanted:
            calls_of[a.no].append(a)
    found: dict[str, list[CaseForm]] = {}
    for r in iter_results(data, now):
        c = r.complaint
        if c.no is None or c.no not in wanted:
            continue
        fix = corrections.get(c.row or 0)
        steps = sorted(steps_of[c.no], key=_when)
        calls = sorted(calls_of[c.no], key=_when)
        found.setdefault(c.no, []).append(CaseForm(
            complaint=c,
            stages=tuple(_stage(s, fix is None) for s in r.stages.values()),
            status=r.status,
            days_overdue=r.days_overdue,
            escalation=None if fix else r.escalation,
            repeat_of=r.repeat_of,
            reopen_count=r.reopen_count,
            next_action=fix.action(lang) if fix else next_action_text(r, lang),
            steps=tuple(StepLine(s, *handoffs.get(s.row or 0, (None, None))) for s in steps),
            callbacks=tuple(CallbackLine(a, attempts.get(a.row or 0)) for a in calls),
        ))
    return Forms(forms=tuple(f for no in order for f in found.get(no, ())),
                 not_found=tuple(wanted[no] for no in order if no not in found))
