"""Small random but realistic sets of branch workbooks, for the hunt between the report's two engines (issue 22).

``random_set(seed, directory)`` writes 2–4 branch workbooks (0–30 complaints each, through ``samples.write_branch``,
so the files are what ``xlcomplaints new`` makes) and says which period to report, with which ``as_of`` and ``now``.
The complaints mix what offices meet: cases reopened after an unsatisfied callback, escalations (the flag or a
Tracking step), callbacks reached or not, with scores or without, closes inside and outside the period, stages done
on time, late or not at all, pauses (waiting for the customer, then resumed), a complaint number in two branches'
files, the same phone again within the repeat window, received times typed as text that is no time, optional columns
left blank, sometimes an office's own stage or a breakdown by a column of its own, branches of another industry's
limits (another unit of time), a day closed and a weekend day worked on the Calendar, Tracking's times winning over
the Register's (``timestamps_rule``). Seeded: the same seed writes the same files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from tests.samples import write_branch
from xlcomplaints.core.metrics import Period
from xlcomplaints.core.models import (
    BranchData,
    CalendarEntry,
    CallbackAttempt,
    Complaint,
    CustomStage,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.policy import default_policy
from xlcomplaints.policy_file import load_preset
from xlcomplaints.spec import branch as B

_DEPARTMENTS = ("客服部", "工程部", "保安部", "保洁部")
_HANDLERS = ("赵敏", "钱伟", "孙丽", "李强")
_CUSTOMERS = ("王伟", "李娜", "张敏")
_CATEGORIES = ("quality", "attitude", "delay", "billing", "facilities", "environment")
WEEKLY = CustomStage(name="重大投诉每周通报", name_en="Weekly update (major)", start="受理", done_step="reported",
                     severity="major", amount=7, unit="calendar_days", recurring=True, source="种子001/004")


@dataclass(frozen=True)
class EngineSet:
    """The files of one set and how to report them."""

    paths: tuple[Path, ...]
    period: Period
    as_of: datetime | None
    now: datetime
    seed: int


def _period(rng: random.Random) -> Period:
    kind = rng.random()
    if kind < 0.6:
        return Period.month(2026, rng.choice((9, 10)))
    if kind < 0.85:
        return Period.week(2026, rng.choice((40, 42, 44)))
    return Period.quarter(2026, 3)


def _at(rng: random.Random, t: datetime, lo_h: float, hi_h: float) -> datetime:
    return (t + timedelta(hours=rng.uniform(lo_h, hi_h))).replace(second=0, microsecond=0)


def _complaint(rng: random.Random, code: str, i: int, period: Period, as_of: datetime | None, now: datetime,
               phones: list[str],
               tracking: list[TrackingStep], callbacks: list[CallbackAttempt]) -> Complaint:
    span = (period.end - period.start) + timedelta(days=45)
    received = period.start - timedelta(days=40) + timedelta(seconds=rng.random() * span.total_seconds())
    received = min(received, now - timedelta(hours=2)).replace(second=0, microsecond=0)
    edges = [period.start, period.end, period.end - timedelta(minutes=1), *([as_of] if as_of else [])]
    if rng.random() < 0.05:
        received = min(rng.choice(edges), now - timedelta(hours=2))
    if phones and rng.random() < 0.15:  # the same customer again, within the repeat window or just after it
        phone = rng.choice(phones)
    else:  # few numbers, some alike once masked (138****5678) but another customer's
        phone = f"138{rng.randint(0, 2):04d}{rng.choice(('5678', '1234', f'{rng.randint(0, 9999):04d}'))}"
        phones.append(phone)
    customer = _CUSTOMERS[int(phone[3:7]) if rng.random() < 0.9 else rng.randrange(len(_CUSTOMERS))]
    no = f"{code}-{received:%y%m}{i + 1:03d}"
    severity = rng.choice(("general", "general", "important", "major"))
    validity = rng.choice(("valid", "valid", "valid", "assist", "invalid"))
    pace = rng.choice((0.3, 1.0, 1.0, 3.0, 8.0))  # how fast this case is handled: early … very late

    def stage(after: datetime, lo: float, hi: float, p_done: float = 0.85) -> datetime | None:
        if rng.random() > p_done:
            return None
        t = _at(rng, after, lo * pace, hi * pace)
        if rng.random() < 0.05:  # on a boundary: the period's start or end, or the as-of time
            t = max(after, rng.choice(edges))
        return t if t < now else None

    times: dict[str, Any] = {}
    handler = rng.choice((*_HANDLERS, None))
    if validity != "invalid" or rng.random() < 0.3:
        times["acknowledged_at"] = stage(received, 0.1, 12)
        times["first_contact_at"] = stage(received, 0.1, 3)
        if severity == "major" or rng.random() < 0.1:
            times["reported_at"] = stage(received, 0.5, 30)
        resolved = stage(received, 2, 90, 0.8)
        times["resolved_at"] = resolved
        if resolved is not None:
            if rng.random() < 0.15:  # paused for the customer, then resumed
                paused = _at(rng, received, 0.5, 10)
                if paused < resolved:
                    tracking.append(TrackingStep(no=no, at=paused, step="waiting_customer", handler=handler))
                    back = _at(rng, paused, 2, 60)
                    if back < resolved:
                        tracking.append(TrackingStep(no=no, at=back, step="resumed", handler=handler))
            times["replied_at"] = stage(resolved, 0.2, 8)
            cb = stage(resolved, 2, 80, 0.75)
            if cb is not None:
                for _ in range(rng.choice((0, 0, 0, 1, 3))):  # not reached: once, or given up after three
                    callbacks.append(CallbackAttempt(no=no, at=cb, method="phone", caller=handler,
                                                     outcome="unreachable"))
                    cb = _at(rng, cb, 20, 30)
                if cb < now and rng.random() < 0.9:
                    happy = rng.random() < 0.8
                    score = (rng.randint(6, 10) if happy else rng.randint(1, 5)) if rng.random() < 0.8 else None
                    callbacks.append(CallbackAttempt(no=no, at=cb, method=rng.choice(("phone", "sms", "wechat")),
                                                     caller=handler, outcome="satisfied" if happy else "unsatisfied",
                                                     score=score))
                    times["callback_at"] = cb
                    if not happy and rng.random() < 0.7:  # reopened, handled once more
                        again = _at(rng, cb, 0.5, 6)
                        if again < now:
                            tracking.append(TrackingStep(no=no, at=again, step="reopened", handler=handler))
                            later = _at(rng, again, 4, 60)
                            if later < now and rng.random() < 0.7:
                                callbacks.append(CallbackAttempt(no=no, at=later, method="phone", caller=handler,
                                                                 outcome="satisfied", score=rng.randint(7, 10)))
                                times["callback_at"] = later
                                cb = later
                            else:
                                cb = None  # type: ignore[assignment]
                    if cb is not None and rng.random() < 0.85:
                        times["closed_at"] = stage(cb, 0.2, 40, 1.0)
                        if times["closed_at"] is not None and rng.random() < 0.2:  # closed on Tracking alone
                            tracking.append(TrackingStep(no=no, at=times.pop("closed_at"), step="closed",
                                                         handler=handler))
                elif rng.random() < 0.3:  # the Register's callback time, no attempt on Callbacks
                    times["callback_at"] = cb
                    if rng.random() < 0.6:
                        times["closed_at"] = stage(cb, 0.2, 40, 1.0)
        if rng.random() < 0.5:
            assigned = _at(rng, received, 0.1, 2)
            if assigned < now:
                tracking.append(TrackingStep(no=no, at=assigned, step="assigned",
                                             to_department=rng.choice(_DEPARTMENTS), handler=handler))
        if rng.random() < 0.1:  # handed on to another department
            moved = _at(rng, received, 2, 30)
            if moved < now:
                tracking.append(TrackingStep(no=no, at=moved, step="transferred", from_department=rng.choice(
                    _DEPARTMENTS), to_department=rng.choice(_DEPARTMENTS), handler=rng.choice(_HANDLERS)))
        if rng.random() < 0.08:
            esc = _at(rng, received, 1, 48)
            if esc < now:
                tracking.append(TrackingStep(no=no, at=esc, step="escalated", handler=handler))
    received_cell: Any = received
    if rng.random() < 0.04:  # typed as text that is no time
        received_cell = rng.choice((f"{received:%Y-%m}-3{rng.randint(2, 9)}", "上周三", f"{received:%m月%d日}下午"))
    blank = rng.random() < 0.2  # optional columns left blank
    return Complaint(
        row=i + 2, no=no, received_at=received_cell,
        case_type=None if blank else rng.choice(("complaint", "complaint", "repair", "inquiry")),
        channel=None if blank else rng.choice(("phone", "visit", "online", "social")),
        customer=None if blank and rng.random() < 0.5 else customer, phone=phone if rng.random() < 0.95 else None,
        category=None if blank else rng.choice(_CATEGORIES), severity=severity, validity=validity,
        complexity=None if blank else rng.choice(("simple", "complex")),
        escalated=rng.random() < 0.08 if not blank else None, content="门禁坏了",
        department=None if blank else rng.choice(_DEPARTMENTS), handler=handler, **times)


def _own_column(path: Path, header: str, rng: random.Random) -> None:
    """A column the office added after ours on the Register, some cells left blank."""
    wb = openpyxl.load_workbook(path)
    ws = wb[B.REGISTER.zh]
    col = len(B.REGISTER.columns) + 1
    ws.cell(1, col, header)
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col, rng.choice(("3栋", "5栋", "5栋", None)))
    wb.save(path)


def random_set(seed: int, directory: Path) -> EngineSet:
    """Write one set's branch workbooks under ``directory``."""
    rng = random.Random(f"engines-{seed}")
    period = _period(rng)
    if rng.random() < 0.25:  # --as-of inside the period, run on that day
        as_of: datetime | None = period.start + timedelta(hours=rng.randint(30, int(
            (period.end - period.start).total_seconds() // 3600) - 6))
        now = as_of + timedelta(hours=rng.choice((0, 3, 24 * 12)))  # later steps typed after the as-of time
    else:
        as_of = None
        now = period.end + timedelta(days=rng.choice((0, 1, 3, 20)), hours=9)
    phones: list[str] = []
    branches: list[tuple[Settings, list[Complaint], list[TrackingStep], list[CallbackAttempt], list[CalendarEntry]]] = []
    for b in range(rng.randint(2, 4)):
        code = f"B{b + 1}"
        tracking: list[TrackingStep] = []
        callbacks: list[CallbackAttempt] = []
        complaints = [_complaint(rng, code, i, period, as_of, now, phones, tracking, callbacks)
                      for i in range(rng.choice((0, *range(1, 31))))]
        custom = (WEEKLY,) if rng.random() < 0.15 else ()
        dims = ("楼栋",) if rng.random() < 0.2 else ()  # a breakdown by a column of the office's own
        preset = rng.choice((None, None, "insurer", "dealer", "retail", "manufacturer"))  # another unit of time
        calendar: list[CalendarEntry] = []
        if rng.random() < 0.3:  # the office closed a day in the period, and worked a weekend day
            day = (period.start + timedelta(days=rng.randrange(max(1, (period.end - period.start).days)))).date()
            calendar.append(CalendarEntry(date=day, kind="closure", note="停电"))
            sat = day + timedelta(days=(5 - day.weekday()) % 7)
            calendar.append(CalendarEntry(date=sat, kind="working", note="补班"))
        settings = Settings(branch_code=code, branch_name=f"网点{b + 1}",
                            timestamps_rule="tracking" if rng.random() < 0.2 else "register",
                            policy=load_preset(preset) if preset else default_policy(),
                            custom_stages=custom, report_dimensions=dims, repeat_window_days=rng.choice((30, 30, 7)))
        branches.append((settings, complaints, tracking, callbacks, calendar))
    if len(branches) >= 2 and rng.random() < 0.3:  # a complaint number in two branches' files
        src = next((b for b in branches if b[1]), None)
        if src is not None:
            dst = rng.choice([b for b in branches if b is not src])
            copied = rng.choice(src[1])
            dst[1].append(replace(copied, row=len(dst[1]) + 2, closed_at=copied.received_at
                                  if rng.random() < 0.5 and isinstance(copied.received_at, datetime) else None))
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for settings, complaints, tracking, callbacks, calendar in branches:
        data = BranchData(settings=settings, complaints=tuple(complaints), tracking=tuple(tracking),
                          callbacks=tuple(callbacks), calendar=tuple(calendar))
        path = write_branch(directory / f"{settings.branch_code}.xlsx", data)
        if settings.report_dimensions:
            _own_column(path, settings.report_dimensions[0], rng)
        paths.append(path)
    return EngineSet(tuple(paths), period, as_of, now, seed)
