"""The engine's rules a supervisor relies on (issue 16), each worked out by hand.

Every test builds its own policy rows (``RULES``) rather than relying on the default table, and
counts on China's 2026 calendar: Nov 2–6 and 9–13 are Monday–Friday working weeks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.samples import write_branch
from xlcomplaints.core import metrics as M
from xlcomplaints.core.deadlines import ComplaintResult, evaluate, make_calendar
from xlcomplaints.core.lifecycle import build_cycle
from xlcomplaints.core.models import (
    BranchData,
    CallbackAttempt,
    Complaint,
    PolicyRule,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.refresh import evaluate_branch
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

EOD = (23, 59, 59)
RULES = (
    PolicyRule(stage="acknowledge", amount=24, unit="hours"),
    PolicyRule(stage="resolve", amount=3, unit="working_days"),
    PolicyRule(stage="reply", amount=4, unit="working_days"),
    PolicyRule(stage="callback", amount=2, unit="working_days"),
    PolicyRule(stage="close", amount=10, unit="calendar_days"),
)
SETTINGS = Settings(policy=RULES)
NO = "BJ01-2611001"
NOV = M.Period.month(2026, 11)


def complaint(**kw: object) -> Complaint:
    base: dict[str, object] = dict(row=2, no=NO, received_at=datetime(2026, 11, 2, 10), channel="phone",
                                   customer="张三", phone="13800001111", category="facilities", severity="general",
                                   validity="valid", content="电梯停运")
    return Complaint(**{**base, **kw})  # type: ignore[arg-type]


def step(at: datetime, what: str) -> TrackingStep:
    return TrackingStep(no=NO, at=at, step=what)


def call(at: datetime, outcome: str, score: int | None = None) -> CallbackAttempt:
    return CallbackAttempt(no=NO, at=at, outcome=outcome, score=score)


def run(c: Complaint, now: datetime, steps: list[TrackingStep] | None = None,
        calls: list[CallbackAttempt] | None = None, s: Settings = SETTINGS) -> ComplaintResult:
    cycle = build_cycle(c, steps or [], calls or [], s, now)
    return evaluate(c, s, make_calendar(s), now, cycle)


# --------------------------------------------------------------------------- R1 reopening
def test_a_reopening_recorded_on_both_sheets_is_one_reopening() -> None:
    """R1. Resolved Tue 11-03; the customer is not satisfied on Thu 11-05 10:00 (Callbacks) and the clerk
    also records 重新处理 at 11:00 (Tracking). Same handling cycle → one reopening, not escalated to the
    general manager; the clocks restart at the first record, 11-05 10:00: resolve 3 working days →
    Fri 11-06, Mon 11-09, Tue 11-10 → due 11-10 23:59:59."""
    c = complaint(resolved_at=datetime(2026, 11, 3, 16))
    r = run(c, datetime(2026, 11, 6, 12), [step(datetime(2026, 11, 5, 11), "reopened")],
            [call(datetime(2026, 11, 5, 10), "unsatisfied", 3)])
    assert r.reopen_count == 1
    assert r.escalation != "general_manager"
    assert r.stages["resolve"].due == datetime(2026, 11, 10, *EOD)
    assert r.stages["resolve"].done_at is None and r.status == "reopened"


def test_the_second_reopening_comes_only_after_a_new_resolution() -> None:
    """R1. Two unsatisfied callbacks (11-05, 11-06) with no resolution between are one reopening; after
    the case is resolved again (11-09 15:00, Tracking) a third unsatisfied callback (11-10) is the
    second reopening, which goes to the general manager."""
    c = complaint(resolved_at=datetime(2026, 11, 3, 16))
    calls = [call(datetime(2026, 11, 5, 10), "unsatisfied"), call(datetime(2026, 11, 6, 10), "unsatisfied")]
    once = run(c, datetime(2026, 11, 6, 12), [], calls)
    assert once.reopen_count == 1 and once.escalation != "general_manager"
    steps = [step(datetime(2026, 11, 9, 15), "resolved")]
    calls.append(call(datetime(2026, 11, 10, 10), "unsatisfied"))
    twice = run(c, datetime(2026, 11, 10, 12), steps, calls)
    assert twice.reopen_count == 2 and twice.escalation == "general_manager"
    # the second reopening restarts the clock at 11-10 10:00: 11-11, 11-12, 11-13
    assert twice.stages["resolve"].due == datetime(2026, 11, 13, *EOD)


# --------------------------------------------------------------------------- R2 invalid complaints
def _index(data: BranchData, as_of: datetime) -> M.CaseIndex:
    """The branch as a real workbook on disk, read back, evaluated and indexed as the report does."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write_branch(Path(tmp) / "t.xlsx", data)
        read = read_branch(FileWorkbook(path)).data
    results, _ = evaluate_branch(read, as_of)
    return M.CaseIndex(M.case_facts("BJ01", read, results, make_calendar(read.settings, read),
                                    timed=(datetime(2026, 10, 1), datetime(2026, 12, 1)), as_of=as_of))


def test_invalid_complaints_are_left_out_of_satisfaction_and_the_average_score() -> None:
    """R2. November: A (valid) satisfied, score 9; B (valid) unsatisfied, score 3; C (invalid) called back
    satisfied, score 10. Satisfaction = 1/2 (not 2/3), average score = (9 + 3) / 2 = 6 (not 22/3)."""
    a = complaint(no="A", resolved_at=datetime(2026, 11, 3, 10))
    b = complaint(no="B", phone="13800002222", resolved_at=datetime(2026, 11, 3, 10))
    c = complaint(no="C", phone="13800003333", validity="invalid", resolved_at=datetime(2026, 11, 3, 10))
    calls = (CallbackAttempt(no="A", at=datetime(2026, 11, 4, 10), method="phone", outcome="satisfied", score=9),
             CallbackAttempt(no="B", at=datetime(2026, 11, 4, 11), method="phone", outcome="unsatisfied", score=3),
             CallbackAttempt(no="C", at=datetime(2026, 11, 4, 12), method="phone", outcome="satisfied", score=10))
    data = BranchData(settings=Settings(branch_code="BJ01", policy=RULES), complaints=(a, b, c), callbacks=calls)
    ix = _index(data, datetime(2026, 12, 1))
    assert M.METRICS["satisfaction_rate"](ix, NOV) == 1 / 2
    assert M.METRICS["average_score"](ix, NOV) == 6.0


# --------------------------------------------------------------------------- R3 / R5 closing
def test_closing_keeps_the_misses_already_made() -> None:
    """R3. Received Mon 11-02 10:00, resolved Wed 11-04 12:00, closed Mon 11-09 10:00, never acknowledged,
    replied to or called back. At the close: acknowledge (24 h: due 11-03 10:00), reply (4 working days:
    due Fri 11-06 23:59:59) and callback (2 working days from the resolution: Thu 11-05, Fri 11-06) had
    all passed → they stay missed, late by the time to the close; the close itself (10 calendar days,
    due 11-12) is done on time."""
    c = complaint(resolved_at=datetime(2026, 11, 4, 12), closed_at=datetime(2026, 11, 9, 10))
    r = run(c, datetime(2026, 11, 20))
    assert {s: r.stages[s].status for s in ("acknowledge", "resolve", "reply", "callback", "close")} == {
        "acknowledge": "missed", "resolve": "done_on_time", "reply": "missed", "callback": "missed",
        "close": "done_on_time"}
    assert r.stages["acknowledge"].late_by == 6 * 24.0   # 11-03 10:00 → 11-09 10:00, in hours
    assert r.status == "closed" and r.days_overdue is None and r.escalation == "none"


def test_closing_before_a_deadline_makes_that_stage_not_applicable() -> None:
    """R3. The same case closed Thu 11-05 12:00: reply (due 11-06) and callback (due 11-06) had not passed
    → 不适用; acknowledge (due 11-03 10:00) had → missed."""
    c = complaint(resolved_at=datetime(2026, 11, 4, 12), closed_at=datetime(2026, 11, 5, 12))
    r = run(c, datetime(2026, 11, 20))
    assert [r.stages[s].status for s in ("acknowledge", "reply", "callback")] == [
        "missed", "not_applicable", "not_applicable"]


def test_the_callback_of_a_case_closed_without_resolution_or_reply_is_not_applicable() -> None:
    """R5. Closed Mon 11-09 with neither a resolution nor a reply time: the callback has nothing to count
    from and the case is closed → 不适用 (not 未到期 forever); resolve (due Thu 11-05) stays missed."""
    c = complaint(closed_at=datetime(2026, 11, 9, 10))
    r = run(c, datetime(2026, 11, 20))
    assert r.stages["callback"].status == "not_applicable"
    assert r.stages["resolve"].status == "missed"


# --------------------------------------------------------------------------- R7 one state
def test_once_the_callback_is_done_the_case_awaits_its_close_not_the_callback() -> None:
    """R7. Resolved 11-03, called back satisfied 11-04, not closed: the next action is to close the case,
    and the status says the same (待结案), never 待回访."""
    c = complaint(acknowledged_at=datetime(2026, 11, 2, 11), resolved_at=datetime(2026, 11, 3, 10),
                  replied_at=datetime(2026, 11, 3, 11))
    r = run(c, datetime(2026, 11, 5, 9), [], [call(datetime(2026, 11, 4, 10), "satisfied", 9)])
    assert r.stages["callback"].status == "done_on_time"
    assert (r.next_action, r.status) == ("close", "awaiting_close")
    before = run(c, datetime(2026, 11, 3, 12))
    assert (before.next_action, before.status) == ("callback", "awaiting_callback")


def test_status_and_next_action_never_disagree_on_a_synthetic_branch() -> None:
    """R7, over 300 generated complaints: 待回访 exactly when the next action is a callback, 待结案 exactly
    when it is to close, 暂停 when following up a pause, and nothing to do once closed or invalid."""
    from tests.samples import synthetic_branch

    data = synthetic_branch("T1", 300, end=datetime(2026, 11, 30), months=3, seed=5)
    results, _ = evaluate_branch(data, datetime(2026, 11, 30, 18))
    for r in results:
        assert (r.status == "awaiting_callback") == (r.next_action in ("callback", "retry_callback")), r
        assert (r.status == "awaiting_close") == (r.next_action == "close"), r
        assert (r.status == "paused") == (r.next_action == "follow_up_pause"), r
        assert (r.status in ("closed", "invalid")) == (r.next_action == "none"), r


# --------------------------------------------------------------------------- R8 given-up callbacks
def test_a_callback_given_up_per_settings_is_an_outcome_not_an_overdue_stage() -> None:
    """R8. Resolved 11-03 10:00; three unreachable attempts 11-04, 11-05, 11-06 (Settings allow 3). The callback
    (due 11-05 23:59:59) is 放弃回访 with its reason, not overdue, not on the Overdue sheet; the next action is
    to close the case."""
    from xlcomplaints.core.refresh import plan_refresh

    c = complaint(acknowledged_at=datetime(2026, 11, 2, 11), resolved_at=datetime(2026, 11, 3, 10),
                  replied_at=datetime(2026, 11, 3, 11))
    calls = [call(datetime(2026, 11, d, 10), "unreachable") for d in (4, 5, 6)]
    r = run(c, datetime(2026, 11, 9, 9), [], calls)
    assert r.stages["callback"].status == "given_up"
    assert r.overdue_stages() == [] and r.days_overdue is None
    assert (r.next_action, r.status) == ("close", "awaiting_close")
    data = BranchData(settings=SETTINGS, complaints=(c,), callbacks=tuple(calls))
    plan = plan_refresh(data, datetime(2026, 11, 9, 9), lang="zh")
    assert plan.overdue_rows == []
    assert plan.register.get(2, "callback_status") == "放弃回访"
    assert "3 次未接通" in plan.register.get(2, "next_action")


# --------------------------------------------------------------------------- R4 as-of time
def test_the_workbook_is_seen_as_it_stood_at_the_as_of_time() -> None:
    """R4. As of Wed 11-04 12:00, with only a 3-working-day resolve rule:
    A received Mon 11-02, resolved Tue 11-03 (due Thu 11-05): done by then, on time → met;
    B received Mon 11-02, resolved Fri 11-06 (after the as-of time), due 11-05: neither done nor due → left out;
    C received Thu 10-29, due Tue 11-03 23:59:59, resolved Thu 11-05: not done by then and due → late.
    November resolve on-time rate = 1 met / (1 met + 1 late) = 1/2. A's satisfied callback of 11-05
    has not happened yet: no satisfaction rate."""
    only_resolve = Settings(branch_code="BJ01", policy=(PolicyRule(stage="resolve", amount=3, unit="working_days"),))
    a = complaint(no="A", resolved_at=datetime(2026, 11, 3, 10))
    b = complaint(no="B", phone="13800002222", resolved_at=datetime(2026, 11, 6, 10))
    c = complaint(no="C", phone="13800003333", received_at=datetime(2026, 10, 29, 10),
                  resolved_at=datetime(2026, 11, 5, 10))
    calls = (CallbackAttempt(no="A", at=datetime(2026, 11, 5, 10), method="phone", outcome="satisfied", score=9),)
    as_of = datetime(2026, 11, 4, 12)
    data = BranchData(settings=only_resolve, complaints=(a, b, c), callbacks=calls)
    ix = _index(data, as_of)
    assert ix.stage_tally(NOV, "resolve") == (1, 1)
    assert M.METRICS["on_time_rate"](ix, NOV) == 1 / 2
    assert M.METRICS["satisfaction_rate"](ix, NOV) is None
    r = run(c, as_of, s=only_resolve)
    assert (r.stages["resolve"].status, r.stages["resolve"].done_at) == ("overdue", None)


def test_a_complaint_received_after_the_as_of_time_has_not_been_received_yet() -> None:
    """R4. A report as of Wed 11-04 12:00 (``report --now``, a back-dated report): A received Mon 11-02 10:00 is
    in it; B received Thu 11-05 10:00 was not in the workbook as it stood then. November: received 1 (not 2),
    to handle 1, open at the month's end 1 (A; B is not counted open either), closure rate 0/1."""
    a = complaint(no="A")
    b = complaint(no="B", phone="13800002222", received_at=datetime(2026, 11, 5, 10))
    data = BranchData(settings=Settings(branch_code="BJ01", policy=RULES), complaints=(a, b))
    ix = _index(data, datetime(2026, 11, 4, 12))
    assert [c.no for c in ix.received(NOV)] == ["A"]
    assert M.METRICS["handled"](ix, NOV) == 1 and M.METRICS["open_end"](ix, NOV) == 1
    assert M.METRICS["closure_rate"](ix, NOV) == 0.0


def test_a_step_or_close_recorded_after_the_refresh_time_has_not_happened_yet() -> None:
    """R4. Refreshed Wed 11-04 12:00: a 处理完成 step at 15:00 and a close typed for 11-05 have not happened;
    the case is still open with its resolution to do."""
    c = complaint(closed_at=datetime(2026, 11, 5, 9))
    r = run(c, datetime(2026, 11, 4, 12), [step(datetime(2026, 11, 4, 15), "resolved")])
    assert r.status == "open" and r.stages["resolve"].done_at is None
    assert r.next_action == "acknowledge" and r.stages["close"].done_at is None


# --------------------------------------------------------------------------- typical cases
def test_typical_cases_meeting_as_many_reasons_are_compared_reason_by_reason() -> None:
    """典型案例: "同样多时逐项比较，依次是重大、升级、重新处理、重复、超时". As of Wed 11-04 12:00, with a
    24-hour acknowledgement: A, major, received Mon 11-02 10:00, never acknowledged (late since 11-03 10:00):
    major + late; B, major and escalated, received 11:00, acknowledged at 12:00: major + escalated. Both meet
    two reasons and both are major; B is escalated, A is not, so B comes first though A came in earlier."""
    a = complaint(no="A", severity="major")
    b = complaint(no="B", phone="13800002222", severity="major", escalated=True,
                  received_at=datetime(2026, 11, 2, 11), acknowledged_at=datetime(2026, 11, 2, 12))
    only_ack = Settings(branch_code="BJ01", policy=(PolicyRule(stage="acknowledge", amount=24, unit="hours"),))
    ix = _index(BranchData(settings=only_ack, complaints=(a, b)), datetime(2026, 11, 4, 12))
    got = [(t.case.no, t.reasons) for t in M.typical_cases(ix, NOV)]
    assert got == [("B", ("major", "escalated")), ("A", ("major", "late"))]


# --------------------------------------------------------------------------- R6 due soon
def test_due_soon_starts_strictly_inside_the_last_quarter_of_the_limit() -> None:
    """R6. An 8-hour (wall-clock) acknowledgement, received Mon 11-02 10:00, due 18:00; Settings share 25 %
    → due soon when less than 2 hours are left: at 16:00 exactly (2 h left) not yet, a minute later yes."""
    s = Settings(policy=(PolicyRule(stage="acknowledge", amount=8, unit="hours"),), due_soon_percent=25)
    c = complaint()
    assert run(c, datetime(2026, 11, 2, 16), s=s).stages["acknowledge"].status == "not_due"
    assert run(c, datetime(2026, 11, 2, 16, 1), s=s).stages["acknowledge"].status == "due_soon"


def test_due_soon_is_measured_in_working_time_for_a_working_day_limit() -> None:
    """R6. Received Sat 10-03 11:00, inside the National Day holiday (Oct 1–7 closed), 3 working days → due
    Sat 10-10 23:59:59 (10/8, 10/9 and the make-up Saturday 10/10). On Fri 10-09 14:00 the working time
    left is 10 h of 10/9 + all of 10/10 = 1.42 working days, not less than 25 % of 3 = 0.75: not due soon
    (wall-clock, counting the holiday, it would have been 1.42 of 7.5 days). On Sat 10-10 05:59:59, 18 hours
    = 0.75 working days are left, exactly the threshold: still not due soon; a second later it is."""
    s = Settings(policy=(PolicyRule(stage="resolve", amount=3, unit="working_days"),), due_soon_percent=25)
    c = complaint(received_at=datetime(2026, 10, 3, 11))
    at = run(c, datetime(2026, 10, 9, 14), s=s).stages["resolve"]
    assert at.due == datetime(2026, 10, 10, *EOD) and at.status == "not_due"
    assert run(c, datetime(2026, 10, 10, 5, 59, 59), s=s).stages["resolve"].status == "not_due"
    assert run(c, datetime(2026, 10, 10, 6), s=s).stages["resolve"].status == "due_soon"


# --------------------------------------------------------------------------- R9 the written rules, one scenario each
def test_pause_rule_friday_evening_to_monday_adds_a_working_day_a_same_day_pause_none() -> None:
    """Pauses. Received Thu 11-05 10:00, resolve in 3 working days → Tue 11-10 23:59:59. Waiting for the customer
    from Fri 11-06 17:00 until a 恢复处理 step on Mon 11-09 09:00: one working day (Fri) from the start date up to
    the end date → Wed 11-11. Paused Fri 10:00–15:00 the same day: no day added → 11-10. The acknowledgement
    (24 h, not a paused clock) stays due Fri 11-06 10:00 either way."""
    c = complaint(received_at=datetime(2026, 11, 5, 10))
    now = datetime(2026, 11, 9, 12)
    weekend = run(c, now, [step(datetime(2026, 11, 6, 17), "waiting_customer"), step(datetime(2026, 11, 9, 9), "resumed")])
    same_day = run(c, now, [step(datetime(2026, 11, 6, 10), "cold_handling"), step(datetime(2026, 11, 6, 15), "resumed")])
    assert weekend.stages["resolve"].due == datetime(2026, 11, 11, *EOD)
    assert same_day.stages["resolve"].due == datetime(2026, 11, 10, *EOD)
    assert weekend.stages["acknowledge"].due == datetime(2026, 11, 6, 10)


def test_pause_rule_a_note_does_not_end_a_pause_contacting_the_customer_does() -> None:
    """Pauses. Waiting for the customer from Fri 11-06 17:00; a 备注 (note) on Mon 11-09 10:00 does not end it, so
    at 12:00 the case is still paused; a 联系客户 step at 11:00 would have ended it."""
    c = complaint(received_at=datetime(2026, 11, 5, 10))
    noted = run(c, datetime(2026, 11, 9, 12), [step(datetime(2026, 11, 6, 17), "waiting_customer"),
                                               step(datetime(2026, 11, 9, 10), "note")])
    contacted = run(c, datetime(2026, 11, 9, 12), [step(datetime(2026, 11, 6, 17), "waiting_customer"),
                                                   step(datetime(2026, 11, 9, 11), "contacted")])
    assert noted.status == "paused" and noted.next_action == "follow_up_pause"
    assert contacted.status != "paused"


def test_callback_clock_starts_at_the_resolution_or_the_reply_never_at_receipt() -> None:
    """Where each clock starts. Received Mon 11-02; resolved Wed 11-04 → callback (2 working days) due Fri 11-06;
    with only a reply on Thu 11-05 → due Mon 11-09; with neither, no due time yet."""
    now = datetime(2026, 11, 5, 12)
    resolved = run(complaint(resolved_at=datetime(2026, 11, 4, 10)), now)
    replied = run(complaint(replied_at=datetime(2026, 11, 5, 10)), now)
    assert resolved.stages["callback"].due == datetime(2026, 11, 6, *EOD)
    assert replied.stages["callback"].due == datetime(2026, 11, 9, *EOD)
    assert run(complaint(), now).stages["callback"].due is None


def test_working_day_limits_zero_is_the_end_of_the_day_fractions_round_up() -> None:
    """Working days. Received Thu 11-05 10:00: 0 working days → 11-05 23:59:59; 2.5 working days count as 3
    → Fri 11-06, Mon 11-09, Tue 11-10 (WORKDAY would truncate to 2: 11-09)."""
    for amount, expected in ((0, datetime(2026, 11, 5, *EOD)), (2.5, datetime(2026, 11, 10, *EOD))):
        s = Settings(policy=(PolicyRule(stage="resolve", amount=amount, unit="working_days"),))
        assert run(complaint(received_at=datetime(2026, 11, 5, 10)), datetime(2026, 11, 5, 12), s=s
                   ).stages["resolve"].due == expected


def test_a_working_day_as_time_taken_is_24_hours_of_a_working_day() -> None:
    """Working days. Received Fri 11-06 12:00, resolved Mon 11-09 12:00: half of Friday + half of Monday,
    the weekend not counted → 1.0 working day taken (not 0.5 for 9 office hours, nor 3 calendar days)."""
    c = complaint(received_at=datetime(2026, 11, 6, 12), resolved_at=datetime(2026, 11, 9, 12))
    data = BranchData(settings=Settings(branch_code="BJ01", policy=RULES), complaints=(c,))
    assert M.durations(_index(data, datetime(2026, 12, 1)), NOV, "resolve") == [1.0]


def test_a_blank_complexity_counts_as_simple() -> None:
    """Complexity. Resolve: simple 3 working days, complex 5. Received Mon 11-02 with complexity blank → the
    simple rule: Thu 11-05 (complex would be Mon 11-09)."""
    s = Settings(policy=(PolicyRule(stage="resolve", complexity="simple", amount=3, unit="working_days"),
                         PolicyRule(stage="resolve", complexity="complex", amount=5, unit="working_days")))
    now = datetime(2026, 11, 2, 12)
    assert run(complaint(complexity=None), now, s=s).stages["resolve"].due == datetime(2026, 11, 5, *EOD)
    assert run(complaint(complexity="complex"), now, s=s).stages["resolve"].due == datetime(2026, 11, 9, *EOD)


def test_a_repeat_is_matched_on_the_phone_and_on_the_name_only_without_one() -> None:
    """Repeat complaints. Same name, different phones: two customers, no repeat. No phone, same name: a repeat."""
    from xlcomplaints.core.lifecycle import find_repeats

    a = complaint(no="A", customer="王芳", phone="13800001111", received_at=datetime(2026, 11, 2, 10))
    b = complaint(no="B", customer="王芳", phone="13900002222", received_at=datetime(2026, 11, 3, 10))
    c = complaint(no="C", customer="李雷", phone=None, received_at=datetime(2026, 11, 2, 10))
    d = complaint(no="D", customer="李雷", phone=None, received_at=datetime(2026, 11, 4, 10))
    assert find_repeats([a, b, c, d], 30) == {"D": "C"}


def test_the_blank_row_of_a_breakdown_also_holds_values_not_recognised(branch) -> None:
    """(blank). Three complaints typed in a real workbook: category 设施设备, left blank, and 乱写 (not a category).
    The category breakdown has 设施设备 1 and (blank) 2."""
    rows = [{"received_at": "2026-11-02 10:00", "channel": "电话", "customer": f"客户{i}", "phone": f"1380000000{i}",
             "category": cat, "severity": "一般", "validity": "有效", "content": "内容"}
            for i, cat in enumerate(("设施设备", None, "乱写"))]
    read = read_branch(FileWorkbook(branch(register=rows))).data
    results, _ = evaluate_branch(read, datetime(2026, 12, 1))
    ix = M.CaseIndex(M.case_facts("BJ01", read, results, make_calendar(read.settings, read)))
    counts = {r.key: r.count for r in M.breakdown(ix, NOV, "category")}
    assert counts == {"facilities": 1, None: 2}


def test_every_engine_rule_is_on_the_definitions_sheet_and_in_the_sheet_reference() -> None:
    """R9: the rules are written where a supervisor reads, in both languages."""
    from xlcomplaints.report.definitions import ENGINE_RULES, definition_rows
    from xlcomplaints.templates.docs import sheets_markdown

    doc = sheets_markdown()
    for lang, (name, text) in (("zh", (0, 2)), ("en", (1, 3))):
        on_sheet = {row[0]: row[1] for row in definition_rows(lang)}
        for rule in ENGINE_RULES:
            assert on_sheet[rule[name]] == rule[text] and rule[text] in doc


def test_a_reopened_case_with_nothing_left_to_time_awaits_its_close_as_its_next_action_says() -> None:
    """R7. Reopened (unsatisfied 11-05) under a policy with a close rule only: no stage is left to do but the
    close, so the status is 待结案 like the next action, not 重新处理."""
    s = Settings(policy=(PolicyRule(stage="close", amount=10, unit="calendar_days"),))
    r = run(complaint(resolved_at=datetime(2026, 11, 3, 10)), datetime(2026, 11, 6, 9), [],
            [call(datetime(2026, 11, 5, 10), "unsatisfied")], s=s)
    assert r.reopen_count == 1 and (r.next_action, r.status) == ("close", "awaiting_close")


def test_the_cover_says_how_many_rows_have_no_readable_received_time(branch, tmp_path: Path) -> None:
    """Rows without a readable received time. Of three rows, one received 2026/10/32 (no such day) and one
    blank: both left out of every month (received in November: 1), and the cover says 2."""
    from python_calamine import CalamineWorkbook

    from xlcomplaints.report.run import ReportKind, ReportRequest, report_flow

    base = {"channel": "电话", "category": "设施设备", "severity": "一般", "validity": "有效", "content": "内容"}
    rows = [{**base, "customer": "甲", "phone": "13800000001", "received_at": "2026-11-02 10:00"},
            {**base, "customer": "乙", "phone": "13800000002", "received_at": "2026/10/32 10:00"},
            {**base, "customer": "丙", "phone": "13800000003"}]
    path = branch(register=rows)
    run_ = report_flow(ReportRequest([path], NOV, tmp_path / "r.xlsx", ReportKind.BRANCH, now=datetime(2026, 12, 3)))
    assert run_.report.value("received") == 1 and run_.report.unreadable_received == 2
    cover = CalamineWorkbook.from_path(str(tmp_path / "r.xlsx")).get_sheet_by_name("封面").to_python()
    assert "受理时间无法识别的 2 行" in cover[2][0]


def test_the_status_codes_the_engine_branches_on_are_the_vocabularies_codes() -> None:
    """Every code the engine can give has its zh and en words in one place (spec/vocab.py): one enum per
    vocabulary, the same codes (escalation levels in the same order, lowest first)."""
    from xlcomplaints.core.calendar import Unit
    from xlcomplaints.core.deadlines import ESCALATION_ORDER
    from xlcomplaints.core.status import Escalation, OverallStatus, StageStatus
    from xlcomplaints.spec import vocab as v

    assert set(v.STAGE_STATUS.codes) == {s.value for s in StageStatus}
    assert set(v.OVERALL_STATUS.codes) == {s.value for s in OverallStatus}
    assert list(v.ESCALATION.codes) == [e.value for e in Escalation] == list(ESCALATION_ORDER)
    assert set(v.UNIT.codes) == {u.value for u in Unit}


def test_the_next_action_and_hand_off_codes_are_their_catalogues_codes() -> None:
    """The next action: one enum, the codes of its words' catalogue (``NEXT_ACTIONS``), a built-in stage's
    action named as the stage; a hand-off's status: a stage status, shown in STAGE_STATUS's words."""
    from xlcomplaints.core.lifecycle import HANDOFF_STATUSES
    from xlcomplaints.core.policy import STAGES
    from xlcomplaints.core.refresh import NEXT_ACTIONS
    from xlcomplaints.core.status import NextAction, StageStatus
    from xlcomplaints.spec import vocab as v

    assert list(NEXT_ACTIONS) == list(NextAction)
    assert set(STAGES) <= {a.value for a in NextAction}
    assert all(isinstance(s, StageStatus) for s in HANDOFF_STATUSES)
    assert {s.value for s in HANDOFF_STATUSES} <= set(v.STAGE_STATUS.codes)


def test_every_summary_line_shows_a_count_the_refresh_keeps() -> None:
    """The Summary's lines are keyed by ``SummaryKey``s: each is a count the refresh keeps (``COUNTED``) or a
    value it works out itself, every count per code is kept for each of its vocabulary's codes, and a line
    keyed on a code its count does not have is refused where it is declared, not a silent zero."""
    import pytest

    from xlcomplaints.core.refresh import COUNTED
    from xlcomplaints.spec import branch as B

    assert all(line.key in COUNTED or (line.key.what in B.WORKED_OUT and line.key.code is None)
               for line in B.SUMMARY_LINES)
    for what, vocab in B.PER_CODE.items():
        assert {k.code for k in COUNTED if k.what is what} == set(vocab.codes), what
    assert {k.what for k in COUNTED if k.code is None} == set(B.Count) - set(B.PER_CODE) - B.WORKED_OUT
    with pytest.raises(ValueError):
        B.SummaryLine(B.SummaryKey(B.Count.STAGE, "overdeu"), "逾期环节数", "Overdue stages")
    with pytest.raises(ValueError):
        B.SummaryLine(B.SummaryKey(B.Count.STAGE), "环节数", "Stages")


def test_register_rows_are_not_red_once_closed_nor_for_a_given_up_callback(tmp_path: Path) -> None:
    """R3/R8 on the Register's colours: a closed case's missed stage is history (its status cell says 逾期未完成),
    and a given-up callback is not overdue, so neither turns the row red between refreshes."""
    import openpyxl
    from xlsxwriter.utility import xl_col_to_name

    from xlcomplaints.api import new_workbook
    from xlcomplaints.spec import branch as B

    path = tmp_path / "b.xlsx"
    new_workbook(path, branch_code="BJ01", branch_name="北京一店", lang="zh")
    ws = openpyxl.load_workbook(path)["投诉登记"]
    rules = [r for cf in ws.conditional_formatting for r in cf.rules if r.type == "expression"]
    red = next(r.formula[0] for r in rules if "<NOW()" in r.formula[0])
    closed = f"${xl_col_to_name(B.REGISTER.index('closed_at'))}2"
    callback_status = f"${xl_col_to_name(B.REGISTER.index('callback_status'))}2"
    assert f'{closed}="",OR(' in red  # the whole row: only while the case is not closed
    assert f'{callback_status}<>"放弃回访"' in red


def test_a_long_pause_does_not_make_a_case_due_soon() -> None:
    """R6. Received Mon 11-02 10:00, 3 working days; waiting for the customer 11-02 11:00 → Thu 11-12 11:00 moves
    the due time by the 8 working days from 11-02 up to 11-12 → Tue 11-17 23:59:59. On Mon 11-16 09:00,
    1.625 working days are left: not less than 0.75, so not due soon (wall-clock over the whole 15.6 days
    since receipt, 1.6 days left would have been)."""
    s = Settings(policy=(PolicyRule(stage="resolve", amount=3, unit="working_days"),), due_soon_percent=25)
    steps = [step(datetime(2026, 11, 2, 11), "waiting_customer"), step(datetime(2026, 11, 12, 11), "resumed")]
    r = run(complaint(), datetime(2026, 11, 16, 9), steps, s=s).stages["resolve"]
    assert r.due == datetime(2026, 11, 17, *EOD) and r.status == "not_due"


def test_a_stage_due_exactly_at_the_as_of_time_and_not_done_counts_late() -> None:
    """R4. "due at or before the as-of time and not done by then (late)": an 8-hour acknowledgement received
    Mon 11-02 10:00 is due 18:00; as of 18:00 exactly, not done → overdue (a late deadline), not due soon."""
    s = Settings(policy=(PolicyRule(stage="acknowledge", amount=8, unit="hours"),))
    assert run(complaint(), datetime(2026, 11, 2, 18), s=s).stages["acknowledge"].status == "overdue"
