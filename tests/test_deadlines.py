"""Deadlines, statuses and the life of a complaint, checked by hand against the 2026 calendar.

National Day 2026: Oct 1–7 off; Sun Sep 20 and Sat Oct 10 are make-up working days.
Spring Festival 2026: Feb 15–23 off; Sat Feb 14 and Sat Feb 28 are make-up working days.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcomplaints.core.calendar import WorkCalendar
from xlcomplaints.core.deadlines import Cycle, evaluate, make_calendar
from xlcomplaints.core.lifecycle import build_cycle, find_repeats
from xlcomplaints.core.models import (
    BranchData,
    CalendarEntry,
    CallbackAttempt,
    Complaint,
    PolicyRule,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.policy import default_policy

SETTINGS = Settings(policy=default_policy())
CAL = make_calendar(SETTINGS)
EOD = (23, 59, 59)


def complaint(**kw) -> Complaint:
    base = dict(row=2, no="BJ01-2609-001", received_at=datetime(2026, 9, 29, 10), channel="phone", customer="张三",
                category="facilities", severity="general", validity="valid", content="电梯停运")
    return Complaint(**{**base, **kw})


def due(c: Complaint, stage: str, now: datetime = datetime(2026, 10, 1), s: Settings = SETTINGS,
        cycle: Cycle | None = None):
    return evaluate(c, s, make_calendar(s), now, cycle).stages[stage]


@pytest.mark.parametrize(("received", "expected"), [
    (datetime(2026, 9, 29, 10), datetime(2026, 10, 9, *EOD)),    # 9/30, 10/8, 10/9
    (datetime(2026, 9, 30, 17, 30), datetime(2026, 10, 10, *EOD)),  # 10/8, 10/9, make-up Sat 10/10
    (datetime(2026, 10, 3, 11), datetime(2026, 10, 10, *EOD)),   # received in the holiday
    (datetime(2026, 9, 18, 9), datetime(2026, 9, 22, *EOD)),     # Fri → make-up Sun 9/20, 9/21, 9/22
    (datetime(2026, 2, 13, 10), datetime(2026, 2, 25, *EOD)),    # make-up Sat 2/14, then 2/24, 2/25
    (datetime(2026, 2, 26, 10), datetime(2026, 3, 2, *EOD)),     # 2/27, make-up Sat 2/28, Mon 3/2
])
def test_resolve_in_three_working_days(received: datetime, expected: datetime) -> None:
    assert due(complaint(received_at=received), "resolve").due == expected


def test_hours_working_hours_calendar_days_and_callbacks() -> None:
    c = complaint(received_at=datetime(2026, 9, 30, 17, 30), severity="major", complexity="complex",
                  resolved_at=datetime(2026, 9, 30, 17, 45))
    # The default policy counts hours in office hours: 30 min on 9/30, then 1.5 h on 10/8 after the holiday.
    assert due(c, "first_contact").due == datetime(2026, 10, 8, 10, 30)
    assert due(c, "report").due == datetime(2026, 10, 8, 10, 30)             # major: 2 office hours
    # complex: 9 WD: 10/8, 10/9, Sat 10/10, 10/12, 10/13, 10/14, 10/15, 10/16, 10/19
    assert due(c, "close").due == datetime(2026, 10, 19, *EOD)
    # complex: 5 WD after the resolution day: 10/8, 10/9, Sat 10/10, 10/12, 10/13
    assert due(c, "callback").due == datetime(2026, 10, 13, *EOD)
    # Wall-clock hours and calendar days, for an office that writes them in its table (later rows win ties).
    clock = Settings(policy=(*default_policy(), PolicyRule(stage="first_contact", amount=2, unit="hours"),
                             PolicyRule(stage="close", severity="major", complexity="complex", amount=21,
                                        unit="calendar_days")))
    assert due(c, "first_contact", s=clock).due == datetime(2026, 9, 30, 19, 30)  # 2 wall-clock hours
    assert due(c, "close", s=clock).due == datetime(2026, 10, 21, *EOD)          # 21 calendar days
    hours = Settings(policy=(PolicyRule(stage="acknowledge", amount=2, unit="working_hours"),))
    assert due(c, "acknowledge", s=hours).due == datetime(2026, 10, 8, 10, 30)  # 30 min on 9/30, 1.5 h on 10/8


def test_statuses_and_lateness_in_the_rule_unit() -> None:
    c = complaint(received_at=datetime(2026, 9, 29, 10), acknowledged_at=datetime(2026, 9, 29, 12),
                  first_contact_at=datetime(2026, 9, 29, 13))
    at = datetime(2026, 10, 9, 20)
    r = evaluate(c, SETTINGS, CAL, at)
    assert r.stages["acknowledge"].status == "done_on_time"                  # 24 office hours: due 10/8 16:00
    assert r.stages["first_contact"].status == "done_late"                   # 2 office hours: due 9/29 12:00
    assert r.stages["first_contact"].late_by == pytest.approx(1.0)           # an hour late
    assert r.stages["resolve"].status == "due_soon"                          # due 10/9 23:59:59, 4 h left
    assert r.stages["resolve"].late_by == pytest.approx(4 / 24, abs=0.01)    # left, in working days
    assert r.stages["reply"].due == datetime(2026, 10, 10, *EOD)             # 4 WD: 9/30, 10/8, 10/9, Sat 10/10
    assert r.stages["close"].due == datetime(2026, 10, 14, *EOD)             # 7 WD: … 10/12, 10/13, 10/14
    assert r.stages["report"].status == "not_applicable"                     # general: not reported
    assert r.stages["callback"].status == "not_due" and r.stages["callback"].due is None
    assert r.status == "open" and r.days_overdue is None and r.escalation == "none"
    assert r.next_action == "resolve"
    # Ten days later every open stage is late; days overdue count from the earliest due, the resolve's.
    later = datetime(2026, 10, 19, 20)
    r = evaluate(c, SETTINGS, CAL, later)
    assert {s: r.stages[s].status for s in ("resolve", "reply", "close")} == dict.fromkeys(
        ("resolve", "reply", "close"), "overdue")
    # 10/10 and 10/12–10/16 are whole working days late, then 20 of the 24 hours of 10/19
    assert r.stages["resolve"].late_by == pytest.approx(6 + 20 / 24, abs=0.01)
    assert r.days_overdue == pytest.approx(round((later - datetime(2026, 10, 9, *EOD)).total_seconds() / 86400, 1))
    assert r.escalation == "manager"                                          # overdue by more than 3 days


def test_not_late_across_the_holiday() -> None:
    """A case received before National Day is not overdue on Oct 8 under a working-day limit."""
    c = complaint(received_at=datetime(2026, 9, 30, 16))
    r = evaluate(c, SETTINGS, CAL, datetime(2026, 10, 8, 12))
    assert r.stages["resolve"].status in ("not_due", "due_soon")


def test_invalid_complaints_have_no_handling_deadlines() -> None:
    r = evaluate(complaint(validity="invalid"), SETTINGS, CAL, datetime(2026, 12, 1))
    assert {s.status for s in r.stages.values()} == {"not_applicable"}
    assert r.status == "invalid" and r.escalation == "none" and r.days_overdue is None


def test_pause_for_the_customer_pushes_the_due_time() -> None:
    c = complaint(received_at=datetime(2026, 11, 2, 10))  # Monday
    steps = [TrackingStep(no=c.no, at=datetime(2026, 11, 2, 11), step="waiting_customer"),
             TrackingStep(no=c.no, at=datetime(2026, 11, 4, 11), step="resumed")]
    cycle = build_cycle(c, steps, [], SETTINGS, datetime(2026, 11, 10))
    assert cycle.pauses == ((datetime(2026, 11, 2, 11), datetime(2026, 11, 4, 11)),)
    plain = due(c, "resolve", now=datetime(2026, 11, 3)).due
    paused = due(c, "resolve", now=datetime(2026, 11, 3), cycle=cycle).due
    assert plain == datetime(2026, 11, 5, *EOD)
    assert paused == datetime(2026, 11, 9, *EOD)      # two paused working days (11/2, 11/3) later
    waiting = build_cycle(c, steps[:1], [], SETTINGS, datetime(2026, 11, 3))
    assert evaluate(c, SETTINGS, CAL, datetime(2026, 11, 3), waiting).status == "paused"


def test_a_whole_life_unreachable_unsatisfied_reopened_escalated() -> None:
    c = complaint(received_at=datetime(2026, 9, 29, 10), severity="important",
                  acknowledged_at=datetime(2026, 9, 29, 11), first_contact_at=datetime(2026, 9, 29, 11, 30),
                  reported_at=datetime(2026, 9, 29, 11, 45),  # important: reported within 2 office hours
                  resolved_at=datetime(2026, 9, 30, 16), replied_at=datetime(2026, 9, 30, 17))
    calls = [CallbackAttempt(no=c.no, at=datetime(2026, 10, 8, 10), outcome="unreachable"),
             CallbackAttempt(no=c.no, at=datetime(2026, 10, 9, 10), outcome="unreachable")]
    cyc = build_cycle(c, [], calls[:1], SETTINGS, datetime(2026, 10, 8, 12))
    r = evaluate(c, SETTINGS, CAL, datetime(2026, 10, 8, 12), cyc)
    assert r.stages["callback"].due == datetime(2026, 10, 9, 10)            # retry after 24 hours
    assert r.next_action == "retry_callback" and r.status == "awaiting_callback"
    cyc = build_cycle(c, [], calls, SETTINGS, datetime(2026, 10, 9, 12))
    assert evaluate(c, SETTINGS, CAL, datetime(2026, 10, 9, 12), cyc).stages["callback"].due == datetime(2026, 10, 11, 10)
    calls.append(CallbackAttempt(no=c.no, at=datetime(2026, 10, 10, 15), outcome="unsatisfied", score=3))
    cyc = build_cycle(c, [], calls, SETTINGS, datetime(2026, 10, 12, 9))
    r = evaluate(c, SETTINGS, CAL, datetime(2026, 10, 12, 9), cyc)
    assert r.reopen_count == 1 and r.status == "reopened"
    # the new cycle counts from the reopening: 3 working days from Sat 10/10 (a make-up day) → 10/14
    assert r.stages["resolve"].due == datetime(2026, 10, 14, *EOD) and r.stages["resolve"].done_at is None
    assert r.stages["acknowledge"].status == "done_on_time"                  # first-cycle history kept
    second = replace(c, resolved_at=datetime(2026, 10, 13, 10))
    calls.append(CallbackAttempt(no=c.no, at=datetime(2026, 10, 14, 10), outcome="unsatisfied", score=2))
    cyc = build_cycle(second, [], calls, SETTINGS, datetime(2026, 10, 15, 9))
    r = evaluate(second, SETTINGS, CAL, datetime(2026, 10, 15, 9), cyc)
    assert r.reopen_count == 2 and r.escalation == "general_manager"
    final = replace(second, closed_at=datetime(2026, 10, 20, 10))
    calls.append(CallbackAttempt(no=c.no, at=datetime(2026, 10, 19, 10), outcome="satisfied", score=8))
    steps = [TrackingStep(no=c.no, at=datetime(2026, 10, 18, 10), step="resolved")]
    cyc = build_cycle(final, steps, calls, SETTINGS, datetime(2026, 10, 21))
    r = evaluate(final, SETTINGS, CAL, datetime(2026, 10, 21), cyc)
    assert r.status == "closed" and r.stages["callback"].status == "done_on_time"


def test_callback_gives_up_after_max_attempts() -> None:
    c = complaint(resolved_at=datetime(2026, 9, 30, 16))
    calls = [CallbackAttempt(no=c.no, at=datetime(2026, 10, 8 + i, 10), outcome="unreachable") for i in range(3)]
    cyc = build_cycle(c, [], calls, SETTINGS, datetime(2026, 10, 12))
    assert cyc.gave_up_callback and cyc.callbacks_failed == 3


def test_repeat_complaints_match_phone_then_name() -> None:
    a = complaint(no="A", phone="13812345678", received_at=datetime(2026, 10, 1))
    b = complaint(no="B", phone="138 1234 5678", received_at=datetime(2026, 10, 20), customer="张先生")
    c = complaint(no="C", phone="13812345678", received_at=datetime(2026, 12, 1))       # outside 30 days of B
    d = complaint(no="D", phone=None, customer="李四", received_at=datetime(2026, 10, 2))
    e = complaint(no="E", phone=None, customer="李四", received_at=datetime(2026, 10, 5))
    f = complaint(no="F", phone="13812345678", category="billing", received_at=datetime(2026, 10, 3))
    assert find_repeats([a, b, c, d, e, f], 30) == {"B": "A", "E": "D"}


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 20)),
       st.sampled_from(["acknowledge", "first_contact", "resolve", "reply", "close"]),
       st.integers(min_value=0, max_value=20 * 24))
def test_doing_it_later_never_improves_the_status(received: datetime, stage: str, hours: int) -> None:
    c = complaint(received_at=received)
    done_field = {"acknowledge": "acknowledged_at", "first_contact": "first_contact_at", "resolve": "resolved_at",
                  "reply": "replied_at", "close": "closed_at"}[stage]
    after = datetime(2027, 2, 1)  # as of a time after both completions (a later one has not happened yet)
    early = due(replace(c, **{done_field: received + timedelta(hours=hours)}), stage, now=after)
    late = due(replace(c, **{done_field: received + timedelta(hours=hours + 30)}), stage, now=after)
    assert early.due == late.due
    order = {"done_on_time": 0, "done_late": 1}
    assert order[early.status] <= order[late.status]
    if late.status == "done_late" and early.status == "done_late":
        assert late.late_by >= early.late_by


def test_records_without_sheet_rows_keep_their_own_histories() -> None:
    """Complaints built through the API have no sheet row; each still gets its own cycle."""
    from xlcomplaints.core.models import BranchData
    from xlcomplaints.core.refresh import evaluate_branch

    a = complaint(row=None, no="A", resolved_at=datetime(2026, 9, 30, 16))
    b = complaint(row=None, no="B", resolved_at=datetime(2026, 9, 30, 16))
    calls = (CallbackAttempt(no="A", at=datetime(2026, 10, 8, 10), outcome="unsatisfied"),)
    results, _ = evaluate_branch(BranchData(settings=SETTINGS, complaints=(a, b), callbacks=calls),
                                 datetime(2026, 10, 9))
    assert [r.reopen_count for r in results] == [1, 0]


# --------------------------------------------------------------------------- the engine's shortcuts
# A branch is evaluated with one Evaluator that remembers rules per kind of complaint, due times
# per anchor date and open-stage results per due day; none of that may change any result.

_NARROW = (
    *default_policy(),
    PolicyRule(stage="resolve", category="billing", amount=5, unit="working_days"),
    PolicyRule(stage="resolve", channel="visit", amount=2, unit="working_days"),
    PolicyRule(stage="resolve", severity="important", amount=5, unit="calendar_days"),  # same days, other unit
    PolicyRule(stage="resolve", category="billing", channel="visit", amount=1, unit="working_days"),
    PolicyRule(stage="acknowledge", channel="phone", complexity="complex", amount=4, unit="working_hours"),
    PolicyRule(stage="close", severity="major", amount=30, unit="calendar_days"),  # a later tie wins
)


@pytest.mark.parametrize("rules", [default_policy(), _NARROW, ()], ids=["default", "narrow", "empty"])
def test_rule_book_gives_the_plain_lookups_rule(rules: tuple[PolicyRule, ...]) -> None:
    from itertools import product

    from xlcomplaints.core.deadlines import RuleBook
    from xlcomplaints.core.policy import STAGES, rule_for

    book = RuleBook(rules)
    kinds = product(("major", "important", "general", None), ("facilities", "billing", None), ("phone", "visit", None),
                    ("simple", "complex", None), ("valid", "assist", "invalid", "duplicate", None))
    for severity, category, channel, complexity, validity in kinds:
        c = complaint(severity=severity, category=category, channel=channel, complexity=complexity, validity=validity)
        limits = book.limits(c)
        for i, stage in enumerate(STAGES):
            plain = rule_for(stage, c, rules)
            assert book.get(stage, c) is plain and book.for_complaint(c)[i] is plain
            applies = validity != "invalid" and not (stage == "first_contact" and validity == "duplicate")
            assert (limits[i].rule if limits[i] else None) is (plain if applies else None)
        assert book.limits(c) is limits  # remembered


def _branch_cases():  # noqa: ANN202 - test data
    """A synthetic branch plus cases it lacks: pauses, reopenings, an uncovered year, working hours."""
    from tests.samples import synthetic_branch

    data = synthetic_branch("T1", 300, end=datetime(2026, 11, 30), months=6, seed=3)
    extra = [complaint(no=f"X{i}", received_at=datetime(2026, 10, 12 + i % 9, 9 + i % 8), severity=sev, channel=ch,
                       complexity=cx, acknowledged_at=datetime(2026, 10, 13 + i % 9, 10) if i % 3 else None)
             for i, (sev, ch, cx) in enumerate([("general", "phone", "complex"), ("major", "visit", None),
                                                ("important", "phone", "simple")] * 4)]
    extra.append(complaint(no="Y1", received_at=datetime(2027, 12, 30, 10)))  # beyond the holiday data
    # resolve due at the end of Thu 10/15 both ways: 3 working days (general), 5 calendar days (important)
    extra += [complaint(no="Z1", received_at=datetime(2026, 10, 12, 10), severity="general"),
              complaint(no="Z2", received_at=datetime(2026, 10, 10, 10), severity="important")]
    steps = [TrackingStep(no="X0", at=datetime(2026, 10, 12, 11), step="waiting_customer"),
             TrackingStep(no="X0", at=datetime(2026, 10, 15, 11), step="resumed"),
             TrackingStep(no="X1", at=datetime(2026, 10, 14, 11), step="cold_handling"),
             TrackingStep(no="X2", at=datetime(2026, 10, 15, 11), step="resolved"),
             TrackingStep(no="X2", at=datetime(2026, 10, 20, 11), step="reopened")]
    calls = [CallbackAttempt(no="X2", at=datetime(2026, 10, 17, 11), outcome="unreachable")]
    return replace(data, settings=data.settings.model_copy(update={"policy": _NARROW}),
                   complaints=data.complaints + tuple(extra), tracking=data.tracking + tuple(steps),
                   callbacks=data.callbacks + tuple(calls))


@pytest.mark.parametrize("now", [datetime(2026, 10, 20, 9), datetime(2026, 11, 30, 18), datetime(2028, 1, 9)])
@pytest.mark.parametrize("timestamps_rule", ["register", "tracking"])
def test_one_evaluator_for_a_branch_gives_what_evaluating_each_alone_gives(now: datetime, timestamps_rule: str) -> None:
    from xlcomplaints.core.lifecycle import build_cycles
    from xlcomplaints.core.refresh import evaluate_branch

    data = _branch_cases()
    data = replace(data, settings=data.settings.model_copy(update={"timestamps_rule": timestamps_rule}))
    results, warnings = evaluate_branch(data, now)
    alone = [evaluate(c, data.settings, make_calendar(data.settings, data), now, cycle)
             for c, cycle in zip(data.complaints, build_cycles(data, now), strict=True)]
    assert results == alone
    assert warnings == set().union(*(r.warnings for r in alone))
    statuses = {s.status for r in results for s in r.stages.values()}
    assert statuses >= {"done_on_time", "done_late", "not_applicable", "not_due"}
    if now.year == 2028:
        assert {w.year for w in warnings} >= {2028}


def test_complaints_with_nothing_recorded_share_one_cycle() -> None:
    a, b = complaint(no="A"), complaint(no="B")
    now = datetime(2026, 10, 9)
    assert build_cycle(a, [], [], SETTINGS, now) is build_cycle(b, [], [], SETTINGS, now) == Cycle()
    tracking = Settings(policy=default_policy(), timestamps_rule="tracking")
    assert build_cycle(a, [], [], tracking, now) == Cycle(tracking_first=True)
    assert build_cycle(a, [], [], SETTINGS, now, repeat_of="Z").repeat_of == "Z"


def test_each_branch_has_its_own_calendar_and_its_due_times_stay_its_own() -> None:
    """Nothing is kept between branches: one branch's closure never moves another's due times."""
    closed = BranchData(settings=SETTINGS, calendar=(CalendarEntry(date=date(2026, 10, 9), kind="closure"),))
    assert make_calendar(SETTINGS) is not make_calendar(SETTINGS)
    c, now = complaint(received_at=datetime(2026, 9, 30, 17, 30)), datetime(2026, 10, 1)
    first = evaluate(c, SETTINGS, make_calendar(SETTINGS), now).stages["resolve"].due
    then = evaluate(c, SETTINGS, make_calendar(SETTINGS, closed), now).stages["resolve"].due
    fresh = WorkCalendar("CN", extra_closures=[date(2026, 10, 9)], office_hours=CAL.office_hours)
    assert first == datetime(2026, 10, 10, *EOD)  # 10/8, 10/9, make-up Saturday 10/10
    assert then == evaluate(c, SETTINGS, fresh, now).stages["resolve"].due == datetime(2026, 10, 12, *EOD)


def test_a_stage_result_made_without_its_constructor_is_the_same() -> None:
    """``deadlines._made`` (the done stages' results): equal to ``StageResult(…)``'s, of its type, its fields."""
    from xlcomplaints.core.calendar import Unit
    from xlcomplaints.core.deadlines import StageResult, _made
    from xlcomplaints.core.status import StageStatus

    at = datetime(2026, 11, 3, 14, 5)
    for fields in (("resolve", StageStatus.DONE_LATE, at, at, 1.5, Unit.WORKING_DAYS),
                   ("close", StageStatus.DONE_ON_TIME, at, at, None, None)):
        made, built = _made(StageResult, fields), StageResult(*fields)
        assert type(made) is StageResult and made == built and made._asdict() == built._asdict()
        assert made.late_by == fields[4] and made.unit is fields[5]
